/* contacts: reference 2.4 with F9/F10 (every write and lookup scoped). The e-mail is unique per
 * client; archiving clears the flags and archives the linked user (K14). */
#include <stdlib.h>

#include "engine/hook.h"

static const struct filter filters[] = {
    {"contact_id", FK_ID, "contact_id", NULL, FS_ONE, 0, NULL},
    {"contact_email", FK_TEXT, "contact_email", NULL, FS_ONE, 0, NULL},
    {"contact_phone_or_mobile", FK_TEXT, "contact_mobile", "contact_phone", FS_FIRST, 0, NULL},
};

static const struct field fields[] = {
    {"contact_name", "contact_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"contact_title", "contact_title", CV_TEXT, 0, NULL},
    {"contact_department", "contact_department", CV_TEXT, 0, NULL},
    {"contact_email", "contact_email", CV_TEXT, FF_REQUIRED | FF_UNIQUE, NULL},
    {"contact_phone", "contact_phone", CV_DIGITS, 0, NULL},
    {"contact_extension", "contact_extension", CV_DIGITS, 0, NULL},
    {"contact_mobile", "contact_mobile", CV_DIGITS, 0, NULL},
    {"contact_notes", "contact_notes", CV_TEXT, 0, NULL},
    {"contact_primary", "contact_primary", CV_INT, FF_PRIMARY, NULL},
    {"contact_important", "contact_important", CV_INT, 0, NULL},
    {"contact_billing", "contact_billing", CV_INT, 0, NULL},
    {"contact_technical", "contact_technical", CV_INT, 0, NULL},
    {"contact_location_id", "contact_location_id", CV_INT, 0, NULL},
};

/* The contact's portal user follows it into and out of the archive. */
static enum eng_rc archive_user(struct op_ctx *ctx, int archive)
{
    size_t n;
    const char *uid = ctx_cur(ctx, "contact_user_id", &n);
    int64_t id = uid ? strtoll(uid, NULL, 10) : 0;
    if (id <= 0)
        return ENG_OK;
    return ctx_exec_ints(ctx,
                         archive ? "UPDATE users SET user_archived_at = CURRENT_TIMESTAMP "
                                   "WHERE user_id = ?"
                                 : "UPDATE users SET user_archived_at = NULL WHERE user_id = ?",
                         1, &id);
}

static enum eng_rc archive_linked_user(struct op_ctx *ctx)
{
    return archive_user(ctx, 1);
}

static enum eng_rc unarchive_linked_user(struct op_ctx *ctx)
{
    return archive_user(ctx, 0);
}

static const struct field_ref refs[] = {
    {"contact_location_id", "locations", "a location"},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create",
     .op = OP_CREATE,
     .scope_rule = SR_NONZERO,
     .logs = {{"Contact", "Create", "{name} via API ({key})", LR_SCOPE, LR_NEW_ID},
              {"API", "Success", "Created contact {name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    {.function = "update",
     .op = OP_UPDATE,
     .id_param = "contact_id",
     .logs = {{"Contact", "Edit", "{name} via API ({key})", LR_SCOPE, LR_ID},
              {"API", "Success", "Edited contact {name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    {.function = "archive",
     .op = OP_ARCHIVE,
     .id_param = "contact_id",
     .before = archive_linked_user,
     .sets = "contact_important = 0, contact_billing = 0, contact_technical = 0",
     .logs = {{"Contact", "Archive", "{name} archived via API ({key})", LR_SCOPE, LR_ID}}},
    {.function = "unarchive",
     .op = OP_UNARCHIVE,
     .id_param = "contact_id",
     .before = unarchive_linked_user,
     .logs = {{"Contact", "Unarchive", "{name} unarchived via API ({key})", LR_SCOPE, LR_ID}}},
    {.function = "delete",
     .op = OP_DELETE,
     .id_param = "contact_id",
     .logs = {{"Contact", "Delete", "{name} via API ({key})", LR_SCOPE, LR_ZERO}}},
};

static struct module_resolved resolved;

const struct module module_contacts = {
    .res = &resolved,
    .name = "contacts",
    .rbac_module = "module_client",
    .table = "contacts",
    .client_col = "contact_client_id",
    .archived_col = "contact_archived_at",
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .refs = refs,
    .nrefs = COUNT_OF(refs),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

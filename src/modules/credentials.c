/* credentials: reference 2.5 with F13. Username and password are encrypted with the site master
 * key, unwrapped once per request from the key's decrypt hash (K16). */
#include "engine/hook.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"credential_id", FK_ID, "credential_id", NULL, FS_FIRST, 0, NULL},
};

static const struct field fields[] = {
    {"credential_name", "credential_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"credential_description", "credential_description", CV_TEXT, 0, NULL},
    {"credential_uri", "credential_uri", CV_TEXT, 0, NULL},
    {"credential_uri_2", "credential_uri_2", CV_TEXT, 0, NULL},
    {"credential_username", "credential_username", CV_SECRET, 0, NULL},
    {"credential_password", "credential_password", CV_SECRET, FF_REQUIRED, NULL},
    {"credential_otp_secret", "credential_otp_secret", CV_TEXT, 0, NULL},
    {"credential_note", "credential_note", CV_TEXT, 0, NULL},
    {"credential_favorite", "credential_favorite", CV_INT, 0, NULL},
    {"credential_contact_id", "credential_contact_id", CV_INT, 0, NULL},
    {"credential_asset_id", "credential_asset_id", CV_INT, 0, NULL},
};

/* A new password restarts the password age. */
static enum eng_rc password_changed(struct op_ctx *ctx)
{
    if (!ctx_val(ctx, "credential_password")->set)
        return ENG_OK;
    int64_t args[2] = {ctx->id, ctx->S};
    return ctx_exec_ints(ctx,
                         "UPDATE credentials SET credential_password_changed_at = "
                         "CURRENT_TIMESTAMP WHERE credential_id = ? AND credential_client_id = ?",
                         2, args);
}

static const struct field_ref refs[] = {
    {"credential_contact_id", "contacts", "a contact"},
    {"credential_asset_id", "assets", "an asset"},
};

/* v26.08's length check of the fields sent (delta 4): ciphertext grows with the bytes of the
 * cleartext; the other columns count characters. */
static const struct length_guard guards[] = {
    {"credential_username", 350, 0},   {"credential_password", 350, 0},
    {"credential_name", 200, 1},       {"credential_description", 500, 1},
    {"credential_uri", 500, 1},        {"credential_uri_2", 500, 1},
    {"credential_otp_secret", 200, 1}, {NULL, 0, 0},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ, .flags = EP_DECRYPT},
    {.function = "create",
     .op = OP_CREATE,
     .flags = EP_DECRYPT,
     .guards = guards,
     .logs = {{"Credential", "Create", "{name} via API ({key})", LR_SCOPE, LR_NEW_ID},
              {"API", "Success", "Created credential {name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    {.function = "update",
     .op = OP_UPDATE,
     .id_param = "credential_id",
     .flags = EP_DECRYPT,
     .guards = guards,
     .after = password_changed,
     .logs = {{"Credential", "Edit", "{name} via API ({key})", LR_SCOPE, LR_ID},
              {"API", "Success", "Updated credential {name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    CRUD_DELETE("Credential", "credential", "credential_id", NULL),
    CRUD_ARCHIVE("Credential", "credential", "credential_id"),
};

static struct module_resolved resolved;

const struct module module_credentials = {
    .res = &resolved,
    .name = "credentials",
    .rbac_module = "module_credential",
    .table = "credentials",
    .client_col = "credential_client_id",
    .archived_col = "credential_archived_at",
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .refs = refs,
    .nrefs = COUNT_OF(refs),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

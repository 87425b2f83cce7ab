/* assets: reference 2.1 with F4, F11, F18. The primary interface (name "1") is created and
 * updated with the asset; updates leave an asset_history row. */
#include <stdio.h>
#include <string.h>

#include "core/php.h"
#include "engine/hook.h"
#include "modules/crud.h"

static const struct join primary_interface = {
    "asset_interfaces", "asset_interfaces.interface_asset_id = assets.asset_id AND "
                        "asset_interfaces.interface_primary = 1"};

static const struct filter filters[] = {
    {"asset_id", FK_ID, "asset_id", NULL, FS_ONE, 0, NULL},
    {"asset_type", FK_UCFIRST, "asset_type", NULL, FS_LIST, 0, NULL},
    {"asset_name", FK_TEXT, "asset_name", NULL, FS_LIST, 0, NULL},
    {"asset_serial", FK_TEXT, "asset_serial", NULL, FS_LIST, 0, NULL},
    {"asset_mac", FK_TEXT, "interface_mac", NULL, FS_LIST, FLT_JOIN, NULL},
    {"asset_uri", FK_TEXT, "asset_uri", NULL, FS_LIST, 0, NULL},
    {"asset_uri_2", FK_TEXT, "asset_uri_2", NULL, FS_LIST, 0, NULL},
};

static const struct field fields[] = {
    {"asset_name", "asset_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"asset_description", "asset_description", CV_TEXT, 0, NULL},
    {"asset_type", "asset_type", CV_TEXT, 0, NULL},
    {"asset_make", "asset_make", CV_TEXT, 0, NULL},
    {"asset_model", "asset_model", CV_TEXT, 0, NULL},
    {"asset_serial", "asset_serial", CV_TEXT, 0, NULL},
    {"asset_os", "asset_os", CV_TEXT, 0, NULL},
    {"asset_uri", "asset_uri", CV_TEXT, 0, NULL},
    {"asset_uri_2", "asset_uri_2", CV_TEXT, FF_NO_CREATE, NULL},
    {"asset_status", "asset_status", CV_TEXT, 0, NULL},
    {"asset_purchase_date", "asset_purchase_date", CV_DATE, 0, NULL},
    {"asset_warranty_expire", "asset_warranty_expire", CV_DATE, 0, NULL},
    {"asset_install_date", "asset_install_date", CV_DATE, 0, NULL},
    {"asset_notes", "asset_notes", CV_TEXT, 0, NULL},
    {"asset_vendor_id", "asset_vendor_id", CV_INT, 0, NULL},
    {"asset_location_id", "asset_location_id", CV_INT, 0, NULL},
    {"asset_contact_id", "asset_contact_id", CV_INT, 0, NULL},
    {"asset_ip", "asset_interfaces.interface_ip", CV_TEXT, 0, NULL},
    {"asset_mac", "asset_interfaces.interface_mac", CV_TEXT, 0, NULL},
    {"asset_network_id", "asset_interfaces.interface_network_id", CV_INT, 0, NULL},
};

static enum eng_rc bind_run(struct op_ctx *ctx, const char *sql, const struct value *const *vals,
                            int n, int64_t id)
{
    struct db_stmt *st;
    if (db_stmt(ctx->db, sql, &st) != DB_OK)
        return ENG_DB;
    for (int i = 0; i < n; i++)
        value_bind(st, i + 1, vals[i]);
    db_bind_int(st, n + 1, id);
    enum db_rc rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? ENG_OK : ENG_DB;
}

/* After the INSERT: the asset's primary interface. */
static enum eng_rc create_interface(struct op_ctx *ctx)
{
    const struct value *v[3] = {ctx_val(ctx, "asset_mac"), ctx_val(ctx, "asset_ip"),
                                ctx_val(ctx, "asset_network_id")};
    return bind_run(ctx,
                    "INSERT INTO asset_interfaces (interface_name, interface_mac, interface_ip, "
                    "interface_primary, interface_network_id, interface_asset_id) "
                    "VALUES ('1', ?, ?, 1, ?, ?)",
                    v, 3, ctx->new_id);
}

/* After the UPDATE of an asset found in scope: the interface fields that were sent (F18), and
 * the history row. */
static enum eng_rc update_interface_and_history(struct op_ctx *ctx)
{
    static const char *const names[3] = {"asset_mac", "asset_ip", "asset_network_id"};
    const struct value *v[3];
    struct value absent;
    value_from_text(&absent, NULL, 0);
    int any = 0;
    for (int i = 0; i < 3; i++) {
        const struct value *x = ctx_val(ctx, names[i]);
        v[i] = x->set ? x : &absent;
        any |= x->set;
    }
    if (any && bind_run(ctx,
                        "UPDATE asset_interfaces SET interface_mac = COALESCE(?, interface_mac), "
                        "interface_ip = COALESCE(?, interface_ip), interface_network_id = "
                        "COALESCE(?, interface_network_id) WHERE interface_asset_id = ? AND "
                        "interface_primary = 1",
                        v, 3, ctx->id) != ENG_OK)
        return ENG_DB;
    const struct value *status = ctx_val(ctx, "asset_status");
    const struct value *name = ctx_val(ctx, "asset_name");
    struct buf desc;
    buf_init(&desc, 0);
    buf_puts(&desc, "API updated ");
    buf_append(&desc, name->p ? name->p : "", name->p ? name->n : 0);
    buf_printf(&desc, " (%s)", ctx->r->key.name_html);
    struct value d;
    value_from_text(&d, desc.p ? desc.p : "", desc.p ? utf8_prefix(desc.p, desc.len, 255) : 0);
    struct value st_empty;
    value_from_text(&st_empty, "", 0);
    const struct value *hv[2] = {status->p ? status : &st_empty, &d};
    enum eng_rc rc = desc.failed ? ENG_DB
                                 : bind_run(ctx,
                                            "INSERT INTO asset_history (asset_history_status, "
                                            "asset_history_description, asset_history_asset_id) "
                                            "VALUES (?, ?, ?)",
                                            hv, 2, ctx->id);
    buf_free(&desc);
    return rc;
}

static const struct field_ref refs[] = {
    {"asset_vendor_id", "vendors", "a vendor"},
    {"asset_location_id", "locations", "a location"},
    {"asset_contact_id", "contacts", "a contact"},
    {"asset_network_id", "networks", "a network"},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create",
     .op = OP_CREATE,
     .scope_rule = SR_NONZERO,
     .after = create_interface,
     .logs = {{"Asset", "Create", "{name} via API ({key})", LR_SCOPE, LR_NEW_ID},
              {"API", "Success", "Created asset {name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    {.function = "update",
     .op = OP_UPDATE,
     .id_param = "asset_id",
     .after = update_interface_and_history,
     .logs = {{"Asset", "Edit", "{name} via API ({key})", LR_SCOPE, LR_ZERO},
              {"API", "Success", "Edited asset {name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    {.function = "delete",
     .op = OP_DELETE,
     .id_param = "asset_id",
     .logs = {{"Asset", "Delete", "{name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    CRUD_ARCHIVE("Asset", "asset", "asset_id"),
};

static struct module_resolved resolved;

const struct module module_assets = {
    .res = &resolved,
    .name = "assets",
    .rbac_module = "module_support",
    .table = "assets",
    .client_col = "asset_client_id",
    .archived_col = "asset_archived_at",
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .join = &primary_interface,
    .list_flags = FLT_JOIN,
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .refs = refs,
    .nrefs = COUNT_OF(refs),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

/* clients: reference 2.3. Create needs an all-clients key; the row of update/archive is the
 * client S itself; archiving stops the client's recurring invoices (K14). */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"client_name", FK_TEXT, "client_name", NULL, FS_ONE, 0},
};

static const struct field fields[] = {
    {"client_name", "client_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"client_type", "client_type", CV_TEXT, 0, NULL},
    {"client_website", "client_website", CV_WEBSITE, 0, NULL},
    {"client_referral", "client_referral", CV_TEXT, 0, NULL},
    {"client_rate", "client_rate", CV_DECIMAL, 0, NULL},
    {"client_currency_code", "client_currency_code", CV_TEXT, 0, NULL},
    {"client_net_terms", "client_net_terms", CV_INT, 0, NULL},
    {"client_tax_id_number", "client_tax_id_number", CV_TEXT, 0, NULL},
    {"client_abbreviation", "client_abbreviation", CV_ABBREV6, 0, NULL},
    {"client_is_lead", "client_lead", CV_INT, 0, NULL},
    {"client_notes", "client_notes", CV_TEXT, 0, NULL},
    {"client_accessed_at", "client_accessed_at", CV_TEXT, FF_CONST | FF_NO_UPDATE, DFLT_NOW},
};

/* Archiving a client stops its active recurring invoices, each with a history row. */
static enum eng_rc stop_recurring_invoices(struct op_ctx *ctx)
{
    static const char history[] =
        "INSERT INTO history (history_status, history_description, history_recurring_invoice_id) "
        "SELECT '0', 'Recurring Invoice inactive as client archived', recurring_invoice_id "
        "FROM recurring_invoices WHERE recurring_invoice_client_id = ? "
        "AND recurring_invoice_status = 1 ORDER BY recurring_invoice_id";
    static const char stop[] =
        "UPDATE recurring_invoices SET recurring_invoice_status = 0 "
        "WHERE recurring_invoice_client_id = ? AND recurring_invoice_status = 1";
    enum eng_rc rc = ctx_exec_ints(ctx, history, 1, &ctx->S);
    return rc ? rc : ctx_exec_ints(ctx, stop, 1, &ctx->S);
}

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create",
     .op = OP_CREATE,
     .scope_rule = SR_ZERO,
     .logs = {{"Client", "Create", "{name} via API ({key})", LR_NEW_ID, LR_ZERO},
              {"API", "Success", "Created client {name} via API ({key})", LR_NEW_ID, LR_ZERO}}},
    {.function = "update",
     .op = OP_UPDATE,
     .scope_rule = SR_NONZERO,
     .logs = {{"Client", "Edit", "{name} via API ({key})", LR_SCOPE, LR_ZERO},
              {"API", "Success", "Edited client {name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    {.function = "archive",
     .op = OP_ARCHIVE,
     .scope_rule = SR_NONZERO,
     .before = stop_recurring_invoices,
     .logs = {{"Contact", "Archive", "{name} archived via API ({key})", LR_SCOPE, LR_ZERO}}},
    {.function = "unarchive",
     .op = OP_UNARCHIVE,
     .scope_rule = SR_NONZERO,
     .logs = {{"Contact", "Unarchive", "{name} unarchived via API ({key})", LR_SCOPE, LR_ZERO}}},
};

static struct module_resolved resolved;

const struct module module_clients = {
    .res = &resolved,
    .name = "clients",
    .rbac_module = "module_client",
    .table = "clients",
    .client_col = "client_id",
    .archived_col = "client_archived_at",
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

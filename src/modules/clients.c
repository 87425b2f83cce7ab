/* clients: reference 2.3. Create needs an all-clients key; the row of update/archive is the
 * client S itself; archiving stops the client's recurring invoices (K14). */
#include "engine/engine_int.h"

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
static int stop_recurring_invoices(struct op_ctx *ctx)
{
    static const char history[] =
        "INSERT INTO history (history_status, history_description, history_recurring_invoice_id) "
        "SELECT '0', 'Recurring Invoice inactive as client archived', recurring_invoice_id "
        "FROM recurring_invoices WHERE recurring_invoice_client_id = ? "
        "AND recurring_invoice_status = 1 ORDER BY recurring_invoice_id";
    static const char stop[] = "UPDATE recurring_invoices SET recurring_invoice_status = 0 "
                               "WHERE recurring_invoice_client_id = ? AND recurring_invoice_status = 1";
    int rc = ctx_exec_ints(ctx, history, 1, &ctx->S);
    return rc ? rc : ctx_exec_ints(ctx, stop, 1, &ctx->S);
}

static const struct endpoint endpoints[] = {
    {"read", OP_READ, SR_ANY, NULL, 0, NULL, NULL, NULL, {{0}}},
    {"create", OP_CREATE, SR_ZERO, NULL, 0, NULL, NULL, NULL,
     {{"Client", "Create", "{name} via API ({key})", LR_NEW_ID, LR_ZERO},
      {"API", "Success", "Created client {name} via API ({key})", LR_NEW_ID, LR_ZERO}}},
    {"update", OP_UPDATE, SR_NONZERO, NULL, 0, NULL, NULL, NULL,
     {{"Client", "Edit", "{name} via API ({key})", LR_SCOPE, LR_ZERO},
      {"API", "Success", "Edited client {name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    {"archive", OP_ARCHIVE, SR_NONZERO, NULL, 0, stop_recurring_invoices, NULL, NULL,
     {{"Contact", "Archive", "{name} archived via API ({key})", LR_SCOPE, LR_ZERO}}},
    {"unarchive", OP_UNARCHIVE, SR_NONZERO, NULL, 0, NULL, NULL, NULL,
     {{"Contact", "Unarchive", "{name} unarchived via API ({key})", LR_SCOPE, LR_ZERO}}},
};

struct module module_clients = {
    .name = "clients",
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

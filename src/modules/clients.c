/* clients: reference 2.3. Create needs an all-clients key; the row of update/archive is the
 * client S itself; archiving stops the client's recurring invoices (K14). */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"client_name", FK_TEXT, "client_name", NULL, FS_ONE, 0, NULL},
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

/* Deleting an archived client deletes its rows in every table, as the UI's delete_client does
 * (the client's logs too; the log rows of the deletion name no client). */
static enum eng_rc delete_client_rows(struct op_ctx *ctx)
{
    static const char *const sql[] = {
        "DELETE FROM certificates WHERE certificate_client_id = ?",
        "DELETE FROM document_versions WHERE document_version_document_id IN (SELECT document_id "
        "FROM documents WHERE document_client_id = ?)",
        "DELETE FROM documents WHERE document_client_id = ?",
        "DELETE FROM contacts WHERE contact_client_id = ?",
        "DELETE FROM asset_interfaces WHERE interface_asset_id IN (SELECT asset_id FROM assets "
        "WHERE asset_client_id = ?)",
        "DELETE FROM asset_history WHERE asset_history_asset_id IN (SELECT asset_id FROM assets "
        "WHERE asset_client_id = ?)",
        "DELETE FROM assets WHERE asset_client_id = ?",
        "DELETE FROM domains WHERE domain_client_id = ?",
        "DELETE FROM folders WHERE folder_client_id = ?",
        "DELETE FROM invoice_items WHERE item_invoice_id IN (SELECT invoice_id FROM invoices WHERE "
        "invoice_client_id = ?)",
        "DELETE FROM payments WHERE payment_invoice_id IN (SELECT invoice_id FROM invoices WHERE "
        "invoice_client_id = ?)",
        "DELETE FROM history WHERE history_invoice_id IN (SELECT invoice_id FROM invoices WHERE "
        "invoice_client_id = ?)",
        "DELETE FROM invoices WHERE invoice_client_id = ?",
        "DELETE FROM locations WHERE location_client_id = ?",
        "DELETE FROM credentials WHERE credential_client_id = ?",
        "DELETE FROM logs WHERE log_client_id = ?",
        "DELETE FROM networks WHERE network_client_id = ?",
        "DELETE FROM history WHERE history_quote_id IN (SELECT quote_id FROM quotes WHERE "
        "quote_client_id = ?)",
        "DELETE FROM quotes WHERE quote_client_id = ?",
        "DELETE FROM history WHERE history_recurring_invoice_id IN (SELECT recurring_invoice_id "
        "FROM recurring_invoices WHERE recurring_invoice_client_id = ?)",
        "DELETE FROM recurring_invoices WHERE recurring_invoice_client_id = ?",
        "DELETE FROM software WHERE software_client_id = ?",
        "DELETE FROM ticket_replies WHERE ticket_reply_ticket_id IN (SELECT ticket_id FROM tickets "
        "WHERE ticket_client_id = ?)",
        "DELETE FROM ticket_history WHERE ticket_history_ticket_id IN (SELECT ticket_id FROM "
        "tickets WHERE ticket_client_id = ?)",
        "DELETE FROM tickets WHERE ticket_client_id = ?",
        "DELETE FROM vendors WHERE vendor_client_id = ?",
    };
    for (size_t i = 0; i < COUNT_OF(sql); i++)
        if (ctx_exec_ints(ctx, sql[i], 1, &ctx->id) != ENG_OK)
            return ENG_DB;
    return ENG_OK;
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
    {.function = "delete",
     .op = OP_DELETE,
     .scope_rule = SR_NONZERO,
     .cond = "client_archived_at IS NOT NULL",
     .before = delete_client_rows,
     .logs = {{"Client", "Deleted", "Deleted client {name} and all associated data via API ({key})",
               LR_ZERO, LR_ZERO},
              {"API", "Success", "Deleted client {name} via API ({key})", LR_ZERO, LR_ZERO}}},
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

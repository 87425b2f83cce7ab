/* tickets: reference 2.18. The number comes from the settings counter inside the ticket's own
 * transaction (K14, F17); the default contact is the client's primary contact. */
#include <string.h>

#include "engine/hook.h"

static const struct join status = {"ticket_statuses",
                                   "tickets.ticket_status = ticket_statuses.ticket_status_id"};

static const struct filter filters[] = {
    {"ticket_id", FK_ID, "ticket_id", NULL, FS_ONE, FLT_JOIN},
};

static const struct field fields[] = {
    {"ticket_subject", "ticket_subject", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"ticket_details", "ticket_details", CV_HTML_BR, 0, "< blank ><br>"},
    {"ticket_priority", "ticket_priority", CV_TEXT, 0, "Low"},
    {"ticket_contact_id", "ticket_contact_id", CV_INT, 0, NULL},
    {"ticket_asset_id", "ticket_asset_id", CV_INT, 0, NULL},
    {"ticket_vendor_id", "ticket_vendor_id", CV_INT, 0, NULL},
    {"ticket_assigned_to", "ticket_assigned_to", CV_INT, 0, NULL},
    {"ticket_billable", "ticket_billable", CV_INT, 0, NULL},
    {"ticket_vendor_ticket_id", "ticket_vendor_ticket_number", CV_INT_TEXT, 0, NULL},
    {"ticket_source", "ticket_source", CV_TEXT, FF_CONST, "API"},
    {"ticket_status", "ticket_status", CV_INT, FF_CONST, "1"},
    {"ticket_created_by", "ticket_created_by", CV_INT, FF_CONST, "0"},
    {"ticket_prefix", "ticket_prefix", CV_TEXT, FF_CONST, NULL}, /* set by number_ticket */
    {"ticket_number", "ticket_number", CV_INT, FF_CONST, NULL},
    {"ticket_url_key", "ticket_url_key", CV_TEXT, FF_CONST, NULL},
};

static const char SQL_PRIMARY_CONTACT[] =
    "SELECT contact_id FROM contacts WHERE contact_client_id = ? AND contact_primary = 1 "
    "ORDER BY contact_id LIMIT 1";
static const char SQL_TAKE_NUMBER[] =
    "UPDATE settings SET config_ticket_next_number = COALESCE(config_ticket_next_number, 1) + 1 "
    "WHERE company_id = 1";
static const char SQL_TAKEN_NUMBER[] =
    "SELECT COALESCE(config_ticket_prefix, ''), config_ticket_next_number - 1 FROM settings "
    "WHERE company_id = 1";

/* Before the INSERT: the default contact, the next number (the write transaction holds the
 * settings row, so concurrent creates never share a number) and the public URL key. */
static enum eng_rc number_ticket(struct op_ctx *ctx)
{
    struct value *contact = ctx_val(ctx, "ticket_contact_id");
    struct db_stmt *st;
    if (contact->i == 0 && ctx->S != 0) {
        if (db_stmt(ctx->db, SQL_PRIMARY_CONTACT, &st) != DB_OK)
            return ENG_DB;
        db_bind_int(st, 1, ctx->S);
        int64_t id = 0;
        enum db_rc rc = db_query_int(st, &id);
        if (rc == DB_ROW)
            value_int(contact, id);
        else if (rc != DB_DONE)
            return ENG_DB;
    }
    if (ctx_exec_ints(ctx, SQL_TAKE_NUMBER, 0, NULL) != ENG_OK || db_changes(ctx->db) != 1)
        return ENG_DB;
    if (db_stmt(ctx->db, SQL_TAKEN_NUMBER, &st) != DB_OK || db_step(st) != DB_ROW)
        return ENG_DB;
    size_t n;
    const char *prefix = db_column_text(st, 0, &n);
    struct value *pv = ctx_val(ctx, "ticket_prefix");
    value_from_text(pv, ctx_strdup(ctx, prefix ? prefix : "", prefix ? n : 0), prefix ? n : 0);
    value_int(ctx_val(ctx, "ticket_number"), db_column_int(st, 1));
    db_reset(st);
    char key[33];
    if (!pv->p || crypto_random_string(key, 32) != 0)
        return ENG_DB;
    struct value *url_key = ctx_val(ctx, "ticket_url_key");
    value_from_text(url_key, ctx_strdup(ctx, key, 32), 32);
    return url_key->p ? ENG_OK : ENG_DB; /* NULL: out of memory, not SQL NULL */
}

/* v26.08's resolve (delta 4): the SLA verdicts of the first response and the resolution, judged
 * against the due dates when there are any (NULL/unchanged without), and a ticket_history row in
 * the ticket's new status. v26.07 databases have neither. */
static const char SQL_RESPONSE_MET[] =
    "UPDATE tickets SET ticket_response_sla_met = CASE WHEN ticket_response_due_at IS NULL THEN "
    "NULL WHEN ticket_first_response_at <= ticket_response_due_at THEN 1 ELSE 0 END "
    "WHERE ticket_id = ?";
static const char SQL_RESOLUTION_MET[] =
    "UPDATE tickets SET ticket_resolution_sla_met = CASE WHEN ticket_resolved_at <= "
    "ticket_resolution_due_at THEN 1 ELSE 0 END WHERE ticket_id = ? AND "
    "ticket_resolution_due_at IS NOT NULL AND (ticket_resolution_sla_met IS NULL OR "
    "ticket_resolution_sla_met <> 0)";
static const char SQL_HISTORY[] =
    "INSERT INTO ticket_history (ticket_history_status, ticket_history_description, "
    "ticket_history_ticket_id) SELECT COALESCE(s.ticket_status_name, ''), ?, t.ticket_id "
    "FROM tickets t LEFT JOIN ticket_statuses s ON t.ticket_status = s.ticket_status_id "
    "WHERE t.ticket_id = ?";

static enum eng_rc resolved_2608(struct op_ctx *ctx)
{
    if (!ctx->r->key.rbac)
        return ENG_OK;
    int64_t id = ctx->id;
    enum eng_rc rc;
    if (!ctx_cur(ctx, "ticket_first_response_at", NULL) &&
        (rc = ctx_exec_ints(ctx, SQL_RESPONSE_MET, 1, &id)) != ENG_OK)
        return rc;
    if ((rc = ctx_exec_ints(ctx, SQL_RESOLUTION_MET, 1, &id)) != ENG_OK)
        return rc;
    struct buf desc;
    buf_init(&desc, 0);
    buf_printf(&desc, "Resolved via the API (%s)", ctx->r->key.name_html);
    size_t n = desc.len > 255 ? 255 : desc.len; /* varchar(255), cut at a character */
    while (n > 0 && n < desc.len && ((unsigned char)desc.p[n] & 0xC0) == 0x80)
        n--;
    struct db_stmt *st;
    enum db_rc drc = desc.failed ? DB_ERROR : db_stmt(ctx->db, SQL_HISTORY, &st);
    if (drc == DB_OK) {
        db_bind_text(st, 1, desc.p, n);
        db_bind_int(st, 2, id);
        drc = db_step(st);
        db_reset(st);
    }
    buf_free(&desc);
    return eng_from_db(drc);
}

static const struct field_ref refs[] = {
    {"ticket_contact_id", "contacts", "a contact"},
    {"ticket_asset_id", "assets", "an asset"},
    {"ticket_vendor_id", "vendors", "a vendor"},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create",
     .op = OP_CREATE,
     .before = number_ticket,
     .logs = {{"Ticket", "Create",
               "Created ticket {ticket_prefix}{ticket_number} {name} via API ({key})", LR_SCOPE,
               LR_NEW_ID},
              {"API", "Success",
               "Created ticket {ticket_prefix}{ticket_number} {name} via API ({key})", LR_SCOPE,
               LR_ZERO}}},
    {.function = "resolve",
     .op = OP_SET,
     .id_param = "ticket_id",
     .cond = "ticket_resolved_at IS NULL",
     .sets = "ticket_status = 4, ticket_resolved_at = CURRENT_TIMESTAMP, "
             "ticket_first_response_at = COALESCE(ticket_first_response_at, CURRENT_TIMESTAMP)",
     .after = resolved_2608,
     .logs = {{"Ticket", "Resolved", "{ticket_prefix}{ticket_number} ticket via API ({key})",
               LR_SCOPE, LR_ID},
              {"API", "Success", "Resolved ticket {ticket_prefix}{ticket_number} via API ({key})",
               LR_SCOPE, LR_ZERO}}},
};

static struct module_resolved resolved;

const struct module module_tickets = {
    .res = &resolved,
    .name = "tickets",
    .rbac_module = "module_support",
    .table = "tickets",
    .client_col = "ticket_client_id",
    .archived_col = "ticket_archived_at",
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .join = &status,
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .refs = refs,
    .nrefs = COUNT_OF(refs),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

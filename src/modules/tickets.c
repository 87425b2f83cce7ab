/* tickets: reference 2.18. The number comes from the settings counter inside the ticket's own
 * transaction (K14, F17); the default contact is the client's primary contact. update, close and
 * reopen (COMPAT A3) do what the web UI's edit_ticket, close_ticket and reopen_ticket handlers do
 * (agent/post/ticket.php): the status by id or name, its timestamps, ticket_history rows. */
#include <stdio.h>
#include <string.h>

#include "core/php.h"
#include "engine/hook.h"
#include "modules/counter.h"
#include "modules/crud.h"
#include "modules/sla.h"
#include "modules/tickets_common.h"

#define STATUS_OPEN 2
#define STATUS_RESOLVED 4
#define STATUS_CLOSED 5

static const struct join status = {"ticket_statuses",
                                   "tickets.ticket_status = ticket_statuses.ticket_status_id"};

static const struct filter filters[] = {
    {"ticket_id", FK_ID, "ticket_id", NULL, FS_ONE, FLT_JOIN, NULL},
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
    /* update only */
    {"ticket_category", "ticket_category", CV_INT_TEXT, FF_NO_CREATE, NULL},
    {"ticket_schedule", "ticket_schedule", CV_DATE, FF_NO_CREATE, NULL},
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
    return counter_take(ctx, SQL_TAKE_NUMBER, SQL_TAKEN_NUMBER, "ticket");
}

/* After the INSERT (v26.08): the SLA of the ticket's client and priority, its due dates and clock.
 */
static enum eng_rc created_sla(struct op_ctx *ctx)
{
    return sla_apply(ctx, ctx->new_id);
}

/* v26.08's resolve (delta 4): the SLA verdicts of the first response and the resolution, judged
 * against the due dates when there are any (NULL/unchanged without), the SLA clock stopped, and a
 * ticket_history row in the ticket's new status. v26.07 databases have neither. */
static const char SQL_RESPONSE_MET[] =
    "UPDATE tickets SET ticket_response_sla_met = CASE WHEN ticket_response_due_at IS NULL THEN "
    "NULL WHEN ticket_first_response_at <= ticket_response_due_at THEN 1 ELSE 0 END "
    "WHERE ticket_id = ?";
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
    if ((rc = sla_sync_clock(ctx, id)) != ENG_OK || (rc = sla_resolution_met(ctx, id)) != ENG_OK)
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

/* A ticket_history row of the target ticket: "<what> via API (<key name>)" or, with who_first,
 * "API (<key name>) <what>". */
static enum eng_rc history(struct op_ctx *ctx, const char *state, const char *what, int who_first)
{
    char desc[2048]; /* room for the longest key name and text: cut to the column later */
    if (who_first)
        snprintf(desc, sizeof(desc), "API (%s) %s", ctx->r->key.name_html, what);
    else
        snprintf(desc, sizeof(desc), "%s via API (%s)", what, ctx->r->key.name_html);
    return ticket_history_row(ctx, ctx->id, state, desc);
}

static const char *cur_text(struct op_ctx *ctx, const char *col)
{
    size_t n;
    const char *p = ctx_cur(ctx, col, &n);
    return ctx_strdup(ctx, p ? p : "", p ? n : 0);
}

/* The status name of an id (for history rows); "" when there is none. */
static const char *status_name(struct op_ctx *ctx, int64_t id)
{
    char num[24];
    snprintf(num, sizeof(num), "%lld", (long long)id);
    struct value v;
    value_from_text(&v, num, strlen(num));
    v.set = 1;
    const char *name = "";
    return ticket_status_lookup(ctx, &v, &name) > 0 ? name : "";
}

/* Before the UPDATE: a closed ticket stays closed (the UI's rule); the status by id or name; the
 * details as sent (the UI's edit keeps them raw); history rows for status, priority and
 * assignment changes. */
static enum eng_rc check_update(struct op_ctx *ctx)
{
    if (ctx_cur(ctx, "ticket_closed_at", NULL))
        return ENG_NOT_DONE;
    const char *raw;
    size_t n;
    enum eng_rc rc = body_string(ctx, "ticket_details", &raw, &n);
    if (rc != ENG_OK)
        return rc;
    if (raw)
        value_from_text(ctx_val(ctx, "ticket_details"), raw, n);
    if ((rc = body_string(ctx, "ticket_status", &raw, &n)) != ENG_OK)
        return rc;
    int64_t old =
        php_intval_str(cur_text(ctx, "ticket_status"), strlen(cur_text(ctx, "ticket_status")));
    const char *name = "";
    if (raw) {
        struct value v;
        value_from_text(&v, raw, n);
        v.set = 1;
        int64_t id = ticket_status_lookup(ctx, &v, &name);
        if (id == -2)
            return ENG_DB;
        if (id <= 0)
            return reply_bad(ctx->r, "ticket_status names no ticket status of this database "
                                     "(give a status id or name)");
        value_int(ctx_val(ctx, "ticket_status"), id);
        ctx->aux = id;
    } else {
        ctx->aux = old;
    }
    char what[512];
    snprintf(what, sizeof(what), "Status set to %s", name);
    if (ctx->aux != old && (rc = history(ctx, name, what, 0)) != ENG_OK)
        return rc;
    const struct value *pr = ctx_val(ctx, "ticket_priority");
    const char *old_pr = cur_text(ctx, "ticket_priority");
    if (pr->set && pr->p && (strlen(old_pr) != pr->n || memcmp(old_pr, pr->p, pr->n) != 0)) {
        snprintf(what, sizeof(what), "changed priority from %s to %.*s", old_pr,
                 (int)(pr->n > 200 ? 200 : pr->n), pr->p);
        if ((rc = history(ctx, status_name(ctx, ctx->aux), what, 1)) != ENG_OK)
            return rc;
    }
    const struct value *as = ctx_val(ctx, "ticket_assigned_to");
    const char *old_as = cur_text(ctx, "ticket_assigned_to");
    if (as->set && as->i != php_intval_str(old_as, strlen(old_as))) {
        if (as->i)
            snprintf(what, sizeof(what), "assigned the ticket to user %lld", (long long)as->i);
        else
            snprintf(what, sizeof(what), "unassigned the ticket");
        if ((rc = history(ctx, status_name(ctx, ctx->aux), what, 1)) != ENG_OK)
            return rc;
    }
    return ENG_OK;
}

/* After the UPDATE: the timestamps of a status change (resolved, closed, reopened). On v26.08
 * databases also what the web UI does around them: a resolve records the first response through
 * the SLA (its verdict), the edit re-stamps the SLA (priority or client may have changed, and it
 * syncs the clock with the new status), a resolve or close judges the resolution and a reopen
 * clears that verdict. */
static enum eng_rc status_times(struct op_ctx *ctx)
{
    static const char resolved[] =
        "UPDATE tickets SET ticket_resolved_at = COALESCE(ticket_resolved_at, CURRENT_TIMESTAMP), "
        "ticket_first_response_at = COALESCE(ticket_first_response_at, CURRENT_TIMESTAMP) "
        "WHERE ticket_id = ?";
    static const char closed[] =
        "UPDATE tickets SET ticket_closed_at = CURRENT_TIMESTAMP, ticket_resolved_at = "
        "COALESCE(ticket_resolved_at, CURRENT_TIMESTAMP) WHERE ticket_id = ?";
    static const char open[] =
        "UPDATE tickets SET ticket_resolved_at = NULL WHERE ticket_id = ? AND ticket_resolved_at "
        "IS NOT NULL";
    const char *sql = ctx->aux == STATUS_RESOLVED ? resolved
                      : ctx->aux == STATUS_CLOSED ? closed
                                                  : open;
    int sla = sla_enabled(ctx);
    enum eng_rc rc;
    if (sla && ctx->aux == STATUS_RESOLVED && (rc = sla_first_response(ctx, ctx->id)) != ENG_OK)
        return rc;
    if ((rc = ctx_exec_ints(ctx, sql, 1, &ctx->id)) != ENG_OK || !sla)
        return rc;
    if ((rc = sla_apply(ctx, ctx->id)) != ENG_OK)
        return rc;
    if (ctx->aux == STATUS_RESOLVED || ctx->aux == STATUS_CLOSED)
        return sla_resolution_met(ctx, ctx->id);
    if (ctx_cur(ctx, "ticket_resolved_at", NULL))
        return sla_reset_resolution(ctx, ctx->id);
    return ENG_OK;
}

/* close: the UI's SLA steps (the clock stopped, the resolution judged), closing reply and history
 * row. */
static enum eng_rc closing_reply(struct op_ctx *ctx)
{
    enum eng_rc rc;
    if ((rc = sla_sync_clock(ctx, ctx->id)) != ENG_OK ||
        (rc = sla_resolution_met(ctx, ctx->id)) != ENG_OK)
        return rc;
    static const char reply[] =
        "INSERT INTO ticket_replies (ticket_reply, ticket_reply_type, ticket_reply_time_worked, "
        "ticket_reply_by, ticket_reply_ticket_id) VALUES ('Ticket closed.', 'Internal', "
        "'00:01:00', 0, ?)";
    if (ctx_exec_ints(ctx, reply, 1, &ctx->id) != ENG_OK)
        return ENG_DB;
    return history(ctx, status_name(ctx, STATUS_CLOSED), "closed the ticket", 1);
}

/* reopen: the SLA clock runs again, the resolution verdict is cleared (unless its miss is final).
 */
static enum eng_rc reopened(struct op_ctx *ctx)
{
    enum eng_rc rc;
    if ((rc = sla_sync_clock(ctx, ctx->id)) != ENG_OK ||
        (rc = sla_reset_resolution(ctx, ctx->id)) != ENG_OK)
        return rc;
    return history(ctx, status_name(ctx, STATUS_OPEN), "reopened the ticket", 1);
}

/* Deleting a ticket deletes its replies and history, as the UI does. */
static enum eng_rc delete_ticket_rows(struct op_ctx *ctx)
{
    if (ctx_exec_ints(ctx, "DELETE FROM ticket_replies WHERE ticket_reply_ticket_id = ?", 1,
                      &ctx->id) != ENG_OK)
        return ENG_DB;
    return ctx_exec_ints(ctx, "DELETE FROM ticket_history WHERE ticket_history_ticket_id = ?", 1,
                         &ctx->id);
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
     .after = created_sla,
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
    {.function = "update",
     .op = OP_UPDATE,
     .id_param = "ticket_id",
     .before = check_update,
     .after = status_times,
     .logs = {{"Ticket", "Edit", "Edited ticket {ticket_prefix}{ticket_number} via API ({key})",
               LR_SCOPE, LR_ID},
              {"API", "Success", "Edited ticket {ticket_prefix}{ticket_number} via API ({key})",
               LR_SCOPE, LR_ZERO}}},
    {.function = "close",
     .op = OP_SET,
     .id_param = "ticket_id",
     .cond = "ticket_closed_at IS NULL",
     .sets = "ticket_status = 5, ticket_closed_at = CURRENT_TIMESTAMP, ticket_closed_by = 0",
     .after = closing_reply,
     .logs = {{"Ticket", "Closed", "Closed ticket {ticket_prefix}{ticket_number} via API ({key})",
               LR_SCOPE, LR_ID},
              {"API", "Success", "Closed ticket {ticket_prefix}{ticket_number} via API ({key})",
               LR_SCOPE, LR_ZERO}}},
    {.function = "reopen",
     .op = OP_SET,
     .id_param = "ticket_id",
     .cond = "ticket_closed_at IS NULL AND ticket_resolved_at IS NOT NULL",
     .sets = "ticket_status = 2, ticket_resolved_at = NULL",
     .after = reopened,
     .logs = {{"Ticket", "Reopened",
               "Reopened ticket {ticket_prefix}{ticket_number} via API ({key})", LR_SCOPE, LR_ID},
              {"API", "Success", "Reopened ticket {ticket_prefix}{ticket_number} via API ({key})",
               LR_SCOPE, LR_ZERO}}},
    CRUD_DELETE("Ticket", "ticket", "ticket_id", delete_ticket_rows),
    CRUD_ARCHIVE("Ticket", "ticket", "ticket_id"),
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

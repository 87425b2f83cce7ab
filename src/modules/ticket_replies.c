/* ticket_replies: ITFlow v26.08's read and create (delta 3.1, 3.2), served on both database
 * models. The read is the engine's: rows are the reply's columns, then its ticket's prefix, number,
 * subject and client, then the name of who wrote it (a user, or for Client replies a contact), as
 * read columns; archived replies only with include_archived (F24); the type filter applies beside
 * ticket_reply_id or ticket_id. Scoped through the ticket's client. A create may also set the
 * ticket's status (a status the database has: F26), with the history rows and, for Resolved, the
 * resolution the web UI records; on v26.08 databases the first response, the resolution verdict and
 * the SLA clock go through modules/sla.c. */
#include <stdio.h>
#include <string.h>

#include "core/php.h"
#include "engine/hook.h"
#include "modules/sla.h"
#include "modules/tickets_common.h"

#define STATUS_RESOLVED 4

static const struct field fields[] = {
    {"ticket_reply", "ticket_reply", CV_RAW, FF_REQUIRED, NULL},
    /* checked by the hooks (any other value becomes the reference's default) */
    {"ticket_reply_type", NULL, CV_TEXT, 0, NULL},
    {"ticket_reply_time_worked", NULL, CV_TEXT, 0, NULL},
    {"ticket_status", NULL, CV_TEXT, 0, NULL},
};

/* ---- create ---- */

static const char SQL_TICKET[] =
    "SELECT ticket_client_id, COALESCE(ticket_prefix, ''), ticket_number, ticket_subject, "
    "ticket_first_response_at FROM tickets WHERE ticket_id = ?";
static const char SQL_FIRST_RESPONSE[] =
    "UPDATE tickets SET ticket_first_response_at = CURRENT_TIMESTAMP WHERE ticket_id = ? AND "
    "ticket_first_response_at IS NULL";
static const char SQL_INSERT[] =
    "INSERT INTO ticket_replies (ticket_reply, ticket_reply_type, ticket_reply_time_worked, "
    "ticket_reply_by, ticket_reply_ticket_id) VALUES (?, ?, ?, ?, ?)";
static const char SQL_SET_STATUS[] = "UPDATE tickets SET ticket_status = ? WHERE ticket_id = ?";
static const char SQL_RESOLVE[] =
    "UPDATE tickets SET ticket_resolved_at = CURRENT_TIMESTAMP WHERE ticket_id = ? AND "
    "ticket_resolved_at IS NULL";
static const char SQL_HISTORY[] =
    "INSERT INTO ticket_history (ticket_history_status, ticket_history_description, "
    "ticket_history_ticket_id) VALUES (?, ?, ?)";

/* ^\d{1,3}:[0-5]\d:[0-5]\d$ */
static int time_worked_ok(const char *s, size_t n)
{
    size_t h = 0;
    while (h < n && h < 4 && s[h] >= '0' && s[h] <= '9')
        h++;
    if (h < 1 || h > 3 || n != h + 6)
        return 0;
    const char *m = s + h;
    return m[0] == ':' && m[1] >= '0' && m[1] <= '5' && m[2] >= '0' && m[2] <= '9' && m[3] == ':' &&
           m[4] >= '0' && m[4] <= '5' && m[5] >= '0' && m[5] <= '9';
}

enum eng_rc ticket_history_row(struct op_ctx *ctx, int64_t ticket_id, const char *status,
                               const char *desc)
{
    struct db_stmt *st;
    if (db_stmt(ctx->db, SQL_HISTORY, &st) != DB_OK)
        return ENG_DB;
    size_t dn = strlen(desc);
    db_bind_text(st, 1, status, strlen(status));
    db_bind_text(st, 2, desc, utf8_valid(desc, dn) ? utf8_prefix(desc, dn, 255) : dn);
    db_bind_int(st, 3, ticket_id);
    enum db_rc rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? ENG_OK : ENG_DB;
}

int64_t ticket_status_lookup(struct op_ctx *ctx, const struct value *v, const char **name)
{
    *name = "";
    if (!v->set || v->is_null || v->n == 0)
        return 0;
    int numeric = 1;
    for (size_t i = 0; i < v->n; i++)
        numeric &= (v->p[i] >= '0' && v->p[i] <= '9') || (i == 0 && v->p[i] == '-');
    struct db_stmt *st;
    static const char by_name[] =
        "SELECT ticket_status_id, ticket_status_name FROM ticket_statuses WHERE "
        "LOWER(ticket_status_name) = LOWER(?) ORDER BY ticket_status_id LIMIT 1";
    static const char by_id[] =
        "SELECT ticket_status_id, ticket_status_name FROM ticket_statuses WHERE "
        "ticket_status_id = ?";
    int64_t id = numeric ? php_intval_str(v->p, v->n) : 0;
    if (numeric && id == 0)
        return 0;
    if (db_stmt(ctx->db, numeric ? by_id : by_name, &st) != DB_OK)
        return -2;
    if (numeric)
        db_bind_int(st, 1, id);
    else
        db_bind_text(st, 1, v->p, v->n);
    enum db_rc rc = db_step(st);
    int64_t found = -1;
    if (rc == DB_ROW) {
        found = db_column_int(st, 0);
        size_t n;
        const char *p = db_column_text(st, 1, &n);
        *name = ctx_strdup(ctx, p ? p : "", p ? n : 0);
    } else if (rc != DB_DONE) {
        found = -2;
    }
    db_reset(st);
    return found;
}

static const struct log_spec resolved_log = {
    "Ticket", "Resolved", "Resolved ticket {prefix}{number} via API ({key})", LR_SCOPE, LR_ID};
static const struct log_spec reply_logs[2] = {
    {"Ticket", "Reply",
     "Added a {type} reply to ticket {prefix}{number} - {subject} via API ({key})", LR_SCOPE,
     LR_ID},
    {"API", "Success", "Added a {type} reply to ticket {prefix}{number} via API ({key})", LR_SCOPE,
     LR_ZERO},
};

static enum eng_rc create_reply(struct op_ctx *ctx)
{
    const struct value *reply = ctx_val(ctx, "ticket_reply");
    if (value_empty(reply))
        return ENG_NOT_DONE;
    const char *raw;
    size_t rn;
    enum eng_rc rc = body_string(ctx, "ticket_reply_type", &raw, &rn);
    if (rc != ENG_OK)
        return rc;
    /* ucfirst(strtolower()) of the raw value: Public, else Internal (Client is not accepted) */
    const char *type = raw && rn == 6 && strncasecmp(raw, "Public", 6) == 0 ? "Public" : "Internal";
    const struct value *tw = ctx_val(ctx, "ticket_reply_time_worked");
    const char *worked = "00:00:00";
    size_t wn = 8;
    if (tw->set && tw->p && time_worked_ok(tw->p, tw->n))
        worked = tw->p, wn = tw->n;
    const char *status_name;
    int64_t status = ticket_status_lookup(ctx, ctx_val(ctx, "ticket_status"), &status_name);
    if (status == -2)
        return ENG_DB;
    if (status == -1)
        return reply_bad(ctx->r, "ticket_status names no ticket status of this database");

    struct db_stmt *st;
    if (db_stmt(ctx->db, SQL_TICKET, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, ctx->id);
    enum db_rc drc = db_step(st);
    if (drc != DB_ROW) {
        db_reset(st);
        return drc == DB_DONE ? ENG_NOT_DONE : ENG_DB;
    }
    int64_t client = db_column_int(st, 0);
    size_t n;
    const char *p = db_column_text(st, 1, &n);
    ctx_set_var(ctx, "prefix", ctx_strdup(ctx, p ? p : "", p ? n : 0));
    p = db_column_text(st, 2, &n);
    ctx_set_var(ctx, "number", ctx_strdup(ctx, p ? p : "0", p ? n : 1));
    p = db_column_text(st, 3, &n);
    ctx_set_var(ctx, "subject", ctx_strdup(ctx, p ? p : "", p ? n : 0));
    int first_response = db_column_text(st, 4, &n) == NULL;
    db_reset(st);
    ctx_set_var(ctx, "type", type);
    /* scoped keys reply only to their client's tickets; a named client must be the ticket's;
     * without one, a v26.08 user's client lists decide */
    enum eng_rc crc = ctx_row_client(ctx, client);
    if (crc != ENG_OK)
        return crc;
    ctx->S = client; /* the log rows name the ticket's client */

    /* v26.08: through the SLA, which also judges the response */
    if (first_response && strcmp(type, "Public") == 0 &&
        (rc = sla_enabled(ctx) ? sla_first_response(ctx, ctx->id)
                               : ctx_exec_ints(ctx, SQL_FIRST_RESPONSE, 1, &ctx->id)) != ENG_OK)
        return rc;
    if (db_stmt(ctx->db, SQL_INSERT, &st) != DB_OK)
        return ENG_DB;
    value_bind(st, 1, reply);
    db_bind_text(st, 2, type, strlen(type));
    db_bind_text(st, 3, worked, wn);
    db_bind_int(st, 4, ctx->r->key.user_id); /* v26.08: the key's user; v26.07 keys: 0 */
    db_bind_int(st, 5, ctx->id);
    drc = db_step(st);
    db_reset(st);
    if (drc != DB_DONE)
        return ENG_DB;
    ctx->new_id = db_last_insert_id(ctx->db);

    if (status > 0) {
        int64_t args[2] = {status, ctx->id};
        if (ctx_exec_ints(ctx, SQL_SET_STATUS, 2, args) != ENG_OK)
            return ENG_DB;
        /* the SLA clock follows the status (a pausing status stops it), as in the web UI */
        if ((rc = sla_sync_clock(ctx, ctx->id)) != ENG_OK)
            return rc;
        struct buf d;
        buf_init(&d, 0);
        buf_printf(&d, "Status set to %s via the API (%s)", status_name, ctx->r->key.name_html);
        rc = d.failed ? ENG_DB : ticket_history_row(ctx, ctx->id, status_name, d.p);
        if (rc == ENG_OK && status == STATUS_RESOLVED) {
            buf_reset(&d);
            buf_printf(&d, "Resolved via the API (%s)", ctx->r->key.name_html);
            if (ctx_exec_ints(ctx, SQL_RESOLVE, 1, &ctx->id) != ENG_OK || d.failed)
                rc = ENG_DB;
            if (rc == ENG_OK)
                rc = sla_resolution_met(ctx, ctx->id);
            if (rc == ENG_OK)
                rc = ticket_history_row(ctx, ctx->id, status_name, d.p);
            if (rc == ENG_OK)
                rc = ctx_log(ctx, &resolved_log);
        }
        buf_free(&d);
        if (rc != ENG_OK)
            return rc;
    }
    for (size_t i = 0; i < COUNT_OF(reply_logs); i++)
        if ((rc = ctx_log(ctx, &reply_logs[i])) != ENG_OK)
            return rc;
    ctx->count = 1;
    return ENG_OK;
}

/* ---- read ---- */

static const char *const reply_types[] = {"Internal", "Public", "Client", NULL};

static const struct filter filters[] = {
    {"ticket_reply_id", FK_ID, "ticket_reply_id", NULL, FS_FIRST, 0, NULL},
    {"ticket_id", FK_ID, "ticket_reply_ticket_id", NULL, FS_LIST, 0, NULL},
    {"type", FK_ONE_OF, "ticket_reply_type", NULL, FS_LIST, FLT_ALSO, reply_types},
};

static const struct join read_joins[] = {
    {"users", "users.user_id = ticket_replies.ticket_reply_by"},
    {"contacts", "contacts.contact_id = ticket_replies.ticket_reply_by"},
};

static const struct read_col read_cols[] = {
    {"ticket_prefix", "tickets.ticket_prefix", NULL},
    {"ticket_number", "tickets.ticket_number", NULL},
    {"ticket_subject", "tickets.ticket_subject", NULL},
    {"ticket_client_id", "tickets.ticket_client_id", NULL},
    /* ticket_reply_by is a contact's id on Client replies, a user's on the others */
    {"ticket_reply_by_name", NULL,
     "CASE WHEN ticket_replies.ticket_reply_type = 'Client' THEN contacts.contact_name ELSE "
     "users.user_name END"},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create",
     .op = OP_CUSTOM,
     .id_param = "ticket_id",
     .flags = EP_CREATES,
     .before = create_reply},
};

static struct module_resolved resolved;

const struct module module_ticket_replies = {
    .res = &resolved,
    .name = "ticket_replies",
    .table = "ticket_replies",
    .rbac_module = "module_support",
    .client_col = "ticket_client_id",
    .archived_col = "ticket_reply_archived_at",
    .scope_join = &(const struct join){"tickets",
                                       "tickets.ticket_id = ticket_replies.ticket_reply_ticket_id"},
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .read_joins = read_joins,
    .nread_joins = COUNT_OF(read_joins),
    .read_cols = read_cols,
    .nread_cols = COUNT_OF(read_cols),
    .archived_param = "include_archived",
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

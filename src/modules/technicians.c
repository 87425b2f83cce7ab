/* technicians: reference 2.17 — time worked per ticket and technician (a custom read: the rows
 * are an aggregate, not a table's). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/php.h"
#include "engine/hook.h"
#include "json/json_write.h"

#define SECONDS_OF(x, sqlite)                                                                      \
    ((sqlite) ? "CAST(substr(" x ", 1, instr(" x ", ':') - 1) AS INTEGER) * 3600 + "               \
                "CAST(substr(" x ", instr(" x ", ':') + 1, 2) AS INTEGER) * 60 + "                 \
                "CAST(substr(" x ", -2) AS INTEGER)"                                               \
              : "TIME_TO_SEC(" x ")")

static int64_t int_param(struct req *r, const char *name, int64_t dflt, int *ret_present)
{
    const struct param *p = req_param(r, name);
    if (ret_present)
        *ret_present = p != NULL;
    return p ? php_intval_str(p->val, p->len) : dflt;
}

static void write_pair(struct buf *out, const char *key, const char *v, size_t n, int first)
{
    if (!first)
        buf_putc(out, ',');
    json_write_key(out, key);
    if (!v || json_write_string(out, v, n) != 0)
        buf_puts(out, "null");
}

static enum eng_rc time_worked(struct op_ctx *ctx)
{
    struct req *r = ctx->r;
    int has_month, has_tech;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int64_t year = int_param(r, "year", tm.tm_year + 1900, NULL);
    int64_t month = int_param(r, "month", 0, &has_month);
    int64_t tech = int_param(r, "technician_id", 0, &has_tech);
    if (engine_check_paging(r) != ENG_OK)
        return ENG_OK;
    if (has_month && (month < 1 || month > 12)) {
        reply_message(r, 200, "Invalid month parameter. Must be between 1 and 12.");
        return ENG_OK;
    }
    if (year < 1 || year > 9998 || r->limit == 0) {
        reply_not_done(r, OP_READ);
        return ENG_OK;
    }
    char from[24], to[24];
    if (has_month) {
        snprintf(from, sizeof(from), "%04d-%02d-01 00:00:00", (int)year, (int)month);
        snprintf(to, sizeof(to), "%04d-%02d-01 00:00:00", (int)(month == 12 ? year + 1 : year),
                 (int)(month == 12 ? 1 : month + 1));
    } else {
        snprintf(from, sizeof(from), "%04d-01-01 00:00:00", (int)year);
        snprintf(to, sizeof(to), "%04d-01-01 00:00:00", (int)year + 1);
    }
    int sqlite = db_dialect(ctx->db) == DB_SQLITE;
    struct buf sql;
    buf_init(&sql, 0);
    buf_printf(&sql,
               "SELECT t.ticket_id, t.ticket_prefix, t.ticket_number, t.ticket_subject, "
               "c.client_id, c.client_name, u.user_id, u.user_name, SUM(%s) "
               "FROM ticket_replies tr JOIN tickets t ON t.ticket_id = tr.ticket_reply_ticket_id "
               "JOIN clients c ON c.client_id = t.ticket_client_id "
               "JOIN users u ON u.user_id = tr.ticket_reply_by "
               "WHERE tr.ticket_reply_time_worked IS NOT NULL "
               "AND tr.ticket_reply_time_worked <> '00:00:00' "
               "AND tr.ticket_reply_created_at >= ? AND tr.ticket_reply_created_at < ?%s%s "
               "GROUP BY t.ticket_id, u.user_id "
               "ORDER BY c.client_name%s ASC, t.ticket_number ASC, u.user_name%s ASC "
               "LIMIT ? OFFSET ?",
               SECONDS_OF("tr.ticket_reply_time_worked", sqlite),
               r->scope_all ? "" : " AND t.ticket_client_id = ?",
               has_tech ? " AND tr.ticket_reply_by = ?" : "", sqlite ? " COLLATE ITF_CI" : "",
               sqlite ? " COLLATE ITF_CI" : "");
    struct db_stmt *st;
    enum db_rc rc = sql.failed ? DB_ERROR : db_stmt(ctx->db, sql.p, &st);
    buf_free(&sql);
    if (rc)
        return ENG_DB;
    int idx = 1;
    db_bind_text(st, idx++, from, strlen(from));
    db_bind_text(st, idx++, to, strlen(to));
    if (!r->scope_all)
        db_bind_int(st, idx++, r->scope);
    if (has_tech)
        db_bind_int(st, idx++, tech);
    db_bind_int(st, idx++, r->limit);
    db_bind_int(st, idx++, r->offset);
    struct buf rows;
    buf_init(&rows, 0);
    int64_t count = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        size_t n[8];
        const char *v[8];
        for (int i = 0; i < 8; i++)
            v[i] = db_column_text(st, i, &n[i]);
        char number[256], worked[32];
        snprintf(number, sizeof(number), "%.*s%.*s", (int)n[1], v[1] ? v[1] : "", (int)n[2],
                 v[2] ? v[2] : "");
        int64_t secs = db_column_int(st, 8);
        if (secs > 838 * 3600 + 59 * 60 + 59)
            secs = 838 * 3600 + 59 * 60 + 59;
        snprintf(worked, sizeof(worked), "%02lld:%02lld:%02lld", (long long)(secs / 3600),
                 (long long)(secs / 60 % 60), (long long)(secs % 60));
        buf_puts(&rows, count++ ? ",{" : "{");
        write_pair(&rows, "ticket_id", v[0], n[0], 1);
        write_pair(&rows, "ticket_number", number, strlen(number), 0);
        write_pair(&rows, "ticket_subject", v[3], n[3], 0);
        write_pair(&rows, "client_id", v[4], n[4], 0);
        write_pair(&rows, "company", v[5], n[5], 0);
        write_pair(&rows, "technician_id", v[6], n[6], 0);
        write_pair(&rows, "technician", v[7], n[7], 0);
        write_pair(&rows, "time_worked", worked, strlen(worked), 0);
        buf_putc(&rows, '}');
    }
    db_reset(st);
    if (rc != DB_DONE || rows.failed) {
        buf_free(&rows);
        return ENG_DB;
    }
    if (count == 0) {
        reply_not_done(r, OP_READ);
    } else {
        r->status = 200;
        buf_reset(&r->out);
        buf_printf(&r->out, "{\"success\":\"True\",\"count\":%lld,\"data\":[", (long long)count);
        buf_append(&r->out, rows.p, rows.len);
        buf_puts(&r->out, "]}");
    }
    buf_free(&rows);
    return ENG_OK;
}

static const struct endpoint endpoints[] = {
    {.function = "time", .op = OP_READ},
};

static struct module_resolved resolved;

const struct module module_technicians = {
    .res = &resolved,
    .name = "technicians",
    .table = "ticket_replies",
    .client_col = "ticket_reply_ticket_id", /* scope is applied by time_worked on the ticket */
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
    .custom_read = time_worked,
};

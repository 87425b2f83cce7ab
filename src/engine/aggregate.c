/* aggregate: the read of an endpoint whose rows are an aggregate over joined tables (struct
 * aggregate, a report such as technicians/time). The SQL comes from the descriptor once per shape
 * (scope, which optional filters are present, the dialect) through the memo; a request only
 * converts its parameters, binds and steps, and the rows go out in the read envelope. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/php.h"
#include "engine/engine_int.h"
#include "json/json_write.h"

/* What an aggregate's SQL depends on besides the descriptor. */
struct agg_shape {
    const struct aggregate *a;
    unsigned scoped;  /* enum access_scope */
    unsigned present; /* bit i: filters[i] is given */
};

static const char *dialect_pick(const struct dialect_text *t, enum db_dialect d)
{
    return d == DB_SQLITE ? t->sqlite : t->mariadb;
}

static void build_aggregate(struct op_ctx *ctx, struct buf *sql, const void *arg)
{
    const struct agg_shape *sh = arg;
    const struct aggregate *a = sh->a;
    enum db_dialect d = db_dialect(ctx->db);
    buf_puts(sql, "SELECT ");
    for (size_t i = 0; i < a->ncols; i++) {
        const struct agg_col *c = &a->cols[i];
        buf_printf(sql, "%s%s", i ? ", " : "", c->expr ? c->expr : dialect_pick(&c->dexpr, d));
        if (c->out == AO_CONCAT)
            buf_printf(sql, ", %s", c->expr2);
    }
    buf_printf(sql, " FROM %s %s", ctx->mod->table, a->alias);
    for (size_t i = 0; i < a->njoins; i++)
        buf_printf(sql, " JOIN %s %s ON %s", a->joins[i].table, a->joins[i].alias, a->joins[i].on);
    buf_puts(sql, " WHERE ");
    if (a->where)
        buf_printf(sql, "%s AND ", a->where);
    buf_printf(sql, "%s >= ? AND %s < ?", a->period_col, a->period_col);
    if (sh->scoped) {
        buf_puts(sql, " AND ");
        access_scope_sql(sql, sh->scoped, a->scope_col);
    }
    for (size_t i = 0; i < a->nfilters; i++)
        if (sh->present & (1u << i))
            buf_printf(sql, " AND %s = ?", a->filters[i].column);
    buf_printf(sql, " GROUP BY %s ORDER BY %s LIMIT ? OFFSET ?", a->group_by,
               dialect_pick(&a->order_by, d));
}

/* intval of a query parameter; dflt when absent. */
static int64_t int_param(struct req *r, const char *name, int64_t dflt, int *ret_present)
{
    const struct param *p = name ? req_param(r, name) : NULL;
    if (ret_present)
        *ret_present = p != NULL;
    return p ? php_intval_str(p->val, p->len) : dflt;
}

static void write_string(struct buf *out, const char *key, const char *v, size_t n, int first)
{
    buf_putc(out, first ? '{' : ',');
    json_write_key(out, key);
    if (!v || json_write_string(out, v, n) != 0)
        buf_puts(out, "null");
}

/* One result row as a JSON object. */
/* scratch: a buffer of the caller's, reused for every row (two columns joined into one value) */
static void write_row(struct buf *out, struct buf *scratch, const struct aggregate *a,
                      struct db_stmt *st)
{
    int ci = 0;
    for (size_t i = 0; i < a->ncols; i++) {
        const struct agg_col *c = &a->cols[i];
        size_t n = 0, n2 = 0;
        if (c->out == AO_HMS) {
            int64_t secs = db_column_int(st, ci++);
            if (secs > 838 * 3600 + 59 * 60 + 59)
                secs = 838 * 3600 + 59 * 60 + 59;
            char hms[32];
            snprintf(hms, sizeof(hms), "%02lld:%02lld:%02lld", (long long)(secs / 3600),
                     (long long)(secs / 60 % 60), (long long)(secs % 60));
            write_string(out, c->key, hms, strlen(hms), i == 0);
        } else if (c->out == AO_CONCAT) {
            const char *v = db_column_text(st, ci++, &n);
            const char *v2 = db_column_text(st, ci++, &n2);
            buf_reset(scratch);
            buf_append(scratch, v ? v : "", v ? n : 0);
            buf_append(scratch, v2 ? v2 : "", v2 ? n2 : 0);
            if (scratch->failed)
                out->failed = 1;
            write_string(out, c->key, scratch->p ? scratch->p : "", scratch->len, i == 0);
        } else {
            const char *v = db_column_text(st, ci++, &n);
            write_string(out, c->key, v, n, i == 0);
        }
    }
    buf_putc(out, '}');
}

enum eng_rc engine_aggregate(struct op_ctx *ctx)
{
    struct req *r = ctx->r;
    const struct aggregate *a = ctx->ep->aggregate;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int has_month;
    int64_t year = int_param(r, a->year_param, tm.tm_year + 1900, NULL);
    int64_t month = int_param(r, a->month_param, 0, &has_month);
    struct agg_shape sh = {a, a->scope_col ? access_read_scope(r) : SCOPE_NONE, 0};
    int64_t fval[AGG_MAX_FILTERS];
    for (size_t i = 0; i < a->nfilters && i < AGG_MAX_FILTERS; i++) {
        int present;
        fval[i] = int_param(r, a->filters[i].param, 0, &present);
        sh.present |= (unsigned)present << i;
    }
    enum eng_rc rc = engine_check_paging(r);
    if (rc != ENG_OK)
        return rc;
    if (has_month && (month < 1 || month > 12)) {
        reply_message(r, 200, a->month_error);
        return ENG_OK;
    }
    if (year < 1 || year > 9998 || r->limit == 0)
        return ENG_NOT_DONE;
    char from[24], to[24];
    if (has_month) {
        snprintf(from, sizeof(from), "%04d-%02d-01 00:00:00", (int)year, (int)month);
        snprintf(to, sizeof(to), "%04d-%02d-01 00:00:00", (int)(month == 12 ? year + 1 : year),
                 (int)(month == 12 ? 1 : month + 1));
    } else {
        snprintf(from, sizeof(from), "%04d-01-01 00:00:00", (int)year);
        snprintf(to, sizeof(to), "%04d-01-01 00:00:00", (int)year + 1);
    }
    struct db_stmt *st;
    unsigned bits = engine_scope_bits(sh.scoped) | (unsigned)SQL_FILTER0 * sh.present;
    if (engine_stmt(ctx, ctx->mod, ctx->ep, SHAPE_AGGREGATE, bits, build_aggregate, &sh, &st) !=
        ENG_OK)
        return ENG_DB;
    int idx = 1;
    db_bind_text(st, idx++, from, strlen(from));
    db_bind_text(st, idx++, to, strlen(to));
    idx = access_scope_bind(st, idx, r, sh.scoped);
    for (size_t i = 0; i < a->nfilters; i++)
        if (sh.present & (1u << i))
            db_bind_int(st, idx++, fval[i]);
    db_bind_int(st, idx++, r->limit);
    db_bind_int(st, idx++, r->offset);
    struct buf rows, scratch;
    buf_init(&rows, 0);
    buf_init(&scratch, 0);
    int64_t count = 0;
    enum db_rc drc;
    while ((drc = db_step(st)) == DB_ROW) {
        if (count++)
            buf_putc(&rows, ',');
        write_row(&rows, &scratch, a, st);
    }
    db_reset(st);
    buf_free(&scratch);
    if (drc != DB_DONE || rows.failed) {
        buf_free(&rows);
        return ENG_DB;
    }
    rc = reply_rows(r, rows.p, rows.len, count);
    buf_free(&rows);
    return rc;
}

/* read: the generic read operation — filter choice (K10) and the filters applied beside it, the
 * archived rows left out (F24), scope, paging, and rows streamed from the statement into the
 * PHP-compatible writer (K2-K4), with the read columns the descriptor adds after the table's. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/php.h"
#include "engine/engine_int.h"
#include "json/json_write.h"

#define STREAM_CHUNK (64 * 1024)

/* What a streamed read keeps between refills. */
struct read_state {
    struct db_stmt *st;
    int ncols;
    const struct schema_column **cols;
    const char **keys; /* the columns' {"name": / ,"name": prefixes (module->row_keys) */
    const size_t *key_lens;
    unsigned char *secret; /* per column: decrypt with the master key */
    char master[CRYPTO_MASTER_LEN + 1];
    int have_master;
    int64_t rows;
    int failed;
};

/* What one request asks of a read, besides paging and sync. */
struct read_req {
    const struct filter *f; /* the chosen filter (K10); NULL: the list */
    struct value fv;        /* its value */
    int join;               /* the module's join (FLT_JOIN) */
    int indexed;            /* the text comparison's indexed form */
    unsigned also;          /* bit i: filter i (FLT_ALSO) is present */
    struct value also_v[FLT_ALSO_MAX];
    int live; /* rows whose archived column is set are left out (archived_param) */
};

static void append_columns(struct buf *sql, const struct schema_table *t, int *first)
{
    for (size_t i = 0; i < t->ncols; i++) {
        buf_printf(sql, "%s%s.%s", *first ? "" : ", ", t->name, t->cols[i].name);
        *first = 0;
    }
}

/* The table of a filter's column: the module's, else its join's. */
static const char *filter_table(const struct module *m, const struct filter *f)
{
    return schema_column(m->res->t, f->column) ? m->table : m->join->table;
}

/* " WHERE " before the first condition, " AND " before the others. */
static void and_where(struct buf *sql, int *first)
{
    buf_puts(sql, *first ? " WHERE " : " AND ");
    *first = 0;
}

/* FROM ... WHERE ... for the request's filters (none = the unfiltered list); with the read joins
 * when the statement selects the read columns. */
static void append_from_where(struct buf *sql, struct op_ctx *ctx, const struct read_req *q,
                              int read_joins, const struct sync_req *s)
{
    const struct module *m = ctx->mod;
    const struct filter *f = q->f;
    buf_printf(sql, " FROM %s", m->table);
    if (m->scope_join)
        buf_printf(sql, " INNER JOIN %s ON %s", m->scope_join->table, m->scope_join->on);
    if (q->join)
        buf_printf(sql, " LEFT JOIN %s ON %s", m->join->table, m->join->on);
    for (size_t i = 0; read_joins && i < m->nread_joins; i++)
        buf_printf(sql, " LEFT JOIN %s ON %s", m->read_joins[i].table, m->read_joins[i].on);
    /* no WHERE at all for the unfiltered, unscoped list: SQLite then counts with its b-tree
     * count instead of stepping every row */
    unsigned scoped = m->client_col ? access_read_scope(ctx->r) : SCOPE_NONE;
    int first = 1;
    if (!f) {
        /* nothing to filter */
    } else if (f->kind == FK_ID || f->kind == FK_ONE_OF) {
        and_where(sql, &first);
        buf_printf(sql, "%s.%s = ?", filter_table(m, f), f->column);
    } else {
        const char *tab = filter_table(m, f);
        enum db_dialect d = db_dialect(ctx->db);
        and_where(sql, &first);
        buf_puts(sql, "((");
        sql_text_eq(sql, d, tab, f->column, q->indexed);
        if (f->column2) {
            buf_puts(sql, ") OR (");
            sql_text_eq(sql, d, tab, f->column2, q->indexed);
        }
        buf_puts(sql, "))");
    }
    for (size_t i = 0; i < m->nfilters && i < FLT_ALSO_MAX; i++) {
        if (!(q->also & (1u << i)))
            continue;
        and_where(sql, &first);
        buf_printf(sql, "%s.%s = ?", filter_table(m, &m->filters[i]), m->filters[i].column);
    }
    if (q->live) {
        and_where(sql, &first);
        buf_printf(sql, "%s.%s IS NULL", m->table, m->archived_col);
    }
    if (scoped) {
        char col[160];
        snprintf(col, sizeof(col), "%s.%s", m->scope_join ? m->scope_join->table : m->table,
                 m->client_col);
        and_where(sql, &first);
        access_scope_sql(sql, scoped, col);
    }
    if (s->bits)
        sync_append_where(sql, ctx, s, &first);
}

/* Whether a text filter value may use the indexed comparison. */
static int filter_indexed(const struct filter *f, const struct value *fv)
{
    return f && f->kind != FK_ID && f->kind != FK_ONE_OF && text_indexable(fv->p, fv->n);
}

/* Binds the filter values (the chosen one as often as its comparison needs, then those applied
 * beside it) and the scope; returns the next index. */
static int bind_filter(struct db_stmt *st, struct op_ctx *ctx, const struct read_req *q,
                       const struct sync_req *s)
{
    int idx = 1;
    const struct filter *f = q->f;
    if (f) {
        int per = (db_dialect(ctx->db) == DB_SQLITE && q->indexed) ? 2 : 1;
        int n = per * (f->column2 && f->kind != FK_ID && f->kind != FK_ONE_OF ? 2 : 1);
        for (int i = 0; i < n; i++)
            value_bind(st, idx++, &q->fv);
    }
    for (size_t i = 0; i < ctx->mod->nfilters && i < FLT_ALSO_MAX; i++)
        if (q->also & (1u << i))
            value_bind(st, idx++, &q->also_v[i]);
    if (ctx->mod->client_col)
        idx = access_scope_bind(st, idx, ctx->r, access_read_scope(ctx->r));
    return s->bits ? sync_bind(st, idx, s) : idx;
}

static int write_row(struct buf *out, struct read_state *rs)
{
    for (int i = 0; i < rs->ncols; i++) {
        buf_append(out, rs->keys[i], rs->key_lens[i]); /* '{' or ',' included */
        size_t n;
        const char *p = db_column_text(rs->st, i, &n);
        if (rs->secret[i] && p) {
            char tmp[512];
            struct buf plain = {tmp, 0, sizeof(tmp), sizeof(tmp) - 1, 0};
            if (!rs->have_master || crypto_field_decrypt(rs->master, p, n, &plain) != 0 ||
                plain.failed || json_write_string(out, plain.p, plain.len) != 0)
                buf_puts(out, "null");
            continue;
        }
        if (rs->secret[i] && !p) {
            buf_puts(out, "null");
            continue;
        }
        if (render_column(out, rs->cols[i], p, n) != 0)
            buf_puts(out, "null"); /* stored bytes that are not UTF-8: never an empty body */
    }
    buf_putc(out, '}');
    return out->failed ? -1 : 0;
}

/* Appends rows until the chunk is full; 1 = more rows may follow, 0 = done (end appended after
 * the last row), -1 = error. */
static int fill_rows(struct req *r, struct read_state *rs, size_t chunk, const char *end)
{
    while (r->out.len < chunk) {
        enum db_rc rc = db_step(rs->st);
        if (rc == DB_DONE) {
            buf_puts(&r->out, end);
            return 0;
        }
        if (rc != DB_ROW)
            return -1;
        if (rs->rows++)
            buf_putc(&r->out, ',');
        if (write_row(&r->out, rs) != 0)
            return -1;
    }
    return 1;
}

static int stream_next(struct req *r)
{
    struct read_state *rs = r->stream_state;
    buf_reset(&r->out);
    return fill_rows(r, rs, STREAM_CHUNK, "]}");
}

static void stream_free(struct req *r)
{
    struct read_state *rs = r->stream_state;
    if (rs && rs->st)
        db_reset(rs->st);
    if (rs)
        OPENSSL_cleanse(rs->master, sizeof(rs->master));
    r->stream_state = NULL;
}

static int prepare_state(struct op_ctx *ctx, struct read_state *rs, int join)
{
    const struct module *m = ctx->mod;
    size_t nt = m->res->t->ncols, nj = join ? m->res->jt->ncols : 0;
    size_t n = nt + nj + m->nread_cols;
    rs->cols = arena_alloc(&ctx->r->arena, n * sizeof(*rs->cols));
    rs->secret = arena_alloc(&ctx->r->arena, n);
    if (!rs->cols || !rs->secret)
        return -1;
    memset(rs->secret, 0, n);
    for (size_t i = 0; i < nt; i++)
        rs->cols[i] = &m->res->t->cols[i];
    for (size_t i = 0; i < nj; i++)
        rs->cols[nt + i] = &m->res->jt->cols[i];
    for (size_t i = 0; i < m->nread_cols; i++)
        rs->cols[nt + nj + i] = m->res->read_col_types[i]; /* NULL: an expression, as text */
    for (size_t k = 0; k < m->nfields; k++) {
        if (m->fields[k].conv != CV_SECRET || !m->fields[k].column)
            continue;
        int ci = schema_column_index(m->res->t, m->fields[k].column);
        if (ci >= 0)
            rs->secret[ci] = 1;
    }
    rs->ncols = (int)n;
    rs->keys = m->res->row_keys;
    rs->key_lens = m->res->row_key_lens;
    size_t skip = (m->res->jt ? m->res->jt->ncols : 0) - nj;
    if (m->nread_cols && skip) {
        /* the row keys hold the join's columns before the read columns': leave them out */
        const char **keys = arena_alloc(&ctx->r->arena, n * sizeof(*keys));
        size_t *lens = arena_alloc(&ctx->r->arena, n * sizeof(*lens));
        if (!keys || !lens)
            return -1;
        for (size_t i = 0; i < n; i++) {
            keys[i] = m->res->row_keys[i < nt ? i : i + skip];
            lens[i] = m->res->row_key_lens[i < nt ? i : i + skip];
        }
        rs->keys = keys;
        rs->key_lens = lens;
    }
    memcpy(rs->master, ctx->master, sizeof(rs->master));
    rs->have_master = ctx->have_master;
    return 0;
}

/* FK_ONE_OF: the listed spelling the value matches in any (ASCII) case; NULL (the parameter is
 * ignored) for another value or an array. */
static const char *one_of(const struct filter *f, const struct param *p)
{
    for (const char *const *v = f->values; !p->is_array && *v; v++)
        if (strlen(*v) == p->len && strncasecmp(*v, p->val, p->len) == 0)
            return *v;
    return NULL;
}

/* F24: a parameter given, and not 0, false, no, off (any case) or empty. */
static int param_truthy(const struct param *p)
{
    static const char *const no[] = {"0", "false", "no", "off"};
    if (!p || p->is_array || p->len == 0)
        return 0;
    for (size_t i = 0; i < COUNT_OF(no); i++)
        if (strlen(no[i]) == p->len && strncasecmp(no[i], p->val, p->len) == 0)
            return 0;
    return 1;
}

/* The chosen filter's value, converted as its kind says. */
static enum eng_rc filter_value(struct op_ctx *ctx, const struct filter *f, const struct param *p,
                                struct value *v)
{
    struct req *r = ctx->r;
    if (p->is_array)
        return reply_bad(r, "%s must be a single value, not an array", f->param);
    memset(v, 0, sizeof(*v));
    switch (f->kind) {
    case FK_ID:
        value_int(v, php_intval_str(p->val, p->len));
        return ENG_OK;
    case FK_ONE_OF:
        v->p = one_of(f, p); /* the filter was chosen because this matched */
        v->n = v->p ? strlen(v->p) : 0;
        return v->p ? ENG_OK : ENG_DB;
    case FK_INT_TEXT: {
        char tmp[24];
        snprintf(tmp, sizeof(tmp), "%lld", (long long)php_intval_str(p->val, p->len));
        v->n = strlen(tmp);
        v->p = ctx_strdup(ctx, tmp, v->n);
        return v->p ? ENG_OK : ENG_DB;
    }
    case FK_UCFIRST: {
        if (!utf8_valid(p->val, p->len))
            return reply_bad(r, "%s is not valid UTF-8", f->param);
        struct buf b;
        buf_init(&b, 0);
        php_ucfirst(&b, p->val, p->len);
        v->n = b.len;
        v->p = ctx_strdup(ctx, b.p ? b.p : "", b.len);
        buf_free(&b);
        return v->p ? ENG_OK : ENG_DB;
    }
    default:
        if (!utf8_valid(p->val, p->len))
            return reply_bad(r, "%s is not valid UTF-8", f->param);
        v->p = p->val;
        v->n = p->len;
        return ENG_OK;
    }
}

/* Link: rel="next": the same request with `next` (offset or after_id) set to value. */
static void set_next_link(struct req *r, const char *next, int64_t value)
{
    /* the same request's next page; secrets are never echoed into a header */
    buf_printf(&r->link, "<%s?", r->path);
    int first = 1;
    for (size_t i = 0; i < r->nparams; i++) {
        const struct param *p = &r->params[i];
        if (!strcmp(p->name, next) || !strcmp(p->name, "api_key") ||
            !strcmp(p->name, "api_key_decrypt_password") || p->is_array)
            continue;
        buf_printf(&r->link, "%s%s=", first ? "" : "&", p->name);
        for (size_t k = 0; k < p->len; k++) {
            unsigned char c = (unsigned char)p->val[k];
            if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                c == '-' || c == '_' || c == '.' || c == '~')
                buf_putc(&r->link, (char)c);
            else
                buf_printf(&r->link, "%%%02X", c);
        }
        first = 0;
    }
    buf_printf(&r->link, "%s%s=%lld>; rel=\"next\"", first ? "" : "&", next, (long long)value);
}

static void set_paging_headers(struct req *r, int64_t total)
{
    snprintf(r->total, sizeof(r->total), "%lld", (long long)total);
    /* a next page exists when offset + limit < total (written so that it cannot overflow) */
    if (r->limit <= 0 || r->offset >= total || r->limit >= total - r->offset)
        return;
    set_next_link(r, "offset", r->offset + r->limit);
}

/* What a read's SQL depends on besides the module. */
struct read_shape {
    const struct read_req *q;
    int count; /* SELECT COUNT(*) instead of the rows */
    int deep;  /* a page far into the list: the ids first (deep_page()) */
    int page;  /* an after_id page's COUNT and MAX(id) (SHAPE_READ_PAGE) */
    const struct sync_req *s;
};

/* Pages starting at least this many rows in are read ids first (SQLite). */
#define DEEP_OFFSET 1000

/* A deep page of a plain list on SQLite is found through a covering index: the subquery steps
 * over the skipped rows in an index of ids only (the table's order index or the scope column's
 * index) instead of the table's full rows, and only the page's rows are then read. Lists with a
 * join (which could repeat an id) or their own order keep the one-query form. */
int engine_pages_by_id(const struct module *m)
{
    return !m->scope_join && !m->order_by && !m->nread_cols;
}

static int deep_page(const struct op_ctx *ctx, const struct read_req *q, const struct sync_req *s)
{
    return !s->active && db_dialect(ctx->db) == DB_SQLITE && (!q->f || q->f->shape == FS_LIST) &&
           !q->join && engine_pages_by_id(ctx->mod) && ctx->r->offset >= DEEP_OFFSET;
}

static void build_read(struct op_ctx *ctx, struct buf *sql, const void *arg)
{
    const struct read_shape *sh = arg;
    const struct module *m = ctx->mod;
    const struct read_req *q = sh->q;
    enum filter_shape shape = q->f ? q->f->shape : FS_LIST;
    if (sh->count) {
        buf_puts(sql, "SELECT COUNT(*)");
        append_from_where(sql, ctx, q, 0, sh->s);
        return;
    }
    if (sh->page) {
        /* bounded by the page: as cheap 100,000 rows in as on the first page */
        buf_printf(sql, "SELECT COUNT(*), MAX(k) FROM (SELECT %s.%s AS k", m->table, m->res->pk);
        append_from_where(sql, ctx, q, 0, sh->s);
        buf_printf(sql, " ORDER BY %s.%s LIMIT ?) AS page", m->table, m->res->pk);
        return;
    }
    buf_puts(sql, "SELECT ");
    int first = 1;
    append_columns(sql, m->res->t, &first);
    if (q->join)
        append_columns(sql, m->res->jt, &first);
    for (size_t i = 0; i < m->nread_cols; i++) /* never first: the table has columns */
        buf_printf(sql, ", %s",
                   m->read_cols[i].column ? m->read_cols[i].column : m->read_cols[i].expr);
    if (sh->deep) {
        /* the same rows in the same order; the parameters keep their order too */
        buf_printf(sql, " FROM %s WHERE %s.%s IN (SELECT %s.%s", m->table, m->table, m->res->pk,
                   m->table, m->res->pk);
        append_from_where(sql, ctx, q, 0, sh->s);
        buf_printf(sql, " ORDER BY %s.%s LIMIT ? OFFSET ?) ORDER BY %s.%s", m->table, m->res->pk,
                   m->table, m->res->pk);
        return;
    }
    append_from_where(sql, ctx, q, 1, sh->s);
    if (shape == FS_LIST && (sh->s->bits & (SQL_SORTED | SQL_AFTER))) {
        sync_append_order(sql, ctx, sh->s);
        buf_puts(sql, " LIMIT ? OFFSET ?");
    } else if (shape == FS_LIST && m->order_by)
        buf_printf(sql, " ORDER BY %s LIMIT ? OFFSET ?", m->order_by);
    else if (shape == FS_LIST)
        buf_printf(sql, " ORDER BY %s.%s LIMIT ? OFFSET ?", m->table, m->res->pk);
    else if (shape == FS_FIRST)
        buf_puts(sql, " LIMIT 1");
}

enum read_kind { RK_ROWS, RK_COUNT, RK_PAGE };

static enum eng_rc read_stmt(struct op_ctx *ctx, const struct read_req *q, enum read_kind kind,
                             const struct sync_req *s, struct db_stmt **ret)
{
    int count = kind == RK_COUNT, page = kind == RK_PAGE;
    int deep = kind == RK_ROWS && deep_page(ctx, q, s);
    struct read_shape sh = {q, count, deep, page, s};
    unsigned scope = ctx->mod->client_col ? access_read_scope(ctx->r) : SCOPE_NONE;
    unsigned bits = (q->join ? SQL_JOIN : 0u) | engine_scope_bits(scope) |
                    (q->indexed ? SQL_INDEXED : 0u) | (deep ? SQL_DEEP_PAGE : 0u) |
                    (q->live ? SQL_UNARCHIVED : 0u) | s->bits;
    for (unsigned i = 0; i < FLT_ALSO_MAX; i++)
        if (q->also & (1u << i))
            bits |= SQL_FILTER0 << i;
    enum sql_shape shape = count ? SHAPE_READ_COUNT : page ? SHAPE_READ_PAGE : SHAPE_READ_ROWS;
    return engine_stmt(ctx, ctx->mod, q->f, shape, bits, build_read, &sh, ret);
}

/* The list's size: with after_id, the whole list's (as on its first page), so that the count
 * costs the same at any depth. */
static enum db_rc count_rows(struct op_ctx *ctx, const struct read_req *q,
                             const struct sync_req *sync, int64_t *ret)
{
    struct sync_req s = *sync;
    s.bits &= SQL_SINCE; /* the order does not change a count */
    struct db_stmt *st;
    if (read_stmt(ctx, q, RK_COUNT, &s, &st) != ENG_OK)
        return DB_ERROR;
    bind_filter(st, ctx, q, &s);
    enum db_rc rc = db_query_int(st, ret);
    return rc == DB_ROW ? DB_OK : (rc == DB_DONE ? DB_ERROR : rc);
}

/* An after_id page: how many rows it holds (at most limit) and its last id. */
static enum db_rc keyset_page(struct op_ctx *ctx, const struct read_req *q,
                              const struct sync_req *s, int64_t after, int64_t limit,
                              int64_t *count, int64_t *last)
{
    struct sync_req k = *s;
    k.bits = (s->bits & SQL_SINCE) | SQL_AFTER;
    k.after_id = after;
    struct db_stmt *st;
    if (read_stmt(ctx, q, RK_PAGE, &k, &st) != ENG_OK)
        return DB_ERROR;
    int idx = bind_filter(st, ctx, q, &k);
    db_bind_int(st, idx, limit);
    enum db_rc rc = db_step(st);
    if (rc == DB_ROW) {
        *count = db_column_int(st, 0);
        *last = db_column_int(st, 1);
        rc = DB_OK;
    } else if (rc == DB_DONE) {
        rc = DB_ERROR;
    }
    db_reset(st);
    return rc;
}

enum eng_rc engine_read(struct op_ctx *ctx)
{
    struct req *r = ctx->r;
    const struct module *m = ctx->mod;
    struct read_req *q = arena_alloc(&r->arena, sizeof(*q));
    if (!q)
        return ENG_DB;
    memset(q, 0, sizeof(*q));
    const struct param *p = NULL;
    enum eng_rc rc;
    /* the first alternative present wins (K10); each filter applied beside it that is present
     * adds its condition; an FK_ONE_OF value outside its list counts as absent */
    for (size_t i = 0; i < m->nfilters; i++) {
        const struct filter *fi = &m->filters[i];
        const struct param *pi = req_param(r, fi->param);
        if (!pi || (fi->kind == FK_ONE_OF && !one_of(fi, pi)))
            continue;
        if (fi->flags & FLT_ALSO) {
            if ((rc = filter_value(ctx, fi, pi, &q->also_v[i])) != ENG_OK)
                return rc;
            q->also |= 1u << i;
        } else if (!q->f) {
            q->f = fi;
            p = pi;
        }
    }
    q->live = m->archived_param && !param_truthy(req_param(r, m->archived_param));
    const struct filter *f = q->f;
    if (!f && m->filter_required) {
        reply_message(r, 400, m->filter_required);
        r->out.len--; /* reopen the envelope */
        buf_puts(&r->out, ",\"count\":0,\"data\":[]}");
        return ENG_OK;
    }
    if (f && (rc = filter_value(ctx, f, p, &q->fv)) != ENG_OK)
        return rc;
    q->indexed = filter_indexed(f, &q->fv);
    enum filter_shape shape = f ? f->shape : FS_LIST;
    if (shape == FS_LIST && (rc = engine_check_paging(r)) != ENG_OK)
        return rc;
    int join = m->join && (f ? (f->flags & FLT_JOIN) : (m->list_flags & FLT_JOIN));
    q->join = join;
    struct sync_req sync;
    if (shape == FS_LIST && (rc = sync_parse(ctx, &sync)) != ENG_OK)
        return rc;
    if (shape != FS_LIST)
        memset(&sync, 0, sizeof(sync)); /* one row at most: nothing to page or sort */
    if (shape == FS_LIST && r->limit == 0) {
        reply_not_done(r, OP_READ);
        return ENG_OK;
    }
    if (!db_in_transaction(ctx->db) && db_begin(ctx->db, 0) != DB_OK)
        return ENG_DB;
    int64_t total = -1, expect = -1;
    if (shape == FS_LIST) {
        if (count_rows(ctx, q, &sync, &total) != DB_OK)
            return ENG_DB;
        int64_t last = 0, beyond = 0, unused;
        if (sync.bits & SQL_AFTER) {
            /* the page's size and last id, then whether a row follows it: both bounded by the
             * page, whatever its depth */
            if (keyset_page(ctx, q, &sync, sync.after_id, r->limit, &expect, &last) != DB_OK ||
                (expect > 0 && keyset_page(ctx, q, &sync, last, 1, &beyond, &unused) != DB_OK))
                return ENG_DB;
            snprintf(r->total, sizeof(r->total), "%lld", (long long)total);
            if (expect > 0 && beyond > 0)
                set_next_link(r, "after_id", last);
        } else {
            expect = total - r->offset;
            if (expect > r->limit)
                expect = r->limit;
        }
        if (expect <= 0) {
            reply_not_done(r, OP_READ);
            if (!(sync.bits & SQL_AFTER))
                set_paging_headers(r, total);
            return ENG_OK;
        }
    }
    struct read_state *rs = arena_alloc(&r->arena, sizeof(*rs));
    if (!rs || (memset(rs, 0, sizeof(*rs)), prepare_state(ctx, rs, join)) != 0)
        return ENG_DB;
    if (read_stmt(ctx, q, RK_ROWS, &sync, &rs->st) != ENG_OK)
        return ENG_DB;
    int idx = bind_filter(rs->st, ctx, q, &sync);
    if (shape == FS_LIST) {
        db_bind_int(rs->st, idx++, r->limit);
        db_bind_int(rs->st, idx++, r->offset);
    }
    if (expect >= 0) {
        /* the count is known: stream */
        r->status = 200;
        buf_reset(&r->out);
        buf_printf(&r->out, "{\"success\":\"True\",\"count\":%lld,\"data\":[", (long long)expect);
        if (!(sync.bits & SQL_AFTER))
            set_paging_headers(r, total);
        int more = fill_rows(r, rs, STREAM_CHUNK, "]}");
        if (more < 0) {
            db_reset(rs->st);
            return ENG_DB;
        }
        if (more > 0) {
            r->stream_state = rs;
            r->stream_next = stream_next;
            r->stream_free = stream_free;
        } else {
            db_reset(rs->st);
        }
        return ENG_OK;
    }
    /* unpaged filters: few rows; collect them, then write the envelope */
    struct buf rows = r->out;
    buf_init(&r->out, 0);
    int done = fill_rows(r, rs, SIZE_MAX, ""); /* reply_rows() writes the envelope around them */
    db_reset(rs->st);
    struct buf body = r->out;
    r->out = rows;
    if (done != 0 || body.failed) {
        buf_free(&body);
        return ENG_DB;
    }
    rc = reply_rows(r, body.p ? body.p : "", body.len, rs->rows);
    buf_free(&body);
    return rc;
}

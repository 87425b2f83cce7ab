/* write: the generic create / update / delete / archive / unarchive, each one transaction (F3):
 * every value converted and checked before the first statement, hooks inside the transaction. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/php.h"
#include "engine/engine_int.h"

static const char *now_text(struct op_ctx *ctx)
{
    char tmp[24];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(tmp, sizeof(tmp), "%Y-%m-%d %H:%M:%S", &tm);
    return ctx_strdup(ctx, tmp, strlen(tmp));
}

static int is_textual(enum conv c)
{
    return c != CV_INT && c != CV_DECIMAL && c != CV_MONEY && c != CV_DATE;
}

/* Every field converted from the body (400 on bad input), secrets encrypted. */
static enum eng_rc convert_fields(struct op_ctx *ctx)
{
    const struct module *m = ctx->mod;
    ctx->vals = arena_alloc(&ctx->r->arena, (m->nfields ? m->nfields : 1) * sizeof(*ctx->vals));
    if (!ctx->vals)
        return ENG_DB;
    for (size_t i = 0; i < m->nfields; i++) {
        const struct field *f = &m->fields[i];
        struct value *v = &ctx->vals[i];
        memset(v, 0, sizeof(*v));
        if (f->flags & FF_CONST)
            continue;
        enum eng_rc rc = value_from_body(ctx, f, v);
        if (rc != ENG_OK)
            return rc;
        if (v->set && f->conv == CV_SECRET) {
            size_t max = value_secret_max(field_column(m, f));
            if (v->n > max)
                return reply_bad(ctx->r, "%s is longer than %zu bytes", f->name, max);
            struct buf enc;
            buf_init(&enc, 0);
            if (!ctx->have_master || crypto_field_encrypt(ctx->master, v->p, v->n, &enc) != 0 ||
                enc.failed) {
                buf_free(&enc);
                return ENG_DB;
            }
            v->p = ctx_strdup(ctx, enc.p, enc.len);
            v->n = enc.len;
            buf_free(&enc);
            if (!v->p)
                return ENG_DB;
        }
        if (v->set && (rc = value_check_column(ctx, f, v)) != ENG_OK)
            return rc;
    }
    return ENG_OK;
}

static void fill_defaults(struct op_ctx *ctx)
{
    for (size_t i = 0; i < ctx->mod->nfields; i++) {
        const struct field *f = &ctx->mod->fields[i];
        if (ctx->vals[i].set)
            continue;
        value_default(ctx, f, &ctx->vals[i]);
        if (f->dflt && strcmp(f->dflt, DFLT_NOW) == 0) {
            ctx->vals[i].p = now_text(ctx);
            ctx->vals[i].n = ctx->vals[i].p ? strlen(ctx->vals[i].p) : 0;
        }
    }
}

static void set_name_var(struct op_ctx *ctx, int from_row)
{
    for (size_t i = 0; i < ctx->mod->nfields; i++) {
        const struct field *f = &ctx->mod->fields[i];
        if (!(f->flags & FF_NAME))
            continue;
        const char *name = NULL;
        size_t n = 0;
        if (from_row)
            name = ctx_cur(ctx, f->column, &n);
        else if (!ctx->vals[i].is_null && !ctx->vals[i].is_int)
            name = ctx->vals[i].p, n = ctx->vals[i].n;
        ctx_set_var(ctx, "name", name ? ctx_strdup(ctx, name, n) : "");
        return;
    }
}

/* The module's statements name its client column (a module scoped through another table's,
 * scope_join, has its hooks check the row's client: ctx_row_client). */
static int scoped(const struct op_ctx *ctx)
{
    return ctx->mod->client_col && !ctx->mod->scope_join &&
           strcmp(ctx->mod->client_col, ctx->mod->res->pk) != 0;
}

/* A create names the client column itself, from the scope S — unless one of its fields is that
 * column (an expense's optional client, expense_client_id, is the body's). */
static int insert_sets_client(const struct op_ctx *ctx)
{
    if (!scoped(ctx))
        return 0;
    for (size_t i = 0; i < ctx->mod->nfields; i++) {
        const struct field *f = &ctx->mod->fields[i];
        if (field_local(f) && !(f->flags & FF_NO_CREATE) &&
            strcmp(f->column, ctx->mod->client_col) == 0)
            return 0;
    }
    return 1;
}

/* The condition a row operation's target row must meet besides its id and scope, or NULL. */
static const char *row_condition(const struct op_ctx *ctx, char *tmp, size_t n)
{
    const struct module *m = ctx->mod;
    enum op op = ctx->ep->op;
    if ((op == OP_ARCHIVE || op == OP_UNARCHIVE) && m->archived_col) {
        snprintf(tmp, n, "%s IS %sNULL", m->archived_col, op == OP_ARCHIVE ? "" : "NOT ");
        return tmp;
    }
    return op == OP_UPDATE ? NULL : ctx->ep->cond;
}

static void build_load(struct op_ctx *ctx, struct buf *sql, const void *arg)
{
    const struct schema_table *t = ctx->mod->res->t;
    char tmp[256];
    const char *extra = row_condition(ctx, tmp, sizeof(tmp));
    buf_puts(sql, "SELECT ");
    for (size_t i = 0; i < t->ncols; i++)
        buf_printf(sql, "%s%s", i ? ", " : "", t->cols[i].name);
    buf_printf(sql, " FROM %s WHERE %s = ?", t->name, ctx->mod->res->pk);
    if (scoped(ctx))
        buf_printf(sql, " AND %s = ?", ctx->mod->client_col);
    if (extra)
        buf_printf(sql, " AND %s", extra);
}

/* Loads the target row (pk = id, in scope S, meeting the endpoint's condition) into ctx->cur. */
static enum eng_rc load_row(struct op_ctx *ctx)
{
    const struct schema_table *t = ctx->mod->res->t;
    struct db_stmt *st;
    enum db_rc rc;
    if (engine_stmt(ctx, ctx->mod, ctx->ep, SHAPE_LOAD_ROW, 0, build_load, NULL, &st) != ENG_OK)
        return ENG_DB;
    db_bind_int(st, 1, ctx->id);
    if (scoped(ctx))
        db_bind_int(st, 2, ctx->S);
    rc = db_step(st);
    ctx->cur.found = rc == DB_ROW;
    if (rc == DB_ROW) {
        ctx->cur.p = arena_alloc(&ctx->r->arena, t->ncols * sizeof(char *));
        ctx->cur.n = arena_alloc(&ctx->r->arena, t->ncols * sizeof(size_t));
        for (size_t i = 0; ctx->cur.p && ctx->cur.n && i < t->ncols; i++) {
            size_t n;
            const char *p = db_column_text(st, (int)i, &n);
            ctx->cur.p[i] = p ? ctx_strdup(ctx, p, n) : NULL;
            ctx->cur.n[i] = n;
            if (p && !ctx->cur.p[i]) /* not a NULL column: the arena is exhausted */
                rc = DB_ERROR;
        }
        if (!ctx->cur.p || !ctx->cur.n)
            rc = DB_ERROR;
    }
    db_reset(st);
    return eng_from_db(rc);
}

static void build_clear_primary(struct op_ctx *ctx, struct buf *sql, const void *arg)
{
    const struct field *f = arg;
    const struct module *m = ctx->mod;
    buf_printf(sql, "UPDATE %s SET %s = 0 WHERE %s = ? AND %s <> ? AND %s <> 0", m->table,
               f->column, m->client_col, m->res->pk, f->column);
}

/* FF_PRIMARY fields set to 1 clear the flag on the client's other rows (K14). */
static enum eng_rc clear_other_primaries(struct op_ctx *ctx, int64_t self)
{
    const struct module *m = ctx->mod;
    for (size_t i = 0; i < m->nfields; i++) {
        const struct field *f = &m->fields[i];
        if (!(f->flags & FF_PRIMARY) || !ctx->vals[i].is_int || ctx->vals[i].i != 1 || !scoped(ctx))
            continue;
        struct db_stmt *st;
        if (engine_stmt(ctx, m, f, SHAPE_CLEAR_PRIMARY, 0, build_clear_primary, f, &st) != ENG_OK)
            return ENG_DB;
        db_bind_int(st, 1, ctx->S);
        db_bind_int(st, 2, self);
        enum eng_rc rc = db_step(st) == DB_DONE ? ENG_OK : ENG_DB;
        db_reset(st);
        if (rc != ENG_OK)
            return rc;
    }
    return ENG_OK;
}

struct unique_shape {
    const struct field *f;
    int indexed;
};

static void build_unique(struct op_ctx *ctx, struct buf *sql, const void *arg)
{
    const struct unique_shape *u = arg;
    const struct module *m = ctx->mod;
    buf_printf(sql, "SELECT COUNT(*) FROM %s WHERE ", m->table);
    sql_text_eq(sql, db_dialect(ctx->db), m->table, u->f->column, u->indexed);
    if (scoped(ctx))
        buf_printf(sql, " AND %s = ?", m->client_col);
    /* MariaDB: lock the range so two concurrent creates cannot both pass (SQLite's write
     * transaction is exclusive already) */
    if (db_dialect(ctx->db) == DB_MARIADB)
        buf_puts(sql, " FOR UPDATE");
}

static void build_insert(struct op_ctx *ctx, struct buf *sql, const void *arg)
{
    const struct module *m = ctx->mod;
    buf_printf(sql, "INSERT INTO %s (", m->table);
    int n = 0;
    for (size_t i = 0; i < m->nfields; i++) {
        const struct field *f = &m->fields[i];
        if (field_local(f) && !(f->flags & FF_NO_CREATE))
            buf_printf(sql, "%s%s", n++ ? ", " : "", f->column);
    }
    if (insert_sets_client(ctx))
        buf_printf(sql, "%s%s", n++ ? ", " : "", m->client_col);
    buf_puts(sql, ") VALUES (");
    for (int i = 0; i < n; i++)
        buf_puts(sql, i ? ", ?" : "?");
    buf_putc(sql, ')');
}

static enum eng_rc do_create(struct op_ctx *ctx)
{
    const struct module *m = ctx->mod;
    enum eng_rc rc;
    if ((rc = refs_check(ctx)) != ENG_OK)
        return rc;
    for (size_t i = 0; i < m->nfields; i++) {
        const struct field *f = &m->fields[i];
        if (!(f->flags & FF_UNIQUE))
            continue;
        const struct value *v = &ctx->vals[i];
        struct unique_shape u = {f, !v->is_int && text_indexable(v->p, v->n)};
        struct db_stmt *st;
        if (engine_stmt(ctx, m, f, SHAPE_UNIQUE, u.indexed ? SQL_INDEXED : 0u, build_unique, &u,
                        &st) != ENG_OK)
            return ENG_DB;
        int idx = 1;
        int per = db_dialect(ctx->db) == DB_SQLITE && u.indexed ? 2 : 1;
        for (int k = 0; k < per; k++)
            value_bind(st, idx++, v);
        if (scoped(ctx))
            db_bind_int(st, idx++, ctx->S);
        int64_t n = 0;
        if (db_query_int(st, &n) != DB_ROW)
            return ENG_DB;
        if (n > 0) {
            reply_why(ctx->r, "%s is already used by another row (unique)", f->name);
            return ENG_NOT_DONE;
        }
    }
    if ((rc = clear_other_primaries(ctx, 0)) != ENG_OK)
        return rc;
    if (ctx->ep->before && (rc = ctx->ep->before(ctx)) != ENG_OK)
        return rc;
    struct db_stmt *st;
    if (engine_stmt(ctx, m, NULL, SHAPE_INSERT, 0, build_insert, NULL, &st) != ENG_OK)
        return ENG_DB;
    int idx = 1;
    for (size_t i = 0; i < m->nfields; i++) {
        const struct field *f = &m->fields[i];
        if (field_local(f) && !(f->flags & FF_NO_CREATE))
            value_bind(st, idx++, &ctx->vals[i]);
    }
    if (insert_sets_client(ctx))
        db_bind_int(st, idx++, ctx->S);
    enum db_rc step = db_step(st);
    db_reset(st);
    if (step != DB_DONE)
        return ENG_DB;
    ctx->new_id = db_last_insert_id(ctx->db);
    ctx->count = 1;
    if (ctx->ep->after && (rc = ctx->ep->after(ctx)) != ENG_OK)
        return rc;
    if ((rc = logs_write_endpoint(ctx)) != ENG_OK)
        return rc;
    return ENG_OK;
}

/* Absent fields keep their stored value; a stored NULL in a textual field becomes its create
 * default, a date sent empty keeps the stored date (K13). */
static void merge_current(struct op_ctx *ctx)
{
    for (size_t i = 0; i < ctx->mod->nfields; i++) {
        const struct field *f = &ctx->mod->fields[i];
        struct value *v = &ctx->vals[i];
        if (!field_local(f) || (f->flags & FF_NO_UPDATE))
            continue;
        if (v->set && !(f->conv == CV_DATE && v->is_null))
            continue;
        size_t n;
        const char *cur = ctx_cur(ctx, f->column, &n);
        if (!cur && is_textual(f->conv)) {
            value_default(ctx, f, v);
        } else if (f->conv == CV_INT && cur) {
            value_int(v, php_intval_str(cur, n));
        } else {
            value_from_text(v, cur, n);
        }
    }
}

static int field_changed(struct op_ctx *ctx, const struct field *f, const struct value *v)
{
    const struct schema_column *c = schema_column(ctx->mod->res->t, f->column);
    size_t n;
    const char *cur = ctx_cur(ctx, f->column, &n);
    if (v->is_null || !cur)
        return v->is_null != (cur == NULL);
    char tmp[32];
    const char *np = v->p;
    size_t nn = v->n;
    if (v->is_int) {
        snprintf(tmp, sizeof(tmp), "%lld", (long long)v->i);
        np = tmp, nn = strlen(tmp);
    }
    struct buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    render_canonical(&a, c, cur, n);
    render_canonical(&b, c, np, nn);
    int changed = a.len != b.len || (a.len && memcmp(a.p, b.p, a.len) != 0);
    if (a.failed || b.failed)
        ctx->r->oom = 1; /* the comparison is void: the write fails before its commit */
    buf_free(&a);
    buf_free(&b);
    return changed;
}

/* The target row is not there: the endpoint's miss log (kept: the transaction commits) and the
 * operation's "not done" answer. */
static enum eng_rc row_missing(struct op_ctx *ctx)
{
    reply_why(ctx->r, "row %lld does not exist or is out of the key's scope", (long long)ctx->id);
    const struct log_spec *l = ctx->ep->miss_log;
    if (!l)
        return ENG_NOT_DONE;
    struct op_ctx tmp = *ctx;
    struct endpoint ep = *ctx->ep;
    memset(ep.logs, 0, sizeof(ep.logs));
    ep.logs[0] = *l;
    tmp.ep = &ep;
    enum eng_rc rc = logs_write_endpoint(&tmp);
    ctx->count = 0;
    return rc;
}

static int updatable(const struct field *f)
{
    return field_local(f) && !(f->flags & FF_NO_UPDATE);
}

static void build_update(struct op_ctx *ctx, struct buf *sql, const void *arg)
{
    const struct module *m = ctx->mod;
    buf_printf(sql, "UPDATE %s SET ", m->table);
    int n = 0;
    for (size_t i = 0; i < m->nfields; i++)
        if (updatable(&m->fields[i]))
            buf_printf(sql, "%s%s = ?", n++ ? ", " : "", m->fields[i].column);
    buf_printf(sql, " WHERE %s = ?", m->res->pk);
    if (scoped(ctx))
        buf_printf(sql, " AND %s = ?", m->client_col);
}

static enum eng_rc do_update(struct op_ctx *ctx)
{
    const struct module *m = ctx->mod;
    enum eng_rc rc;
    if ((rc = load_row(ctx)) != ENG_OK)
        return rc;
    if (!ctx->cur.found)
        return row_missing(ctx);
    if ((rc = refs_check(ctx)) != ENG_OK)
        return rc;
    merge_current(ctx);
    set_name_var(ctx, 0);
    if ((rc = clear_other_primaries(ctx, ctx->id)) != ENG_OK)
        return rc;
    if (ctx->ep->before && (rc = ctx->ep->before(ctx)) != ENG_OK)
        return rc;
    /* K13: a statement that would change nothing is not run (count 0), as MariaDB counts */
    int changed = 0;
    for (size_t i = 0; i < m->nfields && !changed; i++)
        if (updatable(&m->fields[i]))
            changed = field_changed(ctx, &m->fields[i], &ctx->vals[i]);
    if (changed) {
        struct db_stmt *st;
        if (engine_stmt(ctx, m, NULL, SHAPE_UPDATE, 0, build_update, NULL, &st) != ENG_OK)
            return ENG_DB;
        int idx = 1;
        for (size_t i = 0; i < m->nfields; i++)
            if (updatable(&m->fields[i]))
                value_bind(st, idx++, &ctx->vals[i]);
        db_bind_int(st, idx++, ctx->id);
        if (scoped(ctx))
            db_bind_int(st, idx++, ctx->S);
        enum db_rc step = db_step(st);
        db_reset(st);
        if (step != DB_DONE)
            return ENG_DB;
        ctx->count = db_changes(ctx->db);
    }
    if (ctx->ep->after && (rc = ctx->ep->after(ctx)) != ENG_OK)
        return rc;
    return logs_write_endpoint(ctx);
}

static void build_row_op(struct op_ctx *ctx, struct buf *sql, const void *arg)
{
    const struct module *m = ctx->mod;
    enum op op = ctx->ep->op;
    if (op == OP_DELETE)
        buf_printf(sql, "DELETE FROM %s", m->table);
    else if (op == OP_SET)
        buf_printf(sql, "UPDATE %s SET %s", m->table, ctx->ep->sets);
    else
        buf_printf(sql, "UPDATE %s SET %s = %s%s%s", m->table, m->archived_col,
                   op == OP_ARCHIVE ? "CURRENT_TIMESTAMP" : "NULL", ctx->ep->sets ? ", " : "",
                   ctx->ep->sets ? ctx->ep->sets : "");
    buf_printf(sql, " WHERE %s = ?", m->res->pk);
    if (scoped(ctx))
        buf_printf(sql, " AND %s = ?", m->client_col);
    /* again here: on MariaDB a concurrent write may have changed the row since load_row read it */
    char tmp[256];
    const char *extra = row_condition(ctx, tmp, sizeof(tmp));
    if (extra)
        buf_printf(sql, " AND %s", extra);
}

/* delete, archive, unarchive, set: one statement on the row found in scope. A statement that
 * finds the row no longer as loaded (a concurrent write got there first) undoes the hooks' work:
 * a refused write leaves no rows saying it happened (F20). */
static enum eng_rc do_row_op(struct op_ctx *ctx)
{
    enum eng_rc rc = load_row(ctx);
    if (rc != ENG_OK)
        return rc;
    if (!ctx->cur.found)
        return row_missing(ctx);
    set_name_var(ctx, 1);
    if (ctx->ep->before && (rc = ctx->ep->before(ctx)) != ENG_OK)
        return rc;
    struct db_stmt *st;
    if (engine_stmt(ctx, ctx->mod, ctx->ep, SHAPE_ROW_OP, 0, build_row_op, NULL, &st) != ENG_OK)
        return ENG_DB;
    db_bind_int(st, 1, ctx->id);
    if (scoped(ctx))
        db_bind_int(st, 2, ctx->S);
    enum db_rc step = db_step(st);
    db_reset(st);
    if (step != DB_DONE)
        return ENG_DB;
    ctx->count = db_changes(ctx->db);
    if (ctx->count == 0) {
        reply_why(ctx->r, "no row changed");
        return ENG_NOT_DONE;
    }
    if (ctx->ep->after && (rc = ctx->ep->after(ctx)) != ENG_OK)
        return rc;
    return logs_write_endpoint(ctx);
}

/* v26.08: the endpoint's length guards, in their order (delta 4, credentials). */
static enum eng_rc check_guards(struct op_ctx *ctx)
{
    for (const struct length_guard *g = ctx->ep->guards; g && g->field; g++) {
        const char *s;
        size_t n;
        enum eng_rc rc = body_string(ctx, g->field, &s, &n);
        if (rc != ENG_OK)
            return rc;
        /* text that is not UTF-8 has no character count (the reference lets it through) */
        size_t len = !s ? 0 : !g->chars ? n : utf8_valid(s, n) ? utf8_length(s, n) : 0;
        if (len > g->max) {
            char msg[128];
            snprintf(msg, sizeof(msg), "%s is too long to store.", g->field);
            reply_message(ctx->r, 200, msg);
            return ENG_REPLIED;
        }
    }
    return ENG_OK;
}

/* Checks that need no store: user agent, scope rule, target id, decrypt password, fields. */
static enum eng_rc prepare_write(struct op_ctx *ctx)
{
    struct req *r = ctx->r;
    const struct endpoint *ep = ctx->ep;
    enum eng_rc rc;
    if (r->key.rbac && (rc = check_guards(ctx)) != ENG_OK)
        return rc;
    if (r->user_agent && r->user_agent_len > 250)
        return reply_bad(r, "The User-Agent header is longer than 250 characters.");
    if ((ep->scope_rule == SR_ZERO && ctx->S != 0) ||
        (ep->scope_rule == SR_NONZERO && ctx->S == 0)) {
        reply_why(r, "client_id %s is not allowed for this endpoint",
                  ep->scope_rule == SR_ZERO ? "other than 0" : "0");
        return ENG_NOT_DONE;
    }
    if (ep->op != OP_CREATE) {
        if (ep->id_param) {
            if ((rc = body_int(ctx, ep->id_param, &ctx->id, NULL)) != ENG_OK)
                return rc;
        } else {
            ctx->id = ctx->S;
        }
        if (ctx->id == 0) {
            reply_why(r, "%s is missing or 0", ep->id_param ? ep->id_param : "client_id");
            return ENG_NOT_DONE;
        }
    }
    if (ep->flags & EP_DECRYPT) {
        const char *pw;
        size_t pwlen;
        if ((rc = body_string(ctx, "api_key_decrypt_password", &pw, &pwlen)) != ENG_OK)
            return rc;
        if (!pw && r->hdr_decrypt)
            pw = r->hdr_decrypt, pwlen = strlen(pw);
        if ((rc = engine_unwrap_master(ctx, pw, pwlen)) != ENG_OK)
            return rc;
    }
    int with_fields = ep->op == OP_CREATE || ep->op == OP_UPDATE || ep->op == OP_CUSTOM;
    if (with_fields && (rc = convert_fields(ctx)) != ENG_OK)
        return rc;
    if (ep->op == OP_CREATE) {
        fill_defaults(ctx);
        for (size_t i = 0; i < ctx->mod->nfields; i++)
            if ((ctx->mod->fields[i].flags & FF_REQUIRED) && value_empty(&ctx->vals[i])) {
                reply_why(r, "the required field %s is missing or empty", ctx->mod->fields[i].name);
                return ENG_NOT_DONE;
            }
        set_name_var(ctx, 0);
    }
    return engine_oom(ctx) ? ENG_DB : ENG_OK;
}

/* The client of the row a write touched, for its event: 0 (none) when the module's rows have no
 * client column. A row operation's row was loaded in scope S (load_row), so S is its client; a
 * create names S unless a field of its own is the client column (an expense's); a client's own
 * row is its id. */
static int event_client(struct op_ctx *ctx, int64_t *client)
{
    const struct module *m = ctx->mod;
    int created = ctx->ep->op == OP_CREATE || ((ctx->ep->flags & EP_CREATES) && ctx->new_id > 0);
    *client = 0;
    if (!m->client_col)
        return 0;
    if (m->res && strcmp(m->client_col, m->res->pk) == 0) {
        *client = created ? ctx->new_id : ctx->id;
        return 1;
    }
    *client = ctx->S;
    if (ctx->ep->op == OP_CREATE && !insert_sets_client(ctx))
        for (size_t i = 0; i < m->nfields; i++) {
            const struct field *f = &m->fields[i];
            if (field_local(f) && strcmp(f->column, m->client_col) == 0) {
                const struct value *v = &ctx->vals[i];
                *client = v->is_null ? 0 : v->is_int ? v->i : php_intval_str(v->p, v->n);
                break;
            }
        }
    return 1;
}

/* The statements of the operation, inside the transaction. */
static enum eng_rc run_statements(struct op_ctx *ctx)
{
    switch (ctx->ep->op) {
    case OP_CREATE:
        return do_create(ctx);
    case OP_UPDATE:
        return do_update(ctx);
    case OP_CUSTOM:
        return ctx->ep->before ? ctx->ep->before(ctx) : ENG_NOT_DONE;
    default:
        return do_row_op(ctx);
    }
}

/* The operation and, when it changed a row, its event (events.c), in one transaction. */
static enum eng_rc run_op(struct op_ctx *ctx)
{
    ctx->event_seq = 0;
    enum eng_rc rc = run_statements(ctx);
    if (rc != ENG_OK || (ctx->new_id <= 0 && ctx->count <= 0))
        return rc;
    int64_t client;
    int has_client = event_client(ctx, &client);
    return events_append(ctx, has_client, client);
}

/* The answer of a write done. */
static void write_answer(struct op_ctx *ctx)
{
    if (ctx->ep->op == OP_CREATE || ((ctx->ep->flags & EP_CREATES) && ctx->new_id > 0))
        reply_created(ctx->r, ctx->new_id);
    else if ((ctx->ep->flags & EP_CREATES) && ctx->r->out.len == 0)
        reply_not_done(ctx->r, OP_CREATE);
    else if (ctx->count > 0)
        reply_count(ctx->r, ctx->count);
    else if (ctx->r->out.len == 0) {
        reply_why(ctx->r, "no row changed");
        reply_not_done(ctx->r, ctx->ep->op);
    }
}

/* One attempt: convert and check everything, then the transaction on the request's connection.
 * *at_commit = 1 when it was COMMIT itself that failed. */
static enum eng_rc write_once(struct op_ctx *ctx, int *at_commit)
{
    *at_commit = 0;
    enum eng_rc rc = prepare_write(ctx);
    if (rc != ENG_OK)
        return rc;
    if (db_begin(ctx->db, 1) != DB_OK)
        return ENG_DB;
    rc = idem_run(ctx, run_op, write_answer);
    if (rc == ENG_OK && engine_oom(ctx))
        rc = ENG_DB; /* something the statements or logs used is missing: undo */
    if (rc == ENG_OK && db_commit(ctx->db) != DB_OK) {
        rc = ENG_DB;
        *at_commit = 1;
    }
    if (rc != ENG_OK)
        db_rollback(ctx->db);
    return rc;
}

/* A write handed to the group commit: the state after prepare_write, restored before every run
 * (a run inside a batch that failed as a whole is repeated alone). */
struct grouped_write {
    struct op_ctx *ctx;
    struct op_ctx start;
    struct value *vals; /* copy of start.vals[] */
};

static int grouped_body(struct db *db, void *arg)
{
    struct grouped_write *g = arg;
    size_t n = g->ctx->mod->nfields;
    *g->ctx = g->start;
    if (g->vals)
        memcpy(g->ctx->vals, g->vals, n * sizeof(*g->vals));
    g->ctx->db = db;
    enum eng_rc rc = idem_run(g->ctx, run_op, write_answer);
    return rc == ENG_OK && engine_oom(g->ctx) ? ENG_DB : rc;
}

/* Single-writer stores (SQLite): the transaction runs on the pool's writer connection, batched
 * with other requests' writes (db_pool_write). */
static enum eng_rc write_grouped(struct op_ctx *ctx)
{
    enum eng_rc rc = prepare_write(ctx);
    if (rc != ENG_OK)
        return rc;
    struct grouped_write g = {ctx, *ctx, NULL};
    size_t n = ctx->mod->nfields;
    if (ctx->vals && n) {
        g.vals = arena_alloc(&ctx->r->arena, n * sizeof(*g.vals));
        if (!g.vals)
            return ENG_DB;
        memcpy(g.vals, ctx->vals, n * sizeof(*g.vals));
    }
    struct db *own = ctx->db;
    int body_rc = ENG_DB;
    enum db_rc db_rc = db_pool_write(ctx->r->pool, grouped_body, &g, &body_rc, &ctx->fault);
    ctx->db = own;
    OPENSSL_cleanse(g.start.master, sizeof(g.start.master));
    return db_rc != DB_OK ? ENG_DB : (enum eng_rc)body_rc; /* what grouped_body returned */
}

#define WRITE_ATTEMPTS 12
#define WRITE_BACKOFF_MS 1   /* before the 2nd attempt; doubled each time */
#define WRITE_BACKOFF_MAX 64 /* ms; 12 attempts wait at most about half a second in all */

/* Whether a failed write transaction may run again from the start: it was certainly not kept.
 * A deadlock or a lock wait timeout (MariaDB rolled it back; on Galera also a certification
 * failure, at any statement or at COMMIT), or the connection lost before COMMIT was sent (the
 * server rolls back what it never saw committed; the next attempt reconnects, to another node
 * of a host list). A connection lost during COMMIT is not retried: the transaction may have been
 * committed (replicated) all the same, and running it again could write it twice (a second
 * ticket); the client gets a 503 and the outcome is for it to read back. */
static int write_retryable(const struct db *db, int at_commit)
{
    enum db_rc last = db_last_error(db);
    return last == DB_BUSY || (last == DB_UNAVAILABLE && !at_commit);
}

/* Stores with concurrent writers (MariaDB, a Galera cluster) roll a transaction back to resolve
 * a conflict, or lose it with its node: run it again from the start, up to WRITE_ATTEMPTS times,
 * after a jittered exponential backoff (conflicting writers spread out instead of meeting
 * again). SQLite's busy timeout has already waited: never retried here. The answer is sent only
 * after a COMMIT that succeeded. */
static enum eng_rc write_retrying(struct op_ctx *ctx)
{
    struct op_ctx start = *ctx;
    unsigned seed = (unsigned)(uintptr_t)ctx ^ (unsigned)time(NULL);
    for (int attempt = 1;; attempt++) {
        int at_commit;
        enum eng_rc rc = write_once(ctx, &at_commit);
        if (rc != ENG_DB || attempt == WRITE_ATTEMPTS || db_dialect(ctx->db) != DB_MARIADB ||
            !write_retryable(ctx->db, at_commit))
            return rc;
        *ctx = start;
        unsigned ms = WRITE_BACKOFF_MS << (attempt - 1);
        if (ms > WRITE_BACKOFF_MAX)
            ms = WRITE_BACKOFF_MAX;
        /* half fixed, half random: [ms/2, ms) */
        usleep((useconds_t)(500 * ms + (unsigned)rand_r(&seed) % (500 * ms)));
    }
}

enum eng_rc engine_write(struct op_ctx *ctx)
{
    int grouped = ctx->r->pool && db_pool_single_writer(ctx->r->pool);
    enum eng_rc rc = idem_check_header(ctx->r);
    if (rc != ENG_OK)
        return rc;
    rc = grouped ? write_grouped(ctx) : write_retrying(ctx);
    if (rc != ENG_OK)
        return rc;
    events_committed(ctx);
    if (!ctx->r->hdr_idem_key) /* else built and stored in the transaction (idem.c) */
        write_answer(ctx);
    return ENG_OK;
}

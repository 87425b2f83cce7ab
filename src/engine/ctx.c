/* ctx: the helpers every part of the engine and the module hooks use on an operation's context:
 * its values, current row and log variables, memoised statements, and the answer of a fault. */
#include <stdio.h>
#include <string.h>

#include "engine/engine_int.h"
#include "engine/sqlmemo.h"

char *ctx_strdup(struct op_ctx *ctx, const char *s, size_t n)
{
    return arena_strndup(&ctx->r->arena, s, n);
}

struct value *ctx_val(struct op_ctx *ctx, const char *field)
{
    for (size_t i = 0; i < ctx->mod->nfields; i++)
        if (strcmp(ctx->mod->fields[i].name, field) == 0)
            return ctx->vals ? &ctx->vals[i] : NULL;
    return NULL;
}

const char *ctx_cur(struct op_ctx *ctx, const char *column, size_t *ret_len)
{
    int i = schema_column_index(ctx->mod->res->t, column);
    if (!ctx->cur.found || i < 0) {
        if (ret_len)
            *ret_len = 0;
        return NULL;
    }
    if (ret_len)
        *ret_len = ctx->cur.n[i];
    return ctx->cur.p[i];
}

void ctx_set_var(struct op_ctx *ctx, const char *name, const char *val)
{
    for (int i = 0; i < ctx->nvars; i++) {
        if (strcmp(ctx->var_name[i], name) == 0) {
            ctx->var_val[i] = val;
            return;
        }
    }
    if (ctx->nvars < CTX_MAX_VARS) {
        ctx->var_name[ctx->nvars] = name;
        ctx->var_val[ctx->nvars++] = val;
    }
}

enum eng_rc ctx_row_client(struct op_ctx *ctx, int64_t client)
{
    if (ctx->S != 0)
        return client == ctx->S ? ENG_OK : ENG_NOT_DONE;
    int ok = access_may_act(ctx->db, ctx->r, client); /* v26.07 keys, admins, no lists: 1 */
    return ok < 0 ? ENG_DB : ok ? ENG_OK : ENG_NOT_DONE;
}

enum eng_rc ctx_exec_ints(struct op_ctx *ctx, const char *sql, int n, const int64_t *ints)
{
    struct db_stmt *st;
    if (db_stmt(ctx->db, sql, &st) != DB_OK)
        return ENG_DB;
    for (int i = 0; i < n; i++)
        db_bind_int(st, i + 1, ints[i]);
    enum db_rc rc = db_step(st);
    db_reset(st);
    return eng_from_db(rc);
}

enum eng_rc engine_step_done(struct db_stmt *st)
{
    enum db_rc rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? ENG_OK : ENG_DB;
}

enum eng_rc engine_stmt(struct op_ctx *ctx, const struct module *mod, const void *which,
                        enum sql_shape shape, unsigned bits, sql_build_fn build, const void *arg,
                        struct db_stmt **ret)
{
    const struct sql_key key = {mod, which, shape, bits, db_dialect(ctx->db)};
    const char *sql = sqlmemo_find(&key);
    if (sql)
        return db_stmt_static(ctx->db, sql, ret) == DB_OK ? ENG_OK : ENG_DB;
    struct buf text;
    buf_init(&text, 0);
    build(ctx, &text, arg);
    enum eng_rc rc = ENG_DB;
    if (!text.failed) {
        sql = sqlmemo_add(&key, text.p);
        rc = (sql ? db_stmt_static(ctx->db, sql, ret) : db_stmt(ctx->db, text.p, ret)) == DB_OK
                 ? ENG_OK
                 : ENG_DB;
    }
    buf_free(&text);
    return rc;
}

int engine_oom(struct op_ctx *ctx)
{
    return ctx->r->oom || ctx->r->arena.failed || ctx->r->out.failed;
}

/* The 5xx answer of a failed operation and the reason for the log: the store's failure (503 when
 * it is busy, unreachable or full), else an allocation failure (500). */
void engine_fault(struct op_ctx *ctx)
{
    struct req *r = ctx->r;
    enum db_rc rc = ctx->fault.rc;
    const char *msg = ctx->fault.msg;
    if (rc == DB_OK && r->db && db_last_error(r->db) != DB_OK) {
        rc = db_last_error(r->db);
        msg = db_errmsg(r->db);
    }
    if (rc == DB_OK) {
        rc = DB_ERROR;
        msg = engine_oom(ctx) ? "out of memory" : "the operation failed outside the store";
    }
    if (rc == DB_ERROR && db_unreachable(r->db))
        rc = DB_UNAVAILABLE;
    snprintf(r->error, sizeof(r->error), "%s", msg);
    reply_server_error(r, rc);
}

enum eng_rc engine_check_paging(struct req *r)
{
    if (r->bad_paging)
        return reply_bad(r, "%s must be zero or a positive number", r->bad_paging);
    return ENG_OK;
}

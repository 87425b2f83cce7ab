/* hook: the interface of module hooks (engine/module.h's op_hook). A hook runs inside the
 * operation's transaction and may read the request (ctx->r; body values through body_string and
 * body_int), the converted values (ctx_val) and the current row (ctx_cur); it may change
 * converted values, set log variables (ctx_set_var) and ctx->aux, and run bound statements on
 * ctx->db. It answers only through its return code (enum eng_rc) and, for a 4xx, reply_bad. The
 * engine's internals (engine_int.h) stay inside src/engine/. */
#ifndef ITFLOWD_ENGINE_HOOK_H
#define ITFLOWD_ENGINE_HOOK_H

#include <stdint.h>

#include "crypto/crypto.h"
#include "db/db.h"
#include "engine/decimal.h"
#include "engine/module.h"
#include "engine/sqlmemo.h"
#include "req/reply.h"
#include "req/req.h"

/* A store call's outcome as an engine step's: ENG_OK when it succeeded (DB_OK, or a step's
 * DB_ROW / DB_DONE), else ENG_DB (the fault stays in db_last_error() for engine_fault()). */
static inline enum eng_rc eng_from_db(enum db_rc rc)
{
    return rc == DB_OK || rc == DB_ROW || rc == DB_DONE ? ENG_OK : ENG_DB;
}

/* A converted field value. Text lives in the request arena. */
struct value {
    const char *p;
    size_t n;
    int64_t i;
    unsigned set : 1;     /* the body sent it (JSON null counts as absent) */
    unsigned is_null : 1; /* SQL NULL */
    unsigned is_int : 1;  /* bound as an integer (i) */
};

/* The current row of the module's table, column by column (arena copies). */
struct cur_row {
    int found;
    const char **p; /* NULL entries are SQL NULL */
    size_t *n;
};

#define CTX_MAX_VARS 8

struct op_ctx {
    struct req *r;
    const struct module *mod;
    const struct endpoint *ep;
    struct db *db;
    int64_t S;          /* the write scope (reference 1.8) */
    int64_t id;         /* the row the operation targets */
    int64_t new_id;     /* create: the inserted id */
    int64_t count;      /* rows changed */
    int64_t aux;        /* a hook's extra id for logs (LR_AUX) */
    struct value *vals; /* one per mod->fields entry */
    struct cur_row cur;
    const char *var_name[CTX_MAX_VARS];
    const char *var_val[CTX_MAX_VARS];
    int nvars;
    char master[CRYPTO_MASTER_LEN + 1];
    int have_master;
    struct db_fault fault; /* a grouped write's failure on the writer connection */
    int64_t event_seq;     /* the event the write appended (events.c), or 0 */
};

/* ---- answers (req/reply.h) ---- */
/* 400 with a message naming the problem (F2), as an engine step's outcome: ENG_REPLIED. */
#define reply_bad(r, ...) (reply_badf((r), __VA_ARGS__), ENG_REPLIED)
/* The "not done" answer of an operation. */
void reply_not_done(struct req *r, enum op op);
/* 400 when the request's limit or offset is negative (F2); lists call it. ENG_OK or ENG_REPLIED. */
enum eng_rc engine_check_paging(struct req *r);

/* ---- values (values.c) ---- */
/* PHP empty() of a converted value. */
int value_empty(const struct value *v);
/* Binds v at idx. */
enum db_rc value_bind(struct db_stmt *st, int idx, const struct value *v);
/* A value from a stored column text (NULL -> is_null). */
void value_from_text(struct value *v, const char *p, size_t n);
/* An integer value. */
void value_int(struct value *v, int64_t i);
/* A body value as a string for hooks: raw scalar text (numbers as PHP prints them); NULL if
 * absent or null. ENG_REPLIED if it is an array/object. */
enum eng_rc body_string(struct op_ctx *ctx, const char *name, const char **ret, size_t *ret_len);
/* intval of a body value (0 if absent); ENG_REPLIED if it is an array/object. */
enum eng_rc body_int(struct op_ctx *ctx, const char *name, int64_t *ret, int *ret_set);
/* An exact decimal body value scaled by 10^scale (engine/decimal.h): a JSON number or a numeric
 * string. *ret_set = 0 (and *ret = 0) when absent; ENG_REPLIED (400 naming the field) when it is
 * not a number or beyond 10^13. */
enum eng_rc body_decimal(struct op_ctx *ctx, const char *name, int scale, int64_t *ret,
                         int *ret_set);
/* The schema column a field is checked against (its own table or "table.column"), or NULL. */
const struct schema_column *field_column(const struct module *m, const struct field *f);

/* ---- context helpers for hooks (engine.c) ---- */
struct value *ctx_val(struct op_ctx *ctx, const char *field);
/* The current row's column text, NULL if SQL NULL or not loaded. */
const char *ctx_cur(struct op_ctx *ctx, const char *column, size_t *ret_len);
void ctx_set_var(struct op_ctx *ctx, const char *name, const char *val);
char *ctx_strdup(struct op_ctx *ctx, const char *s, size_t n);
/* Writes one logs row from a template ({name}, {key}, hook variables, columns) in the operation's
 * transaction. ENG_OK or ENG_DB. */
enum eng_rc ctx_log(struct op_ctx *ctx, const struct log_spec *l);
/* Runs sql (bound with the given integer parameters) expecting no rows. ENG_OK or ENG_DB. */
enum eng_rc ctx_exec_ints(struct op_ctx *ctx, const char *sql, int n, const int64_t *ints);
/* A hook found the client of the row its write touches (a ticket's, an invoice's): ENG_OK when
 * the request may touch it — the named client S when there is one; with none named, a v26.08
 * user's client lists (access_may_act) — else ENG_NOT_DONE (not there for this request), or
 * ENG_DB when the store failed. */
enum eng_rc ctx_row_client(struct op_ctx *ctx, int64_t client);

/* The statement of one SQL shape: its text is built by build(ctx, out, arg) on first use and
 * memoised under the key (mod, which, shape, bits: enum sql_bits, the store's dialect; see
 * engine/sqlmemo.h); later requests only bind and step. */
typedef void (*sql_build_fn)(struct op_ctx *ctx, struct buf *out, const void *arg);
enum eng_rc engine_stmt(struct op_ctx *ctx, const struct module *mod, const void *which,
                        enum sql_shape shape, unsigned bits, sql_build_fn build, const void *arg,
                        struct db_stmt **ret);

#endif

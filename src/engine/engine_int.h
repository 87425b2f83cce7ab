/* engine_int: what the engine's parts and the module hooks share. */
#ifndef ITFLOWD_ENGINE_ENGINE_INT_H
#define ITFLOWD_ENGINE_ENGINE_INT_H

#include <stdint.h>

#include "crypto/crypto.h"
#include "db/db.h"
#include "engine/module.h"
#include "req/logrow.h"
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
};

/* ---- answers (req/reply.h; reply.c) ---- */
/* 400 with a message naming the problem (F2), as an engine step's outcome: ENG_REPLIED. */
#define reply_bad(r, ...) (reply_badf((r), __VA_ARGS__), ENG_REPLIED)
/* 1 when an allocation of the request failed (its arena, its output, its parsing): whatever was
 * built since may lack a part, so the operation must not be committed or answered as done. */
int engine_oom(struct op_ctx *ctx);
/* Answers a failed operation (ENG_DB): 503 when the store is busy, unreachable or full, else 500;
 * r->error says why. */
void engine_fault(struct op_ctx *ctx);
/* The "not done" answer of an operation. */
void reply_not_done(struct req *r, enum op op);

/* 400 when the request's limit or offset is negative (F2); lists call it. ENG_OK or ENG_REPLIED. */
enum eng_rc engine_check_paging(struct req *r);

/* ---- values (values.c) ---- */
/* Converts the body's value for f into v (set=0 when absent). ENG_OK or ENG_REPLIED (400). */
enum eng_rc value_from_body(struct op_ctx *ctx, const struct field *f, struct value *v);
/* The create default of f. */
void value_default(struct op_ctx *ctx, const struct field *f, struct value *v);
/* Checks v against the column's type and length (F2). ENG_OK or ENG_REPLIED. */
enum eng_rc value_check_column(struct op_ctx *ctx, const struct field *f, const struct value *v);
/* The longest plaintext (bytes) whose encrypted form (CV_SECRET: iv + base64 of AES-128-CBC)
 * fits column c. */
size_t value_secret_max(const struct schema_column *c);
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

/* A field written to the module's own table (not NULL, not "table.column"). */
int field_local(const struct field *f);
/* The schema column a field is checked against (its own table or "table.column"), or NULL. */
const struct schema_column *field_column(const struct module *m, const struct field *f);

/* ---- rendering (render.c) ---- */
/* Appends the JSON value of a stored column (string as MariaDB renders its type, or null).
 * Returns -1 if the stored text is not valid UTF-8. */
int render_column(struct buf *out, const struct schema_column *c, const char *p, size_t n);
/* The canonical text of a stored value of column c (what render_column would print). */
void render_canonical(struct buf *out, const struct schema_column *c, const char *p, size_t n);

/* ---- context helpers for hooks (engine.c) ---- */
struct value *ctx_val(struct op_ctx *ctx, const char *field);
/* The current row's column text, NULL if SQL NULL or not loaded. */
const char *ctx_cur(struct op_ctx *ctx, const char *column, size_t *ret_len);
void ctx_set_var(struct op_ctx *ctx, const char *name, const char *val);
char *ctx_strdup(struct op_ctx *ctx, const char *s, size_t n);
/* Runs sql (bound with the given integer parameters) expecting no rows. ENG_OK or ENG_DB. */
enum eng_rc ctx_exec_ints(struct op_ctx *ctx, const char *sql, int n, const int64_t *ints);

/* The statement of one SQL shape: its text is built by build(ctx, out, arg) on first use and
 * memoised under (a, b, variant, the store's dialect); later requests only bind and step. */
typedef void (*sql_build_fn)(struct op_ctx *ctx, struct buf *out, const void *arg);
enum eng_rc engine_stmt(struct op_ctx *ctx, const void *a, const void *b, unsigned variant,
                        sql_build_fn build, const void *arg, struct db_stmt **ret);

/* ---- K12 text equality (textmatch.c) ---- */
/* Appends the case-insensitive equality of table.col with a bound value and returns how many
 * placeholders it used (each bound to the same value). On SQLite, indexed = 1 (the value is
 * ASCII) gives a form that uses the rtrim/NOCASE expression index plus the partial index of rows
 * holding non-ASCII text, with the exact ITF_CI comparison on top; indexed = 0 is the plain
 * ITF_CI comparison (a scan). MariaDB's column collation does it all. */
int sql_text_eq(struct buf *sql, enum db_dialect d, const char *table, const char *col,
                int indexed);
/* 1 when the value may use the indexed form: printable ASCII and tabs only. */
int text_indexable(const char *s, size_t n);
/* CREATE INDEX IF NOT EXISTS statements for every text filter and unique field column, the
 * scope column of every module table and, on SQLite, the ids-only order index of every module
 * whose pages are read by id (engine_pages_by_id). */
void engine_index_ddl(enum db_dialect d, struct buf *out);
/* 1 when the module's plain list pages can be read ids first (read.c, deep pages on SQLite) and
 * so get the ids-only order index (engine_index_ddl): list order is the primary key's, no scope
 * join. */
int engine_pages_by_id(const struct module *m);

/* ---- references to other modules' rows (refs.c) ---- */
/* F27: every reference field the write sends names no row of another client. In the write's
 * transaction; ENG_OK, ENG_REPLIED (400 naming the field) or ENG_DB. */
enum eng_rc refs_check(struct op_ctx *ctx);

/* ---- logs (logs.c) ---- */
/* Writes the endpoint's log rows in the request's transaction. */
enum eng_rc logs_write_endpoint(struct op_ctx *ctx);

/* ---- operations ---- */
enum eng_rc engine_read(struct op_ctx *ctx);
enum eng_rc engine_write(struct op_ctx *ctx);
/* Unwraps the master key with the request's decrypt password: ENG_OK, or ENG_REPLIED (403 F13, or
 * the no-resource answer when there is no password). */
enum eng_rc engine_unwrap_master(struct op_ctx *ctx, const char *pw, size_t pwlen);

#endif

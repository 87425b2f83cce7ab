/* engine_int: what the engine's parts share; private to src/engine/ (modules see engine/hook.h). */
#ifndef ITFLOWD_ENGINE_ENGINE_INT_H
#define ITFLOWD_ENGINE_ENGINE_INT_H

#include <stdint.h>

#include "engine/hook.h"
#include "req/access.h"
#include "req/logrow.h"

/* 1 when an allocation of the request failed (its arena, its output, its parsing): whatever was
 * built since may lack a part, so the operation must not be committed or answered as done. */
int engine_oom(struct op_ctx *ctx);
/* Answers a failed operation (ENG_DB): 503 when the store is busy, unreachable or full, else 500;
 * r->error says why. */
void engine_fault(struct op_ctx *ctx);

/* The statement-shape bits of a read scope (enum access_scope): SQL_SCOPE_ALL for none, the list
 * bits for a v26.08 user's lists, nothing for a v26.07 single client. */
unsigned engine_scope_bits(unsigned scope);

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
/* A field written to the module's own table (not NULL, not "table.column"). */
int field_local(const struct field *f);

/* ---- rendering (render.c) ---- */
/* Appends the JSON value of a stored column (string as MariaDB renders its type, or null).
 * Returns -1 if the stored text is not valid UTF-8. */
int render_column(struct buf *out, const struct schema_column *c, const char *p, size_t n);
/* The canonical text of a stored value of column c (what render_column would print). */
void render_canonical(struct buf *out, const struct schema_column *c, const char *p, size_t n);

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
/* 1 when the module's plain list pages can be read ids first (read.c, deep pages on SQLite) and
 * so get the ids-only order index (engine_index_ddl_for): list order is the primary key's, no scope
 * join. */
int engine_pages_by_id(const struct module *m);

/* ---- incremental sync on list reads (sync.c) ---- */
struct sync_req {
    int active;       /* any of updated_since, after_id, sort present */
    unsigned bits;    /* enum sql_bits: SQL_SINCE, SQL_AFTER, SQL_SORT* */
    char since[20];   /* updated_since as stored: YYYY-MM-DD HH:MM:SS */
    int64_t after_id; /* after_id */
    const char *sort_col;
    const char *created_col, *updated_col; /* the module's time columns, or NULL */
};
/* The module's creation and update time columns (NULL where its table has none). */
void sync_time_cols(const struct module *m, const char **created, const char **updated);
/* Reads the request's sync parameters into s (all zero when none is present). ENG_OK or
 * ENG_REPLIED (400 naming the parameter). */
enum eng_rc sync_parse(struct op_ctx *ctx, struct sync_req *s);
/* Appends the sync conditions (" WHERE " first when *first, else " AND "). */
void sync_append_where(struct buf *sql, const struct op_ctx *ctx, const struct sync_req *s,
                       int *first);
/* Binds the values of sync_append_where's conditions from idx; returns the next index. */
int sync_bind(struct db_stmt *st, int idx, const struct sync_req *s);
/* Appends the ORDER BY of a sorted or keyset list (ties broken by id). */
void sync_append_order(struct buf *sql, const struct op_ctx *ctx, const struct sync_req *s);

/* ---- safe retries (idem.c) ---- */
/* 400 when the request's Idempotency-Key header is not 1 to 255 visible ASCII characters. */
enum eng_rc idem_check_header(struct req *r);
/* Inside the write's transaction: op(ctx) as it is without an Idempotency-Key; with one, the
 * key claimed first (a replayed answer or a 409: ENG_REPLIED, nothing run), then op, then the
 * answer built by answer(ctx) stored with the claim. */
enum eng_rc idem_run(struct op_ctx *ctx, enum eng_rc (*op)(struct op_ctx *ctx),
                     void (*answer)(struct op_ctx *ctx));

/* Steps a statement that returns no row and resets it (ctx.c): ENG_OK when it ran to the end,
 * else ENG_DB. */
enum eng_rc engine_step_done(struct db_stmt *st);

/* ---- events (events.c) ---- */
/* Appends the write's event (module, endpoint function, the row's id, its client when the module's
 * rows have one) in the write's transaction; sets ctx->event_seq. ENG_OK or ENG_DB. */
enum eng_rc events_append(struct op_ctx *ctx, int has_client, int64_t client);
/* After the commit of a write that appended an event: tells the waiters (engine_events_on_commit).
 */
void events_committed(struct op_ctx *ctx);

/* ---- least-privilege keys (keyperm.c) ---- */
/* Notes the key's use and checks its permissions for this operation: ENG_OK, ENG_REPLIED (403
 * naming the missing permission) or ENG_DB. */
enum eng_rc keyperm_check(struct op_ctx *ctx);
/* Writes the last use noted since the previous call (its own transaction on db). */
enum db_rc keyperm_flush(struct db *db);

/* ---- references to other modules' rows (refs.c) ---- */
/* F27: every reference field the write sends names no row of another client. In the write's
 * transaction; ENG_OK, ENG_REPLIED (400 naming the field) or ENG_DB. */
enum eng_rc refs_check(struct op_ctx *ctx);

/* ---- logs (logs.c) ---- */
/* Writes the endpoint's log rows in the request's transaction. */
enum eng_rc logs_write_endpoint(struct op_ctx *ctx);

/* ---- answers (reply.c) ---- */
/* The read envelope around count rows (the objects, comma-separated, without brackets), or the
 * no-resource answer when count is 0. ENG_OK, or ENG_DB when the answer could not be built. */
enum eng_rc reply_rows(struct req *r, const char *rows, size_t len, int64_t count);

/* ---- operations ---- */
enum eng_rc engine_read(struct op_ctx *ctx);
/* The read of an endpoint with an aggregate (aggregate.c). */
enum eng_rc engine_aggregate(struct op_ctx *ctx);
enum eng_rc engine_write(struct op_ctx *ctx);
/* Unwraps the master key with the request's decrypt password: ENG_OK, or ENG_REPLIED (403 F13, or
 * the no-resource answer when there is no password). */
enum eng_rc engine_unwrap_master(struct op_ctx *ctx, const char *pw, size_t pwlen);

#endif

/* idem: safe retries of writes. A write sent with an Idempotency-Key header claims the key (per
 * API key) in its own transaction, before its statements: the first request with a key runs and
 * its answer is stored with the claim, in the same transaction; the same key with the same
 * request (path and body) within 24 hours gets that answer again without a second write; with a
 * different request, a 409. Concurrent duplicates: SQLite runs one write transaction at a time
 * (a duplicate in the same group commit sees the first's uncommitted claim); on MariaDB the
 * second claim's INSERT ... ON DUPLICATE KEY UPDATE (a no-op update: 0 rows changed) waits for
 * an exclusive lock on the first's row, gets it once that commits (no shared lock to upgrade
 * later, so duplicates queue instead of deadlocking) and reads it with a locking read (the
 * newest committed version, not the transaction's snapshot).
 * Answers older than 24 hours are pruned every IDEM_PRUNE_EVERY claims. The table is
 * itflowd's own (owntables.c). */
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/engine_int.h"

#define IDEM_TTL (24 * 3600)
#define IDEM_PRUNE_EVERY 256
#define IDEM_KEY_MAX 255

enum eng_rc idem_check_header(struct req *r)
{
    const char *k = r->hdr_idem_key;
    if (!k)
        return ENG_OK;
    size_t n = strlen(k);
    if (n == 0 || n > IDEM_KEY_MAX)
        return reply_bad(r, "The Idempotency-Key header must be 1 to %d characters.", IDEM_KEY_MAX);
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return reply_bad(r, "The Idempotency-Key header may hold only visible ASCII "
                                "characters.");
    return ENG_OK;
}

static int digest_json(const char *buffer, size_t size, void *data)
{
    return EVP_DigestUpdate((EVP_MD_CTX *)data, buffer, size) ? 0 : -1;
}

/* SHA-256 (hex) of the request a key stands for: the path and the body's JSON (keys sorted, so
 * that the same object sent with its members in another order is the same request), streamed
 * into the digest. */
static int request_hash(struct req *r, char hex[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(c, r->path, strlen(r->path) + 1) &&
             (!r->body ||
              json_dump_callback(r->body, digest_json, c, JSON_COMPACT | JSON_SORT_KEYS) == 0) &&
             EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    if (!ok || mdlen != 32)
        return -1;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* A statement with its parameters bound: key id and key first, as every statement here has. */
static enum eng_rc idem_stmt(struct req *r, struct db *db, const char *sql, struct db_stmt **st)
{
    if (db_stmt_static(db, sql, st) != DB_OK)
        return ENG_DB;
    db_bind_int(*st, 1, r->key.id);
    db_bind_text(*st, 2, r->hdr_idem_key, strlen(r->hdr_idem_key));
    return ENG_OK;
}

static atomic_uint claims;

/* Claims the request's key: ENG_OK (this request runs the write), ENG_REPLIED (the stored
 * answer replayed, or 409), ENG_DB. */
static enum eng_rc claim(struct req *r, struct db *db)
{
    enum db_dialect d = db_dialect(db);
    char hash[65];
    if (request_hash(r, hash) != 0)
        return ENG_DB;
    int64_t now = (int64_t)time(NULL);
    struct db_stmt *st;
    if ((atomic_fetch_add(&claims, 1) % IDEM_PRUNE_EVERY) == 0) {
        if (db_stmt_static(db, "DELETE FROM itflowd_idempotency WHERE idem_created_at < ?", &st) !=
            DB_OK)
            return ENG_DB;
        db_bind_int(st, 1, now - IDEM_TTL);
        if (engine_step_done(st) != ENG_OK)
            return ENG_DB;
    }
    if (idem_stmt(r, db,
                  d == DB_SQLITE
                      ? "INSERT OR IGNORE INTO itflowd_idempotency (idem_api_key_id, idem_key, "
                        "idem_request_hash, idem_created_at) VALUES (?, ?, ?, ?)"
                      : "INSERT INTO itflowd_idempotency (idem_api_key_id, idem_key, "
                        "idem_request_hash, idem_created_at) VALUES (?, ?, ?, ?) ON DUPLICATE "
                        "KEY UPDATE idem_key = idem_key",
                  &st) != ENG_OK)
        return ENG_DB;
    db_bind_text(st, 3, hash, 64);
    db_bind_int(st, 4, now);
    if (engine_step_done(st) != ENG_OK)
        return ENG_DB;
    if (db_changes(db) == 1)
        return ENG_OK; /* ours */
    /* the key was used before: the row as last committed (MariaDB: a locking read) */
    if (idem_stmt(r, db,
                  d == DB_SQLITE ? "SELECT idem_request_hash, idem_created_at, idem_status, "
                                   "idem_answer FROM itflowd_idempotency WHERE idem_api_key_id "
                                   "= ? AND idem_key = ?"
                                 : "SELECT idem_request_hash, idem_created_at, idem_status, "
                                   "idem_answer FROM itflowd_idempotency WHERE idem_api_key_id "
                                   "= ? AND idem_key = ? FOR UPDATE",
                  &st) != ENG_OK)
        return ENG_DB;
    if (db_step(st) != DB_ROW) {
        db_reset(st);
        return ENG_DB;
    }
    size_t hn = 0, an = 0;
    const char *h = db_column_text(st, 0, &hn);
    int64_t created = db_column_int(st, 1);
    int status = (int)db_column_int(st, 2);
    const char *a = db_column_text(st, 3, &an);
    if (created < now - IDEM_TTL) { /* expired, not yet pruned: claim it afresh */
        db_reset(st);
        if (idem_stmt(r, db,
                      "UPDATE itflowd_idempotency SET idem_request_hash = ?, idem_created_at = "
                      "?, idem_status = 0, idem_answer = NULL WHERE idem_api_key_id = ? AND "
                      "idem_key = ?",
                      &st) != ENG_OK)
            return ENG_DB;
        /* this statement's parameters are in another order */
        db_bind_text(st, 1, hash, 64);
        db_bind_int(st, 2, now);
        db_bind_int(st, 3, r->key.id);
        db_bind_text(st, 4, r->hdr_idem_key, strlen(r->hdr_idem_key));
        return engine_step_done(st);
    }
    enum eng_rc rc = ENG_REPLIED;
    if (!h || hn != 64 || memcmp(h, hash, 64) != 0) {
        reply_message(r, 409,
                      "This Idempotency-Key was already used with a different request (another "
                      "endpoint or body) in the last 24 hours.");
    } else if (status < 200 || !a) {
        rc = ENG_DB; /* a claim without its answer is never committed */
    } else {
        r->status = status;
        buf_reset(&r->out);
        buf_append(&r->out, a, an);
        r->idem_replayed = 1;
        if (r->out.failed)
            rc = ENG_DB;
    }
    db_reset(st);
    return rc;
}

static enum eng_rc store_answer(struct req *r, struct db *db)
{
    struct db_stmt *st;
    if (db_stmt_static(db,
                       "UPDATE itflowd_idempotency SET idem_status = ?, idem_answer = ? WHERE "
                       "idem_api_key_id = ? AND idem_key = ?",
                       &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, r->status);
    db_bind_text(st, 2, r->out.p ? r->out.p : "", r->out.len);
    db_bind_int(st, 3, r->key.id);
    db_bind_text(st, 4, r->hdr_idem_key, strlen(r->hdr_idem_key));
    return engine_step_done(st);
}

enum eng_rc idem_run(struct op_ctx *ctx, enum eng_rc (*op)(struct op_ctx *ctx),
                     void (*answer)(struct op_ctx *ctx))
{
    if (!ctx->r->hdr_idem_key)
        return op(ctx);
    enum eng_rc rc = claim(ctx->r, ctx->db);
    if (rc != ENG_OK)
        return rc;
    if ((rc = op(ctx)) != ENG_OK)
        return rc; /* nothing written: the claim goes with the rest */
    answer(ctx);
    if (ctx->r->out.failed)
        return ENG_DB;
    return store_answer(ctx->r, ctx->db);
}

/* ---- for writes that are not a module's endpoint (custom scripts) ---- */

int engine_idem_header_ok(struct req *r)
{
    return idem_check_header(r) == ENG_OK;
}

int engine_idem_claim(struct req *r, struct db *db)
{
    if (!r->hdr_idem_key)
        return 1;
    enum eng_rc rc = claim(r, db);
    return rc == ENG_OK ? 1 : rc == ENG_REPLIED ? 0 : -1;
}

int engine_idem_store(struct req *r, struct db *db)
{
    if (!r->hdr_idem_key)
        return 0;
    return !r->out.failed && store_answer(r, db) == ENG_OK ? 0 : -1;
}

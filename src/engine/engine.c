/* engine: per-request set-up shared by every operation — scope (K9), paging (K8), the site
 * master key (K16, F13) — and the helpers module hooks use. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <string.h>

#include "core/php.h"
#include "engine/engine.h"
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

enum eng_rc engine_stmt(struct op_ctx *ctx, const void *a, const void *b, unsigned variant,
                        sql_build_fn build, const void *arg, struct db_stmt **ret)
{
    variant = variant * 4u + (unsigned)db_dialect(ctx->db);
    const char *sql = sqlmemo_find(a, b, variant);
    if (sql)
        return db_stmt_static(ctx->db, sql, ret) == DB_OK ? ENG_OK : ENG_DB;
    struct buf text;
    buf_init(&text, 0);
    build(ctx, &text, arg);
    enum eng_rc rc = ENG_DB;
    if (!text.failed) {
        sql = sqlmemo_add(a, b, variant, text.p);
        rc = (sql ? db_stmt_static(ctx->db, sql, ret) : db_stmt(ctx->db, text.p, ret)) == DB_OK
                 ? ENG_OK
                 : ENG_DB;
    }
    buf_free(&text);
    return rc;
}

/* Unwrapped master keys, so that a client reading credentials pays the 100 000-round key
 * derivation once, not on every request. In memory only, bounded, entries expire; the lookup
 * key is a digest of (decrypt hash, password), never the password itself. */
#define MASTER_CACHE_SLOTS 64
#define MASTER_CACHE_TTL 300

struct master_entry {
    unsigned char id[32];
    char master[CRYPTO_MASTER_LEN + 1];
    time_t expires;
};

static struct master_entry master_cache[MASTER_CACHE_SLOTS];
static pthread_mutex_t master_mu = PTHREAD_MUTEX_INITIALIZER;

static void master_cache_id(const char *hash, const char *pw, size_t pwlen, unsigned char id[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, hash, strlen(hash) + 1) != 1 || EVP_DigestUpdate(md, pw, pwlen) != 1 ||
        EVP_DigestFinal_ex(md, id, &n) != 1)
        memset(id, 0, 32);
    EVP_MD_CTX_free(md);
}

static int master_cache_get(const unsigned char id[32], char *master)
{
    time_t now = time(NULL);
    int found = 0;
    pthread_mutex_lock(&master_mu);
    struct master_entry *e = &master_cache[id[0] % MASTER_CACHE_SLOTS];
    if (e->expires > now && CRYPTO_memcmp(e->id, id, 32) == 0) {
        memcpy(master, e->master, sizeof(e->master));
        found = 1;
    }
    pthread_mutex_unlock(&master_mu);
    return found;
}

static void master_cache_put(const unsigned char id[32], const char *master)
{
    pthread_mutex_lock(&master_mu);
    struct master_entry *e = &master_cache[id[0] % MASTER_CACHE_SLOTS];
    memcpy(e->id, id, 32);
    memcpy(e->master, master, sizeof(e->master));
    e->expires = time(NULL) + MASTER_CACHE_TTL;
    pthread_mutex_unlock(&master_mu);
}

enum eng_rc engine_unwrap_master(struct op_ctx *ctx, const char *pw, size_t pwlen)
{
    struct req *r = ctx->r;
    if (!pw || pwlen == 0) {
        reply_not_done(r, ctx->ep->op == OP_READ ? OP_READ : ctx->ep->op);
        return ENG_REPLIED;
    }
    /* compared by length: a password with a NUL byte anywhere is wrong, whatever precedes it */
    if (memchr(pw, 0, pwlen)) {
        reply_message(r, 403, "The api_key_decrypt_password is incorrect for this API key.");
        return ENG_REPLIED;
    }
    unsigned char id[32];
    master_cache_id(r->key.decrypt_hash, pw, pwlen, id);
    if (master_cache_get(id, ctx->master)) {
        ctx->have_master = 1;
        return ENG_OK;
    }
    if (crypto_unwrap_master(r->key.decrypt_hash, strlen(r->key.decrypt_hash), pw, pwlen,
                             ctx->master) != 0) {
        reply_message(r, 403, "The api_key_decrypt_password is incorrect for this API key.");
        return ENG_REPLIED;
    }
    master_cache_put(id, ctx->master);
    ctx->have_master = 1;
    return ENG_OK;
}

/* limit/offset (reference 1.7): the query wins over the body; intval; negative -> 400. */
static enum eng_rc paging_param(struct req *r, const char *name, int64_t dflt, int64_t *ret)
{
    const struct param *p = req_param(r, name);
    if (p) {
        *ret = p->is_array ? 1 : php_intval_str(p->val, p->len); /* intval(non-empty array) */
    } else {
        json_t *j = r->body ? json_object_get(r->body, name) : NULL;
        if (j && !json_is_null(j)) {
            if (json_is_string(j))
                *ret = php_intval_str(json_string_value(j), json_string_length(j));
            else if (json_is_integer(j))
                *ret = json_integer_value(j);
            else if (json_is_real(j))
                *ret = php_intval_double(json_real_value(j));
            else
                *ret = json_is_true(j) || (json_is_array(j) && json_array_size(j)) ||
                       (json_is_object(j) && json_object_size(j));
        } else {
            *ret = dflt;
        }
    }
    if (*ret < 0 && !r->bad_paging)
        r->bad_paging = name; /* an error only where paging applies (lists) */
    return ENG_OK;
}

enum eng_rc engine_check_paging(struct req *r)
{
    if (r->bad_paging)
        return reply_bad(r, "%s must be zero or a positive number", r->bad_paging);
    return ENG_OK;
}

/* The client scope S (reference 1.8). */
static enum eng_rc derive_scope(struct req *r, int is_read)
{
    r->scope_all = 0;
    if (r->key.client_id != 0) {
        r->scope = r->key.client_id;
        return ENG_OK;
    }
    if (is_read) {
        const struct param *p = req_param(r, "client_id");
        if (!p) {
            r->scope_all = 1;
            return ENG_OK;
        }
        if (p->is_array)
            return reply_bad(r, "client_id must be a single value, not an array");
        r->scope = php_intval_str(p->val, p->len);
        return ENG_OK;
    }
    r->scope = 0;
    json_t *j = r->body ? json_object_get(r->body, "client_id") : NULL;
    if (!j || json_is_null(j))
        return ENG_OK;
    if (json_is_array(j) || json_is_object(j))
        return reply_bad(r, "client_id must be a number");
    if (json_is_string(j))
        r->scope = php_intval_str(json_string_value(j), json_string_length(j));
    else if (json_is_integer(j))
        r->scope = json_integer_value(j);
    else if (json_is_real(j))
        r->scope = php_intval_double(json_real_value(j));
    else
        r->scope = json_is_true(j);
    if (r->scope < 0 || r->scope > 2147483647) /* client ids are int(11) */
        return reply_bad(r, "client_id is out of range (0 to 2147483647)");
    return ENG_OK;
}

void engine_handle(struct req *r)
{
    const struct module *m = r->mod;
    const struct endpoint *ep = r->ep;
    int is_read = ep->op == OP_READ;
    struct op_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.r = r;
    ctx.mod = m;
    ctx.ep = ep;
    ctx.db = r->db;
    if (paging_param(r, "limit", 50, &r->limit) != ENG_OK ||
        paging_param(r, "offset", 0, &r->offset) != ENG_OK)
        return;
    if (derive_scope(r, is_read) != ENG_OK)
        return;
    if ((m->flags & MOD_ALL_CLIENTS_ONLY) && r->key.client_id != 0) {
        reply_message(r, 403, "This endpoint requires an API key with access to all clients.");
        return;
    }
    if (m->flags & MOD_ALL_CLIENTS_ONLY)
        r->scope_all = 1;
    ctx.S = r->scope;
    enum eng_rc rc;
    if (is_read && (ep->flags & EP_DECRYPT)) {
        const struct param *pw = req_param(r, "api_key_decrypt_password");
        const char *pwv = pw && !pw->is_array ? pw->val : r->hdr_decrypt;
        size_t pwlen = pw && !pw->is_array ? pw->len : pwv ? strlen(pwv) : 0;
        rc = engine_unwrap_master(&ctx, pwv, pwlen);
        if (rc != ENG_OK)
            goto out;
    }
    if (is_read)
        rc = m->custom_read ? m->custom_read(&ctx) : engine_read(&ctx);
    else
        rc = engine_write(&ctx);
out:
    OPENSSL_cleanse(ctx.master, sizeof(ctx.master));
    if (rc == ENG_OK && engine_oom(&ctx))
        rc = ENG_DB; /* an answer built with something missing is no answer */
    if (rc == ENG_NOT_DONE)
        reply_not_done(r, ep->op);
    else if (rc == ENG_DB)
        engine_fault(&ctx);
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

/* auth: key extraction and lookup. Hashed keys are found by their hash; legacy plaintext keys
 * (an existing ITFlow database) are compared one by one in constant time. */
#include "auth/auth.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/php.h"
#include "crypto/crypto.h"
#include "engine/engine_int.h"

/* One query: the key whose stored hash is the presented key's, and every legacy plaintext key
 * (an ITFlow database has a handful); each candidate is then compared in constant time. */
static const char SQL_CANDIDATES[] =
    "SELECT api_key_id, api_key_name, api_key_secret, api_key_decrypt_hash, api_key_client_id "
    "FROM api_keys WHERE api_key_expire > ? AND (api_key_secret = ? OR "
    "SUBSTR(api_key_secret, 1, 13) <> '$itfd-sha256$') ORDER BY api_key_id";

void auth_today(char out[11])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* The presented key: body api_key wins, then the query, then X-API-Key / Bearer (A1). */
static int presented_key(struct req *r, struct buf *out)
{
    json_t *j = r->body ? json_object_get(r->body, "api_key") : NULL;
    if (j && !json_is_null(j)) {
        if (json_is_string(j))
            php_sanitize(out, json_string_value(j), json_string_length(j));
        else if (json_is_integer(j))
            buf_printf(out, "%lld", (long long)json_integer_value(j));
        else if (json_is_true(j))
            buf_putc(out, '1');
        else if (!json_is_false(j) && !json_is_real(j)) {
            reply_bad(r, "api_key must be a string");
            return AUTH_REPLIED;
        }
        return AUTH_OK;
    }
    const struct param *p = req_param(r, "api_key");
    if (p) {
        if (p->is_array) {
            reply_bad(r, "api_key must be a single value, not an array");
            return AUTH_REPLIED;
        }
        php_sanitize(out, p->val, p->len);
        return AUTH_OK;
    }
    if (r->hdr_api_key) {
        php_sanitize(out, r->hdr_api_key, strlen(r->hdr_api_key));
        return AUTH_OK;
    }
    return AUTH_NO_KEY;
}

static void fill_key(struct req *r, struct db_stmt *st)
{
    size_t n;
    const char *name = db_column_text(st, 1, &n);
    struct buf b = {r->key.name_html, 0, sizeof(r->key.name_html), sizeof(r->key.name_html) - 1, 0};
    r->key.name_html[0] = 0;
    php_htmlentities(&b, name ? name : "", name ? n : 0);
    if (b.failed)
        r->key.name_html[0] = 0;
    r->key.id = db_column_int(st, 0);
    const char *h = db_column_text(st, 3, &n);
    snprintf(r->key.decrypt_hash, sizeof(r->key.decrypt_hash), "%.*s", (int)(h ? n : 0),
             h ? h : "");
    r->key.client_id = db_column_int(st, 4);
}

/* 1 = found (r->key filled), 0 = not found, -1 = store error. */
static int lookup(struct req *r, struct db *db, const char *key, size_t klen, const char *today)
{
    struct db_stmt *st;
    char hash[CRYPTO_KEY_HASH_LEN + 1];
    crypto_key_hash(key, klen, hash);
    if (db_stmt_static(db, SQL_CANDIDATES, &st) != DB_OK)
        return -1;
    db_bind_text(st, 1, today, 10);
    db_bind_text(st, 2, hash, strlen(hash));
    int found = 0, rc;
    while ((rc = db_step(st)) == DB_ROW) {
        size_t n;
        const char *stored = db_column_text(st, 2, &n);
        /* every candidate is compared, so the time taken does not depend on which matched */
        if (stored && crypto_key_matches(stored, n, key, klen) && !found) {
            fill_key(r, st);
            found = 1;
        }
    }
    db_reset(st);
    return rc == DB_DONE ? found : -1;
}

enum auth_result auth_request(struct req *r, struct db *db)
{
    struct buf key;
    buf_init(&key, 4096);
    int rc = presented_key(r, &key);
    if (rc != AUTH_OK) {
        buf_free(&key);
        return (enum auth_result)rc;
    }
    char today[11];
    auth_today(today);
    int found = key.failed ? 0 : lookup(r, db, key.p ? key.p : "", key.len, today);
    buf_free(&key);
    if (found < 0)
        return AUTH_ERROR;
    if (found)
        return AUTH_OK;
    struct buf desc, path;
    buf_init(&desc, 0);
    buf_init(&path, 0);
    php_sanitize(&path, r->path, strlen(r->path));
    buf_printf(&desc, "Incorrect or expired key (endpoint: %s)", path.p ? path.p : "");
    db_rollback(db); /* leave the request's read transaction: the log row is a write */
    rc = logs_insert(db, r, "API", "Failed", desc.p ? desc.p : "", 0, 0);
    buf_free(&desc);
    buf_free(&path);
    return rc == DB_OK ? AUTH_INVALID : AUTH_ERROR;
}

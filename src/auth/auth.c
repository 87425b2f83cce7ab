/* auth: key extraction and lookup. Hashed keys are found by their hash; legacy plaintext keys
 * (an existing ITFlow database) are compared one by one in constant time. */
#include "auth/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/php.h"
#include "crypto/crypto.h"
#include "req/access.h"
#include "req/logrow.h"
#include "req/reply.h"

/* One query: the key whose stored hash is the presented key's, and every legacy plaintext key
 * (an ITFlow database has a handful); each candidate is then compared in constant time. The fifth
 * column is the key's client scope (v26.07) or the user it runs as (v26.08); the last three are
 * the key's least-privilege row (itflowd_key_perms, created by init and serve; NULL without
 * one), so that they are remembered with the key and checked without a query of their own. */
#define SQL_CANDIDATES_OF(scope_column)                                                            \
    "SELECT k.api_key_id, k.api_key_name, k.api_key_secret, k.api_key_decrypt_hash, "              \
    "k." scope_column ", p.perm_read_only, p.perm_no_delete, p.perm_allow_ips FROM api_keys k "    \
    "LEFT JOIN itflowd_key_perms p ON p.perm_api_key_id = k.api_key_id WHERE k.api_key_expire > "  \
    "? AND (k.api_key_secret = ? OR SUBSTR(k.api_key_secret, 1, 13) <> '$itfd-sha256$') ORDER BY " \
    "k.api_key_id"
static const char SQL_CANDIDATES[] = SQL_CANDIDATES_OF("api_key_client_id");
static const char SQL_CANDIDATES_2608[] = SQL_CANDIDATES_OF("api_key_user_id");

/* v26.08 (delta 2.1): the key's user, its role, the size of its client lists and the role's
 * permission levels by module name, in one query: a row per permission row (one row with NULL
 * name and level when there is none). role_is_admin is NULL when the role does not exist;
 * permission rows of a module that does not exist (or was renamed away) name no module. */
static const char SQL_USER[] =
    "SELECT u.user_type, u.user_status, CASE WHEN u.user_archived_at IS NULL THEN 0 ELSE 1 END, "
    "r.role_is_admin, "
    "(SELECT COUNT(*) FROM user_client_permissions ca WHERE ca.user_id = u.user_id "
    "AND ca.permission_type <> 'deny'), "
    "(SELECT COUNT(*) FROM user_client_permissions cd WHERE cd.user_id = u.user_id "
    "AND cd.permission_type = 'deny'), "
    "(SELECT MIN(co.client_id) FROM user_client_permissions co WHERE co.user_id = u.user_id "
    "AND co.permission_type <> 'deny'), "
    "m.module_name, p.user_role_permission_level "
    "FROM users u LEFT JOIN user_roles r ON r.role_id = u.user_role_id "
    "LEFT JOIN user_role_permissions p ON p.user_role_id = u.user_role_id "
    "LEFT JOIN modules m ON m.module_id = p.module_id WHERE u.user_id = ?";

/* The key model of the database being served (db_identity(), set once at start-up). */
static int v2608(void)
{
    return db_identity()->dialect == ITFLOW_V2608;
}

void auth_today(char out[11])
{
    /* formatted once per second per thread */
    static _Thread_local time_t last;
    static _Thread_local char day[11];
    time_t t = time(NULL);
    if (!day[0] || t != last) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        last = t;
    }
    memcpy(out, day, sizeof(day));
}

/* A key is compared by its length, never as a C string: one with a NUL byte anywhere (JSON
 * \u0000, %00) is invalid, as is any key it might be cut or sanitized into. */
static void key_value(struct buf *out, const char *s, size_t n)
{
    if (memchr(s, 0, n))
        out->failed = 1; /* matches nothing: the invalid-key answer and log row */
    else
        php_sanitize(out, s, n);
}

/* The presented key: body api_key wins, then the query, then X-API-Key / Bearer (A1). */
static int presented_key(struct req *r, struct buf *out)
{
    json_t *j = r->body ? json_object_get(r->body, "api_key") : NULL;
    if (j && !json_is_null(j)) {
        if (json_is_string(j))
            key_value(out, json_string_value(j), json_string_length(j));
        else if (json_is_integer(j))
            buf_printf(out, "%lld", (long long)json_integer_value(j));
        else if (json_is_true(j))
            buf_putc(out, '1');
        else if (!json_is_false(j) && !json_is_real(j)) {
            reply_badf(r, "api_key must be a string");
            return AUTH_REPLIED;
        }
        return AUTH_OK;
    }
    const struct param *p = req_param(r, "api_key");
    if (p) {
        if (p->is_array) {
            reply_badf(r, "api_key must be a single value, not an array");
            return AUTH_REPLIED;
        }
        key_value(out, p->val, p->len);
        return AUTH_OK;
    }
    if (r->hdr_api_key) {
        key_value(out, r->hdr_api_key, strlen(r->hdr_api_key)); /* NUL: refused by http */
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
    int rbac = v2608();
    r->key.rbac = rbac;
    r->key.client_id = rbac ? 0 : db_column_int(st, 4);
    r->key.user_id = rbac ? db_column_int(st, 4) : 0;
    r->key.perm_read_only = db_column_int(st, 5) != 0;
    r->key.perm_no_delete = db_column_int(st, 6) != 0;
    const char *ips = db_column_text(st, 7, &n);
    r->key.perm_allow_len = 0;
    r->key.perm_allow_long = ips && n > sizeof(r->key.perm_allow_ips);
    if (ips && !r->key.perm_allow_long) {
        memcpy(r->key.perm_allow_ips, ips, n);
        r->key.perm_allow_len = n;
    }
}

/* v26.08: what the key's user may do (delta 2.1-2.3). 0, or -1 on a store error. */
static int load_access(struct db *db, struct api_key *key)
{
    struct key_access *a = &key->access;
    memset(a, 0, sizeof(*a));
    if (key->user_id == 0) {
        a->state = ACCESS_UNTIED;
        return 0;
    }
    struct db_stmt *st;
    if (db_stmt_static(db, SQL_USER, &st) != DB_OK)
        return -1;
    db_bind_int(st, 1, key->user_id);
    enum db_rc rc;
    int rows = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        if (rows++ == 0) {
            if (db_column_int(st, 0) != 1 || db_column_int(st, 1) != 1 || db_column_int(st, 2) != 0)
                a->state = ACCESS_INVALID;
            a->is_admin = db_column_int(st, 3) == 1;
            a->nallow = db_column_int(st, 4);
            a->ndeny = db_column_int(st, 5);
            if (a->nallow == 1 && a->ndeny == 0)
                a->allow_one = db_column_int(st, 6);
        }
        size_t n;
        const char *name = db_column_text(st, 7, &n);
        if (!name || n >= ACCESS_MODULE_NAME || a->nperm == ACCESS_MAX_MODULES)
            continue; /* no permission row, or not a module name the API asks about */
        int dup = 0;
        for (int i = 0; i < a->nperm && !dup; i++)
            dup = strlen(a->perm_name[i]) == n && memcmp(a->perm_name[i], name, n) == 0;
        if (dup)
            continue; /* the first row found answers, as the reference's lookup */
        memcpy(a->perm_name[a->nperm], name, n);
        a->perm_name[a->nperm][n] = 0;
        a->perm_level[a->nperm++] = (int)db_column_int(st, 8);
    }
    db_reset(st);
    if (rc != DB_DONE)
        return -1;
    if (rows == 0)
        a->state = ACCESS_INVALID; /* no such user */
    return 0;
}

/* Keys found recently on one connection, each with the store's data version it was read at: while
 * that version is unchanged (nothing committed since, by anyone), the query would give the same
 * answer, so a hit is that answer without running it. A revoked or expired key misses at once.
 * Entries hold the presented key's hashed form, never the key. Owned by the connection (db_memo).
 */
#define MEMO_SLOTS 4

struct memo_entry {
    int used;
    uint64_t version[2];
    char today[11];
    char hash[CRYPTO_KEY_HASH_LEN + 1];
    struct api_key key;
};

struct auth_memo {
    struct memo_entry e[MEMO_SLOTS];
    unsigned next;
};

static void memo_free(void *memo)
{
    if (memo)
        memset(memo, 0, sizeof(struct auth_memo));
    free(memo);
}

static struct auth_memo *memo_of(struct db *db)
{
    struct auth_memo *m = db_memo(db);
    if (!m && (m = calloc(1, sizeof(*m))) != NULL)
        db_set_memo(db, m, memo_free);
    return m;
}

/* The hashed forms are compared in constant time; which slot matched, and whether any slot is of
 * this version, tells nothing about a key. */
static const struct memo_entry *memo_find(const struct auth_memo *m, const char *hash,
                                          const char *today, const uint64_t version[2])
{
    for (unsigned i = 0; i < MEMO_SLOTS; i++) {
        const struct memo_entry *e = &m->e[i];
        if (e->used && e->version[0] == version[0] && e->version[1] == version[1] &&
            memcmp(e->today, today, sizeof(e->today)) == 0 &&
            crypto_equal(e->hash, hash, CRYPTO_KEY_HASH_LEN))
            return e;
    }
    return NULL;
}

static void copy_key(struct api_key *to, const struct api_key *from)
{
    to->id = from->id;
    to->client_id = from->client_id;
    to->user_id = from->user_id;
    to->rbac = from->rbac;
    to->access = from->access;
    memcpy(to->name_html, from->name_html, strlen(from->name_html) + 1);
    memcpy(to->decrypt_hash, from->decrypt_hash, strlen(from->decrypt_hash) + 1);
    to->perm_read_only = from->perm_read_only;
    to->perm_no_delete = from->perm_no_delete;
    to->perm_allow_long = from->perm_allow_long;
    to->perm_allow_len = from->perm_allow_len;
    memcpy(to->perm_allow_ips, from->perm_allow_ips, from->perm_allow_len);
}

static void memo_put(struct auth_memo *m, const char *hash, const char *today,
                     const uint64_t version[2], const struct api_key *key)
{
    struct memo_entry *e = &m->e[m->next++ % MEMO_SLOTS];
    e->used = 1;
    e->version[0] = version[0];
    e->version[1] = version[1];
    memcpy(e->today, today, sizeof(e->today));
    memcpy(e->hash, hash, sizeof(e->hash));
    copy_key(&e->key, key);
}

/* 1 = found (r->key filled), 0 = not found, -1 = store error. */
static int lookup(struct req *r, struct db *db, const char *key, size_t klen, const char *today)
{
    char hash[CRYPTO_KEY_HASH_LEN + 1];
    crypto_key_hash(key, klen, hash);
    if (!hash[0])
        return 0; /* no digest: matches nothing */
    /* Only reads (a request's read transaction) use the memo: a write request's version moves
     * with every commit of the writes around it. The version is read first: a commit between it
     * and the query can only make the entry miss. */
    uint64_t version[2];
    struct auth_memo *memo =
        db_in_transaction(db) && db_data_version(db, version) == DB_OK ? memo_of(db) : NULL;
    const struct memo_entry *hit = memo ? memo_find(memo, hash, today, version) : NULL;
    if (hit) {
        copy_key(&r->key, &hit->key);
        return 1;
    }
    struct db_stmt *st;
    if (db_stmt_static(db, v2608() ? SQL_CANDIDATES_2608 : SQL_CANDIDATES, &st) != DB_OK)
        return -1;
    db_bind_text(st, 1, today, 10);
    db_bind_text(st, 2, hash, CRYPTO_KEY_HASH_LEN);
    int found = 0;
    enum db_rc rc;
    while ((rc = db_step(st)) == DB_ROW) {
        size_t n;
        const char *stored = db_column_text(st, 2, &n);
        /* A hashed candidate is the presented key's own hashed form (the query chose it by
         * equality); a legacy one is compared with the key itself. Every candidate is compared,
         * so the time taken does not depend on which matched. */
        int match = stored && (crypto_key_is_hashed(stored, n)
                                   ? n == CRYPTO_KEY_HASH_LEN && crypto_equal(stored, hash, n)
                                   : crypto_key_matches(stored, n, key, klen));
        if (match && !found) {
            fill_key(r, st);
            found = 1;
        }
    }
    db_reset(st);
    if (rc != DB_DONE)
        return -1;
    /* the key's rights (its itflowd_key_perms row, read by the query above; v26.08: its user's)
     * are part of what is remembered: read at the same version, so any change to keys, their
     * permissions, users, roles, role permissions or client lists (by anyone) makes the entry
     * miss */
    if (found && r->key.rbac && load_access(db, &r->key) != 0)
        return -1;
    if (found && memo)
        memo_put(memo, hash, today, version, &r->key);
    return found;
}

enum auth_result auth_request(struct req *r, struct db *db)
{
    char kbuf[4097]; /* a longer key matches nothing */
    struct buf key = {kbuf, 0, sizeof(kbuf), sizeof(kbuf) - 1, 0};
    kbuf[0] = 0;
    int rc = presented_key(r, &key);
    if (rc != AUTH_OK)
        return (enum auth_result)rc;
    char today[11];
    auth_today(today);
    memset(&r->key, 0, sizeof(r->key));
    int found = key.failed ? 0 : lookup(r, db, key.p, key.len, today);
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
    enum db_rc logged = logs_insert(db, r, "API", "Failed", desc.p ? desc.p : "", 0, 0);
    buf_free(&desc);
    buf_free(&path);
    return logged == DB_OK ? AUTH_INVALID : AUTH_ERROR;
}

static const char MSG_UNTIED[] =
    "This API key is not tied to a user and is no longer valid. Please recreate it.";
static const char MSG_INVALID_USER[] =
    "The user linked to this API key is inactive, archived, or invalid.";
static const char MSG_UNMAPPED[] = "This API resource is not mapped to a permission module.";
static const char MSG_NO_PERMISSION[] =
    "The user linked to this API key does not have permission for this action.";
static const char MSG_NO_CLIENT[] =
    "The user linked to this API key does not have access to the target client for this write.";

/* The level an endpoint needs (delta 2.2): by its file name, as the reference decides. */
static int required_level(const char *function)
{
    if (strcmp(function, "read") == 0)
        return 1;
    if (strcmp(function, "delete") == 0)
        return 3;
    return 2; /* create, update and everything else (archive, resolve, technicians/time) */
}

enum auth_result auth_authorize_user(struct req *r)
{
    if (!r->key.rbac)
        return AUTH_OK;
    const struct key_access *a = &r->key.access;
    if (a->state == ACCESS_OK)
        return AUTH_OK;
    reply_message(r, 403, a->state == ACCESS_UNTIED ? MSG_UNTIED : MSG_INVALID_USER);
    return AUTH_REPLIED;
}

enum auth_result auth_authorize(struct req *r, struct db *db, const char *rbac_module,
                                const char *function, int is_write)
{
    if (!r->key.rbac)
        return AUTH_OK;
    const struct key_access *a = &r->key.access;
    const char *deny = NULL;
    if (a->state == ACCESS_UNTIED)
        deny = MSG_UNTIED;
    else if (a->state != ACCESS_OK)
        deny = MSG_INVALID_USER;
    else if (!rbac_module)
        deny = MSG_UNMAPPED;
    else if (access_level(a, rbac_module) < required_level(function))
        deny = MSG_NO_PERMISSION;
    else if (is_write) {
        /* every write, not only create/update/delete (F21) */
        int may = access_may_act(db, r, access_target_client(r));
        if (may < 0)
            return AUTH_ERROR;
        if (!may)
            deny = MSG_NO_CLIENT;
    }
    if (!deny)
        return AUTH_OK;
    reply_message(r, 403, deny);
    return AUTH_REPLIED;
}

/* keyperm: least-privilege keys for the v26.07 key model. What a key may do beyond its client
 * scope is kept in itflowd's own table, keyed by the key's id (api_keys is ITFlow's): read-only,
 * no delete, the networks it may be used from; and when and from where it was last used. The
 * engine asks keyperm_check() once per request, where it decides that the operation is allowed;
 * a refusal is a 403 naming the missing permission. The row is read by the key lookup itself
 * (auth.c joins it), so it is remembered with the key and the check needs no query.
 *
 * Last use is noted in memory on every request (a small table under a mutex) and written by
 * keyperm_flush() — the server's background thread, every few seconds and at shutdown — so that
 * a read never writes. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/engine_int.h"

/* ---- the permissions row ---- */

static int cidr_match_one(const char *cidr, size_t n, const char *ip)
{
    char net[64];
    if (n == 0 || n >= sizeof(net))
        return 0;
    memcpy(net, cidr, n);
    net[n] = 0;
    int bits = -1;
    char *slash = strchr(net, '/');
    if (slash) {
        *slash = 0;
        bits = 0;
        for (const char *p = slash + 1; *p; p++) {
            if (*p < '0' || *p > '9' || bits > 128)
                return 0;
            bits = bits * 10 + (*p - '0');
        }
    }
    unsigned char a[16], b[16];
    int len;
    if (inet_pton(AF_INET, net, a) == 1 && inet_pton(AF_INET, ip, b) == 1)
        len = 4;
    else if (inet_pton(AF_INET6, net, a) == 1 && inet_pton(AF_INET6, ip, b) == 1)
        len = 16;
    else
        return 0;
    if (bits < 0)
        bits = len * 8;
    if (bits > len * 8)
        return 0;
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((a[full] & mask) != (b[full] & mask))
            return 0;
    }
    return 1;
}

int keyperm_ip_allowed(const char *list, size_t n, const char *ip)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && list[i] == ' ')
            i++;
        size_t start = i;
        while (i < n && list[i] != ' ')
            i++;
        if (i > start && cidr_match_one(list + start, i - start, ip))
            return 1;
    }
    return 0;
}

/* ---- last use ---- */

#define LAST_USE_SLOTS 256

struct last_use {
    int64_t key_id; /* 0: free */
    int64_t at;     /* unix time */
    char ip[64];
    int dirty;
};

static pthread_mutex_t last_mu = PTHREAD_MUTEX_INITIALIZER;
static struct last_use last_use[LAST_USE_SLOTS];

static void note_use(int64_t key_id, const char *ip)
{
    if (key_id <= 0)
        return;
    int64_t now = (int64_t)time(NULL);
    size_t h = (size_t)(key_id * 2654435761u) % LAST_USE_SLOTS;
    pthread_mutex_lock(&last_mu);
    for (size_t k = 0; k < LAST_USE_SLOTS; k++) {
        struct last_use *u = &last_use[(h + k) % LAST_USE_SLOTS];
        if (u->key_id == key_id || u->key_id == 0) {
            u->key_id = key_id;
            if (u->at != now || strcmp(u->ip, ip) != 0) {
                u->at = now;
                snprintf(u->ip, sizeof(u->ip), "%s", ip);
                u->dirty = 1;
            }
            break;
        }
    } /* all slots taken by other keys: this use is not recorded until some are written */
    pthread_mutex_unlock(&last_mu);
}

enum db_rc keyperm_flush(struct db *db)
{
    struct last_use todo[LAST_USE_SLOTS];
    size_t n = 0;
    pthread_mutex_lock(&last_mu);
    for (size_t k = 0; k < LAST_USE_SLOTS; k++) {
        if (last_use[k].key_id && last_use[k].dirty) {
            todo[n++] = last_use[k];
            last_use[k].dirty = 0;
        }
    }
    /* written entries leave the table, so that keys used once do not keep their slots */
    for (size_t k = 0; k < LAST_USE_SLOTS; k++)
        if (!last_use[k].dirty)
            last_use[k].key_id = 0;
    /* (a free slot in a probe chain could hide a later entry of the same key: it is then noted
     * again in another slot, and the newest use wins when written) */
    pthread_mutex_unlock(&last_mu);
    if (n == 0)
        return DB_OK;
    const char *sql =
        db_dialect(db) == DB_SQLITE
            ? "INSERT INTO itflowd_key_perms (perm_api_key_id, perm_last_used_at, "
              "perm_last_used_ip) VALUES (?, ?, ?) ON CONFLICT(perm_api_key_id) DO UPDATE SET "
              "perm_last_used_at = MAX(COALESCE(perm_last_used_at, 0), "
              "excluded.perm_last_used_at), perm_last_used_ip = excluded.perm_last_used_ip"
            : "INSERT INTO itflowd_key_perms (perm_api_key_id, perm_last_used_at, "
              "perm_last_used_ip) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE perm_last_used_ip = "
              "VALUES(perm_last_used_ip), perm_last_used_at = GREATEST(COALESCE("
              "perm_last_used_at, 0), VALUES(perm_last_used_at))";
    enum db_rc rc = db_begin(db, 1);
    for (size_t i = 0; i < n && rc == DB_OK; i++) {
        struct db_stmt *st;
        rc = db_stmt_static(db, sql, &st);
        if (rc != DB_OK)
            break;
        db_bind_int(st, 1, todo[i].key_id);
        db_bind_int(st, 2, todo[i].at);
        db_bind_text(st, 3, todo[i].ip, strlen(todo[i].ip));
        rc = db_step(st) == DB_DONE ? DB_OK : DB_ERROR;
        db_reset(st);
    }
    if (rc == DB_OK)
        rc = db_commit(db);
    if (rc != DB_OK) {
        db_rollback(db);
        /* noted again: written at the next turn */
        for (size_t i = 0; i < n; i++)
            note_use(todo[i].key_id, todo[i].ip);
    }
    return rc;
}

/* ---- the check ---- */

/* The allowed networks of a key whose list is longer than struct api_key holds (only a row
 * written by hand: key update stores fewer), read on their own: 1 allowed, 0 not, -1 store error.
 */
static int long_list_allows(struct op_ctx *ctx)
{
    struct req *r = ctx->r;
    struct db_stmt *st;
    if (db_stmt_static(ctx->db,
                       "SELECT perm_allow_ips FROM itflowd_key_perms WHERE perm_api_key_id = ?",
                       &st) != DB_OK)
        return -1;
    db_bind_int(st, 1, r->key.id);
    enum db_rc rc = db_step(st);
    int ok = 1; /* the row is gone: no restriction */
    if (rc == DB_ROW) {
        size_t n = 0;
        const char *ips = db_column_text(st, 0, &n);
        ok = !ips || n == 0 || keyperm_ip_allowed(ips, n, r->ip);
    }
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? ok : -1;
}

/* Decides from what the key lookup read with the key (auth.c: r->key.perm_*, remembered with it
 * while the data version is unchanged), so a request runs no query of its own here. */
enum eng_rc keyperm_check(struct op_ctx *ctx)
{
    struct req *r = ctx->r;
    const struct api_key *k = &r->key;
    note_use(k->id, r->ip);
    int ip_ok = k->perm_allow_long ? long_list_allows(ctx)
                : k->perm_allow_len == 0
                    ? 1
                    : keyperm_ip_allowed(k->perm_allow_ips, k->perm_allow_len, r->ip);
    if (ip_ok < 0)
        return ENG_DB;
    int read_only = k->perm_read_only, no_delete = k->perm_no_delete;
    enum op op = ctx->ep->op;
    if (!ip_ok) {
        reply_message(r, 403,
                      "This API key lacks the permission to be used from this address (it is "
                      "limited to other networks).");
        return ENG_REPLIED;
    }
    if (read_only && op != OP_READ) {
        reply_message(r, 403,
                      "This API key is read-only: it lacks the write permission this endpoint "
                      "needs.");
        return ENG_REPLIED;
    }
    if (no_delete && op == OP_DELETE) {
        reply_message(r, 403, "This API key lacks the delete permission.");
        return ENG_REPLIED;
    }
    return ENG_OK;
}

/* The endpoint every key may use (its read-only flag does not matter): what keyperm_check needs
 * of a request that is not a module's endpoint. */
static const struct endpoint any_read = {.function = "read", .op = OP_READ};

int engine_key_usable(struct req *r)
{
    struct op_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.r = r;
    ctx.ep = &any_read;
    ctx.db = r->db;
    enum eng_rc rc = keyperm_check(&ctx);
    return rc == ENG_OK ? 1 : rc == ENG_REPLIED ? 0 : -1;
}

const char *engine_key_refuses_sql(const struct req *r, const char *kind)
{
    if (r->key.perm_read_only)
        return "This API key is read-only: it lacks the write permission db.exec needs.";
    if (r->key.perm_no_delete && strcmp(kind, "DELETE") == 0)
        return "This API key lacks the delete permission.";
    return NULL;
}

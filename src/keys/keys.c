/* keys: the api_keys store. */
#include "keys/keys.h"

#include <stdio.h>
#include <string.h>

enum keys_rc keys_site_master(struct db *db, const char *password,
                              char master[CRYPTO_MASTER_LEN + 1])
{
    struct db_stmt *st;
    if (db_stmt(db,
                "SELECT user_specific_encryption_ciphertext FROM users WHERE "
                "user_specific_encryption_ciphertext IS NOT NULL AND "
                "user_specific_encryption_ciphertext <> '' AND user_archived_at IS NULL "
                "ORDER BY user_id",
                &st) != DB_OK)
        return KEYS_READ_ERROR;
    int found = 0;
    enum db_rc rc = DB_DONE;
    while (!found && (rc = db_step(st)) == DB_ROW) {
        size_t n;
        const char *w = db_column_text(st, 0, &n);
        if (w && crypto_unwrap_master(w, n, password, strlen(password), master) == 0)
            found = 1;
    }
    db_reset(st);
    return found ? KEYS_OK : rc == DB_DONE ? KEYS_NOT_FOUND : KEYS_READ_ERROR;
}

enum keys_rc keys_client_exists(struct db *db, int64_t client)
{
    struct db_stmt *st;
    int64_t n = 0;
    if (db_stmt(db, "SELECT COUNT(*) FROM clients WHERE client_id = ?", &st) != DB_OK)
        return KEYS_READ_ERROR;
    db_bind_int(st, 1, client);
    if (db_query_int(st, &n) != DB_ROW)
        return KEYS_READ_ERROR;
    return n ? KEYS_OK : KEYS_NOT_FOUND;
}

enum keys_rc keys_user_check(struct db *db, int64_t user, char *name, size_t namelen)
{
    struct db_stmt *st;
    if (db_stmt(db,
                "SELECT user_name, user_type, user_status, user_archived_at IS NOT NULL FROM "
                "users WHERE user_id = ?",
                &st) != DB_OK)
        return KEYS_READ_ERROR;
    db_bind_int(st, 1, user);
    enum db_rc rc = db_step(st);
    enum keys_rc krc = rc == DB_DONE ? KEYS_NOT_FOUND : KEYS_READ_ERROR;
    if (rc == DB_ROW) {
        size_t n;
        const char *nm = db_column_text(st, 0, &n);
        if (name && namelen)
            snprintf(name, namelen, "%.*s", nm ? (int)n : 0, nm ? nm : "");
        krc = db_column_int(st, 1) != 1   ? KEYS_USER_NOT_AGENT
              : db_column_int(st, 2) != 1 ? KEYS_USER_DISABLED
              : db_column_int(st, 3)      ? KEYS_USER_ARCHIVED
                                          : KEYS_OK;
    }
    db_reset(st);
    return krc;
}

/* 1 when a key row (active, expired or revoked) already has this secret: hashed, or a legacy
 * plaintext key matched as the server matches it; -1 on a store error. Two keys with one secret
 * would authenticate as whichever the server finds first. */
static int secret_in_use(struct db *db, const char *secret, const char *hash)
{
    struct db_stmt *st;
    if (db_stmt(db,
                "SELECT api_key_secret FROM api_keys WHERE api_key_secret = ? OR "
                "SUBSTR(api_key_secret, 1, 13) <> '$itfd-sha256$'",
                &st) != DB_OK)
        return -1;
    db_bind_text(st, 1, hash, strlen(hash));
    int used = 0, rc;
    while ((rc = db_step(st)) == DB_ROW) {
        size_t n;
        const char *stored = db_column_text(st, 0, &n);
        if (stored && (crypto_key_is_hashed(stored, n)
                           ? n == strlen(hash) && memcmp(stored, hash, n) == 0
                           : crypto_key_matches(stored, n, secret, strlen(secret))))
            used = 1;
    }
    db_reset(st);
    return rc == DB_DONE ? used : -1;
}

enum keys_rc keys_create(struct db *db, const struct key_new *k, int64_t *id)
{
    char hash[CRYPTO_KEY_HASH_LEN + 1];
    crypto_key_hash(k->secret, strlen(k->secret), hash);
    struct db_stmt *st;
    if (db_begin(db, 1) != DB_OK ||
        db_stmt(db,
                k->dialect == ITFLOW_V2608
                    ? "INSERT INTO api_keys (api_key_name, api_key_secret, api_key_decrypt_hash, "
                      "api_key_expire, api_key_user_id) VALUES (?, ?, ?, ?, ?)"
                    : "INSERT INTO api_keys (api_key_name, api_key_secret, api_key_decrypt_hash, "
                      "api_key_expire, api_key_client_id) VALUES (?, ?, ?, ?, ?)",
                &st) != DB_OK)
        return KEYS_WRITE_ERROR;
    int used = secret_in_use(db, k->secret, hash); /* inside the write transaction: no race */
    if (used) {
        db_rollback(db);
        return used > 0 ? KEYS_SECRET_USED : KEYS_READ_ERROR;
    }
    db_bind_text(st, 1, k->name, strlen(k->name));
    db_bind_text(st, 2, hash, strlen(hash));
    db_bind_text(st, 3, k->wrapped, k->wrapped_len);
    db_bind_text(st, 4, k->expires, 10);
    db_bind_int(st, 5, k->owner);
    enum db_rc step = db_step(st);
    db_reset(st);
    *id = db_last_insert_id(db);
    if (step != DB_DONE || db_commit(db) != DB_OK)
        return KEYS_WRITE_ERROR;
    return KEYS_OK;
}

enum keys_rc keys_list(struct db *db, enum itflow_version dialect,
                       void (*each)(const struct key_row *, void *), void *arg)
{
    struct db_stmt *st;
    if (db_stmt(db,
                dialect == ITFLOW_V2608
                    ? "SELECT api_key_id, api_key_name, api_key_user_id, api_key_expire, "
                      "api_key_secret, user_name FROM api_keys LEFT JOIN users ON user_id = "
                      "api_key_user_id ORDER BY api_key_id"
                    : "SELECT api_key_id, api_key_name, api_key_client_id, api_key_expire, "
                      "api_key_secret, NULL FROM api_keys ORDER BY api_key_id",
                &st) != DB_OK)
        return KEYS_READ_ERROR;
    enum db_rc rc;
    while ((rc = db_step(st)) == DB_ROW) {
        size_t n, sn;
        struct key_row row = {.last4 = "????"};
        row.id = db_column_int(st, 0);
        row.name = db_column_text(st, 1, &n);
        row.owner = db_column_int(st, 2);
        row.owner_name = db_column_text(st, 5, &n);
        row.expires = db_column_text(st, 3, &n);
        const char *sec = db_column_text(st, 4, &sn);
        if (sec && sn >= 4) /* of the hash, or of a legacy plaintext key */
            memcpy(row.last4, sec + sn - 4, 4);
        each(&row, arg);
    }
    db_reset(st);
    return rc == DB_DONE ? KEYS_OK : KEYS_READ_ERROR;
}

enum keys_rc keys_revoke(struct db *db, int64_t id, const char *today)
{
    struct db_stmt *st;
    enum keys_rc rc = KEYS_WRITE_ERROR;
    if (db_stmt(db, "UPDATE api_keys SET api_key_expire = ? WHERE api_key_id = ?", &st) == DB_OK) {
        db_bind_text(st, 1, today, 10);
        db_bind_int(st, 2, id);
        if (db_step(st) == DB_DONE)
            rc = db_changes(db) == 1 ? KEYS_OK : KEYS_NOT_FOUND;
        db_reset(st);
    }
    return rc;
}

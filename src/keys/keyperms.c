/* keyperms: the itflowd_key_perms store of the command line (see keyperms.h). */
#include "keys/keyperms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERM_COLUMNS                                                                               \
    "perm_api_key_id, perm_read_only, perm_no_delete, perm_allow_ips, perm_last_used_at, "         \
    "perm_last_used_ip"

static void read_row(struct db_stmt *st, struct key_perm *p)
{
    size_t n;
    const char *s;
    memset(p, 0, sizeof(*p));
    p->id = db_column_int(st, 0);
    p->read_only = db_column_int(st, 1) != 0;
    p->no_delete = db_column_int(st, 2) != 0;
    if ((s = db_column_text(st, 3, &n)) != NULL)
        snprintf(p->allow_ips, sizeof(p->allow_ips), "%.*s", (int)n, s);
    p->last_used_at = db_column_int(st, 4);
    if ((s = db_column_text(st, 5, &n)) != NULL)
        snprintf(p->last_used_ip, sizeof(p->last_used_ip), "%.*s", (int)n, s);
}

enum keys_rc keys_perm_get(struct db *db, int64_t id, struct key_perm *p)
{
    struct db_stmt *st;
    memset(p, 0, sizeof(*p));
    p->id = id;
    if (db_stmt(db, "SELECT " PERM_COLUMNS " FROM itflowd_key_perms WHERE perm_api_key_id = ?",
                &st) != DB_OK)
        return KEYS_READ_ERROR;
    db_bind_int(st, 1, id);
    enum db_rc rc = db_step(st);
    if (rc == DB_ROW)
        read_row(st, p);
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? KEYS_OK : KEYS_READ_ERROR;
}

enum keys_rc keys_perm_set(struct db *db, const struct key_perm *p)
{
    struct db_stmt *st;
    if (db_begin(db, 1) != DB_OK)
        return KEYS_WRITE_ERROR;
    int64_t n = 0;
    if (db_stmt(db, "SELECT COUNT(*) FROM api_keys WHERE api_key_id = ?", &st) != DB_OK) {
        db_rollback(db);
        return KEYS_WRITE_ERROR;
    }
    db_bind_int(st, 1, p->id);
    if (db_query_int(st, &n) != DB_ROW) {
        db_rollback(db);
        return KEYS_WRITE_ERROR;
    }
    if (n == 0) {
        db_rollback(db);
        return KEYS_NOT_FOUND;
    }
    const char *sql = db_dialect(db) == DB_SQLITE
                          ? "INSERT INTO itflowd_key_perms (perm_api_key_id, perm_read_only, "
                            "perm_no_delete, perm_allow_ips) VALUES (?, ?, ?, ?) ON "
                            "CONFLICT(perm_api_key_id) DO UPDATE SET perm_read_only = "
                            "excluded.perm_read_only, perm_no_delete = excluded.perm_no_delete, "
                            "perm_allow_ips = excluded.perm_allow_ips"
                          : "INSERT INTO itflowd_key_perms (perm_api_key_id, perm_read_only, "
                            "perm_no_delete, perm_allow_ips) VALUES (?, ?, ?, ?) ON DUPLICATE "
                            "KEY UPDATE perm_read_only = VALUES(perm_read_only), perm_no_delete "
                            "= VALUES(perm_no_delete), perm_allow_ips = VALUES(perm_allow_ips)";
    enum keys_rc rc = KEYS_WRITE_ERROR;
    if (db_stmt(db, sql, &st) == DB_OK) {
        db_bind_int(st, 1, p->id);
        db_bind_int(st, 2, p->read_only);
        db_bind_int(st, 3, p->no_delete);
        if (p->allow_ips[0])
            db_bind_text(st, 4, p->allow_ips, strlen(p->allow_ips));
        else
            db_bind_null(st, 4);
        if (db_step(st) == DB_DONE)
            rc = KEYS_OK;
        db_reset(st);
    }
    if (rc == KEYS_OK && db_commit(db) != DB_OK)
        rc = KEYS_WRITE_ERROR;
    if (rc != KEYS_OK)
        db_rollback(db);
    return rc;
}

enum keys_rc keys_perm_all(struct db *db, struct key_perm **ret, size_t *n)
{
    *ret = NULL;
    *n = 0;
    struct db_stmt *st;
    if (db_stmt(db, "SELECT " PERM_COLUMNS " FROM itflowd_key_perms ORDER BY perm_api_key_id",
                &st) != DB_OK)
        return KEYS_READ_ERROR;
    size_t cap = 0;
    enum db_rc rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct key_perm *grown = realloc(*ret, cap * sizeof(**ret));
            if (!grown) {
                rc = DB_ERROR;
                break;
            }
            *ret = grown;
        }
        read_row(st, &(*ret)[(*n)++]);
    }
    db_reset(st);
    if (rc != DB_DONE) {
        free(*ret);
        *ret = NULL;
        *n = 0;
        return KEYS_READ_ERROR;
    }
    return KEYS_OK;
}

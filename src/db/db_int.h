/* db_int: what a backend implements (private to src/db/). */
#ifndef ITFLOWD_DB_DB_INT_H
#define ITFLOWD_DB_DB_INT_H

#include "db/db.h"

struct db_ops {
    const char *name;
    enum db_dialect dialect;
    /* 1 when the store runs one write transaction at a time (SQLite): the pool then sends every
     * write through one writer connection, several callers' writes in one commit. */
    int single_writer;
    /* SQL run once on the group commit's writer connection after it opens, or NULL */
    const char *writer_setup;
    enum db_rc (*open)(const char *target, int create, struct db **ret);
    void (*close)(struct db *db);
    enum db_rc (*exec)(struct db *db, const char *sql);
    enum db_rc (*begin)(struct db *db, int write);
    /* see db_data_version(); NULL when the store cannot tell */
    enum db_rc (*data_version)(struct db *db, uint64_t ret[2]);
    enum db_rc (*prepare)(struct db *db, const char *sql, struct db_stmt **ret);
    void (*finalize)(struct db_stmt *st);
    enum db_rc (*bind_null)(struct db_stmt *st, int idx);
    enum db_rc (*bind_int)(struct db_stmt *st, int idx, int64_t v);
    enum db_rc (*bind_text)(struct db_stmt *st, int idx, const char *s, size_t n);
    enum db_rc (*step)(struct db_stmt *st);
    void (*reset)(struct db_stmt *st);
    int (*column_count)(struct db_stmt *st);
    const char *(*column_text)(struct db_stmt *st, int i, size_t *ret_len);
    const char *(*column_name)(struct db_stmt *st, int i);
    int (*stmt_readonly)(struct db_stmt *st);
    int64_t (*changes)(struct db *db);
    int64_t (*last_insert_id)(struct db *db);
    const char *(*errmsg)(const struct db *db);
    enum db_rc (*create_schema)(struct db *db);
    /* 1 when the store cannot be reached right now (the last failure was a lost connection). */
    int (*unreachable)(const struct db *db);
    /* Background upkeep (SQLite: a passive WAL checkpoint; MariaDB with a host list: probing
     * the hosts); NULL when the store needs none. */
    enum db_rc (*maintain)(struct db *db);
    /* Whether maintain has anything to do for this connection's target; NULL: yes. */
    int (*has_maintenance)(const struct db *db);
};

#define DB_CACHE_SLOTS 128
/* A statement's text is looked for in this many consecutive slots from its hash's slot; a new one
 * takes the first empty slot among them, else the first whose statement is not in use. */
#define DB_CACHE_PROBE 4

struct db_cache_slot {
    char *sql; /* owned copy of the statement text */
    uint64_t hash;
    struct db_stmt *st;
};

#define DB_STATIC_SLOTS 256

/* A statement of an immortal SQL string, found by the string's address. */
struct db_static_slot {
    const char *sql;
    struct db_stmt *st;
};

/* Every backend's statement struct starts with this. */
struct db_stmt_head {
    struct db *db;
    int in_use;      /* handed out by db_stmt*(), not db_reset() since: never evicted */
    int bind_failed; /* a bind failed since it was handed out: db_step() fails */
};

/* Every backend's connection struct starts with this. */
struct db {
    const struct db_ops *ops;
    int in_txn;
    enum db_rc last_error; /* the last failure's enum db_rc (DB_BUSY: lock wait or deadlock) */
    char last_msg[200];    /* the store's message, read when that failure happened */
    struct db_cache_slot cache[DB_CACHE_SLOTS];
    struct db_static_slot statics[DB_STATIC_SLOTS];
    int stmts_in_use;     /* statements handed out and not reset (db_pool_put resets them) */
    struct db *next_free; /* pool free list link */
    void *memo;           /* db_set_memo() */
    void (*memo_free)(void *memo);
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_mariadb_ops; /* mariadb:// targets */

#endif

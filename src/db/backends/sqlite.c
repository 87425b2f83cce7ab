/* sqlite: the embedded default store. WAL, synchronous=FULL (NORMAL with serve --sync normal),
 * foreign keys on, a busy timeout,
 * and the ITF_CI collation that gives string filters MariaDB's utf8mb4_general_ci semantics. */
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/collate.h"
#include "db/db_int.h"
#include "db/schema.h"

/* Transaction control statements, prepared once per connection. */
enum { TX_BEGIN, TX_BEGIN_IMMEDIATE, TX_COMMIT, TX_ROLLBACK, TX__MAX };

struct sqlite_db {
    struct db base; /* must be first */
    sqlite3 *h;
    sqlite3_stmt *tx[TX__MAX];
    sqlite3_stmt *data_version; /* PRAGMA data_version, prepared on first use */
    int holding;                /* sq_maintain() left a read transaction open */
    int seen;                   /* seen_version holds the data version of its last turn */
    uint64_t seen_version[2];
    int writing; /* holds write_mu: between BEGIN IMMEDIATE and COMMIT/ROLLBACK */
};

/* Writers of this process queue here instead of in SQLite's busy handler, which polls with
 * growing sleeps: one write transaction at a time is all SQLite allows anyway. */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

static void release_write(struct sqlite_db *d)
{
    if (d->writing) {
        d->writing = 0;
        pthread_mutex_unlock(&write_mu);
    }
}

static const char *const tx_sql[TX__MAX] = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};

struct db_stmt {
    struct db_stmt_head h; /* must be first: db.c dispatches through it */
    sqlite3_stmt *st;
    int ncols;
    char (*num)[24]; /* per column: the text of an INTEGER value of the current row */
};

static sqlite3 *handle(const struct db *db)
{
    return ((const struct sqlite_db *)db)->h;
}

/* After some errors (out of memory, disk full, I/O) SQLite rolls the whole transaction back by
 * itself; a statement run after that would run, and commit, on its own. Inside what we still
 * take for a transaction, that is refused. */
static int txn_lost(const struct db *db)
{
    return db->in_txn && sqlite3_get_autocommit(handle(db));
}

static const char MSG_TXN_LOST[] = "the transaction was rolled back after an earlier error";

static enum db_rc map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
        return DB_OK;
    case SQLITE_ROW:
        return DB_ROW;
    case SQLITE_DONE:
        return DB_DONE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DB_BUSY;
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
        return DB_UNAVAILABLE;
    case SQLITE_FULL: /* the disk (or the database's page limit) is full */
        return DB_FULL;
    default:
        return DB_ERROR;
    }
}

static int ci_collate(void *arg, int alen, const void *a, int blen, const void *b)
{
    (void)arg;
    return collate_ci_compare(a, (size_t)alen, b, (size_t)blen);
}

static const char *strip_scheme(const char *target)
{
    if (strncmp(target, "sqlite://", 9) == 0)
        return target + 9;
    if (strncmp(target, "sqlite:", 7) == 0)
        return target + 7;
    return target;
}

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

/* Process-wide: no memory statistics (a global mutex on every allocation), no URI handling. */
static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

static _Atomic int sync_mode = DB_SYNC_FULL;

void db_set_sync(enum db_sync mode)
{
    atomic_store(&sync_mode, (int)mode);
}

static enum db_rc sq_open(const char *target, int create, struct db **ret)
{
    pthread_once(&sqlite_once, sqlite_setup);
    struct sqlite_db *d = calloc(1, sizeof(*d));
    if (!d)
        return DB_ERROR;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(strip_scheme(target), &d->h, flags, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(d->h);
        free(d);
        return DB_UNAVAILABLE;
    }
    sqlite3_busy_timeout(d->h, 10000);
    /* the server checkpoints in the background (db_maintain); this is only the safety net */
    sqlite3_wal_autocheckpoint(d->h, 4000);
    sqlite3_create_collation(d->h, "ITF_CI", SQLITE_UTF8, NULL, ci_collate);
    rc = sqlite3_exec(d->h,
                      "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                      " PRAGMA cache_size=-8192;",
                      NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(d->h,
                          atomic_load(&sync_mode) == DB_SYNC_NORMAL ? "PRAGMA synchronous=NORMAL;"
                                                                    : "PRAGMA synchronous=FULL;",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(d->h);
        free(d);
        return map_rc(rc) == DB_BUSY ? DB_BUSY : DB_UNAVAILABLE;
    }
    *ret = &d->base;
    return DB_OK;
}

static void sq_close(struct db *db)
{
    struct sqlite_db *d = (struct sqlite_db *)db;
    release_write(d);
    for (int i = 0; i < TX__MAX; i++)
        sqlite3_finalize(d->tx[i]);
    sqlite3_finalize(d->data_version);
    sqlite3_close(d->h);
    free(d);
}

static enum db_rc run_tx(struct db *db, int which)
{
    struct sqlite_db *d = (struct sqlite_db *)db;
    if (!d->tx[which] && sqlite3_prepare_v3(d->h, tx_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                            &d->tx[which], NULL) != SQLITE_OK)
        return DB_ERROR;
    int rc = sqlite3_step(d->tx[which]);
    sqlite3_reset(d->tx[which]);
    return rc == SQLITE_DONE ? DB_OK : map_rc(rc);
}

static enum db_rc sq_exec(struct db *db, const char *sql)
{
    for (int i = TX_COMMIT; i < TX__MAX; i++) {
        if (strcmp(sql, tx_sql[i]) == 0) {
            enum db_rc rc = run_tx(db, i);
            /* the write lock goes with the transaction (a failed COMMIT keeps it open) */
            if (rc == DB_OK || i == TX_ROLLBACK || sqlite3_get_autocommit(handle(db)))
                release_write((struct sqlite_db *)db);
            return rc;
        }
    }
    if (txn_lost(db))
        return DB_ERROR;
    return map_rc(sqlite3_exec(handle(db), sql, NULL, NULL, NULL));
}

static enum db_rc sq_begin(struct db *db, int write)
{
    struct sqlite_db *d = (struct sqlite_db *)db;
    if (!write)
        return run_tx(db, TX_BEGIN);
    pthread_mutex_lock(&write_mu);
    d->writing = 1;
    enum db_rc rc = run_tx(db, TX_BEGIN_IMMEDIATE);
    if (rc != DB_OK)
        release_write(d);
    return rc;
}

/* PRAGMA data_version moves when another connection commits (inside a transaction: as of its
 * snapshot, which this statement opens when it is the first); this connection's own changes are
 * counted by sqlite3_total_changes64. */
static enum db_rc sq_data_version(struct db *db, uint64_t ret[2])
{
    struct sqlite_db *d = (struct sqlite_db *)db;
    if (!d->data_version &&
        sqlite3_prepare_v3(d->h, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT,
                           &d->data_version, NULL) != SQLITE_OK)
        return DB_ERROR;
    int rc = sqlite3_step(d->data_version);
    if (rc == SQLITE_ROW) {
        ret[0] = (uint64_t)sqlite3_column_int64(d->data_version, 0);
        ret[1] = (uint64_t)sqlite3_total_changes64(d->h);
    }
    sqlite3_reset(d->data_version);
    return rc == SQLITE_ROW ? DB_OK : map_rc(rc);
}

static enum db_rc sq_prepare(struct db *db, const char *sql, struct db_stmt **ret)
{
    struct db_stmt *st = calloc(1, sizeof(*st));
    if (!st)
        return DB_ERROR;
    st->h.db = db;
    int rc = sqlite3_prepare_v3(handle(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &st->st, NULL);
    if (rc != SQLITE_OK) {
        free(st);
        return map_rc(rc);
    }
    st->ncols = sqlite3_column_count(st->st);
    st->num = st->ncols ? calloc((size_t)st->ncols, sizeof(*st->num)) : NULL;
    if (st->ncols && !st->num) {
        sqlite3_finalize(st->st);
        free(st);
        return DB_ERROR;
    }
    *ret = st;
    return DB_OK;
}

static void sq_finalize(struct db_stmt *st)
{
    sqlite3_finalize(st->st);
    free(st->num);
    free(st);
}

/* Decimal text of v, written backwards from the end of out[24]; returns its start. */
static char *int_text(int64_t v, char out[24], size_t *ret_len)
{
    char *p = out + 23;
    *p = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    *ret_len = (size_t)(out + 23 - p);
    return p;
}

static enum db_rc sq_bind_null(struct db_stmt *st, int idx)
{
    return map_rc(sqlite3_bind_null(st->st, idx));
}

static enum db_rc sq_bind_int(struct db_stmt *st, int idx, int64_t v)
{
    return map_rc(sqlite3_bind_int64(st->st, idx, v));
}

static enum db_rc sq_bind_text(struct db_stmt *st, int idx, const char *s, size_t n)
{
    return map_rc(sqlite3_bind_text64(st->st, idx, s ? s : "", n, SQLITE_TRANSIENT, SQLITE_UTF8));
}

static enum db_rc sq_step(struct db_stmt *st)
{
    if (txn_lost(st->h.db)) {
        sqlite3_reset(st->st);
        return DB_ERROR;
    }
    return map_rc(sqlite3_step(st->st));
}

static void sq_reset(struct db_stmt *st)
{
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
}

static int sq_column_count(struct db_stmt *st)
{
    return sqlite3_column_count(st->st);
}

/* "[-]units.cc" of a number of cents, written backwards from the end of out[24]. */
static char *cents_text(long long cents, char out[24], size_t *ret_len)
{
    int neg = cents < 0;
    unsigned long long u = neg ? 0ull - (unsigned long long)cents : (unsigned long long)cents;
    char *p = out + 23;
    *p = 0;
    *--p = (char)('0' + u % 10);
    *--p = (char)('0' + u / 10 % 10);
    *--p = '.';
    u /= 100;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg)
        *--p = '-';
    *ret_len = (size_t)(out + 23 - p);
    return p;
}

static const char *sq_column_name(struct db_stmt *st, int i)
{
    return sqlite3_column_name(st->st, i);
}

static int sq_stmt_readonly(struct db_stmt *st)
{
    return sqlite3_stmt_readonly(st->st) != 0;
}

static const char *sq_column_text(struct db_stmt *st, int i, size_t *ret_len)
{
    /* one column call, then the cheaper value accessors (the connection is ours alone: NOMUTEX) */
    sqlite3_value *val = sqlite3_column_value(st->st, i);
    int type = sqlite3_value_type(val);
    if (type == SQLITE_NULL) {
        *ret_len = 0;
        return NULL;
    }
    if (type == SQLITE_INTEGER && i < st->ncols) /* no printf round trip for the many ids */
        return int_text(sqlite3_value_int64(val), st->num[i], ret_len);
    if (type == SQLITE_FLOAT && i < st->ncols) {
        /* DECIMAL(15,2) values come back as doubles: whole cents print without printf */
        double v = sqlite3_value_double(val);
        double c = v * 100.0;
        if (c > -1e15 && c < 1e15) {
            long long cents = llround(c);
            if (fabs(c - (double)cents) < 1e-6)
                return cents_text(cents, st->num[i], ret_len);
        }
    }
    const char *s = (const char *)sqlite3_value_text(val);
    *ret_len = (size_t)sqlite3_value_bytes(val);
    return s ? s : "";
}

static int64_t sq_changes(struct db *db)
{
    return sqlite3_changes64(handle(db));
}

static int64_t sq_last_insert_id(struct db *db)
{
    return sqlite3_last_insert_rowid(handle(db));
}

static const char *sq_errmsg(const struct db *db)
{
    /* a refused statement (txn_lost) left no error of SQLite's own: say why it was refused */
    if (txn_lost(db) && sqlite3_errcode(handle(db)) == SQLITE_OK)
        return MSG_TXN_LOST;
    return sqlite3_errmsg(handle(db));
}

static enum db_rc sq_create_schema(struct db *db)
{
    struct buf ddl;
    buf_init(&ddl, 0);
    buf_puts(&ddl, "BEGIN;\n");
    schema_sqlite_ddl(&ddl);
    buf_puts(&ddl, "COMMIT;\n");
    enum db_rc rc = ddl.failed ? DB_ERROR : sq_exec(db, ddl.p);
    if (rc != DB_OK)
        sq_exec(db, "ROLLBACK");
    buf_free(&ddl);
    return rc;
}

/* The passive checkpoint (it never waits for readers or writers, so it costs requests nothing),
 * on the maintenance thread's own connection. When the WAL holds nothing that is not in the
 * database file, every reader takes WAL read lock 0, a shared lock on the -shm file, which SQLite
 * takes and drops with fcntl() under a process-wide mutex unless another connection of this process
 * already holds it. So when nothing was written since the last turn either, this connection keeps a
 * read transaction open (holding lock 0) until its next turn: while the database is only read,
 * readers take the lock without a system call and without waiting for each other. The lock is
 * released at the start of every turn, before the checkpoint (which needs it exclusively), and not
 * taken again in a turn that saw a write or found frames the checkpoint could not copy: under
 * writes it is never held, so neither a writer's own checkpoint nor another process's is kept
 * waiting by it for more than one turn after the first write. */
static enum db_rc sq_maintain(struct db *db)
{
    struct sqlite_db *d = (struct sqlite_db *)db;
    if (d->holding) {
        d->holding = 0;
        run_tx(db, TX_ROLLBACK);
    }
    int log = -1, done = -1; /* -1: not in WAL mode */
    int rc = sqlite3_wal_checkpoint_v2(d->h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (rc == SQLITE_OK && log >= 0 && log == done && run_tx(db, TX_BEGIN) == DB_OK) {
        uint64_t v[2]; /* the first read takes the snapshot and the lock */
        if (sq_data_version(db, v) == DB_OK) {
            d->holding = d->seen && v[0] == d->seen_version[0] && v[1] == d->seen_version[1];
            d->seen = 1;
            memcpy(d->seen_version, v, sizeof(v));
        }
        if (!d->holding)
            run_tx(db, TX_ROLLBACK);
    } else {
        d->seen = 0;
    }
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? DB_OK : map_rc(rc);
}

const struct db_ops db_sqlite_ops = {
    .name = "sqlite",
    .single_writer = 1,
    /* the writer touches a few hot pages (tables' last leaves, index leaves, the settings row):
     * a smaller cache than the readers' */
    .writer_setup = "PRAGMA cache_size=-2048",
    .dialect = DB_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .begin = sq_begin,
    .data_version = sq_data_version,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .bind_null = sq_bind_null,
    .bind_int = sq_bind_int,
    .bind_text = sq_bind_text,
    .step = sq_step,
    .reset = sq_reset,
    .column_count = sq_column_count,
    .column_text = sq_column_text,
    .column_name = sq_column_name,
    .stmt_readonly = sq_stmt_readonly,
    .changes = sq_changes,
    .last_insert_id = sq_last_insert_id,
    .errmsg = sq_errmsg,
    .create_schema = sq_create_schema,
    .maintain = sq_maintain,
};

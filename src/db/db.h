/* db: the one store interface the engine sees. A backend (sqlite, later mariadb) is a const ops
 * table; connections come from a pool; statements are prepared once per connection and cached. */
#ifndef ITFLOWD_DB_DB_H
#define ITFLOWD_DB_DB_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "db/schema.h"

enum db_rc {
    DB_OK = 0,
    DB_ROW,         /* step produced a row */
    DB_DONE,        /* step finished */
    DB_ERROR,       /* SQL or constraint error: a server fault */
    DB_BUSY,        /* lock timeout: retryable */
    DB_UNAVAILABLE, /* the store cannot be reached */
    DB_FULL,        /* the store is out of space (disk full): retryable later */
};

/* Dialect bits the SQL builders ask for. */
enum db_dialect { DB_SQLITE, DB_MARIADB };

struct db;      /* one connection; owned by the pool */
struct db_stmt; /* a prepared statement; owned by its connection's cache */

/* Opens one connection to target ("path/to/file.db" or "sqlite:PATH"). *ret is the caller's;
 * db_close() frees it. */
enum db_rc db_open(const char *target, struct db **ret);
/* Like db_open, but creates the database when it does not exist yet (itflowd init). */
enum db_rc db_open_create(const char *target, struct db **ret);
void db_close(struct db *db); /* accepts NULL */
/* SQLite durability of the connections opened from now on (serve --sync): DB_SYNC_FULL, the
 * default, syncs the WAL at every commit, so an acknowledged write survives power loss or an OS
 * crash; DB_SYNC_NORMAL syncs only at checkpoints (faster; the last commits can be lost, the file
 * stays consistent). MariaDB: the server's own setting applies. */
enum db_sync { DB_SYNC_FULL, DB_SYNC_NORMAL };
void db_set_sync(enum db_sync mode);
enum db_dialect db_dialect(const struct db *db);
/* The store's message for the last failure db_last_error() reports, as it was when that failure
 * happened (a later reset or rollback does not clear it); the backend's current message when
 * there was none. */
const char *db_errmsg(const struct db *db);

/* Creates every table of the schema (fails if they exist). */
enum db_rc db_create_schema(struct db *db);

/* 1 when the last failure on db was the store being unreachable (answer 503, not 500). */
int db_unreachable(const struct db *db);
/* target for messages: a password in a mariadb:// URL is replaced by "***". */
void db_target_display(const char *target, char *out, size_t outlen);

/* Background upkeep the server runs every few hundred milliseconds, on a connection of its own
 * that is never a pool's (SQLite: copies the WAL back into the database outside the request path,
 * then may keep a read transaction open until the next call; see sqlite.c). */
enum db_rc db_maintain(struct db *db);
/* 0 when db_maintain() has nothing to do for this store (MariaDB with one host). */
int db_has_maintenance(const struct db *db);

/* Runs sql with no parameters and no rows (DDL, PRAGMA). */
enum db_rc db_exec(struct db *db, const char *sql);
/* Transactions: write = 1 takes the write lock at once (SQLite BEGIN IMMEDIATE). */
enum db_rc db_begin(struct db *db, int write);
enum db_rc db_commit(struct db *db);
enum db_rc db_rollback(struct db *db); /* safe to call when no transaction is open */
int db_in_transaction(const struct db *db);
/* Two numbers that change whenever data this connection can read may have changed: another
 * connection's commit, or a change made through this connection. Called inside a transaction, they
 * describe its snapshot (taking it when nothing was read yet). DB_OK, or DB_ERROR when the store
 * cannot tell (MariaDB): a caller then keeps nothing it read across transactions. */
enum db_rc db_data_version(struct db *db, uint64_t ret[2]);
/* One pointer per connection for the layers above: a cache of what they read, valid while
 * db_data_version() is unchanged. free_fn runs when the connection closes. */
void *db_memo(const struct db *db);
void db_set_memo(struct db *db, void *memo, void (*free_fn)(void *memo));
/* The enum db_rc of the last failed step/exec/begin/commit since the last db_begin (DB_OK when
 * none); DB_BUSY = a lock wait timeout or a deadlock: the transaction may be retried. */
enum db_rc db_last_error(const struct db *db);

/* The cached statement for sql (prepared on first use on this connection), reset and with its
 * bindings cleared. The statement stays owned by db. It is in use from here until db_reset():
 * the cache never evicts a statement in use (a new text finds another slot, or the call fails
 * with DB_ERROR when every slot it may take holds one in use), so it stays valid until that
 * db_reset() and, unless another text evicts it later, until db_close. One caller at a time per
 * text: asking for the same text again resets the statement for the new caller. A statement
 * still in use when its connection goes back to a pool (db_pool_put) is reset there. */
enum db_rc db_stmt(struct db *db, const char *sql, struct db_stmt **ret);
/* The same for SQL text that lives as long as the process and never changes (string literals,
 * sql_intern() results): found by its address, without hashing the text. */
enum db_rc db_stmt_static(struct db *db, const char *sql, struct db_stmt **ret);
/* An immortal copy of sql (one per distinct text), for db_stmt_static. NULL if out of memory. */
const char *sql_intern(const char *sql);
/* Binding (idx from 1) copies the value. A failed bind (out of memory) also makes the next
 * db_step() of the statement fail with DB_ERROR, so that a statement never runs with a parameter
 * silently left NULL; callers may bind several values and check only the step. */
enum db_rc db_bind_null(struct db_stmt *st, int idx);
enum db_rc db_bind_int(struct db_stmt *st, int idx, int64_t v);
enum db_rc db_bind_text(struct db_stmt *st, int idx, const char *s, size_t n);
enum db_rc db_step(struct db_stmt *st); /* DB_ROW, DB_DONE or an error */
void db_reset(struct db_stmt *st);
int db_column_count(struct db_stmt *st);
/* The name of result column i (as the statement labels it: its alias), valid while the statement
 * is; "" when unknown. Ask after a step that returned DB_ROW. */
const char *db_column_name(struct db_stmt *st, int i);
/* 1 when the statement only reads (SQLite: sqlite3_stmt_readonly; MariaDB: it has a result set,
 * and a read transaction there is READ ONLY), else 0. */
int db_stmt_readonly(struct db_stmt *st);
/* Column i of the current row as text (NULL for SQL NULL); valid until the next step/reset. */
const char *db_column_text(struct db_stmt *st, int i, size_t *ret_len);
int64_t db_column_int(struct db_stmt *st, int i);
int64_t db_changes(struct db *db);        /* rows changed by the last INSERT/UPDATE/DELETE */
int64_t db_last_insert_id(struct db *db); /* id of the last INSERT */

/* Runs a statement that returns at most one integer (COUNT, SELECT id ...): DB_ROW and *ret set,
 * DB_DONE when no row, or an error. Parameters must already be bound. */
enum db_rc db_query_int(struct db_stmt *st, int64_t *ret);

/* One column of a table as the store's catalogue describes it (SQLite: PRAGMA table_info, with
 * our DDL's declared type; MariaDB: information_schema.columns, the column_type such as
 * "varchar(200)"). The strings are valid during the callback only. */
struct db_column_info {
    const char *name;
    const char *type;
    int not_null;
    const char *dflt; /* the default's SQL text, or NULL */
};
/* Called for each column in table order; non-zero stops (db_table_columns then fails). */
typedef int (*db_column_fn)(void *arg, const struct db_column_info *c);
/* The columns of table (bound, never spliced) in their order: DB_OK, DB_DONE when there is no such
 * table, or an error. */
enum db_rc db_table_columns(struct db *db, const char *table, db_column_fn fn, void *arg);

/* What a database is: the ITFlow release whose api_keys it has (v26.07: api_key_client_id,
 * v26.08: api_key_user_id), settings.config_current_database_version ("" when there is no settings
 * row), and whether that version is the one of the release (2.4.4, 2.6.6). */
struct db_identity {
    enum itflow_version dialect;
    char version[32];
    int known;
};
/* Reads it on db: DB_OK, DB_DONE when there is no api_keys table with exactly one of the two
 * columns (no ITFlow database), or an error. */
enum db_rc db_identify(struct db *db, struct db_identity *ret);
/* The identity of the database being served, set once at start-up before any thread (serve), for
 * every layer to read: auth picks the key model from dialect. v26.07 with no version until set. */
void db_set_identity(const struct db_identity *id);
const struct db_identity *db_identity(void);

/* Schema drift: replaces the active schema set by one whose tables have the columns the database
 * really has, in its order (what ITFlow's SELECT * answers): a column the set knows keeps its
 * description, one it does not is described from the catalogue (schema_column_from_catalogue), a
 * column the database lacks is left out; a table the database lacks keeps the set's description.
 * Start-up only (before any thread, before the registry resolves the descriptors). drift (may be
 * NULL) counts what differs. */
struct db_drift {
    size_t tables;  /* tables whose columns differ from the set's */
    size_t added;   /* columns the set does not know */
    size_t missing; /* columns of the set the database lacks */
};
enum db_rc db_learn_schema(struct db *db, struct db_drift *drift);

/* A pool of connections to one target, shared by the server's threads. */
struct db_pool;
enum db_rc db_pool_new(const char *target, unsigned max_conns, struct db_pool **ret);
void db_pool_free(struct db_pool *pool); /* accepts NULL; every connection must be back */
/* A connection for the caller's exclusive use until db_pool_put; DB_BUSY when max_conns are
 * all in use, DB_UNAVAILABLE when a new one cannot be opened. */
enum db_rc db_pool_get(struct db_pool *pool, struct db **ret);
/* Returns db (rolls back an open transaction first); broken = 1 closes it instead. */
void db_pool_put(struct db_pool *pool, struct db *db, int broken);

/* A write transaction's body: runs on db (inside the transaction), returns 0 to keep its changes,
 * anything else to have them undone. It may run more than once (after a failed group commit):
 * it must start from the same state each time and must not wait for other writers. */
typedef int (*db_write_fn)(struct db *db, void *arg);
/* What made a write fail on the writer connection, for the submitter's log and answer: the enum
 * db_rc and the store's message at the time (rc DB_OK when nothing failed in the store). */
struct db_fault {
    enum db_rc rc;
    char msg[200];
};
/* 1 when the pool's store takes one writer at a time (SQLite): use db_pool_write for writes. */
int db_pool_single_writer(const struct db_pool *pool);
/* Group commit: runs fn(writer, arg) in a write transaction on the pool's writer connection,
 * together with the fns other threads submit meanwhile (each in its own savepoint, so a fn that
 * fails undoes only its own changes). Returns DB_OK once the transaction holding fn's result is
 * committed (*fn_rc = what fn returned), or the store's error (nothing of fn's is kept). A
 * leader thread runs the batch; the others wait, so a request is answered only after commit.
 * fault (may be NULL) tells what failed in the store: filled when db_pool_write fails, and when
 * fn returned non-zero after a store call failed inside it (rc DB_OK otherwise). */
enum db_rc db_pool_write(struct db_pool *pool, db_write_fn fn, void *arg, int *fn_rc,
                         struct db_fault *fault);

#endif

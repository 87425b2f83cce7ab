/* db: backend dispatch, the per-connection statement cache and the connection pool. */
#include "db/db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

static const struct db_ops *backend_for(const char *target)
{
    if (strncmp(target, "mariadb://", 10) == 0)
        return &db_mariadb_ops;
    return &db_sqlite_ops;
}

static enum db_rc open_with(const char *target, int create, struct db **ret)
{
    const struct db_ops *ops = backend_for(target);
    struct db *db = NULL;
    enum db_rc rc = ops->open(target, create, &db);
    if (rc)
        return rc;
    db->ops = ops;
    db->in_txn = 0;
    memset(db->cache, 0, sizeof(db->cache));
    memset(db->statics, 0, sizeof(db->statics));
    db->next_free = NULL;
    *ret = db;
    return DB_OK;
}

enum db_rc db_open(const char *target, struct db **ret)
{
    return open_with(target, 0, ret);
}

enum db_rc db_open_create(const char *target, struct db **ret)
{
    return open_with(target, 1, ret);
}

void db_close(struct db *db)
{
    if (!db)
        return;
    for (int i = 0; i < DB_CACHE_SLOTS; i++) {
        if (db->cache[i].st)
            db->ops->finalize(db->cache[i].st);
        free(db->cache[i].sql);
    }
    for (int i = 0; i < DB_STATIC_SLOTS; i++)
        if (db->statics[i].st)
            db->ops->finalize(db->statics[i].st);
    if (db->memo_free)
        db->memo_free(db->memo);
    db->ops->close(db);
}

enum db_rc db_data_version(struct db *db, uint64_t ret[2])
{
    return db->ops->data_version ? db->ops->data_version(db, ret) : DB_ERROR;
}

void *db_memo(const struct db *db)
{
    return db->memo;
}

void db_set_memo(struct db *db, void *memo, void (*free_fn)(void *memo))
{
    if (db->memo_free)
        db->memo_free(db->memo);
    db->memo = memo;
    db->memo_free = free_fn;
}

enum db_dialect db_dialect(const struct db *db)
{
    return db->ops->dialect;
}

const char *db_errmsg(const struct db *db)
{
    return db->last_error != DB_OK ? db->last_msg : db->ops->errmsg(db);
}

enum db_rc db_create_schema(struct db *db)
{
    return db->ops->create_schema(db);
}

int db_unreachable(const struct db *db)
{
    return db && db->ops->unreachable ? db->ops->unreachable(db) : 0;
}

enum db_rc db_maintain(struct db *db)
{
    return db->ops->maintain ? db->ops->maintain(db) : DB_OK;
}

int db_has_maintenance(const struct db *db)
{
    return db->ops->maintain != NULL && (!db->ops->has_maintenance || db->ops->has_maintenance(db));
}

/* Remembers a failure and the store's message about it, for db_last_error() and db_errmsg(). */
static enum db_rc note(struct db *db, enum db_rc rc)
{
    if (rc != DB_OK && rc != DB_ROW && rc != DB_DONE) {
        db->last_error = rc;
        snprintf(db->last_msg, sizeof(db->last_msg), "%s", db->ops->errmsg(db));
    }
    return rc;
}

/* A failure of our own (not the store's), with its message. */
static enum db_rc note_own(struct db *db, enum db_rc rc, const char *msg)
{
    db->last_error = rc;
    snprintf(db->last_msg, sizeof(db->last_msg), "%s", msg);
    return rc;
}

enum db_rc db_last_error(const struct db *db)
{
    return db->last_error;
}

enum db_rc db_exec(struct db *db, const char *sql)
{
    return note(db, db->ops->exec(db, sql));
}

enum db_rc db_begin(struct db *db, int write)
{
    db->last_error = DB_OK;
    enum db_rc rc = note(db, db->ops->begin(db, write));
    if (rc == DB_OK)
        db->in_txn = 1;
    return rc;
}

enum db_rc db_commit(struct db *db)
{
    enum db_rc rc = note(db, db->ops->exec(db, "COMMIT"));
    if (rc == DB_OK)
        db->in_txn = 0;
    return rc;
}

int db_in_transaction(const struct db *db)
{
    return db->in_txn;
}

enum db_rc db_rollback(struct db *db)
{
    if (!db->in_txn)
        return DB_OK;
    db->in_txn = 0;
    return db->ops->exec(db, "ROLLBACK");
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static struct db_stmt_head *head_of(struct db_stmt *st)
{
    return (struct db_stmt_head *)st;
}

/* Hands a cached statement out: reset, bindings cleared, in use until db_reset(). */
static enum db_rc hand_out(struct db *db, struct db_stmt *st, struct db_stmt **ret)
{
    db->ops->reset(st);
    if (!head_of(st)->in_use) {
        head_of(st)->in_use = 1;
        db->stmts_in_use++;
    }
    head_of(st)->bind_failed = 0;
    *ret = st;
    return DB_OK;
}

/* Where a new statement goes among a text's DB_CACHE_PROBE candidate slots: the first empty one,
 * else the first whose statement is not in use; -1 when all are in use. */
static int victim(struct db_stmt *const *sts, size_t stride, size_t home, size_t nslots)
{
    int reuse = -1;
    for (size_t k = 0; k < DB_CACHE_PROBE; k++) {
        size_t i = (home + k) % nslots;
        struct db_stmt *st = *(struct db_stmt *const *)((const char *)sts + i * stride);
        if (!st)
            return (int)i;
        if (reuse < 0 && !head_of(st)->in_use)
            reuse = (int)i;
    }
    return reuse;
}

static const char MSG_CACHE_FULL[] = "statement cache: every slot for this SQL holds one in use";

enum db_rc db_stmt(struct db *db, const char *sql, struct db_stmt **ret)
{
    uint64_t h = fnv1a(sql);
    size_t home = h % DB_CACHE_SLOTS;
    for (size_t k = 0; k < DB_CACHE_PROBE; k++) {
        struct db_cache_slot *slot = &db->cache[(home + k) % DB_CACHE_SLOTS];
        if (slot->st && slot->hash == h && strcmp(slot->sql, sql) == 0)
            return hand_out(db, slot->st, ret);
    }
    int v = victim(&db->cache[0].st, sizeof(db->cache[0]), home, DB_CACHE_SLOTS);
    if (v < 0)
        return note_own(db, DB_ERROR, MSG_CACHE_FULL);
    struct db_cache_slot *slot = &db->cache[v];
    struct db_stmt *st = NULL;
    enum db_rc rc = db->ops->prepare(db, sql, &st);
    if (rc)
        return note(db, rc);
    char *copy = strdup(sql);
    if (!copy) {
        db->ops->finalize(st);
        return note_own(db, DB_ERROR, "out of memory");
    }
    if (slot->st)
        db->ops->finalize(slot->st);
    free(slot->sql);
    slot->sql = copy;
    slot->hash = h;
    slot->st = st;
    return hand_out(db, st, ret);
}

enum db_rc db_stmt_static(struct db *db, const char *sql, struct db_stmt **ret)
{
    uintptr_t h = (uintptr_t)sql;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    size_t home = (h >> 32) % DB_STATIC_SLOTS;
    for (size_t k = 0; k < DB_CACHE_PROBE; k++) {
        struct db_static_slot *slot = &db->statics[(home + k) % DB_STATIC_SLOTS];
        if (slot->st && slot->sql == sql)
            return hand_out(db, slot->st, ret);
    }
    int v = victim(&db->statics[0].st, sizeof(db->statics[0]), home, DB_STATIC_SLOTS);
    if (v < 0)
        return note_own(db, DB_ERROR, MSG_CACHE_FULL);
    struct db_static_slot *slot = &db->statics[v];
    struct db_stmt *st = NULL;
    enum db_rc rc = db->ops->prepare(db, sql, &st);
    if (rc)
        return note(db, rc);
    if (slot->st)
        db->ops->finalize(slot->st);
    slot->sql = sql;
    slot->st = st;
    return hand_out(db, st, ret);
}

/* ---- interned SQL: an append-only open-addressing set, read without locks ---- */

#define INTERN_SLOTS 4096

static const char *_Atomic interned[INTERN_SLOTS];
static pthread_mutex_t intern_mu = PTHREAD_MUTEX_INITIALIZER;

const char *sql_intern(const char *sql)
{
    uint64_t h = fnv1a(sql);
    for (size_t i = 0; i < INTERN_SLOTS; i++) {
        size_t k = (h + i) % INTERN_SLOTS;
        const char *s = atomic_load_explicit(&interned[k], memory_order_acquire);
        if (!s) {
            pthread_mutex_lock(&intern_mu);
            s = atomic_load_explicit(&interned[k], memory_order_acquire);
            if (!s) {
                char *copy = strdup(sql);
                if (copy)
                    atomic_store_explicit(&interned[k], copy, memory_order_release);
                pthread_mutex_unlock(&intern_mu);
                return copy;
            }
            pthread_mutex_unlock(&intern_mu);
        }
        if (strcmp(s, sql) == 0)
            return s;
    }
    return NULL; /* full: callers fall back to db_stmt */
}

/* Statements know their connection through the backend; these wrappers dispatch, and remember a
 * failed bind so that the statement is not run with that parameter missing. */
static const struct db_ops *ops_of(struct db_stmt *st)
{
    return head_of(st)->db->ops;
}

static enum db_rc bound(struct db_stmt *st, enum db_rc rc)
{
    if (rc != DB_OK) {
        head_of(st)->bind_failed = 1;
        note(head_of(st)->db, rc);
    }
    return rc;
}

enum db_rc db_bind_null(struct db_stmt *st, int idx)
{
    return bound(st, ops_of(st)->bind_null(st, idx));
}

enum db_rc db_bind_int(struct db_stmt *st, int idx, int64_t v)
{
    return bound(st, ops_of(st)->bind_int(st, idx, v));
}

enum db_rc db_bind_text(struct db_stmt *st, int idx, const char *s, size_t n)
{
    return bound(st, ops_of(st)->bind_text(st, idx, s, n));
}

enum db_rc db_step(struct db_stmt *st)
{
    struct db *db = head_of(st)->db;
    if (head_of(st)->bind_failed) /* the bind's failure and message are noted already */
        return db->last_error != DB_OK ? db->last_error : DB_ERROR;
    return note(db, ops_of(st)->step(st));
}

void db_reset(struct db_stmt *st)
{
    ops_of(st)->reset(st);
    if (head_of(st)->in_use) {
        head_of(st)->in_use = 0;
        head_of(st)->db->stmts_in_use--;
    }
    head_of(st)->bind_failed = 0;
}

/* Resets every statement a request left in use (an error path that returned before its
 * db_reset): it would keep its cache slot pinned, and on SQLite a stepped one its read snapshot. */
static void reset_left_in_use(struct db *db)
{
    for (size_t i = 0; i < DB_CACHE_SLOTS && db->stmts_in_use; i++)
        if (db->cache[i].st && head_of(db->cache[i].st)->in_use)
            db_reset(db->cache[i].st);
    for (size_t i = 0; i < DB_STATIC_SLOTS && db->stmts_in_use; i++)
        if (db->statics[i].st && head_of(db->statics[i].st)->in_use)
            db_reset(db->statics[i].st);
}

int db_column_count(struct db_stmt *st)
{
    return ops_of(st)->column_count(st);
}

const char *db_column_text(struct db_stmt *st, int i, size_t *ret_len)
{
    return ops_of(st)->column_text(st, i, ret_len);
}

const char *db_column_name(struct db_stmt *st, int i)
{
    const char *s = ops_of(st)->column_name(st, i);
    return s ? s : "";
}

int db_stmt_readonly(struct db_stmt *st)
{
    return ops_of(st)->stmt_readonly(st);
}

int64_t db_column_int(struct db_stmt *st, int i)
{
    size_t n;
    const char *s = db_column_text(st, i, &n);
    if (!s)
        return 0;
    return strtoll(s, NULL, 10);
}

int64_t db_changes(struct db *db)
{
    return db->ops->changes(db);
}

int64_t db_last_insert_id(struct db *db)
{
    return db->ops->last_insert_id(db);
}

enum db_rc db_query_int(struct db_stmt *st, int64_t *ret)
{
    enum db_rc rc = db_step(st);
    if (rc == DB_ROW)
        *ret = db_column_int(st, 0);
    db_reset(st);
    return rc;
}

/* ---- pool ---- */

/* A write waiting for (or done by) the group commit. Lives on its submitter's stack. */
struct write_job {
    db_write_fn fn;
    void *arg;
    int fn_rc;
    enum db_rc rc;
    struct db_fault fault; /* what failed in the store, if anything */
    int done;              /* set by the leader that ran it */
    int lead;              /* set when its thread is to lead the next batch */
    pthread_cond_t cv;     /* its thread waits here: each wake-up is for this job only */
    struct write_job *next;
};

struct db_pool {
    char *target;
    unsigned max_conns;
    unsigned open_conns;
    struct db *free_list;
    pthread_mutex_t mu;
    /* group commit (single-writer stores): the queue, its leader flag, the writer connection
     * (used only by the leader) */
    int single_writer;
    pthread_mutex_t wmu;
    struct write_job *whead, **wtail;
    int wleader;
    struct db *writer;
};

enum db_rc db_pool_new(const char *target, unsigned max_conns, struct db_pool **ret)
{
    struct db_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return DB_ERROR;
    p->target = strdup(target);
    if (!p->target) {
        free(p);
        return DB_ERROR;
    }
    p->max_conns = max_conns ? max_conns : 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->wmu, NULL);
    p->wtail = &p->whead;
    /* Open one connection now so that a bad target fails at start-up, not on a request. */
    struct db *db = NULL;
    enum db_rc rc = db_open(target, &db);
    if (rc) {
        db_pool_free(p);
        return rc;
    }
    p->open_conns = 1;
    p->free_list = db;
    p->single_writer = db->ops->single_writer;
    *ret = p;
    return DB_OK;
}

void db_pool_free(struct db_pool *pool)
{
    if (!pool)
        return;
    while (pool->free_list) {
        struct db *db = pool->free_list;
        pool->free_list = db->next_free;
        db_close(db);
    }
    db_close(pool->writer);
    pthread_mutex_destroy(&pool->mu);
    pthread_mutex_destroy(&pool->wmu);
    free(pool->target);
    free(pool);
}

enum db_rc db_pool_get(struct db_pool *pool, struct db **ret)
{
    pthread_mutex_lock(&pool->mu);
    struct db *db = pool->free_list;
    if (db) {
        pool->free_list = db->next_free;
        pthread_mutex_unlock(&pool->mu);
        db->next_free = NULL;
        *ret = db;
        return DB_OK;
    }
    if (pool->open_conns >= pool->max_conns) {
        pthread_mutex_unlock(&pool->mu);
        return DB_BUSY;
    }
    pool->open_conns++;
    pthread_mutex_unlock(&pool->mu);
    enum db_rc rc = db_open(pool->target, &db);
    if (rc) {
        pthread_mutex_lock(&pool->mu);
        pool->open_conns--;
        pthread_mutex_unlock(&pool->mu);
        return DB_UNAVAILABLE;
    }
    *ret = db;
    return DB_OK;
}

void db_pool_put(struct db_pool *pool, struct db *db, int broken)
{
    if (!db)
        return;
    if (!broken && db->stmts_in_use)
        reset_left_in_use(db);
    if (!broken && db->in_txn && db_rollback(db) != DB_OK)
        broken = 1;
    pthread_mutex_lock(&pool->mu);
    if (broken) {
        pool->open_conns--;
        pthread_mutex_unlock(&pool->mu);
        db_close(db);
        return;
    }
    db->next_free = pool->free_list;
    pool->free_list = db;
    pthread_mutex_unlock(&pool->mu);
}

/* ---- group commit ---- */

/* At most this many writes share one transaction (bounds a batch's latency). */
#define WRITE_BATCH_MAX 64

static const char SQL_SAVEPOINT[] = "SAVEPOINT itflowd_write";
static const char SQL_RELEASE[] = "RELEASE itflowd_write";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO itflowd_write";

int db_pool_single_writer(const struct db_pool *pool)
{
    return pool->single_writer;
}

static enum db_rc exec_static(struct db *db, const char *sql)
{
    struct db_stmt *st;
    enum db_rc rc = db_stmt_static(db, sql, &st);
    if (rc != DB_OK)
        return rc;
    rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? DB_OK : rc;
}

/* Keeps the writer's last failure (and its message) as the job's fault. */
static void keep_fault(struct db *w, struct write_job *j)
{
    j->fault.rc = w->last_error;
    snprintf(j->fault.msg, sizeof(j->fault.msg), "%s", w->last_msg);
}

/* Runs the job's fn; a failure of the store inside it becomes the job's fault. */
static int run_fn(struct db *w, struct write_job *j)
{
    w->last_error = DB_OK;
    j->fn_rc = j->fn(w, j->arg);
    if (j->fn_rc != 0 && w->last_error != DB_OK)
        keep_fault(w, j);
    return j->fn_rc;
}

/* One job in a transaction of its own: its changes committed, or undone when fn fails. */
static void run_alone(struct db *w, struct write_job *j)
{
    j->fault.rc = DB_OK;
    j->fault.msg[0] = 0;
    j->rc = db_begin(w, 1);
    if (j->rc != DB_OK) {
        keep_fault(w, j);
        return;
    }
    if (run_fn(w, j) != 0) {
        db_rollback(w);
        return;
    }
    j->rc = db_commit(w);
    if (j->rc != DB_OK) {
        keep_fault(w, j);
        db_rollback(w);
    }
}

/* Runs a batch on the writer: one transaction, a savepoint per job. If the transaction as a whole
 * fails (a statement error that ends it, or the commit), every job runs again alone. */
static void run_batch(struct db *w, struct write_job *list)
{
    if (!list->next) {
        run_alone(w, list);
        return;
    }
    enum db_rc rc = db_begin(w, 1);
    if (rc != DB_OK) {
        for (struct write_job *j = list; j; j = j->next) {
            j->rc = rc;
            keep_fault(w, j);
        }
        return;
    }
    int broken = 0;
    for (struct write_job *j = list; j && !broken; j = j->next) {
        if (exec_static(w, SQL_SAVEPOINT) != DB_OK) {
            broken = 1;
            break;
        }
        run_fn(w, j);
        if (j->fn_rc != 0 && exec_static(w, SQL_ROLLBACK_TO) != DB_OK)
            broken = 1;
        else if (exec_static(w, SQL_RELEASE) != DB_OK)
            broken = 1;
    }
    if (!broken && db_commit(w) == DB_OK) {
        for (struct write_job *j = list; j; j = j->next)
            j->rc = DB_OK;
        return;
    }
    db_rollback(w);
    for (struct write_job *j = list; j; j = j->next)
        run_alone(w, j);
}

static enum db_rc open_writer(struct db_pool *pool)
{
    enum db_rc rc = db_open(pool->target, &pool->writer);
    if (rc == DB_OK && pool->writer->ops->writer_setup)
        db_exec(pool->writer, pool->writer->ops->writer_setup); /* a tuning: failure is harmless */
    return rc;
}

enum db_rc db_pool_write(struct db_pool *pool, db_write_fn fn, void *arg, int *fn_rc,
                         struct db_fault *fault)
{
    struct write_job job = {fn,  arg, 0, DB_ERROR, {DB_OK, ""}, 0, 0, PTHREAD_COND_INITIALIZER,
                            NULL};
    pthread_mutex_lock(&pool->wmu);
    *pool->wtail = &job;
    pool->wtail = &job.next;
    if (!pool->wleader) /* nobody is running a batch: this thread does */
        pool->wleader = job.lead = 1;
    while (!job.done && !job.lead)
        pthread_cond_wait(&job.cv, &pool->wmu);
    while (!job.done) {
        /* lead: take up to WRITE_BATCH_MAX queued jobs (ours is among them unless the queue was
         * longer; then we lead again) */
        struct write_job *batch = pool->whead, *last = batch;
        for (int n = 1; n < WRITE_BATCH_MAX && last->next; n++)
            last = last->next;
        pool->whead = last->next;
        if (!pool->whead)
            pool->wtail = &pool->whead;
        last->next = NULL;
        pthread_mutex_unlock(&pool->wmu);

        enum db_rc orc = pool->writer ? DB_OK : open_writer(pool);
        if (orc == DB_OK) {
            run_batch(pool->writer, batch);
            if (db_unreachable(pool->writer)) {
                db_close(pool->writer);
                pool->writer = NULL;
            }
        }

        pthread_mutex_lock(&pool->wmu);
        for (struct write_job *j = batch, *next; j; j = next) {
            next = j->next; /* read before done: the job's owner may return at once */
            if (orc != DB_OK) {
                j->rc = DB_UNAVAILABLE;
                j->fault.rc = DB_UNAVAILABLE;
                snprintf(j->fault.msg, sizeof(j->fault.msg), "cannot open the writer connection");
            }
            j->done = 1;
            if (j != &job)
                pthread_cond_signal(&j->cv);
        }
    }
    /* hand the lead to the first job still queued (it arrived while this batch ran) */
    if (job.lead) {
        if (pool->whead) {
            pool->whead->lead = 1;
            pthread_cond_signal(&pool->whead->cv);
        } else {
            pool->wleader = 0;
        }
    }
    pthread_mutex_unlock(&pool->wmu);
    pthread_cond_destroy(&job.cv);
    *fn_rc = job.fn_rc;
    if (fault)
        *fault = job.fault;
    return job.rc;
}

/* mariadb: ITFlow's own store, through MariaDB Connector/C.
 *
 * Target: mariadb://USER[:PASSWORD]@HOST[:PORT]/DATABASE or mariadb://USER[:PASSWORD]@/DATABASE?
 * socket=/path, parsed (and its password sourced) by mariadb_target.c.
 *
 * Each connection: utf8mb4, UTC, a strict sql_mode, timeouts, no automatic reconnect by the
 * library. Statements are server-side prepared statements; parameters are copied at bind time;
 * every result column is fetched as text into a per-column buffer that only ever grows, rows are
 * streamed (unbuffered), so memory does not grow with the number of rows. One statement has an
 * open result set at a time; should another one run meanwhile, the rest of the open one is
 * buffered first (the engine never does that, but the protocol would otherwise break).
 *
 * A lost connection fails the operation with DB_UNAVAILABLE, and an open transaction stays failed
 * until its ROLLBACK. The connection reconnects itself, and re-prepares its statements lazily, the
 * next time it is used outside a transaction — also when the server went away while the
 * connection sat idle in the pool, which a zero-timeout poll() of the socket notices for free.
 * Nothing that was sent is ever sent again.
 *
 * Every connection asks the server whether it is a Galera node (wsrep on). On one it sets
 * wsrep_sync_wait (3: reads, updates and deletes first wait until the node has applied what the
 * cluster committed; ?sync_wait=N sets another value) and guards its write transactions
 * (autocommit off and a savepoint checked before COMMIT: see mdb_begin).
 *
 * A host list (mariadb://USER@h1:P1,h2:P2,h3:P3/DB, a Galera cluster) adds failover: a connection
 * opens to the first host, in the target's order, that accepts it and is healthy — a node with
 * wsrep on must be Synced (wsrep_local_state 4); a server without wsrep counts as healthy. The
 * process's connections to one list share a `struct cluster`: a host that failed recently is
 * tried last, and `best`, the most preferred healthy host. A connection on another host moves to
 * it the next time it is used outside a transaction (a reconnect, nothing in flight). The
 * server's maintenance thread (db_maintain) probes the hosts at most once a second, so a
 * preferred node that returns (or stops being Synced) is seen without any request paying for
 * it. With one host none of the failover runs. */
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "db/backends/mariadb_target.h"
#include "db/db_int.h"
#include "db/schema.h"

#define COL_INITIAL 256           /* bytes per result column before it grows */
#define CONNECT_TIMEOUT 10        /* seconds */
#define READ_WRITE_TIMEOUT 30     /* seconds a single network read or write may take */
#define CLUSTER_CONNECT_TIMEOUT 3 /* seconds, per host of a host list (then the next one) */
#define HOST_DOWN_MS 1000         /* a host that failed is tried after the others for this long */
#define PROBE_EVERY_MS 1000       /* the maintenance thread's probes of a host list */
#define DEFAULT_SYNC_WAIT                                                                          \
    3 /* wsrep_sync_wait on a Galera node: reads, updates and deletes wait                         \
       */

static const char SESSION_SQL[] =
    "SET time_zone = '+00:00', "
    "sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', "
    "innodb_lock_wait_timeout = 10, net_write_timeout = 300";

/* What the connections of one process to one host list share (never freed: one per distinct
 * target, a handful per process). */
struct cluster {
    struct cluster *next;
    char *key; /* user, hosts and database: the identity of the list (no password) */
    size_t nhosts;
    atomic_int best; /* the most preferred host known healthy; nhosts: none known */
    atomic_llong down_until[MARIADB_TARGET_HOSTS_MAX]; /* ms (monotonic): failed recently */
    atomic_llong next_probe;                           /* ms: the maintenance thread's next probe */
    atomic_llong moves;                                /* connections that changed host */
};

struct maria_db {
    struct db base; /* must be first */
    MYSQL *h;       /* NULL while disconnected */
    struct mariadb_target cp;
    struct cluster *cl;     /* NULL: one host */
    int host_idx;           /* the host of cp.hosts h is connected to */
    struct db_stmt *stmts;  /* every statement of this connection */
    struct db_stmt *active; /* the statement whose result set is being read */
    unsigned gen;           /* connection generation: bumped by every reconnect */
    int txn;                /* inside START TRANSACTION ... COMMIT/ROLLBACK */
    int doomed;             /* InnoDB rolled the transaction back (deadlock) */
    int dead;               /* the connection is lost */
    int wsrep;              /* the server is a Galera node (wsrep on) */
    int guarded;            /* a write transaction with autocommit off and its savepoint */
    int64_t changes, insert_id;
    char err[512];
};

struct param_val {
    int64_t i;
    char *text; /* owned copy of a bound text value */
    size_t cap;
    unsigned long len;
};

struct col_buf {
    char *p; /* NUL-terminated value of the current row */
    size_t cap;
    unsigned long len;
    my_bool is_null;
    my_bool error;
};

/* IDLE: executes on the next step; ROWS: a result set is being read; DONE: finished; FAILED:
 * an error ended the result set, every step repeats it until the reset. */
enum st_state { ST_IDLE, ST_ROWS, ST_DONE, ST_FAILED };

struct db_stmt {
    struct db_stmt_head h; /* must be first: db.c dispatches through it */
    struct maria_db *d;
    struct db_stmt *next;
    MYSQL_STMT *st; /* NULL after a reconnect, until re-prepared */
    unsigned gen;
    char *sql;
    unsigned nparams, ncols;
    MYSQL_BIND *params;
    struct param_val *pv;
    MYSQL_BIND *res;
    struct col_buf *cols;
    int results_bound;
    enum st_state state;
    enum db_rc failed_rc; /* of ST_FAILED */
};

/* ---- errors ---- */

static void set_err(struct maria_db *d, const char *msg)
{
    snprintf(d->err, sizeof(d->err), "%s", msg && msg[0] ? msg : "unknown MariaDB error");
}

static void mark_dead(struct maria_db *d)
{
    d->dead = 1;
    d->active = NULL;
    for (struct db_stmt *s = d->stmts; s; s = s->next) {
        if (s->state == ST_ROWS) { /* its rows are gone: never re-run it behind the caller */
            s->state = ST_FAILED;
            s->failed_rc = DB_UNAVAILABLE;
        }
    }
}

static int savepoint_lost(struct maria_db *d);

/* Records the error and maps it; a lost connection marks the connection dead. */
static enum db_rc fail_with(struct maria_db *d, unsigned code, const char *msg)
{
    set_err(d, msg);
    if (code == ER_DUP_ENTRY && d->guarded && d->txn && !d->dead && savepoint_lost(d)) {
        /* a Galera brute-force abort between two statements: what ran since ran outside the
         * transaction, and saw another node's rows (an event's sequence number, a counter)
         * as if they were free; the write runs again, as after a deadlock */
        set_err(d, "the transaction was rolled back by a conflicting write in the cluster");
        d->doomed = 1;
        return DB_BUSY;
    }
    switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_COMMANDS_OUT_OF_SYNC: /* the protocol state is unknown: never reuse it */
    case CR_ERR_NET_READ:
    case CR_ERR_NET_WRITE:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case ER_UNKNOWN_COM_ERROR: /* a Galera node out of the primary component: "WSREP has not
                                  yet prepared node for application use" */
        mark_dead(d);
        return DB_UNAVAILABLE;
    case ER_LOCK_DEADLOCK:
        /* the whole transaction is gone: what follows must not run in autocommit */
        d->doomed = d->txn;
        return DB_BUSY;
    case ER_LOCK_WAIT_TIMEOUT: /* only the statement was rolled back */
    case ER_QUERY_INTERRUPTED:
    case ER_STATEMENT_TIMEOUT:
        return DB_BUSY;
    case ER_DISK_FULL:
    case ER_RECORD_FILE_FULL:
        return DB_FULL;
    default:
        return DB_ERROR;
    }
}

static enum db_rc fail_conn(struct maria_db *d)
{
    return fail_with(d, mysql_errno(d->h), mysql_error(d->h));
}

static enum db_rc fail_stmt(struct db_stmt *st)
{
    if (mysql_stmt_errno(st->st))
        return fail_with(st->d, mysql_stmt_errno(st->st), mysql_stmt_error(st->st));
    /* reading a row of an unbuffered result leaves a failure on the connection only (the
     * library's stmt_unbuffered_fetch does not copy it): an error the server sent in the middle
     * of the rows, or the connection lost */
    struct maria_db *d = st->d;
    if (mysql_errno(d->h))
        return fail_conn(d);
    /* nothing says why: the protocol state is unknown, as after a lost connection */
    return fail_with(d, CR_SERVER_LOST, "the MariaDB client library failed without an error");
}

/* An error while a result set was open: the statement keeps answering it until its reset.
 * pending = the rest of the result set is still on the wire (drained by the reset). */
static enum db_rc fail_rows(struct db_stmt *st, enum db_rc rc, int pending)
{
    if (!pending && st->d->active == st)
        st->d->active = NULL;
    st->state = ST_FAILED;
    st->failed_rc = rc;
    return rc;
}

/* ---- connections ---- */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_ok;

static void lib_init(void)
{
    lib_ok = mysql_library_init(0, NULL, NULL) == 0;
}

/* A handle with the connection options set (utf8mb4, timeouts, no automatic reconnect, no LOAD
 * DATA LOCAL), or NULL. */
static MYSQL *new_handle(const struct mariadb_target *cp)
{
    MYSQL *h = mysql_init(NULL);
    if (!h)
        return NULL;
    unsigned ct = cp->nhosts > 1 ? CLUSTER_CONNECT_TIMEOUT : CONNECT_TIMEOUT,
             rw = READ_WRITE_TIMEOUT, no_infile = 0;
    my_bool no = 0;
    unsigned proto = cp->socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
    mysql_options(h, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(h, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(h, MYSQL_OPT_READ_TIMEOUT, &rw);
    mysql_options(h, MYSQL_OPT_WRITE_TIMEOUT, &rw);
    mysql_options(h, MYSQL_OPT_RECONNECT, &no);
    mysql_options(h, MYSQL_OPT_LOCAL_INFILE, &no_infile);
    mysql_options(h, MYSQL_OPT_PROTOCOL, &proto);
    return h;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the server behind h may take requests: a Galera node (wsrep on) must be Synced; a
 * server without wsrep (or built without it) is. 1 healthy, 0 not (d->err says why), -1 the
 * connection failed. *wsrep = 1 when wsrep is on. */
static int node_healthy(struct maria_db *d, MYSQL *h, int *wsrep)
{
    static const char q[] = "SELECT @@wsrep_on, (SELECT VARIABLE_VALUE FROM "
                            "information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = "
                            "'WSREP_LOCAL_STATE')";
    *wsrep = 0;
    if (mysql_real_query(h, q, sizeof(q) - 1)) {
        if (mysql_errno(h) == ER_UNKNOWN_SYSTEM_VARIABLE)
            return 1; /* no wsrep in this server at all */
        set_err(d, mysql_error(h));
        return mysql_errno(h) == ER_UNKNOWN_COM_ERROR ? 0 : -1;
    }
    MYSQL_RES *res = mysql_store_result(h);
    if (!res) {
        set_err(d, mysql_error(h));
        return -1;
    }
    MYSQL_ROW row = mysql_fetch_row(res);
    int on = row && row[0] && strcmp(row[0], "1") == 0;
    int synced = row && row[1] && strcmp(row[1], "4") == 0;
    char state[16];
    snprintf(state, sizeof(state), "%s", row && row[1] ? row[1] : "none");
    mysql_free_result(res);
    *wsrep = on;
    if (on && !synced) {
        char msg[96];
        snprintf(msg, sizeof(msg), "the node is not Synced (wsrep_local_state %s)", state);
        set_err(d, msg);
        return 0;
    }
    return 1;
}

/* Opens a handle to host:port (socket: cp->socket) into *ret; NULL on failure and d->err says
 * why. create: make the database when it does not exist yet (itflowd init). *ret_wsrep = 1 when
 * the server is a Galera node. */
static enum db_rc connect_host(struct maria_db *d, const char *host_name, unsigned port, int create,
                               MYSQL **ret, int *ret_wsrep)
{
    const struct mariadb_target *cp = &d->cp;
    *ret = NULL;
    MYSQL *h = new_handle(cp);
    if (!h) {
        set_err(d, "out of memory");
        return DB_ERROR;
    }
    const char *host = cp->socket ? "localhost" : host_name;
    if (!mysql_real_connect(h, host, cp->user, cp->password, cp->database, port, cp->socket, 0)) {
        if (!(create && mysql_errno(h) == ER_BAD_DB_ERROR)) {
            set_err(d, mysql_error(h));
            mysql_close(h);
            return DB_UNAVAILABLE;
        }
        /* itflowd init: create the database itself when the user may */
        mysql_close(h);
        if (!(h = new_handle(cp))) {
            set_err(d, "out of memory");
            return DB_ERROR;
        }
        if (strlen(cp->database) > 64 || strchr(cp->database, '`')) {
            set_err(d, "the database name is not a valid MariaDB name");
            mysql_close(h);
            return DB_ERROR;
        }
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE "
                 "utf8mb4_general_ci",
                 cp->database);
        if (!mysql_real_connect(h, host, cp->user, cp->password, NULL, port, cp->socket, 0)) {
            set_err(d, mysql_error(h));
            mysql_close(h);
            return DB_UNAVAILABLE;
        }
        if (mysql_real_query(h, sql, (unsigned long)strlen(sql)) ||
            mysql_select_db(h, cp->database)) {
            set_err(d, mysql_error(h));
            mysql_close(h);
            return DB_ERROR;
        }
    }
    if (mysql_real_query(h, SESSION_SQL, (unsigned long)strlen(SESSION_SQL))) {
        set_err(d, mysql_error(h));
        mysql_close(h);
        return DB_UNAVAILABLE;
    }
    /* a host of a list must be healthy; a single host is used as it is (nowhere else to go) */
    int wsrep = 0, ok = node_healthy(d, h, &wsrep);
    if (ok < 0 || (ok == 0 && d->cl)) {
        mysql_close(h);
        return DB_UNAVAILABLE;
    }
    /* reads see what the cluster acknowledged: the node applies every write set committed
     * before the read started first (a host list's default; ?sync_wait=N sets any value) */
    int sync_wait = cp->sync_wait >= 0 ? cp->sync_wait : wsrep ? DEFAULT_SYNC_WAIT : -1;
    if (sync_wait >= 0) {
        char sql[64];
        int n = snprintf(sql, sizeof(sql), "SET SESSION wsrep_sync_wait = %d", sync_wait);
        if (mysql_real_query(h, sql, (unsigned long)n)) {
            set_err(d, mysql_error(h));
            mysql_close(h);
            return DB_ERROR;
        }
    }
    *ret_wsrep = wsrep;
    *ret = h;
    return DB_OK;
}

/* Opens d->h: one host, or the first healthy host of the list (those that failed in the last
 * HOST_DOWN_MS after the others). On failure d->h stays NULL and d->err says why. */
static enum db_rc connect_handle(struct maria_db *d, int create)
{
    struct cluster *cl = d->cl;
    if (!cl)
        return connect_host(d, d->cp.host, d->cp.port, create, &d->h, &d->wsrep);
    long long now = now_ms();
    enum db_rc rc = DB_UNAVAILABLE;
    char first_err[sizeof(d->err)] = "";
    unsigned down = 0;
    unsigned char order[MARIADB_TARGET_HOSTS_MAX];
    for (size_t i = 0; i < cl->nhosts; i++)
        if (atomic_load(&cl->down_until[i]) > now)
            down |= 1u << i;
    mariadb_host_order(cl->nhosts, down, order);
    for (size_t k = 0; k < cl->nhosts; k++) {
        size_t i = order[k];
        const struct mariadb_host *hp = &d->cp.hosts[i];
        rc = connect_host(d, hp->host, hp->port, create, &d->h, &d->wsrep);
        if (rc == DB_OK) {
            atomic_store(&cl->down_until[i], 0);
            d->host_idx = (int)i;
            /* every host before it failed just now or recently: this is the best one */
            atomic_store(&cl->best, (int)i);
            return DB_OK;
        }
        atomic_store(&cl->down_until[i], now_ms() + HOST_DOWN_MS);
        if (!first_err[0])
            snprintf(first_err, sizeof(first_err), "%.64s:%u: %.300s", hp->host,
                     hp->port ? hp->port : 3306, d->err);
        if (rc == DB_ERROR)
            return rc; /* not the node's state: out of memory, a bad name, a bad setting */
    }
    atomic_store(&cl->best, (int)cl->nhosts);
    snprintf(d->err, sizeof(d->err), "no host of the list is available (first: %.400s)", first_err);
    return rc;
}

/* Closes the handle (its statements become invalid: they are re-prepared on their next use) and
 * opens a new one. Only called outside a transaction, before anything is sent. */
static enum db_rc reconnect(struct maria_db *d)
{
    if (d->h) {
        mysql_close(d->h); /* detaches the statements from the handle */
        d->h = NULL;
    }
    for (struct db_stmt *s = d->stmts; s; s = s->next) {
        if (s->st)
            mysql_stmt_close(s->st);
        s->st = NULL; /* its state stays: a failed result set fails until its reset */
    }
    d->gen++;
    d->active = NULL;
    d->guarded = 0; /* a new session: autocommit on */
    enum db_rc rc = connect_handle(d, 0);
    if (rc == DB_OK)
        d->dead = 0;
    return rc;
}

/* Whether the server closed (or wrote on) an idle connection: it never speaks unasked. */
static int idle_socket_gone(struct maria_db *d)
{
    struct pollfd p = {(int)mysql_get_socket(d->h), POLLIN, 0};
    if (p.fd < 0)
        return 1;
    return poll(&p, 1, 0) != 0;
}

/* Before anything is sent: a connection found lost is replaced, unless a transaction was open on
 * it (that transaction is gone; it fails until its ROLLBACK). */
static enum db_rc conn_ready(struct maria_db *d)
{
    if (d->txn && d->doomed) {
        set_err(d, "the transaction was rolled back after a deadlock");
        return DB_BUSY;
    }
    if (!d->dead && !d->txn && !d->active && idle_socket_gone(d))
        mark_dead(d);
    if (d->cl && !d->dead && !d->txn && !d->active && d->host_idx != atomic_load(&d->cl->best) &&
        atomic_load(&d->cl->best) < (int)d->cl->nhosts) {
        mark_dead(d); /* a better host is healthy (or this one is no longer): move, idle */
        atomic_fetch_add(&d->cl->moves, 1);
    }
    if (!d->dead)
        return DB_OK;
    if (d->txn) {
        set_err(d, "the connection to MariaDB was lost during the transaction");
        return DB_UNAVAILABLE;
    }
    return reconnect(d);
}

/* Another statement is about to use the connection: buffer the rest of the open result set. */
static enum db_rc settle_active(struct maria_db *d, const struct db_stmt *except)
{
    struct db_stmt *a = d->active;
    if (!a || a == except)
        return DB_OK;
    d->active = NULL;
    if (mysql_stmt_store_result(a->st))
        return fail_rows(a, fail_stmt(a), 0);
    return DB_OK;
}

static pthread_mutex_t clusters_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cluster *clusters;

/* The shared state of cp's host list (created on first use), or NULL (out of memory). */
static struct cluster *cluster_for(const struct mariadb_target *cp)
{
    struct buf key;
    buf_init(&key, 0);
    buf_printf(&key, "%s@", cp->user);
    for (size_t i = 0; i < cp->nhosts; i++)
        buf_printf(&key, "%s%s:%u", i ? "," : "", cp->hosts[i].host, cp->hosts[i].port);
    buf_printf(&key, "/%s", cp->database);
    if (key.failed) {
        buf_free(&key);
        return NULL;
    }
    pthread_mutex_lock(&clusters_mu);
    struct cluster *cl = clusters;
    while (cl && strcmp(cl->key, key.p) != 0)
        cl = cl->next;
    if (!cl && (cl = calloc(1, sizeof(*cl))) != NULL) {
        cl->key = key.p;
        key.p = NULL;
        cl->nhosts = cp->nhosts;
        atomic_init(&cl->best, 0);
        for (size_t i = 0; i < MARIADB_TARGET_HOSTS_MAX; i++)
            atomic_init(&cl->down_until[i], 0);
        atomic_init(&cl->next_probe, 0);
        atomic_init(&cl->moves, 0);
        cl->next = clusters;
        clusters = cl;
    }
    pthread_mutex_unlock(&clusters_mu);
    buf_free(&key);
    return cl;
}

static enum db_rc mdb_open(const char *target, int create, struct db **ret)
{
    pthread_once(&lib_once, lib_init);
    struct maria_db *d = calloc(1, sizeof(*d));
    if (!d)
        return DB_ERROR;
    char err[1024] = "";
    if (!lib_ok) {
        snprintf(err, sizeof(err), "cannot initialise the MariaDB client library");
    } else if (mariadb_target_parse(target, &d->cp, err, sizeof(err)) == 0 &&
               mariadb_target_password_from_env(&d->cp, err, sizeof(err)) == 0) {
        enum db_rc rc = DB_ERROR;
        if (d->cp.nhosts > 1 && !(d->cl = cluster_for(&d->cp)))
            set_err(d, "out of memory");
        else
            rc = connect_handle(d, create);
        if (rc == DB_OK) {
            *ret = &d->base;
            return DB_OK;
        }
        char where[300];
        if (d->cp.nhosts > 1)
            snprintf(where, sizeof(where), "%s and %zu more hosts", d->cp.host, d->cp.nhosts - 1);
        else if (d->cp.socket)
            snprintf(where, sizeof(where), "%s", d->cp.socket);
        else
            snprintf(where, sizeof(where), "%s:%u", d->cp.host, d->cp.port ? d->cp.port : 3306);
        snprintf(err, sizeof(err), "cannot connect to %.200s as %.64s: %s", where, d->cp.user,
                 d->err);
    }
    /* the store layer does not log, but nobody else could say why a target does not open;
     * the message never contains the password */
    fprintf(stderr, "itflowd: mariadb: %s\n", err);
    mariadb_target_free(&d->cp);
    free(d);
    return DB_UNAVAILABLE;
}

static void stmt_free_buffers(struct db_stmt *st)
{
    for (unsigned i = 0; st->pv && i < st->nparams; i++)
        free(st->pv[i].text);
    for (unsigned i = 0; st->cols && i < st->ncols; i++)
        free(st->cols[i].p);
    free(st->params);
    free(st->pv);
    free(st->res);
    free(st->cols);
    st->params = st->res = NULL;
    st->pv = NULL;
    st->cols = NULL;
    st->nparams = st->ncols = 0;
}

static void mdb_finalize(struct db_stmt *st)
{
    struct maria_db *d = st->d;
    for (struct db_stmt **pp = &d->stmts; *pp; pp = &(*pp)->next) {
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    }
    if (d->active && d->active != st)
        settle_active(d, NULL); /* closing drains whatever is pending on the wire */
    if (d->active == st)
        d->active = NULL;
    if (st->st)
        mysql_stmt_close(st->st); /* also drains a result set still being read */
    stmt_free_buffers(st);
    free(st->sql);
    free(st);
}

static void mdb_close(struct db *db)
{
    struct maria_db *d = (struct maria_db *)db;
    while (d->stmts)
        mdb_finalize(d->stmts);
    if (d->h)
        mysql_close(d->h);
    mariadb_target_free(&d->cp);
    free(d);
}

/* ---- exec: statements without parameters ---- */

/* Runs one statement; its rows, if any, are read and dropped. */
static enum db_rc run_one(struct maria_db *d, const char *sql, size_t n, int count)
{
    if (mysql_real_query(d->h, sql, (unsigned long)n))
        return fail_conn(d);
    do {
        MYSQL_RES *res = mysql_store_result(d->h);
        if (res) {
            mysql_free_result(res);
        } else if (mysql_field_count(d->h) != 0) {
            return fail_conn(d);
        } else if (count) {
            my_ulonglong rows = mysql_affected_rows(d->h);
            d->changes = rows == (my_ulonglong)-1 ? 0 : (int64_t)rows;
            my_ulonglong id = mysql_insert_id(d->h);
            if (id)
                d->insert_id = (int64_t)id;
        }
    } while (mysql_next_result(d->h) == 0);
    if (mysql_errno(d->h))
        return fail_conn(d);
    return DB_OK;
}

/* Runs every ';'-separated statement of sql in turn (quotes respected). */
static enum db_rc run_script(struct maria_db *d, const char *sql)
{
    const char *start = sql, *p = sql;
    char quote = 0;
    for (;; p++) {
        char c = *p;
        if (quote && c) {
            if (c == '\\' && quote != '`' && p[1])
                p++;
            else if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '\'' || c == '"' || c == '`') {
            quote = c;
            continue;
        }
        if (c != ';' && c)
            continue;
        const char *a = start, *b = p;
        while (a < b && (*a == ' ' || *a == '\n' || *a == '\t' || *a == '\r'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\n' || b[-1] == '\t' || b[-1] == '\r'))
            b--;
        if (b > a) {
            enum db_rc rc = run_one(d, a, (size_t)(b - a), 1);
            if (rc)
                return rc;
        }
        if (!c)
            return DB_OK;
        start = p + 1;
    }
}

static const char SAVEPOINT_SQL[] = "SAVEPOINT itflowd_txn";
static const char RELEASE_SQL[] = "RELEASE SAVEPOINT itflowd_txn";
static const char AUTOCOMMIT_OFF[] = "SET autocommit = 0";
static const char AUTOCOMMIT_ON[] = "SET autocommit = 1";

/* After a guarded write transaction ended: autocommit on again (when that fails the session's
 * mode is unknown, and the connection is replaced). d->err is kept. */
static void unguard(struct maria_db *d)
{
    if (!d->guarded)
        return;
    d->guarded = 0;
    if (d->dead)
        return;
    char saved[sizeof(d->err)];
    memcpy(saved, d->err, sizeof(saved));
    if (run_one(d, AUTOCOMMIT_ON, sizeof(AUTOCOMMIT_ON) - 1, 0) != DB_OK)
        mark_dead(d);
    memcpy(d->err, saved, sizeof(saved));
}

/* A statement of a guarded transaction failed with a duplicate key: 1 when the transaction's
 * savepoint is gone (the cluster rolled the transaction back before that statement); else the
 * savepoint is set again for check_savepoint and 0. */
static int savepoint_lost(struct maria_db *d)
{
    if (!mysql_real_query(d->h, RELEASE_SQL, sizeof(RELEASE_SQL) - 1))
        return mysql_real_query(d->h, SAVEPOINT_SQL, sizeof(SAVEPOINT_SQL) - 1) != 0;
    return mysql_errno(d->h) == ER_SP_DOES_NOT_EXIST;
}

/* A guarded transaction, before its COMMIT: its savepoint must still be there, or the server
 * rolled it back and what ran since ran in a transaction of its own (never to be committed). */
static enum db_rc check_savepoint(struct maria_db *d)
{
    if (!mysql_real_query(d->h, RELEASE_SQL, sizeof(RELEASE_SQL) - 1))
        return DB_OK;
    enum db_rc rc;
    if (mysql_errno(d->h) == ER_SP_DOES_NOT_EXIST) {
        set_err(d, "the transaction was rolled back by a conflicting write in the cluster");
        rc = DB_BUSY;
    } else {
        rc = fail_conn(d);
    }
    d->doomed = !d->dead;
    return rc;
}

static enum db_rc mdb_exec(struct db *db, const char *sql)
{
    struct maria_db *d = (struct maria_db *)db;
    enum db_rc rc;
    if (strcmp(sql, "ROLLBACK") == 0 || strcmp(sql, "COMMIT") == 0) {
        int commit = sql[0] == 'C';
        if (d->dead && !d->txn)
            return DB_OK; /* nothing to end; the next use reconnects */
        if (d->txn && (d->dead || d->doomed)) {
            /* the server already dropped the transaction (with the connection, or InnoDB) */
            int lost = d->dead;
            d->txn = d->doomed = 0;
            if (!lost)
                run_one(d, "ROLLBACK", 8, 0);
            unguard(d);
            if (!commit)
                return DB_OK;
            set_err(d, lost ? "the connection to MariaDB was lost during the transaction"
                            : "the transaction was rolled back after a deadlock");
            return lost ? DB_UNAVAILABLE : DB_BUSY;
        }
        if ((rc = conn_ready(d)) != DB_OK || (rc = settle_active(d, NULL)) != DB_OK)
            return rc;
        if (commit && d->guarded && (rc = check_savepoint(d)) != DB_OK)
            return rc; /* not committed: the ROLLBACK that follows ends it */
        rc = run_one(d, sql, strlen(sql), 0);
        if (rc == DB_UNAVAILABLE && commit)
            set_err(d, "the connection to MariaDB was lost during COMMIT: whether the transaction "
                       "was kept is unknown");
        if (rc == DB_OK || !commit || d->dead) {
            d->txn = d->doomed = 0;
            unguard(d);
        }
        return rc;
    }
    if ((rc = conn_ready(d)) != DB_OK || (rc = settle_active(d, NULL)) != DB_OK)
        return rc;
    return run_script(d, sql);
}

static enum db_rc mdb_begin(struct db *db, int write)
{
    struct maria_db *d = (struct maria_db *)db;
    static const char rw[] = "START TRANSACTION", ro[] = "START TRANSACTION READ ONLY";
    enum db_rc rc;
    if ((rc = conn_ready(d)) != DB_OK || (rc = settle_active(d, NULL)) != DB_OK)
        return rc;
    if (write && d->wsrep) {
        /* A Galera node rolls a local transaction back when a conflicting write set from
         * another node must be applied first ("brute force abort"), and when that happens
         * between two statements the next one can come back without the deadlock error and
         * run in autocommit — after a SELECT of the ticket counter, say, an INSERT with a
         * number another node just took, committed at once. So a write transaction runs with
         * autocommit off (no statement can commit by itself) and opens with a savepoint that
         * must still exist right before COMMIT (check_savepoint). */
        rc = run_one(d, AUTOCOMMIT_OFF, sizeof(AUTOCOMMIT_OFF) - 1, 0);
        if (rc == DB_OK) {
            d->guarded = 1;
            /* START TRANSACTION first: it is where wsrep_sync_wait makes the node catch up
             * (statements inside a transaction do not wait again) */
            rc = run_one(d, rw, sizeof(rw) - 1, 0);
            if (rc == DB_OK)
                rc = run_one(d, SAVEPOINT_SQL, sizeof(SAVEPOINT_SQL) - 1, 0);
            if (rc != DB_OK && !d->dead)
                run_one(d, "ROLLBACK", 8, 0);
            if (rc != DB_OK)
                unguard(d);
        }
    } else {
        rc = write ? run_one(d, rw, sizeof(rw) - 1, 0) : run_one(d, ro, sizeof(ro) - 1, 0);
    }
    if (rc == DB_OK) {
        d->txn = 1;
        d->doomed = 0;
    }
    return rc;
}

/* ---- prepared statements ---- */

static void clear_params(struct db_stmt *st)
{
    for (unsigned i = 0; i < st->nparams; i++) {
        MYSQL_BIND *b = &st->params[i];
        memset(b, 0, sizeof(*b));
        b->buffer_type = MYSQL_TYPE_NULL;
    }
}

/* Prepares st->sql on the current handle; the parameter and column arrays are (re)made when
 * their sizes differ from the previous preparation. */
static enum db_rc stmt_prepare_handle(struct db_stmt *st)
{
    struct maria_db *d = st->d;
    MYSQL_STMT *h = mysql_stmt_init(d->h);
    if (!h)
        return fail_conn(d);
    if (mysql_stmt_prepare(h, st->sql, (unsigned long)strlen(st->sql))) {
        enum db_rc rc = fail_with(d, mysql_stmt_errno(h), mysql_stmt_error(h));
        mysql_stmt_close(h);
        return rc;
    }
    unsigned np = (unsigned)mysql_stmt_param_count(h), nc = mysql_stmt_field_count(h);
    if (np != st->nparams || nc != st->ncols || (!st->params && np) || (!st->cols && nc)) {
        stmt_free_buffers(st);
        st->params = np ? calloc(np, sizeof(*st->params)) : NULL;
        st->pv = np ? calloc(np, sizeof(*st->pv)) : NULL;
        st->res = nc ? calloc(nc, sizeof(*st->res)) : NULL;
        st->cols = nc ? calloc(nc, sizeof(*st->cols)) : NULL;
        int ok = (!np || (st->params && st->pv)) && (!nc || (st->res && st->cols));
        for (unsigned i = 0; ok && i < nc; i++) {
            st->cols[i].p = malloc(COL_INITIAL);
            st->cols[i].cap = COL_INITIAL;
            ok = st->cols[i].p != NULL;
        }
        st->nparams = np;
        st->ncols = nc;
        if (!ok) {
            stmt_free_buffers(st);
            mysql_stmt_close(h);
            set_err(d, "out of memory");
            return DB_ERROR;
        }
        clear_params(st);
    }
    st->st = h;
    st->gen = d->gen;
    st->results_bound = 0;
    st->state = ST_IDLE;
    return DB_OK;
}

static enum db_rc mdb_prepare(struct db *db, const char *sql, struct db_stmt **ret)
{
    struct maria_db *d = (struct maria_db *)db;
    enum db_rc rc;
    if ((rc = conn_ready(d)) != DB_OK || (rc = settle_active(d, NULL)) != DB_OK)
        return rc;
    struct db_stmt *st = calloc(1, sizeof(*st));
    if (!st || !(st->sql = strdup(sql))) {
        free(st);
        set_err(d, "out of memory");
        return DB_ERROR;
    }
    st->h.db = db;
    st->d = d;
    if ((rc = stmt_prepare_handle(st)) != DB_OK) {
        stmt_free_buffers(st);
        free(st->sql);
        free(st);
        return rc;
    }
    st->next = d->stmts;
    d->stmts = st;
    *ret = st;
    return DB_OK;
}

static MYSQL_BIND *param_slot(struct db_stmt *st, int idx)
{
    if (idx < 1 || (unsigned)idx > st->nparams) {
        set_err(st->d, "bind index out of range");
        return NULL;
    }
    return &st->params[idx - 1];
}

static enum db_rc mdb_bind_null(struct db_stmt *st, int idx)
{
    MYSQL_BIND *b = param_slot(st, idx);
    if (!b)
        return DB_ERROR;
    memset(b, 0, sizeof(*b));
    b->buffer_type = MYSQL_TYPE_NULL;
    return DB_OK;
}

static enum db_rc mdb_bind_int(struct db_stmt *st, int idx, int64_t v)
{
    MYSQL_BIND *b = param_slot(st, idx);
    if (!b)
        return DB_ERROR;
    struct param_val *pv = &st->pv[idx - 1];
    pv->i = v;
    memset(b, 0, sizeof(*b));
    b->buffer_type = MYSQL_TYPE_LONGLONG;
    b->buffer = &pv->i;
    return DB_OK;
}

static enum db_rc mdb_bind_text(struct db_stmt *st, int idx, const char *s, size_t n)
{
    MYSQL_BIND *b = param_slot(st, idx);
    if (!b)
        return DB_ERROR;
    struct param_val *pv = &st->pv[idx - 1];
    if (!s)
        n = 0;
    if (n + 1 > pv->cap) {
        size_t cap = pv->cap ? pv->cap : 64;
        while (cap < n + 1)
            cap *= 2;
        char *p = realloc(pv->text, cap);
        if (!p) {
            set_err(st->d, "out of memory");
            return DB_ERROR;
        }
        pv->text = p;
        pv->cap = cap;
    }
    if (n)
        memcpy(pv->text, s, n);
    pv->text[n] = 0;
    pv->len = (unsigned long)n;
    memset(b, 0, sizeof(*b));
    b->buffer_type = MYSQL_TYPE_STRING;
    b->buffer = pv->text;
    b->buffer_length = (unsigned long)n;
    b->length = &pv->len;
    return DB_OK;
}

static enum db_rc bind_results(struct db_stmt *st)
{
    for (unsigned i = 0; i < st->ncols; i++) {
        MYSQL_BIND *b = &st->res[i];
        struct col_buf *c = &st->cols[i];
        memset(b, 0, sizeof(*b));
        b->buffer_type = MYSQL_TYPE_STRING;
        b->buffer = c->p;
        b->buffer_length = (unsigned long)(c->cap - 1); /* room for the NUL */
        b->length = &c->len;
        b->is_null = &c->is_null;
        b->error = &c->error;
    }
    if (mysql_stmt_bind_result(st->st, st->res))
        return fail_stmt(st);
    st->results_bound = 1;
    return DB_OK;
}

static enum db_rc fetch_row(struct db_stmt *st)
{
    struct maria_db *d = st->d;
    int rc = mysql_stmt_fetch(st->st);
    if (rc == MYSQL_NO_DATA) {
        st->state = ST_DONE;
        if (d->active == st)
            d->active = NULL;
        return DB_DONE;
    }
    if (rc != 0 && rc != MYSQL_DATA_TRUNCATED)
        return fail_rows(st, fail_stmt(st), 0);
    int grown = 0;
    for (unsigned i = 0; i < st->ncols; i++) {
        struct col_buf *c = &st->cols[i];
        if (c->is_null)
            continue;
        if (c->len >= c->cap) { /* truncated: grow, then fetch the whole value again */
            size_t cap = c->cap * 2;
            while (cap < (size_t)c->len + 1)
                cap *= 2;
            char *p = realloc(c->p, cap);
            if (!p) {
                set_err(d, "out of memory");
                return fail_rows(st, DB_ERROR, 1);
            }
            c->p = p;
            c->cap = cap;
            grown = 1;
            unsigned long len = 0;
            my_bool is_null = 0, err = 0;
            MYSQL_BIND b;
            memset(&b, 0, sizeof(b));
            b.buffer_type = MYSQL_TYPE_STRING;
            b.buffer = c->p;
            b.buffer_length = (unsigned long)(c->cap - 1);
            b.length = &len;
            b.is_null = &is_null;
            b.error = &err;
            if (mysql_stmt_fetch_column(st->st, &b, i, 0))
                return fail_rows(st, fail_stmt(st), 1);
            c->len = len;
        }
        c->p[c->len] = 0;
    }
    enum db_rc brc = grown ? bind_results(st) : DB_OK;
    if (brc != DB_OK)
        return fail_rows(st, brc, 1);
    return DB_ROW;
}

static enum db_rc mdb_step(struct db_stmt *st)
{
    struct maria_db *d = st->d;
    if (st->state == ST_ROWS)
        return fetch_row(st);
    if (st->state == ST_DONE)
        return DB_DONE;
    if (st->state == ST_FAILED)
        return st->failed_rc;
    enum db_rc rc;
    if ((rc = conn_ready(d)) != DB_OK || (rc = settle_active(d, st)) != DB_OK)
        return rc;
    if ((!st->st || st->gen != d->gen) && (rc = stmt_prepare_handle(st)) != DB_OK)
        return rc;
    if (st->nparams && mysql_stmt_bind_param(st->st, st->params))
        return fail_stmt(st);
    if (mysql_stmt_execute(st->st))
        return fail_stmt(st);
    if (mysql_stmt_field_count(st->st) == 0) {
        my_ulonglong rows = mysql_stmt_affected_rows(st->st);
        d->changes = rows == (my_ulonglong)-1 ? 0 : (int64_t)rows;
        my_ulonglong id = mysql_stmt_insert_id(st->st);
        if (id)
            d->insert_id = (int64_t)id;
        st->state = ST_DONE;
        return DB_DONE;
    }
    if (!st->results_bound && (rc = bind_results(st)) != DB_OK)
        return rc;
    st->state = ST_ROWS;
    d->active = st;
    return fetch_row(st);
}

static void mdb_reset(struct db_stmt *st)
{
    struct maria_db *d = st->d;
    if ((st->state == ST_ROWS || st->state == ST_FAILED) && st->st && !d->dead) {
        /* reads the rest of an unbuffered result set (or frees a buffered one); no round trip.
         * Not while another statement owns the wire: the library would drain that one's rows
         * (a buffered result is then freed by the next execute instead). */
        if (d->active == st || !d->active) {
            d->active = NULL;
            if (mysql_stmt_free_result(st->st) && mysql_stmt_errno(st->st))
                fail_stmt(st);
        }
    }
    if (d->active == st)
        d->active = NULL;
    st->state = ST_IDLE;
    clear_params(st);
}

static int mdb_column_count(struct db_stmt *st)
{
    return (int)st->ncols;
}

static const char *mdb_column_text(struct db_stmt *st, int i, size_t *ret_len)
{
    if (st->state != ST_ROWS || i < 0 || (unsigned)i >= st->ncols || st->cols[i].is_null) {
        *ret_len = 0;
        return NULL;
    }
    *ret_len = st->cols[i].len;
    return st->cols[i].p;
}

/* the prepared handle's field list (MariaDB Connector/C fills it at prepare) */
static const char *mdb_column_name(struct db_stmt *st, int i)
{
    if (!st->st || !st->st->fields || i < 0 || (unsigned)i >= st->ncols)
        return NULL;
    return st->st->fields[i].name;
}

static int mdb_stmt_readonly(struct db_stmt *st)
{
    return st->ncols > 0;
}

static int64_t mdb_changes(struct db *db)
{
    return ((struct maria_db *)db)->changes;
}

static int64_t mdb_last_insert_id(struct db *db)
{
    return ((struct maria_db *)db)->insert_id;
}

static const char *mdb_errmsg(const struct db *db)
{
    const struct maria_db *d = (const struct maria_db *)db;
    return d->err[0] ? d->err : "no error";
}

/* ---- schema ---- */

/* Whether every table t references (FOREIGN KEY ... REFERENCES x) is in done[]. */
static int refs_created(const struct schema_set *set, const struct schema_table *t,
                        const unsigned char *done)
{
    const char *p = t->keys;
    while (p && (p = strstr(p, "REFERENCES ")) != NULL) {
        p += strlen("REFERENCES ");
        size_t n = strcspn(p, " (");
        int found = 0;
        for (size_t k = 0; k < set->ntables; k++)
            if (strlen(set->tables[k].name) == n && strncmp(set->tables[k].name, p, n) == 0)
                found = done[k] || &set->tables[k] == t;
        if (!found)
            return 0;
    }
    return 1;
}

static void table_ddl(struct buf *out, const struct schema_table *t)
{
    buf_printf(out, "CREATE TABLE `%s` (", t->name);
    for (size_t i = 0; i < t->ncols; i++)
        buf_printf(out, "%s\n  `%s` %s", i ? "," : "", t->cols[i].name, t->cols[i].mariadb);
    const char *k = t->keys;
    while (k && *k) {
        size_t n = strcspn(k, ";");
        buf_puts(out, ",\n  ");
        buf_append(out, k, n);
        k += n;
        while (*k == ';' || *k == ' ')
            k++;
    }
    buf_puts(out, "\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci");
}

/* ITFlow's tables (the active schema set), column for column, referenced tables first. DDL is not
 * transactional: on a failure the tables made so far are dropped again (never one that was there
 * before). */
static enum db_rc mdb_create_schema(struct db *db)
{
    struct maria_db *d = (struct maria_db *)db;
    enum db_rc rc = conn_ready(d);
    if (rc != DB_OK)
        return rc;
    const struct schema_set *set = schema_active();
    unsigned char done[128];
    size_t order[128], ndone = 0;
    if (set->ntables > sizeof(done))
        return DB_ERROR;
    memset(done, 0, sizeof(done));
    while (ndone < set->ntables && rc == DB_OK) {
        size_t before = ndone;
        for (size_t i = 0; i < set->ntables && rc == DB_OK; i++) {
            if (done[i] || !refs_created(set, &set->tables[i], done))
                continue;
            struct buf ddl;
            buf_init(&ddl, 0);
            table_ddl(&ddl, &set->tables[i]);
            rc = ddl.failed ? DB_ERROR : run_one(d, ddl.p, ddl.len, 0);
            buf_free(&ddl);
            if (rc == DB_OK) {
                done[i] = 1;
                order[ndone++] = i;
            }
        }
        if (rc == DB_OK && ndone == before) {
            set_err(d, "the schema's foreign keys form a cycle");
            rc = DB_ERROR;
        }
    }
    if (rc != DB_OK && !d->dead) {
        char saved[sizeof(d->err)];
        memcpy(saved, d->err, sizeof(saved));
        while (ndone > 0) {
            char sql[128];
            snprintf(sql, sizeof(sql), "DROP TABLE `%s`", set->tables[order[--ndone]].name);
            run_one(d, sql, strlen(sql), 0);
        }
        memcpy(d->err, saved, sizeof(saved));
    }
    return rc;
}

/* The maintenance thread's look at a host list, at most every PROBE_EVERY_MS: the first healthy
 * host in the order of preference becomes `best` (the connections on others move to it when
 * idle). Each probe is a connection of its own, closed at once. Always DB_OK: the maintenance
 * connection itself is not what is checked. */
static enum db_rc mdb_maintain(struct db *db)
{
    struct maria_db *d = (struct maria_db *)db;
    struct cluster *cl = d->cl;
    long long now = now_ms();
    if (!cl || now < atomic_load(&cl->next_probe))
        return DB_OK;
    atomic_store(&cl->next_probe, now + PROBE_EVERY_MS);
    char saved[sizeof(d->err)];
    memcpy(saved, d->err, sizeof(saved));
    for (size_t i = 0; i < cl->nhosts; i++) {
        MYSQL *h = NULL;
        const struct mariadb_host *hp = &d->cp.hosts[i];
        int wsrep;
        if (connect_host(d, hp->host, hp->port, 0, &h, &wsrep) == DB_OK) {
            mysql_close(h);
            atomic_store(&cl->down_until[i], 0);
            atomic_store(&cl->best, (int)i);
            break;
        }
        atomic_store(&cl->down_until[i], now_ms() + HOST_DOWN_MS);
    }
    memcpy(d->err, saved, sizeof(saved));
    return DB_OK;
}

static int mdb_has_maintenance(const struct db *db)
{
    return ((const struct maria_db *)db)->cl != NULL;
}

static int mdb_unreachable(const struct db *db)
{
    return ((const struct maria_db *)db)->dead;
}

const struct db_ops db_mariadb_ops = {
    .unreachable = mdb_unreachable,
    .name = "mariadb",
    .dialect = DB_MARIADB,
    .open = mdb_open,
    .close = mdb_close,
    .exec = mdb_exec,
    .begin = mdb_begin,
    .prepare = mdb_prepare,
    .finalize = mdb_finalize,
    .bind_null = mdb_bind_null,
    .bind_int = mdb_bind_int,
    .bind_text = mdb_bind_text,
    .step = mdb_step,
    .reset = mdb_reset,
    .column_count = mdb_column_count,
    .column_text = mdb_column_text,
    .column_name = mdb_column_name,
    .stmt_readonly = mdb_stmt_readonly,
    .changes = mdb_changes,
    .last_insert_id = mdb_last_insert_id,
    .errmsg = mdb_errmsg,
    .create_schema = mdb_create_schema,
    .maintain = mdb_maintain,
    .has_maintenance = mdb_has_maintenance,
};

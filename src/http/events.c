/* events (http): the events endpoint's parameters, pages and streams, and the hub that wakes the
 * requests waiting for a newer event. See events.h. */
#include "http/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/php.h"
#include "engine/events.h"
#include "modules/registry.h"
#include "req/reply.h"

#define POLL_MS 250 /* how often the hub asks the store for other processes' events */
#define TYPES_MAX 512

struct events_req {
    struct events_query q;
    char types[TYPES_MAX + 1];
    int stream;
    int wait_sec;
    long long deadline_ms; /* a long-poll's end; a stream's next heartbeat */
    int due;               /* read again: woken by the hub, or never read */
    struct buf pending;    /* a stream's frames not yet sent */
    size_t pos;
    struct MHD_Connection *con;
    /* the hub's list, under hub.mu */
    struct events_req *prev, *next;
    int queued;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int started;
    int stopping;
    struct events_req *head;
    int waiting;           /* queued requests */
    atomic_int streams;    /* open event streams */
    atomic_llong newest;   /* the newest sequence number known to be committed */
    atomic_ullong wakeups; /* requests resumed because a newer event came */
    const char *target;
} hub = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void note_newest(int64_t seq)
{
    long long cur = atomic_load(&hub.newest);
    while (seq > cur && !atomic_compare_exchange_weak(&hub.newest, &cur, seq)) {
    }
}

/* The engine's listener: a write of this process committed event seq. */
static void on_commit(int64_t seq)
{
    note_newest(seq);
    pthread_mutex_lock(&hub.mu);
    if (hub.waiting)
        pthread_cond_signal(&hub.cv);
    pthread_mutex_unlock(&hub.mu);
}

static void unlink_req(struct events_req *ev)
{
    if (ev->prev)
        ev->prev->next = ev->next;
    else
        hub.head = ev->next;
    if (ev->next)
        ev->next->prev = ev->prev;
    ev->prev = ev->next = NULL;
    ev->queued = 0;
    hub.waiting--;
}

/* Under hub.mu: unlinks the requests to wake into a list of their own (resumed outside the lock:
 * libmicrohttpd takes its own locks there). all: every one (the stop). */
static struct events_req *take_woken(long long now, int all, long long *next_deadline)
{
    struct events_req *woken = NULL;
    int64_t newest = atomic_load(&hub.newest);
    *next_deadline = now + 1000;
    for (struct events_req *ev = hub.head, *nx; ev; ev = nx) {
        nx = ev->next;
        int newer = newest > ev->q.after;
        if (all || newer || now >= ev->deadline_ms) {
            unlink_req(ev);
            ev->due = 1;
            if (newer)
                atomic_fetch_add(&hub.wakeups, 1);
            ev->next = woken;
            woken = ev;
        } else if (ev->deadline_ms < *next_deadline) {
            *next_deadline = ev->deadline_ms;
        }
    }
    return woken;
}

static void resume_list(struct events_req *woken)
{
    while (woken) {
        struct events_req *nx = woken->next;
        struct MHD_Connection *con = woken->con;
        woken->next = NULL;
        MHD_resume_connection(con);
        woken = nx;
    }
}

static void poll_store(struct db **db)
{
    if (!*db && db_open(hub.target, db) != DB_OK)
        *db = NULL;
    if (!*db)
        return;
    int64_t last = 0;
    enum db_rc rc = db_begin(*db, 0);
    if (rc == DB_OK)
        rc = engine_events_last(*db, &last);
    db_rollback(*db);
    if (rc == DB_OK)
        note_newest(last);
    else if (db_unreachable(*db)) {
        db_close(*db);
        *db = NULL; /* opened again at the next poll */
    }
}

static void *hub_run(void *arg)
{
    (void)arg;
    struct db *db = NULL;
    long long polled = 0;
    pthread_mutex_lock(&hub.mu);
    while (!hub.stopping) {
        long long now = now_ms(), next_deadline;
        if (hub.waiting && now - polled >= POLL_MS) {
            pthread_mutex_unlock(&hub.mu);
            poll_store(&db);
            polled = now = now_ms();
            pthread_mutex_lock(&hub.mu);
        }
        struct events_req *woken = take_woken(now, 0, &next_deadline);
        if (woken) {
            pthread_mutex_unlock(&hub.mu);
            resume_list(woken);
            pthread_mutex_lock(&hub.mu);
            continue;
        }
        if (hub.waiting && polled + POLL_MS < next_deadline)
            next_deadline = polled + POLL_MS;
        long long wait = next_deadline - now;
        if (wait < 1)
            wait = 1;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += wait / 1000;
        until.tv_nsec += (wait % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&hub.cv, &hub.mu, &until);
    }
    long long unused;
    struct events_req *woken = take_woken(now_ms(), 1, &unused);
    pthread_mutex_unlock(&hub.mu);
    resume_list(woken);
    db_close(db);
    return NULL;
}

int events_hub_start(const char *db_target)
{
    hub.target = db_target;
    struct db *db = NULL;
    if (db_open(db_target, &db) == DB_OK) {
        int64_t last = 0;
        if (engine_events_last(db, &last) == DB_OK)
            atomic_store(&hub.newest, last);
        db_close(db);
    }
    if (engine_events_on_commit(on_commit) != 0)
        return -1;
    pthread_mutex_lock(&hub.mu); /* requests may already ask events_hub_stopping() */
    hub.stopping = 0;
    hub.started = pthread_create(&hub.thread, NULL, hub_run, NULL) == 0;
    int ok = hub.started;
    pthread_mutex_unlock(&hub.mu);
    return ok ? 0 : -1;
}

void events_hub_stop(void)
{
    pthread_mutex_lock(&hub.mu);
    hub.stopping = 1;
    pthread_cond_signal(&hub.cv);
    int started = hub.started;
    pthread_mutex_unlock(&hub.mu);
    if (started)
        pthread_join(hub.thread, NULL);
    pthread_mutex_lock(&hub.mu);
    hub.started = 0;
    pthread_mutex_unlock(&hub.mu);
}

int events_hub_stopping(void)
{
    pthread_mutex_lock(&hub.mu);
    int s = hub.stopping || !hub.started;
    pthread_mutex_unlock(&hub.mu);
    return s;
}

void events_metrics(struct buf *out)
{
    pthread_mutex_lock(&hub.mu);
    int waiting = hub.waiting;
    pthread_mutex_unlock(&hub.mu);
    buf_printf(out,
               "# HELP itflowd_events_last_seq The newest event sequence number this instance "
               "knows to be committed.\n"
               "# TYPE itflowd_events_last_seq gauge\n"
               "itflowd_events_last_seq %lld\n"
               "# HELP itflowd_events_waiting Event requests and streams waiting for a newer "
               "event.\n"
               "# TYPE itflowd_events_waiting gauge\n"
               "itflowd_events_waiting %d\n"
               "# HELP itflowd_events_streams Open text/event-stream answers.\n"
               "# TYPE itflowd_events_streams gauge\n"
               "itflowd_events_streams %d\n"
               "# HELP itflowd_events_wakeups_total Waiting event requests woken by a newer "
               "event.\n"
               "# TYPE itflowd_events_wakeups_total counter\n"
               "itflowd_events_wakeups_total %llu\n",
               (long long)atomic_load(&hub.newest), waiting, atomic_load(&hub.streams),
               (unsigned long long)atomic_load(&hub.wakeups));
}

/* ---- one request ---- */

/* A non-negative integer parameter: 1 and *ret when valid, 0 when absent; -1 when bad. */
static int int_param(struct req *r, const char *name, int64_t lo, int64_t hi, int64_t *ret)
{
    const struct param *p = req_param(r, name);
    if (!p)
        return 0;
    int64_t v;
    if (p->is_array || digits_value(p->val, p->len, &v) != 0 || v < lo || v > hi)
        return -1;
    *ret = v;
    return 1;
}

static int accepts_stream(const char *accept)
{
    return accept && strstr(accept, "text/event-stream") != NULL;
}

struct events_req *events_req_new(struct req *r, struct MHD_Connection *con, const char *accept,
                                  const char *last_event_id)
{
    struct events_req *ev = arena_alloc(&r->arena, sizeof(*ev));
    if (!ev) {
        reply_message(r, 500, "Internal server error.");
        return NULL;
    }
    memset(ev, 0, sizeof(*ev));
    buf_init(&ev->pending, 0);
    ev->con = con;
    ev->due = 1;
    ev->stream = accepts_stream(accept);
    ev->q.limit = EVENTS_LIMIT_DEFAULT;
    int64_t v = 0;
    int got = int_param(r, "after", 0, INT64_MAX, &v);
    if (got < 0) {
        reply_message(r, 400, "after must be a sequence number (an integer, 0 or more).");
        return NULL;
    }
    ev->q.after = got ? v : 0;
    if (!got && ev->stream && last_event_id) { /* an EventSource reconnecting */
        int64_t id = 0;
        if (digits_value(last_event_id, strlen(last_event_id), &id) != 0) {
            reply_message(r, 400, "Last-Event-ID must be a sequence number.");
            return NULL;
        }
        ev->q.after = id;
    }
    if ((got = int_param(r, "limit", 1, EVENTS_LIMIT_MAX, &v)) < 0) {
        reply_message(r, 400, "limit must be an integer from 1 to 1000.");
        return NULL;
    }
    if (got)
        ev->q.limit = (int)v;
    if ((got = int_param(r, "wait", 0, EVENTS_WAIT_MAX, &v)) < 0) {
        reply_message(r, 400, "wait must be a number of seconds from 0 to 300.");
        return NULL;
    }
    ev->wait_sec = got ? (int)v : 0;
    if ((got = int_param(r, "client_id", 0, 2147483647, &v)) < 0) {
        reply_message(r, 400, "client_id must be a client id (an integer).");
        return NULL;
    }
    ev->q.client = got ? v : 0;
    const struct param *t = req_param(r, "types");
    if (t) {
        if (t->is_array || t->len > TYPES_MAX || memchr(t->val, 0, t->len)) {
            reply_message(r, 400,
                          "types must be a list of event types such as tickets.create or "
                          "tickets.*, separated by commas.");
            return NULL;
        }
        memcpy(ev->types, t->val, t->len);
        ev->types[t->len] = 0;
        if (!events_patterns_valid(ev->types)) {
            reply_message(r, 400,
                          "types must be a list of event types such as tickets.create or "
                          "tickets.*, separated by commas.");
            return NULL;
        }
        ev->q.types = ev->types;
    }
    ev->q.sse = ev->stream;
    long long now = now_ms();
    ev->deadline_ms = ev->stream ? now + EVENTS_HEARTBEAT_MS : now + ev->wait_sec * 1000LL;
    if (ev->stream) {
        buf_puts(&ev->pending, "retry: 3000\n\n"); /* an EventSource's reconnection delay */
        atomic_fetch_add(&hub.streams, 1);
    }
    return ev;
}

int events_req_is_stream(const struct events_req *ev)
{
    return ev->stream;
}

enum events_step events_req_fetch(struct events_req *ev, struct req *r)
{
    struct buf rows;
    buf_init(&rows, 0);
    struct buf *out = ev->stream ? &ev->pending : &rows;
    int count = 0;
    int64_t next = ev->q.after;
    ev->due = 0;
    int rc = engine_events_read(r, module_registry, module_count, &ev->q, out, &count, &next);
    if (rc != 0) {
        buf_free(&rows);
        return rc > 0 ? EVENTS_ANSWERED : EVENTS_FAILED;
    }
    ev->q.after = next;
    if (ev->stream) {
        buf_free(&rows);
        if (ev->pending.failed)
            return EVENTS_FAILED;
        return ev->pending.len > ev->pos ? EVENTS_STREAM : EVENTS_WAIT;
    }
    if (count == 0 && ev->wait_sec > 0 && now_ms() < ev->deadline_ms && !events_hub_stopping()) {
        buf_free(&rows);
        return EVENTS_WAIT;
    }
    r->status = 200;
    buf_reset(&r->out);
    buf_printf(&r->out, "{\"success\":\"True\",\"count\":%d,\"data\":[", count);
    buf_append(&r->out, rows.p ? rows.p : "", rows.len);
    buf_printf(&r->out, "],\"next_after\":%lld}", (long long)next);
    buf_free(&rows);
    return r->out.failed ? EVENTS_FAILED : EVENTS_ANSWERED;
}

int events_req_wait(struct events_req *ev)
{
    pthread_mutex_lock(&hub.mu);
    if (hub.stopping || !hub.started) {
        pthread_mutex_unlock(&hub.mu);
        ev->due = 1;
        return -1;
    }
    ev->prev = NULL;
    ev->next = hub.head;
    if (hub.head)
        hub.head->prev = ev;
    hub.head = ev;
    ev->queued = 1;
    hub.waiting++;
    pthread_cond_signal(&hub.cv); /* an event may have come since the read */
    pthread_mutex_unlock(&hub.mu);
    return 0;
}

void events_req_cancel(struct events_req *ev)
{
    if (!ev)
        return;
    pthread_mutex_lock(&hub.mu);
    if (ev->queued)
        unlink_req(ev);
    pthread_mutex_unlock(&hub.mu);
    if (ev->stream)
        atomic_fetch_sub(&hub.streams, 1);
    ev->stream = 0;
    buf_free(&ev->pending);
}

size_t events_stream_take(struct events_req *ev, char *out, size_t max)
{
    size_t n = ev->pending.len - ev->pos;
    if (n > max)
        n = max;
    if (n) {
        memcpy(out, ev->pending.p + ev->pos, n);
        ev->pos += n;
    }
    if (ev->pos == ev->pending.len) {
        buf_reset(&ev->pending);
        ev->pos = 0;
    }
    return n;
}

int events_stream_due(const struct events_req *ev)
{
    return ev->due;
}

int events_stream_heartbeat(struct events_req *ev)
{
    long long now = now_ms();
    if (now < ev->deadline_ms)
        return 0;
    buf_puts(&ev->pending, ": keep-alive\n\n");
    ev->deadline_ms = now + EVENTS_HEARTBEAT_MS;
    return 1;
}

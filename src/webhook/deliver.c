/* deliver: the delivery thread. One thread, one store connection and one libcurl multi handle
 * serve every subscription: each has at most one delivery in flight, and the transfers of
 * different subscriptions run side by side in the multi handle, so a receiver that is slow or
 * down delays only its own subscription, without a thread (and a store connection) per
 * subscription. The thread wakes on a local commit (engine_events_on_commit) and otherwise looks
 * at the newest sequence number and the subscriptions every POLL_MS (other instances' events,
 * new or removed subscriptions).
 *
 * A subscription is delivered by the instance holding its lease (webhook_lease_owner, until
 * webhook_lease_until in ms), taken in a committed UPDATE that succeeds only when the lease is
 * free, expired or already ours; every later change of the row (cursor, failures) is conditional
 * on still holding it. The lease lasts longer than a delivery may take and is renewed while one
 * is in flight. webhook_next_at (ms) is when the next attempt is due after a failure. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "core/logsafe.h"
#include "engine/events.h"
#include "webhook/webhook.h"

#ifndef ITFLOWD_VERSION
#define ITFLOWD_VERSION "unknown"
#endif

#define POLL_MS 250
#define WAKE_MS 20 /* the shortest time between two looks at the table when woken */
#define PRUNE_MS 60000
#define WALK_BATCH 200
/* a turn passes over at most WALK_BATCH x WALK_BATCHES events that do not match */
#define WALK_BATCHES 8
#define ANSWER_MAX 65536

struct sub {
    int64_t id;
    char *url, *events, *secret;
    int present; /* in the table at the last look */
    int64_t cursor, attempts, failures, delivered, last_status, last_success;
    int has_status;
    char last_error[256];
    int64_t next_at;       /* ms: the next attempt is due */
    int64_t lease_until;   /* ms: our lease (0: none held) */
    int64_t foreign_until; /* ms: another instance holds the lease until then */
    /* the delivery in flight */
    CURL *h;
    int in_flight;
    struct curl_slist *hdrs;
    struct buf body;
    int64_t seq;
    size_t answer; /* bytes of the answer read (discarded) */
};

struct webhook_runner {
    const char *target;
    struct webhook_config cfg;
    pthread_t thread;
    atomic_int stop;
    char owner[128];
    struct db *db;
    CURLM *multi;
    struct sub **subs;
    size_t nsubs, cap;
    int64_t last_seq;
    int64_t lease_ms;
};

/* ---- what the commit listener and /metrics share with the thread ---- */

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static CURLM *wake_multi; /* the running thread's, for curl_multi_wakeup */
static atomic_int woken;
static int registered;

struct metric {
    int64_t id, delivered, failures, pending, attempts, last_success;
};
static struct metric *metrics;
static size_t nmetrics;

/* A local commit: wakes the thread when there is a subscription to serve (new subscriptions are
 * found by the poll; a write path with none pays for an atomic and a lock only). */
static void on_commit(int64_t seq)
{
    (void)seq;
    pthread_mutex_lock(&shared_mu);
    if (wake_multi && nmetrics) {
        atomic_store(&woken, 1);
        curl_multi_wakeup(wake_multi);
    }
    pthread_mutex_unlock(&shared_mu);
}

static void publish(const struct webhook_runner *w)
{
    struct metric *m = w->nsubs ? calloc(w->nsubs, sizeof(*m)) : NULL;
    if (w->nsubs && !m)
        return;
    for (size_t i = 0; i < w->nsubs; i++) {
        const struct sub *s = w->subs[i];
        m[i] = (struct metric){s->id,       s->delivered,
                               s->failures, w->last_seq > s->cursor ? w->last_seq - s->cursor : 0,
                               s->attempts, s->last_success};
    }
    pthread_mutex_lock(&shared_mu);
    free(metrics);
    metrics = m;
    nmetrics = w->nsubs;
    pthread_mutex_unlock(&shared_mu);
}

void webhook_metrics_render(struct buf *out)
{
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"itflowd_webhook_delivered_total", "counter", "Events delivered (answered 2xx)."},
        {"itflowd_webhook_failures_total", "counter", "Delivery attempts that failed."},
        {"itflowd_webhook_pending_events", "gauge", "Events after the subscription's cursor."},
        {"itflowd_webhook_consecutive_failures", "gauge",
         "Failed attempts since the last success."},
        {"itflowd_webhook_last_success_timestamp_seconds", "gauge",
         "Unix time of the last delivery (0: never)."},
    };
    pthread_mutex_lock(&shared_mu);
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        if (!nmetrics)
            break;
        buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name, fam[f].help, fam[f].name,
                   fam[f].type);
        for (size_t i = 0; i < nmetrics; i++) {
            const struct metric *m = &metrics[i];
            int64_t v = f == 0   ? m->delivered
                        : f == 1 ? m->failures
                        : f == 2 ? m->pending
                        : f == 3 ? m->attempts
                                 : m->last_success;
            buf_printf(out, "%s{webhook=\"%lld\"} %lld\n", fam[f].name, (long long)m->id,
                       (long long)v);
        }
    }
    pthread_mutex_unlock(&shared_mu);
}

/* ---- small helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line on stderr (the server's log): text, or a JSON object with --log-format json. */
static void wlog(const struct webhook_runner *w, const char *level, int64_t id, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
static void wlog(const struct webhook_runner *w, const char *level, int64_t id, const char *fmt,
                 ...)
{
    char msg[512], safe[1024], ts[48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_escape(safe, sizeof(safe), msg, 0);
    log_time_iso(ts, sizeof(ts));
    if (w->cfg.log_format == 1) {
        char js[6200];
        log_json_text(js, sizeof(js), safe);
        fprintf(stderr,
                "{\"time\":\"%s\",\"level\":\"%s\",\"webhook_id\":%lld,\"message\":\"%s\"}\n", ts,
                level, (long long)id, js);
    } else {
        fprintf(stderr, "%s itflowd: %s: webhook %lld: %s\n", ts, level, (long long)id, safe);
    }
}

static int ensure_db(struct webhook_runner *w)
{
    if (w->db)
        return 0;
    if (db_open(w->target, &w->db) != DB_OK) {
        w->db = NULL;
        return -1;
    }
    return 0;
}

/* After a store failure: an unreachable store's connection is opened again later. */
static void store_failed(struct webhook_runner *w)
{
    if (!w->db)
        return;
    db_rollback(w->db);
    if (db_unreachable(w->db) || db_last_error(w->db) == DB_UNAVAILABLE) {
        db_close(w->db);
        w->db = NULL;
    }
}

/* Runs one UPDATE (binds given as integers, texts or NULL by the caller's fn) in a write
 * transaction, a few times over when the store is busy: *changed = rows changed. */
typedef void (*bind_fn)(struct db_stmt *st, void *arg);
static enum db_rc write_one(struct webhook_runner *w, const char *sql, bind_fn bind, void *arg,
                            int64_t *changed)
{
    enum db_rc rc = DB_ERROR;
    *changed = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        if (ensure_db(w))
            return DB_UNAVAILABLE;
        struct db_stmt *st;
        rc = db_begin(w->db, 1);
        if (rc == DB_OK)
            rc = db_stmt_static(w->db, sql, &st);
        if (rc == DB_OK) {
            bind(st, arg);
            rc = db_step(st);
            db_reset(st);
            if (rc == DB_DONE) {
                *changed = db_changes(w->db);
                rc = db_commit(w->db);
            }
        }
        if (rc == DB_OK)
            return DB_OK;
        store_failed(w);
        if (rc != DB_BUSY)
            break;
        usleep(20000 * (attempt + 1));
    }
    return rc;
}

static void sub_free(struct webhook_runner *w, struct sub *s)
{
    if (s->h) {
        if (s->in_flight)
            curl_multi_remove_handle(w->multi, s->h);
        curl_easy_cleanup(s->h);
    }
    curl_slist_free_all(s->hdrs);
    buf_free(&s->body);
    free(s->url);
    free(s->events);
    if (s->secret) {
        memset(s->secret, 0, strlen(s->secret));
        free(s->secret);
    }
    free(s);
}

static int set_text(char **dst, const char *src)
{
    if (*dst && src && !strcmp(*dst, src))
        return 0;
    char *copy = strdup(src ? src : "");
    if (!copy)
        return -1;
    if (*dst) {
        memset(*dst, 0, strlen(*dst));
        free(*dst);
    }
    *dst = copy;
    return 0;
}

/* ---- the table, as it is now ---- */

static struct sub *find_sub(struct webhook_runner *w, int64_t id)
{
    for (size_t i = 0; i < w->nsubs; i++)
        if (w->subs[i]->id == id)
            return w->subs[i];
    return NULL;
}

static struct sub *add_sub(struct webhook_runner *w, int64_t id)
{
    if (w->nsubs == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        struct sub **p = realloc(w->subs, cap * sizeof(*p));
        if (!p)
            return NULL;
        w->subs = p;
        w->cap = cap;
    }
    struct sub *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->id = id;
    buf_init(&s->body, 0);
    w->subs[w->nsubs++] = s;
    return s;
}

static void refresh(struct webhook_runner *w)
{
    if (ensure_db(w))
        return;
    int64_t last = 0;
    struct db_stmt *st;
    enum db_rc rc = engine_events_last(w->db, &last);
    if (rc == DB_OK)
        rc = db_stmt_static(w->db,
                            "SELECT webhook_id, webhook_url, webhook_events, webhook_secret, "
                            "webhook_cursor, webhook_attempts, webhook_failures, "
                            "webhook_delivered, webhook_last_status, webhook_last_error, "
                            "webhook_last_success_at, webhook_next_at, webhook_lease_owner, "
                            "webhook_lease_until FROM itflowd_webhooks WHERE webhook_active = 1 "
                            "ORDER BY webhook_id",
                            &st);
    if (rc != DB_OK) {
        store_failed(w);
        return;
    }
    w->last_seq = last;
    for (size_t i = 0; i < w->nsubs; i++)
        w->subs[i]->present = 0;
    int64_t now = now_ms();
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t id = db_column_int(st, 0);
        struct sub *s = find_sub(w, id);
        if (!s && !(s = add_sub(w, id)))
            continue;
        s->present = 1;
        size_t n;
        const char *owner = db_column_text(st, 12, &n);
        int64_t until = db_column_int(st, 13);
        s->foreign_until = owner && strcmp(owner, w->owner) != 0 && until > now ? until : 0;
        if (s->in_flight)
            continue; /* this thread's own view is the newer one */
        if (set_text(&s->url, db_column_text(st, 1, &n)) ||
            set_text(&s->events, db_column_text(st, 2, &n)) ||
            set_text(&s->secret, db_column_text(st, 3, &n)))
            s->present = 0;
        s->cursor = db_column_int(st, 4);
        s->attempts = db_column_int(st, 5);
        s->failures = db_column_int(st, 6);
        s->delivered = db_column_int(st, 7);
        s->has_status = db_column_text(st, 8, &n) != NULL;
        s->last_status = s->has_status ? db_column_int(st, 8) : 0;
        const char *err = db_column_text(st, 9, &n);
        snprintf(s->last_error, sizeof(s->last_error), "%s", err ? err : "");
        s->last_success = db_column_text(st, 10, &n) ? db_column_int(st, 10) : 0;
        s->next_at = db_column_int(st, 11);
    }
    db_reset(st);
    if (rc != DB_DONE) {
        store_failed(w);
        for (size_t i = 0; i < w->nsubs; i++)
            w->subs[i]->present = 1; /* a failed look removes nothing */
    }
    for (size_t i = 0; i < w->nsubs;) { /* removed or deactivated: dropped */
        if (w->subs[i]->present) {
            i++;
            continue;
        }
        sub_free(w, w->subs[i]);
        w->subs[i] = w->subs[--w->nsubs];
    }
    publish(w);
}

/* ---- the lease ---- */

struct lease_args {
    const struct webhook_runner *w;
    const struct sub *s;
    int64_t now, until;
};

static void bind_take(struct db_stmt *st, void *arg)
{
    const struct lease_args *a = arg;
    db_bind_text(st, 1, a->w->owner, strlen(a->w->owner));
    db_bind_int(st, 2, a->until);
    db_bind_int(st, 3, a->s->id);
    db_bind_text(st, 4, a->w->owner, strlen(a->w->owner));
    db_bind_int(st, 5, a->now);
}

/* Takes (or renews) the lease of s and reads its delivery state as committed: 1 held, 0 held by
 * another instance (or the subscription is gone), -1 a store failure. */
static int take_lease(struct webhook_runner *w, struct sub *s, int64_t now)
{
    struct lease_args a = {w, s, now, now + w->lease_ms};
    int64_t changed = 0;
    if (write_one(w,
                  "UPDATE itflowd_webhooks SET webhook_lease_owner = ?, webhook_lease_until = ? "
                  "WHERE webhook_id = ? AND webhook_active = 1 AND (webhook_lease_owner IS NULL OR "
                  "webhook_lease_owner = ? OR webhook_lease_until < ?)",
                  bind_take, &a, &changed) != DB_OK)
        return -1;
    /* MariaDB counts rows changed, not rows found: read back who holds it */
    struct db_stmt *st;
    if (ensure_db(w) ||
        db_stmt_static(w->db,
                       "SELECT webhook_lease_owner, webhook_lease_until, webhook_cursor, "
                       "webhook_attempts, webhook_next_at FROM itflowd_webhooks WHERE "
                       "webhook_id = ? AND webhook_active = 1",
                       &st) != DB_OK) {
        store_failed(w);
        return -1;
    }
    db_bind_int(st, 1, s->id);
    enum db_rc rc = db_step(st);
    int held = 0;
    if (rc == DB_ROW) {
        size_t n;
        const char *owner = db_column_text(st, 0, &n);
        held = owner && !strcmp(owner, w->owner) && db_column_int(st, 1) == a.until;
        if (held) {
            s->cursor = db_column_int(st, 2);
            s->attempts = db_column_int(st, 3);
            s->next_at = db_column_int(st, 4);
            s->lease_until = a.until;
            s->foreign_until = 0;
        } else {
            s->lease_until = 0;
            s->foreign_until = owner ? db_column_int(st, 1) : now + POLL_MS;
        }
    }
    db_reset(st);
    if (rc != DB_ROW && rc != DB_DONE) {
        store_failed(w);
        return -1;
    }
    return held;
}

static void bind_renew(struct db_stmt *st, void *arg)
{
    const struct lease_args *a = arg;
    db_bind_int(st, 1, a->until);
    db_bind_int(st, 2, a->s->id);
    db_bind_text(st, 3, a->w->owner, strlen(a->w->owner));
}

static void renew_lease(struct webhook_runner *w, struct sub *s, int64_t now)
{
    struct lease_args a = {w, s, now, now + w->lease_ms};
    int64_t changed = 0;
    if (write_one(w,
                  "UPDATE itflowd_webhooks SET webhook_lease_until = ? WHERE webhook_id = ? AND "
                  "webhook_lease_owner = ?",
                  bind_renew, &a, &changed) == DB_OK)
        s->lease_until = a.until;
}

static void bind_owner(struct db_stmt *st, void *arg)
{
    const struct webhook_runner *w = arg;
    db_bind_text(st, 1, w->owner, strlen(w->owner));
}

/* ---- one delivery ---- */

struct walk_state {
    const struct sub *s;
    struct sub *out;
    int found, rows;
    int64_t passed; /* the last non-matching event looked at before a match */
    char type[160];
};

static int walk_one(const struct event_row *e, void *arg)
{
    struct walk_state *ws = arg;
    ws->rows++;
    if (!events_type_match(ws->s->events, e->type, e->type_len)) {
        ws->passed = e->seq;
        return 0;
    }
    buf_reset(&ws->out->body);
    events_render_json(&ws->out->body, e);
    ws->out->seq = e->seq;
    snprintf(ws->type, sizeof(ws->type), "%.*s", (int)e->type_len, e->type);
    ws->found = 1;
    return 1;
}

struct cursor_args {
    const struct webhook_runner *w;
    const struct sub *s;
    int64_t to, from;
};

static void bind_skip(struct db_stmt *st, void *arg)
{
    const struct cursor_args *a = arg;
    db_bind_int(st, 1, a->to);
    db_bind_int(st, 2, a->s->id);
    db_bind_text(st, 3, a->w->owner, strlen(a->w->owner));
    db_bind_int(st, 4, a->from);
}

static size_t on_answer(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    struct sub *s = ud;
    s->answer += size * n;
    return s->answer > ANSWER_MAX ? 0 : size * n; /* a long answer is not read to its end */
}

static struct curl_slist *add_header(struct curl_slist *list, int *ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static struct curl_slist *add_header(struct curl_slist *list, int *ok, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    struct curl_slist *more =
        *ok && n > 0 && (size_t)n < sizeof(line) ? curl_slist_append(list, line) : NULL;
    if (!more) {
        *ok = 0;
        return list;
    }
    return more;
}

static int send_event(struct webhook_runner *w, struct sub *s, const char *type)
{
    int64_t ts = (int64_t)time(NULL);
    char sig[160];
    if (s->body.failed ||
        webhook_signature(s->secret, ts, s->body.p, s->body.len, sig, sizeof(sig)) != 0)
        return -1;
    if (!s->h && !(s->h = curl_easy_init()))
        return -1;
    curl_easy_reset(s->h);
    curl_slist_free_all(s->hdrs);
    s->hdrs = NULL;
    int ok = 1;
    struct curl_slist *l = NULL;
    l = add_header(l, &ok, "Content-Type: application/json");
    l = add_header(l, &ok, "User-Agent: itflowd/%s", ITFLOWD_VERSION);
    l = add_header(l, &ok, "X-Itflowd-Event: %s", type);
    l = add_header(l, &ok, "X-Itflowd-Delivery: %lld-%lld", (long long)s->id, (long long)s->seq);
    l = add_header(l, &ok, "X-Itflowd-Timestamp: %lld", (long long)ts);
    l = add_header(l, &ok, "X-Itflowd-Signature: %s", sig);
    l = add_header(l, &ok, "Expect:");
    s->hdrs = l;
    if (!ok)
        return -1;
    s->answer = 0;
    CURL *h = s->h;
    curl_easy_setopt(h, CURLOPT_URL, s->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)w->cfg.connect_timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)w->cfg.timeout);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, s->body.p);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_PRIVATE, s);
    if (curl_multi_add_handle(w->multi, h) != CURLM_OK)
        return -1;
    s->in_flight = 1;
    return 0;
}

/* Starts the next delivery of s if one is due: the lease, the events after the cursor (those that
 * do not match passed over), the POST of the first that matches. */
static void start(struct webhook_runner *w, struct sub *s, int64_t now)
{
    if (take_lease(w, s, now) != 1)
        return;
    if (s->next_at > now)
        return; /* a failure's backoff, perhaps another instance's */
    struct walk_state ws = {.s = s, .out = s};
    int64_t from = s->cursor, after = s->cursor;
    for (int b = 0; b < WALK_BATCHES && !ws.found; b++) {
        ws.rows = 0;
        if (ensure_db(w) || engine_events_walk(w->db, after, WALK_BATCH, walk_one, &ws) != DB_OK) {
            store_failed(w);
            return;
        }
        if (ws.passed > after)
            after = ws.passed;
        if (ws.rows < WALK_BATCH)
            break;
    }
    if (ws.passed > from) { /* the events passed over: the cursor moves past them */
        struct cursor_args a = {w, s, ws.passed, from};
        int64_t changed = 0;
        if (write_one(w,
                      "UPDATE itflowd_webhooks SET webhook_cursor = ? WHERE webhook_id = ? AND "
                      "webhook_lease_owner = ? AND webhook_cursor = ?",
                      bind_skip, &a, &changed) != DB_OK)
            return;
        if (changed != 1) { /* the lease was lost meanwhile */
            s->lease_until = 0;
            return;
        }
        s->cursor = ws.passed;
    }
    if (!ws.found) { /* nothing to send up to the newest event seen: look again later */
        s->next_at = now + POLL_MS;
        publish(w);
        return;
    }
    if (send_event(w, s, ws.type) != 0)
        wlog(w, "error", s->id, "cannot prepare the delivery of event %lld (out of memory)",
             (long long)s->seq);
}

struct result_args {
    const struct webhook_runner *w;
    const struct sub *s;
    int64_t status, now, attempts, next_at;
    const char *error;
};

static void bind_success(struct db_stmt *st, void *arg)
{
    const struct result_args *a = arg;
    db_bind_int(st, 1, a->s->seq);
    db_bind_int(st, 2, a->status);
    db_bind_int(st, 3, a->now / 1000);
    db_bind_int(st, 4, a->now + a->w->lease_ms);
    db_bind_int(st, 5, a->s->id);
    db_bind_text(st, 6, a->w->owner, strlen(a->w->owner));
    db_bind_int(st, 7, a->s->seq);
}

static void bind_failure(struct db_stmt *st, void *arg)
{
    const struct result_args *a = arg;
    db_bind_int(st, 1, a->attempts);
    db_bind_int(st, 2, a->status);
    db_bind_text(st, 3, a->error, strlen(a->error));
    db_bind_int(st, 4, a->next_at);
    db_bind_int(st, 5, a->s->id);
    db_bind_text(st, 6, a->w->owner, strlen(a->w->owner));
}

/* ms before attempt n + 1 after n failures: 1 s doubling up to the cap, less up to half at
 * random (so that receivers coming back are not met by every retry at once) */
static int64_t backoff_ms(const struct webhook_runner *w, int64_t attempts)
{
    int64_t cap = (int64_t)w->cfg.max_backoff * 1000;
    int64_t d = attempts >= 20 ? cap : (int64_t)1000 << (attempts - 1);
    if (d > cap)
        d = cap;
    unsigned short r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (unsigned short)(now_ms() & 0xffff);
    return d - (d / 2) * r / 65536;
}

static void finish(struct webhook_runner *w, struct sub *s, CURLcode cc)
{
    long status = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_WRITE_ERROR && s->answer > ANSWER_MAX)
        cc = CURLE_OK; /* the answer was cut short by us: its status counts */
    curl_multi_remove_handle(w->multi, s->h);
    s->in_flight = 0;
    int64_t now = now_ms(), changed = 0;
    struct result_args a = {w, s, status, now, 0, 0, NULL};
    if (cc == CURLE_OK && status >= 200 && status <= 299) {
        if (write_one(w,
                      "UPDATE itflowd_webhooks SET webhook_cursor = ?, webhook_delivered = "
                      "webhook_delivered + 1, webhook_last_status = ?, webhook_last_error = NULL, "
                      "webhook_attempts = 0, webhook_next_at = 0, webhook_last_success_at = ?, "
                      "webhook_lease_until = ? WHERE webhook_id = ? AND webhook_lease_owner = ? "
                      "AND webhook_cursor < ?",
                      bind_success, &a, &changed) != DB_OK ||
            changed != 1) {
            /* not recorded: delivered again later (the receiver drops it by its delivery id) */
            wlog(w, "warning", s->id,
                 "event %lld was delivered but its cursor could not be saved (%s)",
                 (long long)s->seq, changed ? "store failure" : "lease lost");
            s->lease_until = 0;
            return;
        }
        if (s->attempts > 0)
            wlog(w, "info", s->id,
                 "recovered: event %lld delivered (HTTP %ld) after %lld failed "
                 "attempts",
                 (long long)s->seq, status, (long long)s->attempts);
        s->cursor = s->seq;
        s->delivered++;
        s->attempts = 0;
        s->next_at = 0;
        s->has_status = 1;
        s->last_status = status;
        s->last_error[0] = 0;
        s->last_success = now / 1000;
        s->lease_until = now + w->lease_ms;
    } else {
        char err[200];
        if (cc != CURLE_OK)
            snprintf(err, sizeof(err), "%s", curl_easy_strerror(cc));
        else
            snprintf(err, sizeof(err), "HTTP %ld", status);
        a.status = cc == CURLE_OK ? status : 0;
        a.error = err;
        a.attempts = s->attempts + 1;
        a.next_at = now + backoff_ms(w, a.attempts);
        if (write_one(w,
                      "UPDATE itflowd_webhooks SET webhook_attempts = ?, webhook_failures = "
                      "webhook_failures + 1, webhook_last_status = ?, webhook_last_error = ?, "
                      "webhook_next_at = ? WHERE webhook_id = ? AND webhook_lease_owner = ?",
                      bind_failure, &a, &changed) != DB_OK ||
            changed != 1) {
            s->next_at = a.next_at; /* retried after the wait all the same */
            s->lease_until = 0;
            return;
        }
        if (s->attempts == 0)
            wlog(w, "warning", s->id,
                 "failing: event %lld: %s (retried with backoff until it is "
                 "accepted)",
                 (long long)s->seq, err);
        s->attempts = a.attempts;
        s->failures++;
        s->has_status = 1;
        s->last_status = a.status;
        snprintf(s->last_error, sizeof(s->last_error), "%s", err);
        s->next_at = a.next_at;
    }
    publish(w);
}

/* ---- the thread ---- */

static void drain(struct webhook_runner *w)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(w->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        char *p = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
        if (p)
            finish(w, (struct sub *)(void *)p, m->data.result);
    }
}

static void prune(struct webhook_runner *w)
{
    if (ensure_db(w))
        return;
    int64_t deleted = 0;
    int64_t before = (int64_t)time(NULL) - (int64_t)w->cfg.retention_days * 86400;
    if (engine_events_prune(w->db, before, &deleted) != DB_OK)
        store_failed(w);
}

static void *run(void *arg)
{
    struct webhook_runner *w = arg;
    int64_t next_refresh = 0, last_refresh = 0, next_prune = now_ms() + 1000, stop_deadline = 0;
    for (;;) {
        int64_t now = now_ms();
        int stopping = atomic_load(&w->stop);
        size_t flying = 0;
        for (size_t i = 0; i < w->nsubs; i++)
            flying += w->subs[i]->in_flight ? 1u : 0u;
        if (stopping) {
            if (!stop_deadline)
                stop_deadline = now + (int64_t)w->cfg.timeout * 1000;
            if (!flying || now >= stop_deadline)
                break;
        }
        if (now >= next_prune) {
            prune(w);
            next_prune = now + PRUNE_MS;
        }
        if (!w->cfg.off && !stopping) {
            /* commits wake the thread, at most one look at the table per WAKE_MS: under a
             * write load the deliveries follow in batches, not one look per write */
            if (atomic_exchange(&woken, 0) && next_refresh > last_refresh + WAKE_MS)
                next_refresh = last_refresh + WAKE_MS;
            if (now >= next_refresh) {
                refresh(w);
                last_refresh = now;
                next_refresh = now + POLL_MS;
            }
            for (size_t i = 0; i < w->nsubs; i++) {
                struct sub *s = w->subs[i];
                if (!s->in_flight && s->cursor < w->last_seq && now >= s->next_at &&
                    now >= s->foreign_until)
                    start(w, s, now);
            }
        }
        for (size_t i = 0; i < w->nsubs; i++) {
            struct sub *s = w->subs[i];
            if (s->in_flight && s->lease_until - now < w->lease_ms / 2)
                renew_lease(w, s, now);
        }
        int running = 0;
        curl_multi_perform(w->multi, &running);
        drain(w);
        int wait = POLL_MS;
        for (size_t i = 0; i < w->nsubs; i++) {
            const struct sub *s = w->subs[i];
            if (!s->in_flight && s->cursor < w->last_seq && s->next_at > now &&
                s->next_at - now < wait)
                wait = (int)(s->next_at - now);
        }
        if (next_refresh - now < wait)
            wait = (int)(next_refresh - now);
        if (w->cfg.off)
            wait = 1000;
        curl_multi_poll(w->multi, NULL, 0, wait > 0 ? wait : 0, NULL);
        curl_multi_perform(w->multi, &running);
        drain(w);
    }
    /* what is still in flight is given up: its event is sent again by whoever comes next */
    for (size_t i = 0; i < w->nsubs; i++)
        sub_free(w, w->subs[i]);
    w->nsubs = 0;
    int64_t changed = 0;
    if (!w->cfg.off)
        write_one(w,
                  "UPDATE itflowd_webhooks SET webhook_lease_owner = NULL, webhook_lease_until = 0 "
                  "WHERE webhook_lease_owner = ?",
                  bind_owner, w, &changed);
    db_close(w->db);
    w->db = NULL;
    return NULL;
}

struct webhook_runner *webhook_start(const char *db_target, const struct webhook_config *cfg)
{
    struct webhook_runner *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->target = db_target;
    w->cfg = *cfg;
    w->lease_ms = ((int64_t)cfg->timeout + cfg->connect_timeout + 20) * 1000;
    char host[64] = "host";
    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = 0;
    unsigned char rnd[6];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        free(w);
        return NULL;
    }
    snprintf(w->owner, sizeof(w->owner), "%.63s:%ld:%02x%02x%02x%02x%02x%02x", host, (long)getpid(),
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(w->multi = curl_multi_init())) {
        fprintf(stderr, "itflowd: cannot set up libcurl for the webhooks\n");
        free(w);
        return NULL;
    }
    pthread_mutex_lock(&shared_mu);
    wake_multi = w->multi;
    int reg = registered;
    registered = 1;
    pthread_mutex_unlock(&shared_mu);
    if (!reg && engine_events_on_commit(on_commit) != 0)
        fprintf(stderr, "itflowd: webhooks: no commit listener left; new events are found by "
                        "polling\n");
    /* the stop signals belong to the main thread's sigwait: blocked on this thread from its
     * start */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&w->thread, NULL, run, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_mutex_lock(&shared_mu);
        wake_multi = NULL;
        pthread_mutex_unlock(&shared_mu);
        curl_multi_cleanup(w->multi);
        curl_global_cleanup();
        free(w);
        fprintf(stderr, "itflowd: cannot start the webhook thread\n");
        return NULL;
    }
    return w;
}

void webhook_stop(struct webhook_runner *w)
{
    if (!w)
        return;
    atomic_store(&w->stop, 1);
    pthread_mutex_lock(&shared_mu);
    curl_multi_wakeup(w->multi);
    pthread_mutex_unlock(&shared_mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_lock(&shared_mu);
    wake_multi = NULL;
    free(metrics);
    metrics = NULL;
    nmetrics = 0;
    pthread_mutex_unlock(&shared_mu);
    curl_multi_cleanup(w->multi);
    curl_global_cleanup();
    free(w->subs);
    free(w);
}

/* server: one req per HTTP request (allocated at the handler's first call, freed when MHD reports
 * the request complete, or when the connection closes without that report). The request's path:
 * route -> method rules -> body -> auth -> engine. */
#include "http/server.h"
#include "http/cors.h"
#include "http/events.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/throttle.h"
#include "core/logsafe.h"
#include "core/membudget.h"
#include "custom/custom.h"
#include "custom/upstream.h"
#include "http/accesslog.h"
#include "db/db.h"
#include "engine/engine.h"
#include "http/conn.h"
#include "http/framing.h"
#include "http/metrics.h"
#include "http/netaddr.h"
#include "modules/registry.h"
#include "http/rawreq.h"
#include "http/openapi.h"
#include "http/streams.h"
#include "http/workers.h"
#include "json/json_write.h"
#include "req/reply.h"
#include "router/router.h"

struct server {
    const struct server_config *cfg;
    struct db_pool *pool;    /* reads (the event threads) */
    struct db_pool *wpool;   /* the write workers' requests, and the group commit's writer */
    struct workers *writers; /* run write requests off the event threads */
    pthread_t maint;
    atomic_int stopping;
    unsigned max_streams;      /* answers streaming at once, all addresses: half the read pool */
    pthread_mutex_t health_mu; /* the check in progress (held by one event thread at a time) */
    struct db *health_db;      /* /healthz's own connection: never one of the read pool's */
    atomic_int health_ok;      /* the last check's result: what a concurrent check answers */
    atomic_llong health_since; /* when the running check began (ms, monotonic); 0: none runs */
};

/* Store upkeep off the request path (SQLite: WAL checkpoints) every 200 ms. */
static void *maintenance(void *arg)
{
    struct server *srv = arg;
    struct db *db = NULL; /* its own: db_maintain() may hold a transaction open between calls */
    while (!atomic_load(&srv->stopping)) {
        if (!db && db_open(srv->cfg->db_target, &db) != DB_OK)
            db = NULL;
        if (db && !db_has_maintenance(db))
            break;
        if (db && db_maintain(db) == DB_UNAVAILABLE) {
            db_close(db);
            db = NULL;
        }
        for (int i = 0; i < 4 && !atomic_load(&srv->stopping); i++)
            usleep(50000);
    }
    db_close(db);
    return NULL;
}

/* Per-connection request state (MHD's req_cls). */
struct http_req {
    struct req r;
    char *raw_uri;
    struct buf body;
    size_t body_mem; /* bytes of body charged to the global budget (membudget) */
    size_t declared; /* the declared Content-Length (0: none, or chunked) */
    int started;
    int too_large;
    int busy;            /* the body would go beyond --max-body-memory: 503 */
    int oversize;        /* 414 or 431: the URL or the headers are over their limit */
    int responded;       /* a response is queued; further body data is discarded */
    const char *refusal; /* the message of an oversize/framing/per-address refusal */
    struct conn *conn;
    /* a write handed to a worker thread: the connection is suspended until it is answered */
    /* or an events request waiting on the hub (http/events.c) for a newer event */
    enum { OFFLOAD_NONE, OFFLOAD_QUEUED, OFFLOAD_DONE, OFFLOAD_EVENTS } offload;
    struct work work;
    struct MHD_Connection *con;
    const char *ctype; /* the answer's Content-Type */
    struct timespec t0;
    size_t stream_pos;
    int stream_done;
    int stream_slot; /* holds a streaming slot of its client address (streams.c) */
    struct route route;
    const char *label;  /* metrics label for non-API routes */
    const char *custom; /* the custom script that answered (its immortal name), or NULL */
    /* the headers forwarded to --custom-upstream, read on the event thread (fwd_names) */
    const char *fwd[6];
    int fwd_read;
    const char *result; /* the v1 answer's "success" (access_v1_result), for the log and metrics */
    size_t bytes;       /* of the body sent */
    int head;           /* a HEAD request: the answer of GET without its body */
    const char *cors_origin;         /* the Origin header when --cors-origin allows it */
    const char *cors_request_method; /* Access-Control-Request-Method */
    int preflight;                   /* a CORS preflight answered (204) */
    struct events_req *ev;           /* GET /api/v1/events (http/events.c), or NULL */
    int sse;                         /* the answer is an event stream */
};

/* What a declared body reserves from --max-body-memory before its bytes arrive: enough for most
 * bodies in one allocation, small enough that connections declaring large bodies and sending
 * nothing cannot hold the budget (the rest is charged as the bytes come). */
#define BODY_FIRST_PART (16u * 1024u)

/* What an ITFlow script reads from a request's headers: forwarded to --custom-upstream. */
static const char *const fwd_names[] = {"Content-Type",  "Accept",
                                        "User-Agent",    "X-API-Key",
                                        "Authorization", "X-API-Key-Decrypt-Password"};
#define NFWD (sizeof(fwd_names) / sizeof(fwd_names[0]))

#define UPSTREAM_MAX_ANSWER (64u << 20) /* bytes of an upstream answer relayed at most */

static atomic_int in_flight;   /* requests between the handler's first call and completed() */
static atomic_int connections; /* open client connections */

static void free_req(struct http_req *h);
static void release_db(struct req *r, int broken);

static void on_connection(void *cls, struct MHD_Connection *con, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    atomic_fetch_add(&connections, code == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = conn_started(con);
    } else {
        /* a request MHD dropped without calling completed() (it failed while parsing) */
        struct http_req *h = conn_closed(*socket_context);
        *socket_context = NULL;
        if (h)
            free_req(h);
    }
}

static double elapsed(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Only keeps the raw target: MHD may still fail on the request after this (out of memory while
 * parsing arguments or cookies) without ever calling the handler or completed(). */
static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)cls;
    struct conn *c = conn_of(con);
    if (c)
        conn_request_line(c, uri);
    return NULL;
}

/* MHD unescapes the target right after it parsed the query into arguments; when that ran out of
 * memory, MHD has lost the request (it neither answers nor calls the handler): answered here. */
static size_t unescape(void *cls, struct MHD_Connection *con, char *val)
{
    (void)cls;
    struct conn *c = conn_of(con);
    if (c && val == conn_uri_seen(c) &&
        (size_t)MHD_get_connection_values(con, MHD_GET_ARGUMENT_KIND, NULL, NULL) <
            conn_query_args(c))
        conn_refuse_raw(c, 414, "URI Too Long", "The request URL has too many query parameters.");
    return MHD_http_unescape(val);
}

static struct http_req *new_req(struct server *srv, struct conn *c)
{
    struct http_req *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->raw_uri = conn_take_uri(c);
    if (!h->raw_uri) {
        free(h);
        return NULL;
    }
    h->conn = c;
    buf_init(&h->body, srv->cfg->max_body);
    buf_init(&h->r.out, 0);
    buf_reserve(&h->r.out, 4096); /* most answers fit: one allocation instead of several */
    buf_init(&h->r.link, 0);
    arena_init(&h->r.arena, 64u << 20);
    h->r.pool = srv->pool;
    clock_gettime(CLOCK_MONOTONIC, &h->t0);
    atomic_fetch_add(&in_flight, 1);
    conn_set_request(c, h);
    return h;
}

static void release_db(struct req *r, int broken)
{
    if (r->db) {
        db_pool_put(r->pool, r->db, broken);
        r->db = NULL;
    }
}

static void completed(void *cls, struct MHD_Connection *con, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct server *srv = cls;
    struct http_req *h = *req_cls;
    if (!h)
        return;
    struct req *r = &h->r;
    if (h->stream_slot) /* the send deadline was for the stream; a kept-alive connection idles */
        MHD_set_connection_option(con, MHD_CONNECTION_OPTION_TIMEOUT, srv->cfg->timeout_sec);
    if (r->status) {
        const char *result = h->result ? h->result : "-";
        double seconds = elapsed(&h->t0);
        if (h->route.kind == ROUTE_API && h->route.ep)
            metrics_observe(h->route.mod->name, h->route.ep->function, NULL, r->status, result,
                            seconds);
        else if (h->custom)
            metrics_observe("custom", h->custom, NULL, r->status, result, seconds);
        else
            metrics_observe(NULL, NULL, h->label ? h->label : "unknown", r->status, result,
                            seconds);
        if (r->status >= 500)
            metrics_store_error();
        if (!srv->cfg->quiet) {
            struct access_entry e = {r->ip,
                                     r->method_name,
                                     r->path,
                                     r->status,
                                     result,
                                     r->key.id,
                                     r->key.name_html,
                                     h->bytes,
                                     seconds,
                                     toe != MHD_REQUEST_TERMINATED_COMPLETED_OK};
            access_log_write(stderr, srv->cfg->log_format, &e);
        }
    }
    if (h->conn) {
        conn_set_request(h->conn, NULL);
        conn_phase(h->conn, CONN_IDLE);
    }
    free_req(h);
    *req_cls = NULL;
}

/* Ends a request: from completed(), or when the connection closes without it (on_connection) —
 * every resource a request can hold is given back here, once. */
static void free_req(struct http_req *h)
{
    struct req *r = &h->r;
    if (r->stream_free)
        r->stream_free(r);
    events_req_cancel(h->ev);
    release_db(r, 0);
    if (h->stream_slot)
        stream_slot_give(r->ip);
    req_free(r);
    membudget_buf_free(&h->body, &h->body_mem);
    free(h->raw_uri);
    free(h);
    atomic_fetch_sub(&in_flight, 1);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    struct http_req *h = cls;
    struct req *r = &h->r;
    while (h->stream_pos >= r->out.len) {
        if (h->stream_done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (r->out.cap > 256 * 1024)
            buf_free(&r->out); /* the buffered first part is sent: back to chunk-sized memory */
        int more = r->stream_next(r);
        h->stream_pos = 0;
        if (more < 0) {
            char msg[512];
            fprintf(stderr, "itflowd: a streamed read failed: %s\n",
                    log_escape(msg, sizeof(msg), r->db ? db_errmsg(r->db) : "no connection", 0));
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (more == 0)
            h->stream_done = 1;
    }
    size_t n = r->out.len - h->stream_pos;
    if (n > max)
        n = max;
    memcpy(out, r->out.p + h->stream_pos, n);
    h->stream_pos += n;
    h->bytes += n;
    return (ssize_t)n;
}

static int authenticate(struct req *r, int read_tx);

/* An event stream's body: the frames queued, then (woken by the hub, or at the start) the events
 * read again with the key checked again (a revoked key ends the stream), a comment line when quiet
 * for the heartbeat interval, and otherwise the connection suspended until the hub wakes it (no
 * thread waits). Ends when the server stops. */
static ssize_t sse_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    struct http_req *h = cls;
    struct req *r = &h->r;
    (void)pos;
    for (;;) {
        size_t n = events_stream_take(h->ev, out, max);
        if (n) {
            h->bytes += n;
            return (ssize_t)n;
        }
        if (events_hub_stopping())
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (events_stream_due(h->ev)) {
            int status = r->status;
            int ok = authenticate(r, 1) && auth_authorize_user(r) == AUTH_OK;
            enum events_step step = ok ? events_req_fetch(h->ev, r) : EVENTS_ANSWERED;
            if (step == EVENTS_FAILED) {
                char msg[512];
                fprintf(
                    stderr, "itflowd: an event stream's read failed: %s\n",
                    log_escape(msg, sizeof(msg), r->db ? db_errmsg(r->db) : "no connection", 0));
            }
            release_db(r, 0);
            r->status = status; /* what the stream began with (the log's status) */
            buf_reset(&r->out);
            if (step == EVENTS_ANSWERED || step == EVENTS_FAILED)
                return MHD_CONTENT_READER_END_OF_STREAM; /* the key is no longer valid */
            continue;
        }
        if (events_stream_heartbeat(h->ev))
            continue;
        MHD_suspend_connection(h->con);
        if (events_req_wait(h->ev) != 0)
            MHD_resume_connection(h->con); /* stopping: the next call ends the stream */
        return 0;
    }
}

static enum MHD_Result send_reply(struct MHD_Connection *con, struct http_req *h,
                                  const char *content_type)
{
    struct req *r = &h->r;
    struct MHD_Response *resp;
    h->result = access_v1_result(r->out.p, r->out.len);
    if (h->sse && r->status == 200) {
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_reader, h, NULL);
        content_type = "text/event-stream; charset=utf-8";
        if (resp)
            MHD_add_response_header(resp, "Cache-Control", "no-cache");
    } else if (r->stream_next) {
        resp =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_reader, h, NULL);
    } else {
        size_t len;
        char *p = buf_steal(&r->out, &len);
        h->bytes = h->head ? 0 : len;
        resp = MHD_create_response_from_buffer(len, p, MHD_RESPMEM_MUST_FREE);
        release_db(r, 0);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", content_type);
    if (r->allow[0])
        MHD_add_response_header(resp, "Allow", r->allow);
    if (r->total[0])
        MHD_add_response_header(resp, "X-Total-Count", r->total);
    if (r->retry_after[0])
        MHD_add_response_header(resp, "Retry-After", r->retry_after);
    if (h->oversize)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (r->link.len)
        MHD_add_response_header(resp, "Link", r->link.p);
    if (r->idem_replayed)
        MHD_add_response_header(resp, "Idempotent-Replayed", "true");
    if (h->cors_origin && (h->preflight || r->method != METHOD_OTHER) &&
        (h->route.kind == ROUTE_API || h->route.kind == ROUTE_OPENAPI ||
         h->route.kind == ROUTE_EVENTS))
        cors_add_headers(resp, h->cors_origin, h->preflight);
    enum MHD_Result ret = MHD_queue_response(con, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A header's value (NULL when absent). A value libmicrohttpd cut at a NUL byte is found by
 * rawreq_cut() in the raw header block, not here: the library's length is that of the cut value. */
static const char *header_value(struct MHD_Connection *con, const char *name)
{
    const char *v = NULL;
    size_t n = 0;
    if (MHD_lookup_connection_value_n(con, MHD_HEADER_KIND, name, strlen(name), &v, &n) != MHD_YES)
        return NULL;
    return v;
}

/* The request target may only use the characters of our routes: an escaped '/', NUL or '.'
 * (%2F, %00, %2E) never names an endpoint. */
static int plain_target(const char *raw_uri)
{
    for (const char *p = raw_uri; *p && *p != '?'; p++)
        if (*p == '%')
            return 0;
    return 1;
}

static const struct cidr_list *trusted_proxies; /* --trusted-proxy (set by server_run) */
static const struct text_list *cors_origins;    /* --cors-origin (set by server_run) */

struct header_join {
    const char *name;
    struct buf *out;
    int found;
};

/* Every value of a header, joined with ',' (an address list may come in several lines). */
static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct header_join *j = cls;
    (void)kind;
    if (value && strcasecmp(key, j->name) == 0) {
        if (j->found++)
            buf_putc(j->out, ',');
        buf_puts(j->out, value);
    }
    return MHD_YES;
}

/* A header's values joined into b (join_header); NULL when absent or too long. */
static const char *header_list(struct MHD_Connection *con, const char *name, struct buf *b)
{
    struct header_join j = {name, b, 0};
    MHD_get_connection_values(con, MHD_HEADER_KIND, join_header, &j);
    return j.found && !b->failed ? (b->p ? b->p : "") : NULL;
}

/* r->ip: the peer, or behind a --trusted-proxy the client it forwards for (netaddr.c). */
static void client_address(struct MHD_Connection *con, struct req *r)
{
    if (!trusted_proxies || !trusted_proxies->n || !cidr_list_match_text(trusted_proxies, r->ip))
        return;
    struct buf xff, fwd;
    buf_init(&xff, 64 * 1024);
    buf_init(&fwd, 64 * 1024);
    const char *x = header_list(con, "X-Forwarded-For", &xff);
    const char *f = x ? NULL : header_list(con, "Forwarded", &fwd);
    char peer[sizeof(r->ip)];
    memcpy(peer, r->ip, sizeof(peer));
    netaddr_client(trusted_proxies, peer, x, f, r->ip, sizeof(r->ip));
    buf_free(&xff);
    buf_free(&fwd);
}

static void read_headers(struct MHD_Connection *con, struct http_req *h)
{
    struct req *r = &h->r;
    snprintf(r->ip, sizeof(r->ip), "%s", h->conn ? conn_peer(h->conn) : "-");
    client_address(con, r);
    size_t len = 0;
    const char *ua = NULL;
    if (MHD_lookup_connection_value_n(con, MHD_HEADER_KIND, "User-Agent", 10, &ua, &len) ==
        MHD_YES) {
        r->user_agent = ua;
        r->user_agent_len = len;
    }
    r->hdr_api_key = header_value(con, "X-API-Key");
    const char *authz = header_value(con, "Authorization");
    if (!r->hdr_api_key && authz && strncasecmp(authz, "Bearer ", 7) == 0)
        r->hdr_api_key = authz + 7;
    r->hdr_decrypt = header_value(con, "X-API-Key-Decrypt-Password");
    r->hdr_idem_key = header_value(con, "Idempotency-Key");
    h->cors_origin = cors_allowed(cors_origins, header_value(con, "Origin"));
    h->cors_request_method = header_value(con, "Access-Control-Request-Method");
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void handle_special(struct server *srv, struct http_req *h, const char **ctype)
{
    struct req *r = &h->r;
    r->status = 200;
    if (h->route.kind == ROUTE_HEALTHZ) {
        /* its own connection, so that busy or slow requests never make it fail */
        h->label = "healthz";
        struct db_stmt *st = NULL;
        int ok;
        if (pthread_mutex_trylock(&srv->health_mu) != 0) {
            /* another check is running (with the store unreachable it can wait for a connect
             * timeout): never queue an event thread behind it; answer the last result while the
             * running check is young, 503 once it has taken over a second (the store hangs) */
            long long since = atomic_load(&srv->health_since);
            ok = atomic_load(&srv->health_ok) && since && now_ms() - since < 1000;
        } else {
            atomic_store(&srv->health_since, now_ms());
            if (!srv->health_db && db_open(srv->cfg->db_target, &srv->health_db) != DB_OK)
                srv->health_db = NULL;
            ok = srv->health_db && db_stmt_static(srv->health_db, "SELECT 1", &st) == DB_OK &&
                 db_step(st) == DB_ROW;
            if (st)
                db_reset(st);
            if (!ok && srv->health_db) {
                db_close(srv->health_db); /* opened again by the next check */
                srv->health_db = NULL;
            }
            atomic_store(&srv->health_ok, ok);
            atomic_store(&srv->health_since, 0);
            pthread_mutex_unlock(&srv->health_mu);
        }
        r->status = ok ? 200 : 503;
        /* what the database is, as found at start-up (db_identity) */
        const struct db_identity *id = db_identity();
        buf_puts(&r->out, ok ? "{\"status\":\"ok\",\"itflow\":\""
                             : "{\"status\":\"store unavailable\",\"itflow\":\"");
        buf_puts(&r->out, schema_set_of(id->dialect)->itflow);
        buf_puts(&r->out, "\",\"database_version\":");
        json_write_string(&r->out, id->version, strlen(id->version));
        buf_puts(&r->out, id->known ? ",\"version_known\":true}" : ",\"version_known\":false}");
    } else if (h->route.kind == ROUTE_METRICS) {
        h->label = "metrics";
        if (!cidr_list_match_text(srv->cfg->metrics_from, r->ip)) { /* --metrics-from */
            reply_message(r, 403, "Metrics are not served to this address.");
            return;
        }
        *ctype = "text/plain; version=0.0.4";
        metrics_render(&r->out);
        events_metrics(&r->out);
        buf_printf(&r->out,
                   "# HELP itflowd_connections_open Client connections open now (this one too).\n"
                   "# TYPE itflowd_connections_open gauge\nitflowd_connections_open %d\n"
                   "# HELP itflowd_requests_in_flight Requests read and not yet answered whole "
                   "(this one too).\n"
                   "# TYPE itflowd_requests_in_flight gauge\nitflowd_requests_in_flight %d\n",
                   atomic_load(&connections), atomic_load(&in_flight));
    } else {
        h->label = "openapi";
        openapi_write(&r->out);
    }
}

static void note_failure(struct req *r)
{
    if (throttle_failure(r->ip))
        fprintf(stderr, "itflowd: %s blocked after repeated failed authentications\n", r->ip);
}

/* The reason of a 5xx answer (r->error, else the store's message), on stderr. */
/* A request's server fault (5xx) with its reason: a plain line, or a JSON 'error' line. */
static void log_failure(const struct server *srv, struct req *r)
{
    if (r->status < 500 || (!r->error[0] && !r->db))
        return;
    if (srv->cfg->log_format == LOG_FORMAT_JSON) {
        struct access_entry e = {r->ip,     r->method_name,   r->path, r->status, "-",
                                 r->key.id, r->key.name_html, 0,       0,         0};
        access_log_event(stderr, LOG_FORMAT_JSON, "error", &e,
                         r->error[0] ? r->error : db_errmsg(r->db));
        return;
    }
    char method[64], path[1024], msg[512];
    fprintf(stderr, "itflowd: %s %s failed: %s\n",
            log_escape(method, sizeof(method), r->method_name, LOG_ESC_SPACE),
            log_escape(path, sizeof(path), r->path, LOG_ESC_SPACE),
            log_escape(msg, sizeof(msg), r->error[0] ? r->error : db_errmsg(r->db), 0));
}

/* The forwarded headers' values (valid until the request completes). */
static void read_forwarded(struct http_req *h)
{
    for (size_t i = 0; i < NFWD; i++)
        h->fwd[i] = MHD_lookup_connection_value(h->con, MHD_HEADER_KIND, fwd_names[i]);
    h->fwd_read = 1;
}

/* A path under /api/v1/custom/ that no script serves: to --custom-upstream, else 404. */
static void handle_upstream(struct server *srv, struct http_req *h, const char **ctype)
{
    struct req *r = &h->r;
    const struct server_config *cfg = srv->cfg;
    if (!cfg->custom_upstream) {
        reply_message(r, 404, "Unknown endpoint.");
        return;
    }
    h->label = "custom-upstream";
    unsigned wait = throttle_blocked(r->ip);
    if (wait) { /* an address blocked for failed authentications does not try keys upstream */
        snprintf(r->retry_after, sizeof(r->retry_after), "%u", wait);
        reply_message(r, 429,
                      "Too many failed authentication attempts from this address. "
                      "Try again later.");
        return;
    }
    if (h->too_large) {
        reply_message(r, 413, "The request body is too large.");
        return;
    }
    if (h->busy) {
        snprintf(r->retry_after, sizeof(r->retry_after), "1");
        reply_message(r, 503, "The server is receiving too many request bodies. Try again later.");
        return;
    }
    if (!h->fwd_read)
        read_forwarded(h);
    struct upstream_header hdrs[NFWD];
    for (size_t i = 0; i < NFWD; i++) {
        hdrs[i].name = fwd_names[i];
        hdrs[i].value = h->fwd[i];
    }
    struct custom_upstream up = {cfg->custom_upstream, cfg->custom_connect_timeout,
                                 cfg->custom_upstream_timeout, UPSTREAM_MAX_ANSWER};
    custom_forward(&up, r, h->raw_uri, h->body.p, h->body.len, hdrs, NFWD, ctype);
    membudget_buf_free(&h->body, &h->body_mem);
    log_failure(srv, r);
}

/* The request's key, on a store connection of its own: the address's throttle (A6), a connection
 * from the pool (a read's snapshot opened on it when read_tx), the key lookup. 1 when the key is
 * valid (r->key); 0 when r holds the answer. */
static int authenticate(struct req *r, int read_tx)
{
    unsigned wait = throttle_blocked(r->ip);
    if (wait) { /* A6: too many failed authentications from this address */
        snprintf(r->retry_after, sizeof(r->retry_after), "%u", wait);
        reply_message(r, 429,
                      "Too many failed authentication attempts from this address. "
                      "Try again later.");
        return 0;
    }
    enum db_rc rc = db_pool_get(r->pool, &r->db);
    if (rc != DB_OK) {
        reply_server_error(r, rc == DB_BUSY ? DB_BUSY : DB_UNAVAILABLE);
        return 0;
    }
    /* a read sees one snapshot from the key lookup to its last row */
    if (read_tx && db_begin(r->db, 0) != DB_OK) {
        reply_server_error(r, DB_BUSY);
        return 0;
    }
    switch (auth_request(r, r->db)) {
    case AUTH_OK:
        break;
    case AUTH_NO_KEY:
        r->status = 401;
        buf_reset(&r->out);
        return 0;
    case AUTH_INVALID:
        reply_message(r, 401, "Authentication failed. API key is invalid or has expired.");
        note_failure(r);
        return 0;
    case AUTH_REPLIED:
        return 0;
    default: {
        char msg[512];
        fprintf(stderr, "itflowd: key lookup failed: %s\n",
                log_escape(msg, sizeof(msg), db_errmsg(r->db), 0));
        reply_server_error(r, db_unreachable(r->db) ? DB_UNAVAILABLE : DB_ERROR);
        release_db(r, 1);
        return 0;
    }
    }
    return 1;
}

/* GET /api/v1/events (http/events.c): the key, then a page of events, or a wait for one, or the
 * start of an event stream. Run again (h->ev kept) each time a waiting request is resumed. */
static void handle_events(struct http_req *h)
{
    struct req *r = &h->r;
    h->label = "events";
    if (!h->ev) {
        h->ev = events_req_new(r, h->con, header_value(h->con, "Accept"),
                               header_value(h->con, "Last-Event-ID"));
        if (!h->ev)
            return;
    }
    if (!authenticate(r, 1))
        return;
    /* v26.08: the key's user must be active (its rights over modules and clients scope the
     * events themselves) */
    if (auth_authorize_user(r) != AUTH_OK)
        return;
    switch (events_req_fetch(h->ev, r)) {
    case EVENTS_ANSWERED:
        break;
    case EVENTS_FAILED:
        snprintf(r->error, sizeof(r->error), "events read failed: %s",
                 r->db ? db_errmsg(r->db) : "no connection");
        reply_server_error(r, r->db && db_unreachable(r->db) ? DB_UNAVAILABLE : DB_ERROR);
        break;
    case EVENTS_WAIT:
        if (!events_req_is_stream(h->ev)) {
            h->offload = OFFLOAD_EVENTS; /* access_handler suspends the connection */
            break;
        }
        /* a stream starts with its headers and what it has */
        __attribute__((fallthrough));
    case EVENTS_STREAM:
        r->status = 200;
        buf_reset(&r->out);
        h->sse = 1;
        break;
    }
    release_db(r, 0);
}

static void handle(struct server *srv, struct http_req *h, const char **ctype)
{
    struct req *r = &h->r;
    r->method = route_method(r->method_name);
    if (r->method == METHOD_OTHER && h->cors_origin && plain_target(h->raw_uri) &&
        cors_is_preflight(r->method_name, h->cors_request_method)) {
        route_match(r->path, &h->route);
        if (h->route.kind == ROUTE_API || h->route.kind == ROUTE_OPENAPI ||
            h->route.kind == ROUTE_EVENTS) {
            r->status = 204; /* the browser may now send the request itself */
            buf_reset(&r->out);
            h->preflight = 1;
            return;
        }
    }
    /* HEAD: the answer of GET without its body on /healthz, /metrics and the OpenAPI document
     * (libmicrohttpd sends no body for HEAD); the v1 endpoints keep their method rules */
    if (r->method == METHOD_OTHER && !strcmp(r->method_name, "HEAD") && !r->bad_header &&
        plain_target(h->raw_uri)) {
        route_match(r->path, &h->route);
        if (h->route.kind != ROUTE_API && h->route.kind != ROUTE_UNKNOWN &&
            h->route.kind != ROUTE_EVENTS) {
            r->method = METHOD_GET;
            h->head = 1;
        }
    }
    if (r->method == METHOD_OTHER) { /* F1: before any key check */
        snprintf(r->allow, sizeof(r->allow), "GET, POST");
        reply_message(r, 405, "Method not allowed. Only GET and POST are supported.");
        return;
    }
    if (r->bad_header) {
        char msg[160];
        snprintf(msg, sizeof(msg), "The %s%s contains a NUL byte.", r->bad_header,
                 r->bad_header == RAWREQ_TARGET ? "" : " header");
        reply_message(r, 400, msg);
        return;
    }
    if (plain_target(h->raw_uri))
        route_match(r->path, &h->route);
    if (!plain_target(h->raw_uri) || h->route.kind == ROUTE_UNKNOWN) {
        reply_message(r, 404, "Unknown endpoint.");
        return;
    }
    if (h->route.kind == ROUTE_CUSTOM &&
        !(h->route.custom_name && custom_exists(h->route.custom_name, h->route.custom_len))) {
        handle_upstream(srv, h, ctype);
        return;
    }
    if (h->route.kind == ROUTE_EVENTS) {
        if (r->method != METHOD_GET) {
            snprintf(r->allow, sizeof(r->allow), "GET");
            reply_message(r, 405, "Can only send GET requests to this endpoint.");
            return;
        }
        handle_events(h);
        return;
    }
    if (h->route.kind != ROUTE_API && h->route.kind != ROUTE_CUSTOM) {
        if (r->method != METHOD_GET) {
            snprintf(r->allow, sizeof(r->allow), "GET, HEAD");
            reply_message(r, 405, "Can only send GET requests to this endpoint.");
            return;
        }
        handle_special(srv, h, ctype);
        return;
    }
    r->mod = h->route.mod;
    r->ep = h->route.ep;
    if (h->too_large) {
        reply_message(r, 413, "The request body is too large.");
        return;
    }
    if (!h->busy)
        req_parse_body(r, h->body.p, h->body.len);
    membudget_buf_free(&h->body, &h->body_mem); /* parsed: the bytes are no longer needed */
    if (r->oom) { /* the body or a query parameter could not be read for want of memory */
        char method[64], path[1024];
        fprintf(stderr, "itflowd: %s %s failed: out of memory\n",
                log_escape(method, sizeof(method), r->method_name, LOG_ESC_SPACE),
                log_escape(path, sizeof(path), r->path, LOG_ESC_SPACE));
        reply_server_error(r, DB_ERROR);
        return;
    }
    if (h->busy || r->body_state == BODY_BUSY) {
        snprintf(r->retry_after, sizeof(r->retry_after), "1");
        reply_message(r, 503, "The server is receiving too many request bodies. Try again later.");
        return;
    }
    int reads = r->ep && r->ep->op == OP_READ; /* a custom script's POST may write */
    if (r->body_state == BODY_INVALID && r->method == METHOD_POST && !reads) {
        char msg[320];
        snprintf(msg, sizeof(msg), "The request body is not a valid JSON object: %s",
                 r->body_error);
        reply_message(r, 400, msg);
        return;
    }
    if (!authenticate(r, (reads || !r->ep) && r->method == METHOD_GET))
        return;
    if (!r->ep) {
        /* the networks the key may be used from; its read-only and no-delete flags apply to
         * the script's db.exec (custom.c) */
        int usable = engine_key_usable(r);
        if (usable < 0) {
            reply_server_error(r, db_unreachable(r->db) ? DB_UNAVAILABLE : DB_ERROR);
            release_db(r, 1);
            return;
        }
        if (usable == 0)
            return;
        h->custom = custom_handle(r, h->route.custom_name, h->route.custom_len);
        if (r->error[0]) /* a failing script is logged by custom.c, with its file and line */
            log_failure(srv, r);
        return;
    }
    /* v26.08: the key's user, module level and target client, before the endpoint's own method
     * check (delta 2.4) */
    switch (auth_authorize(r, r->db, r->mod->rbac_module, r->ep->function, r->ep->op != OP_READ)) {
    case AUTH_OK:
        break;
    case AUTH_REPLIED:
        return;
    default:
        reply_server_error(r, db_unreachable(r->db) ? DB_UNAVAILABLE : DB_ERROR);
        release_db(r, 1);
        return;
    }
    const char *wrong = route_wrong_method(r->ep, r->method);
    if (wrong) {
        reply_message(r, 405, wrong);
        return;
    }
    engine_handle(r);
    if (r->status == 403 && (r->ep->flags & EP_DECRYPT))
        note_failure(r); /* a wrong decrypt password costs a key derivation: throttled too */
    if (r->why[0] || (r->status == 200 && r->ep->op != OP_READ &&
                      !strcmp(access_v1_result(r->out.p, r->out.len), "False"))) {
        /* the generic "not done" text of the reference: the real reason, at warning level */
        struct access_entry e = {r->ip,     r->method_name,   r->path, r->status, "False",
                                 r->key.id, r->key.name_html, 0,       0,         0};
        access_log_warning(stderr, srv->cfg->log_format, &e,
                           r->why[0] ? r->why : "not done (no reason recorded)");
    }
    log_failure(srv, r);
}

/* An error replaces a list's answer: its paging headers go with it. */
static void drop_list_headers(struct req *r)
{
    r->total[0] = 0;
    buf_reset(&r->link);
}

/* A read whose answer streams: built in memory up to --buffer-answer, and then the store
 * connection goes back to the pool before a byte is sent; only a longer answer streams from the
 * live statement, within the client address's streaming slots and with the send deadline. */
static void bound_stream(struct server *srv, struct MHD_Connection *con, struct http_req *h)
{
    struct req *r = &h->r;
    int more = answer_buffer(r, srv->cfg->buffer_answer);
    if (more < 0) {
        char msg[512];
        fprintf(stderr, "itflowd: a read failed: %s\n",
                log_escape(msg, sizeof(msg), r->db ? db_errmsg(r->db) : "no connection", 0));
        release_db(r, 0);
        drop_list_headers(r);
        reply_server_error(r, DB_ERROR);
        return;
    }
    if (more == 0) {
        release_db(r, 0);
        return;
    }
    if (!stream_slot_take(r->ip, srv->cfg->max_streams_per_ip, srv->max_streams)) {
        stream_end(r);
        release_db(r, 0);
        drop_list_headers(r);
        snprintf(r->retry_after, sizeof(r->retry_after), "1");
        reply_message(r, 503,
                      "Too many large answers are being sent to this address. Try again later.");
        return;
    }
    h->stream_slot = 1;
    MHD_set_connection_option(con, MHD_CONNECTION_OPTION_TIMEOUT, srv->cfg->send_timeout_sec);
}

/* Queues the answer handle() left in h->r. */
static enum MHD_Result answer(struct server *srv, struct MHD_Connection *con, struct http_req *h)
{
    struct req *r = &h->r;
    if (r->out.failed) {
        r->stream_next = NULL;
        reply_server_error(r, DB_ERROR);
    }
    if (r->stream_next)
        bound_stream(srv, con, h);
    return send_reply(con, h, h->ctype);
}

/* Queues the answer, or, for an events request that found nothing yet, suspends its connection
 * until the hub wakes it (access_handler then runs handle_events again). */
static enum MHD_Result answer_or_wait(struct server *srv, struct MHD_Connection *con,
                                      struct http_req *h)
{
    if (h->offload != OFFLOAD_EVENTS)
        return answer(srv, con, h);
    MHD_suspend_connection(con);
    if (events_req_wait(h->ev) != 0)
        MHD_resume_connection(con); /* stopping: answered when resumed */
    return MHD_YES;
}

/* A POST to a writing endpoint (a custom script's POST too): it waits for the store's write lock,
 * so a worker runs it; so does a request forwarded to --custom-upstream, which waits for the
 * upstream.
 * (libmicrohttpd 0.9.75 closes a connection whose client has shut down its sending side as soon
 * as it reads that end of stream, which for a resumed connection can come before the answer: such
 * a client may not get the answer of a write. HTTP clients do not half-close; see README.) */
static int is_write(struct server *srv, struct http_req *h)
{
    enum method m = route_method(h->r.method_name);
    if (h->too_large || h->busy || m == METHOD_OTHER || !plain_target(h->raw_uri))
        return 0;
    route_match(h->r.path, &h->route);
    if (h->route.kind == ROUTE_CUSTOM) { /* a script's POST, and every wait for the upstream */
        if (h->route.custom_name && custom_exists(h->route.custom_name, h->route.custom_len))
            return m == METHOD_POST;
        if (!srv->cfg->custom_upstream)
            return 0;
        read_forwarded(h); /* here, on the event thread: the worker does not touch MHD's state */
        return 1;
    }
    return m == METHOD_POST && h->route.kind == ROUTE_API && h->route.ep &&
           h->route.ep->op != OP_READ;
}

/* Worker thread: the whole request (auth, engine), then the connection goes back to MHD. */
static void run_write(struct work *w, void *cls)
{
    struct http_req *h = (struct http_req *)(void *)((char *)w - offsetof(struct http_req, work));
    handle(cls, h, &h->ctype);
    if (!h->r.stream_next)
        release_db(&h->r, 0); /* the answer is complete: the connection is not needed to send it */
    h->offload = OFFLOAD_DONE;
    MHD_resume_connection(h->con);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *con, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    struct server *srv = cls;
    struct http_req *h = *req_cls;
    if (!h) { /* the first call: the headers are complete */
        struct conn *c = conn_of(con);
        if (!c || !(h = new_req(srv, c)))
            return MHD_NO;
        *req_cls = h;
        conn_phase(c, CONN_BODY);
    }
    if (h->offload == OFFLOAD_EVENTS) { /* resumed by the events hub: read again */
        *upload_data_size = 0;
        h->offload = OFFLOAD_NONE;
        h->r.status = 0;
        buf_reset(&h->r.out);
        handle_events(h);
        return answer_or_wait(srv, con, h);
    }
    if (h->offload != OFFLOAD_NONE) {
        *upload_data_size = 0;
        if (h->offload != OFFLOAD_DONE)
            return MHD_YES;
        h->offload = OFFLOAD_NONE;
        return answer(srv, con, h);
    }
    if (!h->started) {
        h->started = 1;
        /* one pass over the headers: their size and the RFC 9112 framing */
        size_t header_bytes = 0;
        const char *framing = framing_scan(con, &header_bytes);
        if (strlen(h->raw_uri) > srv->cfg->max_url)
            h->oversize = 414; /* MHD itself only stops at its memory pool's size */
        else if (header_bytes > srv->cfg->max_header)
            h->oversize = 431;
        else if ((unsigned)atomic_load(&connections) > srv->cfg->max_connections)
            h->oversize = 503; /* over --max-connections: answered, then the connection closes */
        else if (conn_over_ip_limit(h->conn))
            h->oversize = 429; /* over --max-connections-per-ip: the same */
        else if ((h->refusal = framing))
            h->oversize = 400; /* RFC 9112 framing: refused, the connection closes */
        const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");
        unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
        if (declared > srv->cfg->max_body)
            h->too_large = 1; /* answered now: the body is never read */
        else if (!h->oversize && declared &&
                 membudget_buf_reserve(&h->body, &h->body_mem,
                                       declared < BODY_FIRST_PART ? declared : BODY_FIRST_PART))
            h->busy = 1; /* over --max-body-memory: likewise */
        else
            h->declared = (size_t)declared; /* the rest is charged as it arrives */
        if (!h->oversize && !h->too_large && !h->busy)
            return MHD_YES;
        *upload_data_size = 0;
    }
    if (*upload_data_size && !h->responded) {
        conn_body_bytes(h->conn, *upload_data_size);
        if (!h->too_large && !h->busy) {
            int rc = membudget_buf_append_sized(&h->body, &h->body_mem, upload_data,
                                                *upload_data_size, h->declared);
            h->too_large = rc == -2;
            h->busy = rc == -1;
            if (rc)
                membudget_buf_free(&h->body, &h->body_mem); /* discarded: not kept until the end */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (h->responded) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    h->responded = 1;
    conn_phase(h->conn, CONN_BUSY);
    struct req *r = &h->r;
    r->method_name = method;
    r->path = strdup(url ? url : "/");
    const char *ctype = "application/json";
    if (h->oversize) {
        read_headers(con, h);
        reply_message(r, h->oversize,
                      h->refusal           ? h->refusal
                      : h->oversize == 414 ? "The request URL is too long."
                      : h->oversize == 431 ? "The request headers are too large."
                      : h->oversize == 429
                          ? "Too many connections from this address. Try again later."
                          : "Too many connections. Try again later.");
        if (h->oversize == 503 || h->oversize == 429)
            snprintf(r->retry_after, sizeof(r->retry_after), "1");
        return send_reply(con, h, ctype);
    }
    const char *q = strchr(h->raw_uri, '?');
    if (q)
        req_parse_query(r, q + 1, strlen(q + 1));
    read_headers(con, h);
    /* what libmicrohttpd cut at a NUL byte without saying so */
    r->bad_header = rawreq_cut(con, method, url, version, h->raw_uri);
    h->ctype = ctype;
    h->con = con;
    if (!r->path) {
        reply_message(r, 500, "Internal server error.");
    } else if (is_write(srv, h)) {
        /* answered by a worker; MHD calls us again once it resumes the connection */
        h->con = con;
        h->offload = OFFLOAD_QUEUED;
        r->pool = srv->wpool;
        MHD_suspend_connection(con);
        /* while shutting down, a request on a kept-alive connection can still arrive after the
         * workers have stopped: it runs here (a connection left suspended would abort MHD) */
        if (!workers_submit(srv->writers, &h->work))
            run_write(&h->work, srv);
        return MHD_YES;
    } else {
        handle(srv, h, &h->ctype);
    }
    return answer_or_wait(srv, con, h);
}

/* MHD's per-connection memory: room for a request line and headers at our limits plus the
 * response headers; only requests beyond that meet MHD's own (non-JSON) rejection. */
static size_t pool_size(const struct server_config *cfg)
{
    /* the read buffer holds the request line and the headers, MHD keeps a parsed entry per
     * header (about as large again for many short headers) and the response headers here; it
     * zeroes the whole pool for every request, so it is no larger than that */
    size_t n = cfg->max_url + 2 * cfg->max_header + 8 * 1024;
    return n < 16 * 1024 ? 16 * 1024 : n;
}

/* Points stderr (access and error log) at the log file, (re)opened for appending. */
static int reopen_log(const struct server_config *cfg)
{
    if (!cfg->log_path)
        return 0;
    int fd = open(cfg->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        fprintf(stderr, "itflowd: cannot open the log file %s\n", cfg->log_path);
        return -1;
    }
    dup2(fd, STDERR_FILENO);
    close(fd);
    return 0;
}

static void notify(const struct server_config *cfg, const char *state)
{
    if (cfg->notify)
        cfg->notify(state);
}

static void free_pools(struct server *srv)
{
    db_close(srv->health_db);
    srv->health_db = NULL;
    db_pool_free(srv->pool);
    db_pool_free(srv->wpool);
}

int server_run(const struct server_config *cfg)
{
    struct server srv = {.cfg = cfg};
    unsigned threads = cfg->threads;
    unsigned read_conns = threads * 4 + 8; /* the read pool: connections the event threads share */
    srv.max_streams = read_conns / 2;
    pthread_mutex_init(&srv.health_mu, NULL);
    atomic_store(&srv.health_ok, 1); /* the pools below opened the store */
    trusted_proxies = cfg->trusted_proxies;
    cors_origins = &cfg->cors_origins;
    unsigned writers = cfg->write_workers;
    /* two pools: a connection's page cache fills with what its requests read, so the few
     * connections the event threads use for reads are kept apart from the workers' (which read
     * little: the key, the settings) — otherwise every connection a write burst left at the top
     * of the free list would grow a full cache under the next reads */
    enum db_rc rc = db_pool_new(cfg->db_target, read_conns, &srv.pool);
    if (rc == DB_OK)
        rc = db_pool_new(cfg->db_target, writers + 2, &srv.wpool);
    if (rc != DB_OK) {
        char shown[512];
        db_target_display(cfg->db_target, shown, sizeof(shown));
        fprintf(stderr, "itflowd: cannot open the database %s\n", shown);
        return 1;
    }
    if (openapi_build() != 0) {
        fprintf(stderr, "itflowd: cannot build the OpenAPI document\n");
        free_pools(&srv);
        return 1;
    }
    struct custom_limits lim_custom = {cfg->custom_instructions, cfg->custom_memory};
    /* a Lua state ready for every thread that may run a script at once, up to 64 */
    unsigned states = threads + writers < 64 ? threads + writers : 64;
    custom_set_modules(module_registry, module_count);
    if (cfg->custom_dir) {
        int n = custom_load(cfg->custom_dir, &lim_custom, states);
        if (n < 0) {
            free_pools(&srv);
            openapi_free();
            return 1;
        }
        access_log_note(stderr, cfg->log_format, "info", "%d custom script%s from %s", n,
                        n == 1 ? "" : "s", cfg->custom_dir);
    }
    if (cfg->custom_upstream && custom_upstream_init() != 0) {
        fprintf(stderr, "itflowd: cannot set up the custom upstream\n");
        custom_unload();
        free_pools(&srv);
        openapi_free();
        return 1;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    if (inet_pton(AF_INET, cfg->listen_host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(cfg->port);
    } else if (inet_pton(AF_INET6, cfg->listen_host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(cfg->port);
        flags |= MHD_USE_IPv6;
    } else {
        fprintf(stderr, "itflowd: --listen needs an IP address, not %s\n", cfg->listen_host);
        free_pools(&srv);
        return 2;
    }
    /* block the stop signals in every thread; the main thread waits for them with sigwait */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    if (reopen_log(cfg) != 0) {
        free_pools(&srv);
        return 1;
    }
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct conn_limits lim = {cfg->max_conn_per_ip, cfg->trusted_proxies, cfg->header_timeout,
                              cfg->body_min_rate, cfg->quiet};
    /* past our own limit (429 JSON) MHD refuses outright, at twice the limit; not at all behind
     * a trusted proxy, whose address every client shares (conn.c exempts it from ours) */
    int behind_proxy = cfg->trusted_proxies && cfg->trusted_proxies->n;
    unsigned mhd_per_ip = behind_proxy ? 0 : 2 * lim.per_ip;
    srv.writers = conn_guard_start(&lim) == 0 ? workers_start(writers, run_write, &srv) : NULL;
    if (!srv.writers) {
        conn_guard_stop();
        fprintf(stderr, "itflowd: cannot start the write workers\n");
        free_pools(&srv);
        return 1;
    }
    /* SO_REUSEPORT only when asked (--reuse-port): otherwise a second server on the port is
     * refused (the option's absence keeps MHD's SO_REUSEADDR, for restarts over TIME_WAIT) */
    struct MHD_OptionItem reuse[] = {{MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL},
                                     {MHD_OPTION_END, 0, NULL}};
    struct MHD_OptionItem no_reuse[] = {{MHD_OPTION_END, 0, NULL}};
    /* before the first request: one that came earlier would answer at once instead of waiting */
    if (events_hub_start(cfg->db_target) != 0)
        access_log_note(stderr, cfg->log_format, "warning",
                        "event requests cannot wait (the events hub did not start); they answer "
                        "at once");
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, access_handler, &srv, MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_URI_LOG_CALLBACK, uri_logger, &srv,
        MHD_OPTION_NOTIFY_COMPLETED, completed, &srv, MHD_OPTION_CONNECTION_TIMEOUT,
        cfg->timeout_sec, MHD_OPTION_CONNECTION_LIMIT,
        /* beyond max_connections we still answer (503 JSON); MHD refuses only past this margin */
        cfg->max_connections + 64u, MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool_size(cfg), MHD_OPTION_ARRAY,
        cfg->reuse_port ? reuse : no_reuse, MHD_OPTION_STRICT_FOR_CLIENT, 1,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        mhd_per_ip, MHD_OPTION_END);
    if (!d) {
        int err = errno;
        events_hub_stop();
        if (err == EADDRINUSE)
            fprintf(stderr,
                    "itflowd: cannot listen on %s:%u: the address is in use (another server? "
                    "--reuse-port shares a port on purpose)\n",
                    cfg->listen_host, cfg->port);
        else
            fprintf(stderr, "itflowd: cannot listen on %s:%u\n", cfg->listen_host, cfg->port);
        conn_guard_stop();
        workers_free(srv.writers);
        free_pools(&srv);
        return 1;
    }
    int maint_ok = pthread_create(&srv.maint, NULL, maintenance, &srv) == 0;
    struct engine_bg *bg = engine_bg_start(cfg->db_target);
    const struct db_identity *id = db_identity();
    const char *version = id->version; /* escaped by access_log_note */
    const struct schema_set *set = schema_set_of(id->dialect);
    if (!id->known && version[0])
        access_log_note(stderr, cfg->log_format, "warning",
                        "database version '%s' is not ITFlow %s's (%s); serving it as ITFlow %s",
                        version, set->itflow, set->db_version, set->itflow);
    else if (!id->known)
        access_log_note(stderr, cfg->log_format, "warning",
                        "the database names no version (settings has no row); serving it as "
                        "ITFlow %s",
                        set->itflow);
    access_log_note(stderr, cfg->log_format, "info",
                    "listening on http://%s:%u (%u threads, %u write workers; ITFlow %s, database "
                    "version %s)",
                    cfg->listen_host, cfg->port, threads, writers,
                    schema_set_of(id->dialect)->itflow, version[0] ? version : "none");
    notify(cfg, "READY=1\nSTATUS=serving");
    int sig = 0;
    while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) {
        notify(cfg, "RELOADING=1");
        if (reopen_log(cfg) == 0)
            access_log_note(stderr, cfg->log_format, "info", "log reopened");
        if (cfg->custom_dir) {
            int n = custom_load(cfg->custom_dir, &lim_custom, states);
            if (n >= 0)
                access_log_note(stderr, cfg->log_format, "info",
                                "custom scripts reloaded: %d served", n);
        }
        notify(cfg, "READY=1\nSTATUS=serving");
    }
    notify(cfg, "STOPPING=1");
    /* graceful stop: no new connections, in-flight requests get shutdown_sec to finish */
    /* New connections are refused from here on. Not with MHD_quiesce_daemon: in libmicrohttpd
     * 0.9.75 (thread pool + epoll) it takes the listening socket out of each event thread's
     * epoll set while that thread may be doing the same, and aborts the process when the thread
     * got there first ("Failed to remove listen FD from epoll set", seen in tests). Instead the
     * listening socket is replaced, under its descriptor number, by a socket that does not
     * listen: the listening socket is closed (connections are refused at once), the kernel takes
     * it out of every epoll set, and MHD closes the replacement when it stops. */
    const union MHD_DaemonInfo *li = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
    int idle = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (li && li->listen_fd != MHD_INVALID_SOCKET && idle >= 0)
        dup2(idle, li->listen_fd);
    if (idle >= 0)
        close(idle);
    access_log_note(stderr, cfg->log_format, "info", "shutting down (%d requests in flight)",
                    atomic_load(&in_flight));
    events_hub_stop();                  /* waiting event requests answer now, event streams end */
    unsigned grace = cfg->shutdown_sec; /* 0: do not wait */
    for (unsigned i = 0; i < grace * 20 && atomic_load(&in_flight) > 0; i++)
        usleep(50000);
    /* the workers finish (and resume) every write they hold: MHD cannot stop with a connection
     * still suspended */
    workers_stop(srv.writers);
    MHD_stop_daemon(d);
    conn_guard_stop();
    workers_free(srv.writers);
    atomic_store(&srv.stopping, 1);
    if (maint_ok)
        pthread_join(srv.maint, NULL);
    engine_bg_stop(bg);
    free_pools(&srv);
    openapi_free();
    custom_unload();
    if (cfg->custom_upstream)
        custom_upstream_cleanup();
    return 0;
}

/* conn: per-connection state and the connection deadlines (see conn.h). */
#include "http/conn.h"
#include "http/netaddr.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    struct conn *prev, *next;
    int fd;
    int family;
    unsigned char addr[16];
    char ip[INET6_ADDRSTRLEN];
    int over_ip;
    int cut;    /* closed by the sweep */
    int first;  /* no request line seen yet: the header deadline counts from the connection */
    int no_uri; /* the copy of the target failed (out of memory) */
    enum conn_phase phase;
    double since; /* when the phase began (monotonic seconds) */
    size_t body;  /* body bytes received in CONN_BODY */
    char *uri;
    const char *uri_seen;
    void *req;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct conn *head;
static struct conn_limits limits = {64, NULL, 10, 0, 0};
static pthread_t sweeper;
static int running, stop_sweep;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Closes the connection under the lock (its fd stays ours until MHD reports it closed, which
 * takes this lock): libmicrohttpd sees the hang-up and ends the connection itself. */
static void cut(struct conn *c, const char *why)
{
    if (c->cut)
        return;
    c->cut = 1;
    shutdown(c->fd, SHUT_RDWR);
    if (!limits.quiet)
        fprintf(stderr, "itflowd: closed a connection from %s: %s\n", c->ip, why);
}

static void *sweep(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stop_sweep) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wake, &mu, &until);
        double t = now();
        double hdr = (double)limits.header_timeout;
        for (struct conn *c = head; c; c = c->next) {
            double age = t - c->since;
            if (c->phase == CONN_HEADERS && c->over_ip && age > (hdr < 1.0 ? hdr : 1.0))
                cut(c, "too many connections from this address");
            else if (c->phase == CONN_HEADERS && age > hdr)
                cut(c, "the request headers did not arrive in time");
            else if (c->phase == CONN_BODY && limits.body_min_rate && age > hdr &&
                     (double)c->body < (double)limits.body_min_rate * (age - hdr))
                cut(c, "the request body arrives too slowly");
        }
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int conn_guard_start(const struct conn_limits *lim)
{
    limits = *lim;
    stop_sweep = 0;
    running = pthread_create(&sweeper, NULL, sweep, NULL) == 0;
    return running ? 0 : -1;
}

void conn_guard_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&mu);
    stop_sweep = 1;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&mu);
    pthread_join(sweeper, NULL);
    running = 0;
}

struct conn *conn_started(struct MHD_Connection *con)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = ci ? ci->connect_fd : -1;
    snprintf(c->ip, sizeof(c->ip), "-");
    ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        c->family = sa->sa_family;
        if (sa->sa_family == AF_INET)
            memcpy(c->addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        else if (sa->sa_family == AF_INET6)
            memcpy(c->addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        if (c->family == AF_INET || c->family == AF_INET6)
            inet_ntop(c->family, c->addr, c->ip, sizeof(c->ip));
    }
    c->first = 1;
    c->phase = CONN_HEADERS;
    c->since = now();
    int exempt = limits.exempt && limits.exempt->n && cidr_list_match_text(limits.exempt, c->ip);
    pthread_mutex_lock(&mu);
    unsigned same = 0;
    if (!exempt)
        for (struct conn *o = head; o; o = o->next)
            if (o->family == c->family && memcmp(o->addr, c->addr, sizeof(c->addr)) == 0)
                same++;
    c->over_ip = !exempt && same >= limits.per_ip;
    c->next = head;
    if (head)
        head->prev = c;
    head = c;
    pthread_mutex_unlock(&mu);
    return c;
}

void *conn_closed(struct conn *c)
{
    if (!c)
        return NULL;
    pthread_mutex_lock(&mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&mu);
    void *req = c->req;
    free(c->uri);
    free(c);
    return req;
}

struct conn *conn_of(struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void conn_request_line(struct conn *c, const char *uri)
{
    free(c->uri);
    c->uri = strdup(uri ? uri : "");
    c->no_uri = !c->uri;
    c->uri_seen = uri;
    pthread_mutex_lock(&mu);
    if (!c->first) { /* a kept-alive connection: the deadline counts from the request line */
        c->phase = CONN_HEADERS;
        c->since = now();
    }
    c->first = 0;
    pthread_mutex_unlock(&mu);
}

char *conn_take_uri(struct conn *c)
{
    char *u = c->uri ? c->uri : c->no_uri ? NULL : strdup("");
    c->uri = NULL;
    return u;
}

const char *conn_uri_seen(const struct conn *c)
{
    return c->uri_seen;
}

size_t conn_query_args(const struct conn *c)
{
    const char *q = c->uri ? strchr(c->uri, '?') : NULL;
    if (!q || !q[1])
        return 0;
    size_t n = 1;
    for (const char *p = q + 1; *p; p++)
        if (*p == '&' && p[1])
            n++;
    return n;
}

void conn_set_request(struct conn *c, void *req)
{
    c->req = req;
}

void conn_phase(struct conn *c, enum conn_phase p)
{
    pthread_mutex_lock(&mu);
    c->phase = p;
    c->since = now();
    c->body = 0;
    pthread_mutex_unlock(&mu);
}

void conn_body_bytes(struct conn *c, size_t n)
{
    pthread_mutex_lock(&mu);
    c->body += n;
    pthread_mutex_unlock(&mu);
}

int conn_over_ip_limit(const struct conn *c)
{
    return c->over_ip;
}

const char *conn_peer(const struct conn *c)
{
    return c->ip;
}

void conn_refuse_raw(struct conn *c, int status, const char *reason, const char *message)
{
    char body[256], top[512];
    int bl = snprintf(body, sizeof(body), "{\"success\":\"False\",\"message\":\"%s\"}", message);
    int hl = snprintf(top, sizeof(top),
                      "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\n\r\n",
                      status, reason, bl);
    pthread_mutex_lock(&mu);
    if (!c->cut && c->fd >= 0 && bl > 0 && hl > 0) {
        (void)!send(c->fd, top, (size_t)hl, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)!send(c->fd, body, (size_t)bl, MSG_NOSIGNAL | MSG_DONTWAIT);
        c->cut = 1;
        shutdown(c->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&mu);
}

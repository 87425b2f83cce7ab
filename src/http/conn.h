/* conn: per-connection state kept beside libmicrohttpd's — the request target as received, the
 * request in flight (freed when the connection closes if the library never reported it
 * complete), the per-address connection count, and the deadlines libmicrohttpd 0.9.75 lacks: a
 * request's headers must be complete within a time, and its body must keep a minimum rate. A
 * sweep thread closes (shutdown(2)) the connections that miss them. */
#ifndef ITFLOWD_HTTP_CONN_H
#define ITFLOWD_HTTP_CONN_H

#include <stddef.h>

struct MHD_Connection;
struct cidr_list;

struct conn_limits {
    unsigned per_ip; /* connections from one address; more are answered 429 and closed */
    /* peers never counted against per_ip (--trusted-proxy: every client behind a reverse proxy
     * arrives from its address; the limits that matter there are per client, not per socket) */
    const struct cidr_list *exempt;
    unsigned header_timeout; /* seconds from the connection (or request line) to the last header */
    unsigned body_min_rate;  /* bytes/s a body must average after header_timeout (0: no check) */
    int quiet;               /* no log line per closed connection */
};

enum conn_phase {
    CONN_HEADERS, /* waiting for the request line and the headers: under the header deadline */
    CONN_BODY,    /* the handler runs and the body arrives: under the minimum rate */
    CONN_BUSY,    /* the request is answered (or waits for a write worker): no deadline */
    CONN_IDLE     /* between requests on a kept-alive connection: the idle timeout applies */
};

struct conn;

/* Starts the sweep thread (0) or fails (-1). */
int conn_guard_start(const struct conn_limits *lim);
void conn_guard_stop(void);

/* MHD_CONNECTION_NOTIFY_STARTED / _CLOSED. conn_closed returns the request still attached (the
 * library closed the connection without reporting it complete), for the caller to free. */
struct conn *conn_started(struct MHD_Connection *con);
void *conn_closed(struct conn *c);

/* The connection's state from inside a libmicrohttpd callback. */
struct conn *conn_of(struct MHD_Connection *con);

/* The URI callback: keeps a copy of the raw target (the library unescapes its own in place). */
void conn_request_line(struct conn *c, const char *uri);
/* The raw target (owned by the caller from now on; "" copied when none). NULL: out of memory. */
char *conn_take_uri(struct conn *c);
/* The target pointer the library passed to the URI callback (to recognise it later). */
const char *conn_uri_seen(const struct conn *c);
/* The number of query arguments libmicrohttpd's parser makes of the target's query. */
size_t conn_query_args(const struct conn *c);

void conn_set_request(struct conn *c, void *req);
void conn_phase(struct conn *c, enum conn_phase p);
void conn_body_bytes(struct conn *c, size_t n);
/* More connections from this address than the limit (never for an exempt peer). */
int conn_over_ip_limit(const struct conn *c);
/* The peer's address as text ("-" when not an IP connection). */
const char *conn_peer(const struct conn *c);

/* Answers status + a JSON error on the socket itself and closes it: for a request the library has
 * failed on without telling us (its own state is then unusable). */
void conn_refuse_raw(struct conn *c, int status, const char *reason, const char *message);

#endif

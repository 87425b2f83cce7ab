/* server: the libmicrohttpd adapter — request in, response out, limits, access log. */
#ifndef ITFLOWD_HTTP_SERVER_H
#define ITFLOWD_HTTP_SERVER_H

#include <stddef.h>

#include "core/textlist.h"

struct cidr_list;

/* Every field is set by the caller: the defaults and ranges are those of the serve option table
 * (src/cli/serve_opts.c), nothing here re-defaults them. */
struct server_config {
    const char *db_target;
    const char *listen_host; /* IPv4 or IPv6 literal */
    unsigned short port;
    unsigned threads;       /* event threads (libmicrohttpd's pool) */
    unsigned write_workers; /* threads that run write requests (they wait for the store) */
    size_t max_body;        /* bytes; larger bodies get 413 */
    size_t max_url;         /* bytes of the request target; longer gets 414 */
    size_t max_header;      /* bytes of all header lines; more gets 431 */
    unsigned timeout_sec;   /* idle connection timeout */
    unsigned max_connections;
    unsigned shutdown_sec; /* SIGTERM: how long in-flight requests may take to finish (0: none) */
    const char *log_path;  /* access and error log (reopened on SIGHUP); NULL = stderr */
    int quiet;             /* no access log */
    unsigned max_conn_per_ip;    /* connections from one address (more: 429 JSON and closed) */
    unsigned header_timeout;     /* seconds a request's headers may take (from the connection or the
                                    request line of a kept-alive connection) */
    unsigned body_min_rate;      /* bytes/s a body must average after header_timeout; 0: none */
    int reuse_port;              /* share the port with other processes (SO_REUSEPORT) */
    size_t buffer_answer;        /* a read's answer up to this size is built before it is sent */
    unsigned max_streams_per_ip; /* longer answers streaming at once to one client address */
    unsigned send_timeout_sec;   /* a streaming answer that makes no progress this long ends */
    const struct cidr_list *metrics_from;    /* who may read /metrics */
    const struct cidr_list *trusted_proxies; /* whose X-Forwarded-For / Forwarded is believed */
    const char *custom_dir;      /* Lua scripts of /api/v1/custom/ (reloaded on SIGHUP), or NULL */
    size_t custom_instructions;  /* Lua instructions one request's script may run */
    size_t custom_memory;        /* bytes one request's script may allocate */
    const char *custom_upstream; /* ITFlow base URL for other /api/v1/custom/ paths, or NULL */
    unsigned custom_connect_timeout;  /* seconds to connect to the upstream */
    unsigned custom_upstream_timeout; /* seconds the upstream's whole answer may take */
    int log_format;                   /* enum server_log_format: the access log's lines */
    /* The service manager's notification (sd_notify: "READY=1", "RELOADING=1", "STOPPING=1"),
     * or NULL. */
    void (*notify)(const char *state);
    struct text_list cors_origins; /* --cors-origin (none: no CORS; http/cors.c) */
};

/* --log-format, in the order of its choices */
enum server_log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Runs until SIGINT/SIGTERM (graceful: stops accepting, lets in-flight requests finish within
 * shutdown_sec); SIGHUP reopens the log file and reloads the custom scripts. Returns the process
 * exit code. */
int server_run(const struct server_config *cfg);

#endif

/* server: the libmicrohttpd adapter — request in, response out, limits, access log. */
#ifndef ITFLOWD_HTTP_SERVER_H
#define ITFLOWD_HTTP_SERVER_H

#include <stddef.h>

struct server_config {
    const char *db_target;
    const char *listen_host; /* IPv4 or IPv6 literal */
    unsigned short port;
    unsigned threads;
    size_t max_body;      /* bytes; larger bodies get 413 */
    unsigned timeout_sec; /* idle connection timeout */
    int quiet;            /* no access log */
};

/* Runs until SIGINT/SIGTERM; returns the process exit code. */
int server_run(const struct server_config *cfg);

#endif

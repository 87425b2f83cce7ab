/* upstream: requests under /api/v1/custom/ that no script serves, forwarded to an existing ITFlow
 * install (serve --custom-upstream) with libcurl, and its answer relayed. */
#ifndef ITFLOWD_CUSTOM_UPSTREAM_H
#define ITFLOWD_CUSTOM_UPSTREAM_H

#include <stddef.h>

#include "req/req.h"

struct custom_upstream {
    const char *url;          /* scheme://host[:port][/base], no trailing '/' needed */
    unsigned connect_timeout; /* seconds to connect */
    unsigned timeout;         /* seconds for the whole exchange */
    size_t max_answer;        /* bytes of the upstream's body relayed at most (more: 502) */
};

struct upstream_header {
    const char *name, *value;
};

/* Once, before any thread forwards (curl_global_init); 0 or -1. */
int custom_upstream_init(void);
void custom_upstream_cleanup(void);

/* Forwards r's method, target (path and query as received: it must start with /api/v1/custom/),
 * body and the given headers (plus X-Forwarded-For: r->ip) to up->url + target. Fills r->status,
 * r->out and *ret_ctype (the upstream's Content-Type, copied into r's arena). The upstream down or
 * too slow: 504 JSON; an answer that is not HTTP or too large: 502 JSON. */
void custom_forward(const struct custom_upstream *up, struct req *r, const char *target,
                    const char *body, size_t body_len, const struct upstream_header *hdrs,
                    size_t nhdrs, const char **ret_ctype);

#endif

/* router: path -> module endpoint (K1, A2, F15) and the method rules (K6, F1). */
#ifndef ITFLOWD_ROUTER_ROUTER_H
#define ITFLOWD_ROUTER_ROUTER_H

#include "engine/module.h"
#include "req/req.h"

enum route_kind {
    ROUTE_API,
    ROUTE_CUSTOM, /* under /api/v1/custom/: a script (custom_name set) or the upstream */
    ROUTE_OPENAPI,
    ROUTE_EVENTS, /* /api/v1/events: the write events (http/events.c) */
    ROUTE_HEALTHZ,
    ROUTE_METRICS,
    ROUTE_UNKNOWN
};

struct route {
    enum route_kind kind;
    const struct module *mod;
    const struct endpoint *ep;
    const char *custom_name; /* ROUTE_CUSTOM: /api/v1/custom/<name>[.php] names a script, or NULL */
    size_t custom_len;
};

/* /api/v1/<module>/<function>.php, also without ".php"; /api/v1/openapi.json; /api/v1/events;
 * /healthz; /metrics; any path under /api/v1/custom/ without "." or ".." segments (ROUTE_CUSTOM).
 * Anything else is ROUTE_UNKNOWN. */
void route_match(const char *path, struct route *ret);
/* The method as the API knows it: exactly "GET" or "POST" (case-sensitive), else METHOD_OTHER. */
enum method route_method(const char *name);
/* The 405 message when the endpoint does not take this method, or NULL. */
const char *route_wrong_method(const struct endpoint *ep, enum method m);

#endif

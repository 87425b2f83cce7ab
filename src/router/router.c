/* router: a table-free matcher — the module registry is the route table. */
#include "router/router.h"

#include <string.h>

#include "custom/custom.h"
#include "modules/registry.h"

/* Under /api/v1/custom/: every segment non-empty and neither "." nor ".." (a forwarded path is
 * never folded into another one); a single segment that may name a script sets custom_name. */
static void match_custom(const char *rest, struct route *ret)
{
    const char *seg = rest;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return;
        if (!end)
            break;
        seg = end + 1;
    }
    ret->kind = ROUTE_CUSTOM;
    size_t n = strlen(rest);
    if (n > 4 && strcmp(rest + n - 4, ".php") == 0)
        n -= 4;
    if (!memchr(rest, '/', n) && custom_name_ok(rest, n)) {
        ret->custom_name = rest;
        ret->custom_len = n;
    }
}

void route_match(const char *path, struct route *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->kind = ROUTE_UNKNOWN;
    if (strcmp(path, "/healthz") == 0) {
        ret->kind = ROUTE_HEALTHZ;
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        ret->kind = ROUTE_METRICS;
        return;
    }
    static const char prefix[] = "/api/v1/";
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
        return;
    const char *mod = path + sizeof(prefix) - 1;
    if (strcmp(mod, "openapi.json") == 0) {
        ret->kind = ROUTE_OPENAPI;
        return;
    }
    if (strcmp(mod, "events") == 0) {
        ret->kind = ROUTE_EVENTS;
        return;
    }
    static const char custom[] = "custom/";
    if (strncmp(mod, custom, sizeof(custom) - 1) == 0) {
        match_custom(mod + sizeof(custom) - 1, ret);
        return;
    }
    const char *slash = strchr(mod, '/');
    if (!slash || slash == mod)
        return;
    const char *fn = slash + 1;
    size_t fnlen = strlen(fn);
    if (fnlen > 4 && strcmp(fn + fnlen - 4, ".php") == 0)
        fnlen -= 4;
    if (fnlen == 0 || memchr(fn, '/', fnlen))
        return;
    const struct module *m = module_find(mod, (size_t)(slash - mod));
    const struct endpoint *ep = m ? module_endpoint(m, fn, fnlen) : NULL;
    if (!ep)
        return;
    ret->kind = ROUTE_API;
    ret->mod = m;
    ret->ep = ep;
}

enum method route_method(const char *name)
{
    if (strcmp(name, "GET") == 0)
        return METHOD_GET;
    if (strcmp(name, "POST") == 0)
        return METHOD_POST;
    return METHOD_OTHER;
}

const char *route_wrong_method(const struct endpoint *ep, enum method m)
{
    if (ep->op == OP_READ && m != METHOD_GET)
        return "Can only send GET requests to this endpoint.";
    if (ep->op != OP_READ && m != METHOD_POST)
        return "Can only send POST requests to this endpoint.";
    return NULL;
}

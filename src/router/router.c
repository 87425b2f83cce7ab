/* router: a table-free matcher — the module registry is the route table. */
#include "router/router.h"

#include <string.h>

#include "modules/registry.h"

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

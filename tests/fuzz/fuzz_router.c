/* fuzz_router: path -> module endpoint (route_match), the method name (route_method) and the
 * method rule of the matched endpoint (route_wrong_method). */
#include <stdlib.h>
#include <string.h>

#include "modules/registry.h"
#include "fuzz.h"
#include "router/router.h"

static void registry_once(void)
{
    static int done;
    char err[256];
    if (done)
        return;
    FUZZ_CHECK(module_registry_init(err, sizeof(err)) == 0);
    done = 1;
}

static void check_api_route(const char *path, const struct route *rt)
{
    static const char prefix[] = "/api/v1/";
    const struct module *m = rt->mod;
    const struct endpoint *ep = rt->ep;
    FUZZ_CHECK(m != NULL && ep != NULL);
    FUZZ_CHECK(ep >= m->endpoints && ep < m->endpoints + m->nendpoints);
    /* the path is exactly /api/v1/<module>/<function>, optionally followed by .php */
    FUZZ_CHECK(strncmp(path, prefix, sizeof(prefix) - 1) == 0);
    const char *p = path + sizeof(prefix) - 1;
    size_t ml = strlen(m->name), fl = strlen(ep->function);
    FUZZ_CHECK(strncmp(p, m->name, ml) == 0 && p[ml] == '/');
    p += ml + 1;
    FUZZ_CHECK(strncmp(p, ep->function, fl) == 0);
    FUZZ_CHECK(strcmp(p + fl, "") == 0 || strcmp(p + fl, ".php") == 0);

    /* exactly one of GET and POST is the endpoint's method; anything else is always wrong */
    const char *get = route_wrong_method(ep, METHOD_GET);
    const char *post = route_wrong_method(ep, METHOD_POST);
    FUZZ_CHECK((get == NULL) != (post == NULL));
    FUZZ_CHECK((get == NULL) == (ep->op == OP_READ));
    FUZZ_CHECK(route_wrong_method(ep, METHOD_OTHER) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    registry_once();
    /* The http layer hands the router a NUL-terminated decoded path (it may hold a %00 byte, so
     * the string can end before the input does). */
    char *path = malloc(size + 1);
    if (!path)
        return 0;
    if (size)
        memcpy(path, data, size);
    path[size] = 0;

    struct route rt;
    route_match(path, &rt);
    switch (rt.kind) {
    case ROUTE_API:
        check_api_route(path, &rt);
        break;
    case ROUTE_HEALTHZ:
        FUZZ_CHECK(strcmp(path, "/healthz") == 0);
        break;
    case ROUTE_METRICS:
        FUZZ_CHECK(strcmp(path, "/metrics") == 0);
        break;
    case ROUTE_OPENAPI:
        FUZZ_CHECK(strcmp(path, "/api/v1/openapi.json") == 0);
        break;
    case ROUTE_EVENTS:
        FUZZ_CHECK(strcmp(path, "/api/v1/events") == 0);
        break;
    case ROUTE_CUSTOM: /* under /api/v1/custom/; a script name, when any, lies inside the path */
        FUZZ_CHECK(strncmp(path, "/api/v1/custom/", 15) == 0 && rt.ep == NULL);
        FUZZ_CHECK(!rt.custom_name || (rt.custom_name >= path && rt.custom_len > 0 &&
                                       rt.custom_name + rt.custom_len <= path + strlen(path)));
        break;
    default:
        FUZZ_CHECK(rt.kind == ROUTE_UNKNOWN && rt.mod == NULL && rt.ep == NULL);
        break;
    }

    /* the same bytes as a method name: exactly "GET" and "POST", case-sensitive */
    enum method m = route_method(path);
    FUZZ_CHECK(m == (strcmp(path, "GET") == 0    ? METHOD_GET
                     : strcmp(path, "POST") == 0 ? METHOD_POST
                                                 : METHOD_OTHER));
    if (rt.kind == ROUTE_API) {
        const char *msg = route_wrong_method(rt.ep, m);
        FUZZ_CHECK(msg == NULL || strncmp(msg, "Can only send ", 14) == 0);
    }

    /* the input split at its first space as "METHOD path", the way a request line reads */
    char *sp = strchr(path, ' ');
    if (sp) {
        *sp = 0;
        m = route_method(path);
        route_match(sp + 1, &rt);
        if (rt.kind == ROUTE_API) {
            check_api_route(sp + 1, &rt);
            (void)route_wrong_method(rt.ep, m);
        }
    }
    free(path);
    return 0;
}

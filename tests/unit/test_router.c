/* test_router: unit tests for src/router/router.c (K1, A2, F15; reference 1.1 and 1.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "modules/registry.h"
#include "engine/module.h"
#include "router/router.h"

static int setup(void **state)
{
    char err[256] = "";
    (void)state;
    if (module_registry_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "module_registry_init: %s\n", err);
        return -1;
    }
    return 0;
}

static void expect_api(const char *path, const struct module *m, const struct endpoint *ep)
{
    struct route rt;
    memset(&rt, 0xAB, sizeof(rt));
    route_match(path, &rt);
    if (rt.kind != ROUTE_API)
        fail_msg("%s: kind %d, want ROUTE_API", path, (int)rt.kind);
    assert_ptr_equal(rt.mod, m);
    assert_ptr_equal(rt.ep, ep);
}

static void expect_kind(const char *path, enum route_kind kind)
{
    struct route rt;
    memset(&rt, 0xAB, sizeof(rt));
    route_match(path, &rt);
    if (rt.kind != kind)
        fail_msg("%s: kind %d, want %d", path, (int)rt.kind, (int)kind);
    /* only API routes carry a module and an endpoint */
    assert_null(rt.mod);
    assert_null(rt.ep);
}

static void test_clients_read(void **state)
{
    (void)state;
    const struct module *m = module_find("clients", 7);
    assert_non_null(m);
    const struct endpoint *ep = module_endpoint(m, "read", 4);
    assert_non_null(ep);
    assert_int_equal(ep->op, OP_READ);
    expect_api("/api/v1/clients/read.php", m, ep);
    expect_api("/api/v1/clients/read", m, ep); /* COMPAT A2 */

    const struct endpoint *create = module_endpoint(m, "create", 6);
    assert_non_null(create);
    assert_ptr_not_equal(create, ep);
    expect_api("/api/v1/clients/create.php", m, create);
    expect_api("/api/v1/clients/create", m, create);
}

static void test_every_endpoint(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        assert_ptr_equal(module_find(m->name, strlen(m->name)), m);
        for (size_t k = 0; k < m->nendpoints; k++) {
            const struct endpoint *ep = &m->endpoints[k];
            char path[256];
            snprintf(path, sizeof(path), "/api/v1/%s/%s.php", m->name, ep->function);
            expect_api(path, m, ep);
            snprintf(path, sizeof(path), "/api/v1/%s/%s", m->name, ep->function);
            expect_api(path, m, ep);
            n++;
        }
    }
    assert_true(n >= module_count);
}

static void test_technicians_time(void **state)
{
    (void)state;
    const struct module *m = module_find("technicians", 11);
    assert_non_null(m);
    const struct endpoint *ep = module_endpoint(m, "time", 4);
    assert_non_null(ep);
    expect_api("/api/v1/technicians/time.php", m, ep);
    expect_api("/api/v1/technicians/time", m, ep);
    /* technicians has no read.php in the reference (1.1) */
    expect_kind("/api/v1/technicians/read.php", ROUTE_UNKNOWN);
}

static void test_unknown(void **state)
{
    (void)state;
    static const char *const paths[] = {
        "",
        "/",
        "/api",
        "/api/",
        "/api/v1",
        "/api/v1/",
        "/api/v1/clients",
        "/api/v1/clients/",
        "/api/v1/clients/.php",
        "/api/v1/clients/read.php/x",
        "/api/v1/clients/read/",
        "/api/v1/clients/read.php/",
        "/api/v1/clients/read.php.php",
        "/api/v1/clients/read.PHP",
        "/api/v1/clients/READ.php",
        "/api/v1/Clients/read.php",
        "/api/v1/clients/read.phpx",
        "/api/v1/clients/read.html",
        "/api/v1/clients/read.php?x=1",
        "/api/v1/clients/read%2ephp",
        "/api/v1/clients//read.php",
        "/api/v1//clients/read.php",
        "/api/v1/clients/client_model.php",
        "/api/v1/clients/read_output.php",
        "/api/v1/clients/create_output.php",
        "/api/v1/clients/purge.php", /* no such function */
        "/api/v1/clients/nosuch.php",
        "/api/v1/nosuch/read.php",
        "/api/v1/nosuch/read",
        "/api/v1/validate_api_key.php",
        "/api/v1/require_get_method.php",
        "/api/v1/require_post_method.php",
        "/api/v1/custom/",
        "/api/v1/custom",
        "/api/v1/custom/../clients/read.php",
        "/api/v1/custom/./x.php",
        "/api/v1/custom/a/../../clients/read.php",
        "/api/v1/custom/a//b.php",
        "/api/v1/custom/a/..",
        "/api/v2/clients/read.php",
        "//api/v1/clients/read.php",
        "api/v1/clients/read.php",
        "/API/v1/clients/read.php",
        "/api/v1/../v1/clients/read.php",
        "/api/v1/clients/../clients/read.php",
        "/api/v1/./clients/read.php",
        "/api/v1/openapi.json/",
        "/api/v1/openapi",
        "/api/v1/openapi.json.php",
        "/api/v1/clients/openapi.json",
        "/healthz/",
        "/healthz.php",
        "/HEALTHZ",
        "/metrics/",
        "/api/v1/healthz",
        "/api/v1/metrics",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        expect_kind(paths[i], ROUTE_UNKNOWN);
}

static void test_fixed_routes(void **state)
{
    (void)state;
    expect_kind("/healthz", ROUTE_HEALTHZ);
    expect_kind("/metrics", ROUTE_METRICS);
    expect_kind("/api/v1/openapi.json", ROUTE_OPENAPI);
}

/* /api/v1/custom/: a script's name, or a path only the upstream may serve */
static void expect_custom(const char *path, const char *name)
{
    struct route rt;
    memset(&rt, 0xAB, sizeof(rt));
    route_match(path, &rt);
    if (rt.kind != ROUTE_CUSTOM)
        fail_msg("%s: kind %d, want ROUTE_CUSTOM", path, (int)rt.kind);
    assert_null(rt.mod);
    assert_null(rt.ep);
    if (!name) {
        assert_null(rt.custom_name);
        return;
    }
    assert_non_null(rt.custom_name);
    assert_int_equal(rt.custom_len, strlen(name));
    assert_memory_equal(rt.custom_name, name, strlen(name));
}

static void test_custom_routes(void **state)
{
    (void)state;
    expect_custom("/api/v1/custom/readme.php", "readme");
    expect_custom("/api/v1/custom/open_tickets", "open_tickets");
    expect_custom("/api/v1/custom/asset-lookup.php", "asset-lookup");
    expect_custom("/api/v1/custom/sub/report.php", NULL); /* the upstream's only */
    expect_custom("/api/v1/custom/x.y.php", NULL);
    expect_custom("/api/v1/custom/.php", NULL);
}

static void test_route_method(void **state)
{
    (void)state;
    assert_int_equal(route_method("GET"), METHOD_GET);
    assert_int_equal(route_method("POST"), METHOD_POST);
    static const char *const others[] = {"get",    "post", "Get",     "HEAD",  "PUT",
                                         "DELETE", "",     "OPTIONS", "PATCH", "GET ",
                                         " GET",   "GETX", "POS",     "POSTS"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (route_method(others[i]) != METHOD_OTHER)
            fail_msg("route_method(\"%s\") is not METHOD_OTHER", others[i]);
}

static void test_wrong_method(void **state)
{
    (void)state;
    static const char get_only[] = "Can only send GET requests to this endpoint.";
    static const char post_only[] = "Can only send POST requests to this endpoint.";
    size_t reads = 0, writes = 0;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        for (size_t k = 0; k < m->nendpoints; k++) {
            const struct endpoint *ep = &m->endpoints[k];
            if (ep->op == OP_READ) {
                reads++;
                assert_null(route_wrong_method(ep, METHOD_GET));
                assert_string_equal(route_wrong_method(ep, METHOD_POST), get_only);
                assert_string_equal(route_wrong_method(ep, METHOD_OTHER), get_only);
            } else {
                writes++;
                assert_null(route_wrong_method(ep, METHOD_POST));
                assert_string_equal(route_wrong_method(ep, METHOD_GET), post_only);
                assert_string_equal(route_wrong_method(ep, METHOD_OTHER), post_only);
            }
        }
    }
    /* every module has a read endpoint; some have writes */
    assert_int_equal(reads, module_count);
    assert_true(writes > 0);

    const struct module *m = module_find("clients", 7);
    assert_non_null(m);
    assert_string_equal(route_wrong_method(module_endpoint(m, "read", 4), METHOD_POST), get_only);
    assert_string_equal(route_wrong_method(module_endpoint(m, "create", 6), METHOD_GET), post_only);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clients_read),     cmocka_unit_test(test_every_endpoint),
        cmocka_unit_test(test_technicians_time), cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_fixed_routes),     cmocka_unit_test(test_custom_routes),
        cmocka_unit_test(test_route_method),     cmocka_unit_test(test_wrong_method),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

/* test_openapi: the OpenAPI document of src/http/openapi.c (A4) parsed back with jansson and
 * compared with the module registry and the router. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "modules/registry.h"
#include "engine/module.h"
#include "http/openapi.h"
#include "router/router.h"

static json_t *doc;

static int setup(void **state)
{
    char err[256] = "";
    (void)state;
    if (module_registry_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "module_registry_init: %s\n", err);
        return -1;
    }
    if (openapi_build() != 0) {
        fprintf(stderr, "openapi_build failed\n");
        return -1;
    }
    json_error_t jerr;
    doc = json_loads(openapi_document(), 0, &jerr);
    if (!doc) {
        fprintf(stderr, "openapi document is not JSON: %s (line %d col %d)\n", jerr.text, jerr.line,
                jerr.column);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(doc);
    doc = NULL;
    openapi_free();
    return 0;
}

static json_t *paths(void)
{
    json_t *p = json_object_get(doc, "paths");
    assert_non_null(p);
    assert_true(json_is_object(p));
    return p;
}

static json_t *path_item(const struct module *m, const struct endpoint *ep)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/%s/%s.php", m->name, ep->function);
    json_t *item = json_object_get(paths(), path);
    if (!item)
        fail_msg("path %s missing", path);
    return item;
}

static void test_document(void **state)
{
    (void)state;
    assert_true(json_is_object(doc));
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *info = json_object_get(doc, "info");
    assert_true(json_is_object(info));
    assert_non_null(json_string_value(json_object_get(info, "title")));
    assert_non_null(json_string_value(json_object_get(info, "version")));
    assert_true(json_is_object(json_object_get(doc, "components")));
    /* the document is built once; openapi_document returns the same text */
    assert_ptr_equal(openapi_document(), openapi_document());
}

static void test_paths_equal_routes(void **state)
{
    (void)state;
    json_t *p = paths();
    size_t want = 4; /* /healthz, /metrics, the document, /api/v1/events */
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        for (size_t k = 0; k < m->nendpoints; k++) {
            path_item(m, &m->endpoints[k]);
            want++;
        }
    }
    assert_non_null(json_object_get(p, "/healthz"));
    assert_non_null(json_object_get(p, "/metrics"));
    assert_non_null(json_object_get(p, "/api/v1/openapi.json"));
    assert_non_null(json_object_get(p, "/api/v1/events"));
    /* nothing else: every path is in the expected set, and the counts agree */
    assert_int_equal(json_object_size(p), want);

    const char *key;
    json_t *val;
    json_object_foreach(p, key, val)
    {
        struct route rt;
        route_match(key, &rt);
        if (rt.kind == ROUTE_UNKNOWN)
            fail_msg("documented path %s is not routed", key);
        if (strcmp(key, "/healthz") == 0) {
            assert_int_equal(rt.kind, ROUTE_HEALTHZ);
        } else if (strcmp(key, "/metrics") == 0) {
            assert_int_equal(rt.kind, ROUTE_METRICS);
        } else if (strcmp(key, "/api/v1/openapi.json") == 0) {
            assert_int_equal(rt.kind, ROUTE_OPENAPI);
        } else if (strcmp(key, "/api/v1/events") == 0) {
            assert_int_equal(rt.kind, ROUTE_EVENTS);
        } else {
            assert_int_equal(rt.kind, ROUTE_API);
            char expect[256];
            snprintf(expect, sizeof(expect), "/api/v1/%s/%s.php", rt.mod->name, rt.ep->function);
            assert_string_equal(key, expect);
        }
    }
}

static void test_methods(void **state)
{
    (void)state;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        for (size_t k = 0; k < m->nendpoints; k++) {
            const struct endpoint *ep = &m->endpoints[k];
            json_t *item = path_item(m, ep);
            assert_int_equal(json_object_size(item), 1);
            const char *method = ep->op == OP_READ ? "get" : "post";
            json_t *op = json_object_get(item, method);
            if (!json_is_object(op))
                fail_msg("%s/%s: no %s operation", m->name, ep->function, method);
            char opid[128];
            snprintf(opid, sizeof(opid), "%s_%s", m->name, ep->function);
            assert_string_equal(json_string_value(json_object_get(op, "operationId")), opid);
            assert_true(json_is_object(json_object_get(op, "responses")));
            assert_non_null(json_object_get(json_object_get(op, "responses"), "200"));
            if (ep->op == OP_READ)
                assert_null(json_object_get(op, "requestBody"));
            else
                assert_non_null(json_object_get(op, "requestBody"));
        }
    }
    static const char *const plain[] = {"/healthz", "/metrics", "/api/v1/openapi.json"};
    for (size_t i = 0; i < 3; i++) {
        json_t *item = json_object_get(paths(), plain[i]);
        assert_int_equal(json_object_size(item), 1);
        assert_true(json_is_object(json_object_get(item, "get")));
    }
}

static int has_param(json_t *params, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(params, i, p)
    {
        const char *n = json_string_value(json_object_get(p, "name"));
        if (n && strcmp(n, name) == 0) {
            assert_string_equal(json_string_value(json_object_get(p, "in")), "query");
            return 1;
        }
    }
    return 0;
}

static void test_read_parameters(void **state)
{
    (void)state;
    size_t nreads = 0;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        for (size_t k = 0; k < m->nendpoints; k++) {
            const struct endpoint *ep = &m->endpoints[k];
            if (ep->op != OP_READ)
                continue;
            nreads++;
            json_t *params =
                json_object_get(json_object_get(path_item(m, ep), "get"), "parameters");
            assert_true(json_is_array(params));
            static const char *const common[] = {"api_key", "limit", "offset"};
            for (size_t c = 0; c < 3; c++)
                if (!has_param(params, common[c]))
                    fail_msg("%s/%s: parameter %s missing", m->name, ep->function, common[c]);
            for (size_t f = 0; f < m->nfilters; f++)
                if (!has_param(params, m->filters[f].param))
                    fail_msg("%s/%s: filter %s missing", m->name, ep->function,
                             m->filters[f].param);
            /* no parameter is listed twice */
            size_t a;
            json_t *pa;
            json_array_foreach(params, a, pa)
            {
                for (size_t b = a + 1; b < json_array_size(params); b++)
                    assert_string_not_equal(
                        json_string_value(json_object_get(pa, "name")),
                        json_string_value(json_object_get(json_array_get(params, b), "name")));
            }
        }
    }
    assert_int_equal(nreads, module_count);
}

static void test_create_required(void **state)
{
    (void)state;
    size_t ncreates = 0;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        for (size_t k = 0; k < m->nendpoints; k++) {
            const struct endpoint *ep = &m->endpoints[k];
            if (ep->op != OP_CREATE)
                continue;
            ncreates++;
            json_t *schema = json_object_get(
                json_object_get(
                    json_object_get(
                        json_object_get(json_object_get(path_item(m, ep), "post"), "requestBody"),
                        "content"),
                    "application/json"),
                "schema");
            assert_true(json_is_object(schema));
            json_t *props = json_object_get(schema, "properties");
            json_t *required = json_object_get(schema, "required");
            assert_true(json_is_object(props));
            assert_true(json_is_array(required));
            size_t nreq = 0;
            for (size_t f = 0; f < m->nfields; f++) {
                const struct field *fl = &m->fields[f];
                if (!(fl->flags & FF_CONST) && !json_object_get(props, fl->name))
                    fail_msg("%s/create: property %s missing", m->name, fl->name);
                if (!(fl->flags & FF_REQUIRED))
                    continue;
                nreq++;
                int found = 0;
                size_t r;
                json_t *rv;
                json_array_foreach(required, r, rv)
                {
                    found |= strcmp(json_string_value(rv), fl->name) == 0;
                }
                if (!found)
                    fail_msg("%s/create: %s not in required", m->name, fl->name);
            }
            /* and nothing else is required */
            assert_int_equal(json_array_size(required), nreq);
        }
    }
    assert_true(ncreates > 0);
}

/* A read's extra columns are in its row schema; the archived parameter and the filters applied
 * beside the alternatives are documented as such. */
static void test_read_columns(void **state)
{
    (void)state;
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    size_t nmods = 0;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        if (!m->nread_cols && !m->archived_param)
            continue;
        nmods++;
        char name[128];
        snprintf(name, sizeof(name), "%s_row", m->name);
        json_t *props = json_object_get(json_object_get(schemas, name), "properties");
        assert_true(json_is_object(props));
        for (size_t c = 0; c < m->nread_cols; c++)
            if (!json_object_get(props, m->read_cols[c].key))
                fail_msg("%s: read column %s missing", name, m->read_cols[c].key);
        json_t *params = json_object_get(
            json_object_get(path_item(m, module_endpoint(m, "read", 4)), "get"), "parameters");
        if (m->archived_param && !has_param(params, m->archived_param))
            fail_msg("%s/read: %s missing", m->name, m->archived_param);
    }
    assert_true(nmods > 0);
    json_t *props = json_object_get(json_object_get(schemas, "ticket_replies_row"), "properties");
    /* a ticket column keeps its type; the expression is text or null */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(props, "ticket_number"), "pattern")),
        "^-?[0-9]+$");
    assert_true(
        json_is_array(json_object_get(json_object_get(props, "ticket_reply_by_name"), "type")));
    json_t *get =
        json_object_get(path_item(module_find("ticket_replies", 14),
                                  module_endpoint(module_find("ticket_replies", 14), "read", 4)),
                        "get");
    const char *desc = json_string_value(json_object_get(get, "description"));
    assert_non_null(strstr(desc, "ticket_reply_id or ticket_id are alternatives"));
    assert_non_null(strstr(desc, "The filter type applies beside them."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document),        cmocka_unit_test(test_paths_equal_routes),
        cmocka_unit_test(test_methods),         cmocka_unit_test(test_read_parameters),
        cmocka_unit_test(test_create_required), cmocka_unit_test(test_read_columns),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

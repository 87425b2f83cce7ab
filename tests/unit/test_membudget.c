/* test_membudget: unit tests for src/core/membudget.c (the global body budget, parse scopes, the
 * parser's allocator) and the bounded body parse of src/req/req.c (value cap, budgets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>

#include "core/membudget.h"
#include "req/req.h"
#include "json/json_alloc.h"

#define LEN(lit) (sizeof(lit) - 1)

/* The values of a parsed tree, the way req_json_values counts them. */
static size_t tree_values(json_t *v)
{
    size_t n = 1;
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_array(v))
        json_array_foreach(v, i, x) n += tree_values(x);
    else if (json_is_object(v))
        json_object_foreach(v, k, x) n += tree_values(x);
    return n;
}

static void test_value_count(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{}",
        "[]",
        "1",
        "\"s\"",
        "[1,2]",
        "[{},{},{}]",
        "{\"a\":1,\"b\":[true,null,false]}",
        "[\"a,:\\\"[{\",\":\"]",
        "{\"k\\\\\":{\"x\":-1.5e3,\"y\":[[],[[]]]}}",
        " [ 1 , \"two\" , { \"three\" : 3 } ] ",
        "{\"a\":\"\\u0000\",\"b\":{\"c\":{\"d\":[0,0.5,-0]}}}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        json_error_t err;
        json_t *v = json_loads(bodies[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        assert_non_null(v);
        size_t want = tree_values(v);
        json_decref(v);
        size_t got = req_json_values(bodies[i], strlen(bodies[i]));
        if (got != want)
            fail_msg("%s: %zu values counted, %zu in the tree", bodies[i], got, want);
    }
    /* never reads past the end of a truncated string or escape */
    assert_int_equal(req_json_values("[\"ab\\", 5), 2);
    assert_int_equal(req_json_values("", 0), 0);
}

/* `{"a":[1,1,...]}` with `ones` elements: ones + 2 values. */
static char *ones_body(size_t ones, size_t *ret_len)
{
    char *b = malloc(ones * 2 + 16);
    size_t n = (size_t)snprintf(b, 16, "{\"a\":[");
    for (size_t i = 0; i < ones; i++) {
        if (i)
            b[n++] = ',';
        b[n++] = '1';
    }
    b[n++] = ']';
    b[n++] = '}';
    *ret_len = n;
    return b;
}

static void test_value_cap(void **state)
{
    (void)state;
    size_t n;
    char *b = ones_body(REQ_MAX_JSON_VALUES - 2, &n);
    struct req r;
    memset(&r, 0, sizeof(r));
    req_parse_body(&r, b, n);
    assert_int_equal(r.body_state, BODY_OBJECT);
    assert_true(r.body_mem > 0);
    assert_int_equal(membudget_used(), r.body_mem); /* the tree stays charged until req_free */
    req_free(&r);
    assert_int_equal(r.body_mem, 0);
    assert_int_equal(membudget_used(), 0);
    free(b);

    b = ones_body(REQ_MAX_JSON_VALUES - 1, &n);
    memset(&r, 0, sizeof(r));
    req_parse_body(&r, b, n);
    assert_int_equal(r.body_state, BODY_INVALID);
    assert_null(r.body);
    assert_string_equal(r.body_error, "too many JSON values (more than 100000)");
    assert_int_equal(membudget_used(), 0);
    req_free(&r);
    free(b);
}

static void test_global_budget(void **state)
{
    (void)state;
    membudget_configure(1000);
    size_t a = 0, b = 0;
    assert_int_equal(membudget_charge(&a, 600), 0);
    assert_int_equal(membudget_charge(&b, 401), -1); /* nothing charged */
    assert_int_equal(b, 0);
    assert_int_equal(membudget_charge(&b, 400), 0);
    assert_int_equal(membudget_used(), 1000);
    membudget_release(&a);
    assert_int_equal(a, 0);
    assert_int_equal(membudget_used(), 400);
    membudget_release(&b);
    membudget_release(&b); /* twice: nothing more */
    assert_int_equal(membudget_used(), 0);
    membudget_configure(0);
}

static void test_buf_growth(void **state)
{
    (void)state;
    membudget_configure(10000);
    struct buf b;
    size_t held = 0;
    buf_init(&b, 5000);
    char data[3000];
    memset(data, 'x', sizeof(data));
    assert_int_equal(membudget_buf_append(&b, &held, data, 100), 0);
    assert_int_equal(held, b.cap); /* the allocation is what is charged */
    assert_int_equal(membudget_buf_append(&b, &held, data, 3000), 0);
    assert_int_equal(held, b.cap);
    assert_int_equal(b.len, 3100);
    assert_int_equal(membudget_buf_append(&b, &held, data, 3000), -2); /* over max */
    assert_int_equal(b.len, 3100);
    assert_int_equal(held, b.cap);
    membudget_buf_free(&b, &held);
    assert_int_equal(held, 0);
    assert_int_equal(membudget_used(), 0);

    /* a declared length is reserved exactly; beyond the global budget nothing is taken */
    buf_init(&b, 20000);
    assert_int_equal(membudget_buf_reserve(&b, &held, 4000), 0);
    assert_int_equal(b.cap, 4001);
    assert_int_equal(held, 4001);
    struct buf c;
    size_t held_c = 0;
    buf_init(&c, 20000);
    assert_int_equal(membudget_buf_reserve(&c, &held_c, 7000), -1);
    assert_int_equal(held_c, 0);
    assert_null(c.p);
    assert_int_equal(membudget_buf_append(&c, &held_c, data, 3000), 0);
    assert_int_equal(membudget_buf_append(&c, &held_c, data, 3000), -1); /* growth refused */
    assert_int_equal(c.len, 3000);
    assert_int_equal(membudget_used(), held + held_c);
    membudget_buf_free(&c, &held_c);
    membudget_buf_free(&b, &held);
    assert_int_equal(membudget_used(), 0);

    /* a body of a known size grows as it arrives, doubling, but its last growth stops at the
     * expected size (5000 bytes in 3000-byte parts: 4096, then 5001, not 8192) */
    membudget_configure(100000);
    buf_init(&b, 20000);
    assert_int_equal(membudget_buf_append_sized(&b, &held, data, 3000, 5000), 0);
    assert_int_equal(b.cap, 4096);
    assert_int_equal(membudget_buf_append_sized(&b, &held, data, 2000, 5000), 0);
    assert_int_equal(b.cap, 5001);
    assert_int_equal(held, 5001);
    /* more than declared: doubling again, up to the buffer's max */
    assert_int_equal(membudget_buf_append_sized(&b, &held, data, 100, 5000), 0);
    assert_int_equal(b.cap, 10002);
    membudget_buf_free(&b, &held);
    assert_int_equal(membudget_used(), 0);
    membudget_configure(0);
}

static void test_scope_limit(void **state)
{
    (void)state;
    static const char body[] = "{\"a\":[{},{},{},{},{},{},{},{},{},{}],\"b\":\"some text\"}";
    size_t held = 0;
    struct mem_scope s;
    mem_scope_open(&s, 0, &held);
    json_t *v = json_loadb(body, LEN(body), 0, NULL);
    mem_scope_close(&s);
    assert_non_null(v);
    size_t need = s.peak;
    assert_true(need > 10 * 100); /* the empty objects are charged */
    assert_int_equal(held, s.used);
    assert_int_equal(membudget_used(), held);
    json_decref(v);
    membudget_release(&held);
    assert_int_equal(membudget_used(), 0);

    /* one byte less than it needs: the parse fails, everything it took is given back */
    mem_scope_open(&s, need - 1, &held);
    v = json_loadb(body, LEN(body), 0, NULL);
    mem_scope_close(&s);
    assert_null(v);
    assert_true(s.over_limit);
    assert_false(s.over_global);
    assert_int_equal(s.used, 0);
    assert_int_equal(held, 0);
    assert_int_equal(membudget_used(), 0);

    /* the global budget, likewise */
    membudget_configure(need / 2);
    mem_scope_open(&s, 0, &held);
    v = json_loadb(body, LEN(body), 0, NULL);
    mem_scope_close(&s);
    assert_null(v);
    assert_true(s.over_global);
    assert_int_equal(membudget_used(), 0);

    /* req_parse_body says which */
    struct req r;
    memset(&r, 0, sizeof(r));
    req_parse_body(&r, body, LEN(body));
    assert_int_equal(r.body_state, BODY_BUSY);
    assert_int_equal(r.body_mem, 0);
    req_free(&r);
    membudget_configure(0);
}

static void *decref_thread(void *arg)
{
    /* a scope of this thread's own is open: the other thread's blocks are not charged to it */
    size_t held = 0;
    struct mem_scope s;
    mem_scope_open(&s, 0, &held);
    json_t *mine = json_object();
    json_decref(arg);
    json_decref(mine);
    mem_scope_close(&s);
    return (void *)(uintptr_t)(s.used == 0 && held == 0);
}

static void test_free_elsewhere(void **state)
{
    (void)state;
    struct req r;
    memset(&r, 0, sizeof(r));
    static const char body[] = "{\"api_key\":\"k\",\"list\":[1,2,3,{\"x\":\"y\"}]}";
    req_parse_body(&r, body, LEN(body));
    assert_int_equal(r.body_state, BODY_OBJECT);
    size_t charged = r.body_mem;
    assert_int_equal(membudget_used(), charged);
    /* freed on another thread (a write worker), which has a scope open */
    pthread_t t;
    void *ok;
    json_t *tree = r.body;
    r.body = NULL;
    assert_int_equal(pthread_create(&t, NULL, decref_thread, tree), 0);
    assert_int_equal(pthread_join(t, &ok), 0);
    assert_true((uintptr_t)ok);
    assert_int_equal(membudget_used(), charged); /* until the request gives it back */
    req_free(&r);
    assert_int_equal(membudget_used(), 0);

    /* a block made outside any scope is never charged, wherever it is freed */
    json_t *plain = json_string("outside");
    size_t held = 0;
    struct mem_scope s;
    mem_scope_open(&s, 0, &held);
    json_decref(plain);
    mem_scope_close(&s);
    assert_int_equal(s.used, 0);
    assert_int_equal(membudget_used(), 0);
}

static void test_parse_budget(void **state)
{
    (void)state;
    /* a document: one long string; the budget covers it with room to spare */
    size_t len = 1 << 20;
    char *b = malloc(len + 64);
    size_t n = (size_t)snprintf(b, 64, "{\"document_content\":\"");
    memset(b + n, 'A', len);
    n += len;
    b[n++] = '"';
    b[n++] = '}';
    struct req r;
    memset(&r, 0, sizeof(r));
    req_parse_body(&r, b, n);
    assert_int_equal(r.body_state, BODY_OBJECT);
    assert_true(r.body_mem >= len && r.body_mem < 2 * len);
    assert_true(req_parse_budget(n, 2) > 3 * n);
    req_free(&r);
    free(b);

    /* the costliest shape per value measured: empty objects as object members */
    size_t count = REQ_MAX_JSON_VALUES - 1;
    b = malloc(count * 16 + 16);
    n = 0;
    b[n++] = '{';
    for (size_t i = 0; i < count; i++)
        n += (size_t)snprintf(b + n, 16, "%s\"%zu\":{}", i ? "," : "", i);
    b[n++] = '}';
    memset(&r, 0, sizeof(r));
    req_parse_body(&r, b, n);
    assert_int_equal(r.body_state, BODY_OBJECT);
    assert_true(r.body_mem < req_parse_budget(n, count + 1));
    req_free(&r);
    free(b);
    assert_int_equal(membudget_used(), 0);
}

int main(void)
{
    json_alloc_install(); /* before any JSON value exists, as the server does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_count),   cmocka_unit_test(test_value_cap),
        cmocka_unit_test(test_global_budget), cmocka_unit_test(test_buf_growth),
        cmocka_unit_test(test_scope_limit),   cmocka_unit_test(test_free_elsewhere),
        cmocka_unit_test(test_parse_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

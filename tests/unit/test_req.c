/* test_req: unit tests for src/req/req.c — the query string with PHP's $_GET rules (reference
 * 1.9 "Query-string parsing") and the JSON body (reference 1.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "req/req.h"

#define LEN(lit) (sizeof(lit) - 1)

static struct req *parse(struct req *r, const char *q, size_t n)
{
    memset(r, 0, sizeof(*r));
    req_parse_query(r, q, n);
    return r;
}

#define PARSE(r, lit) parse(r, lit, LEN(lit))

/* The parameter name must exist with exactly this value and array flag. */
static void expect_param(const struct req *r, const char *name, const char *val, size_t len,
                         int is_array)
{
    const struct param *p = req_param(r, name);
    if (!p)
        fail_msg("parameter %s missing", name);
    assert_string_equal(p->name, name);
    assert_int_equal(p->len, len);
    assert_memory_equal(p->val, val, len);
    assert_int_equal(p->val[len], 0);
    assert_int_equal(p->is_array, is_array);
}

#define EXPECT(r, name, lit) expect_param(r, name, lit, LEN(lit), 0)

static void test_plain(void **state)
{
    (void)state;
    struct req r;
    PARSE(&r, "api_key=abc&limit=10&offset=5");
    assert_int_equal(r.nparams, 3);
    EXPECT(&r, "api_key", "abc");
    EXPECT(&r, "limit", "10");
    EXPECT(&r, "offset", "5");
    assert_null(req_param(&r, "client_id"));
    assert_null(req_param(&r, "API_KEY")); /* names are case-sensitive */
    assert_int_equal(r.params_overflow, 0);
    req_free(&r);
    assert_int_equal(r.nparams, 0);

    /* NULL and empty query strings give no parameters */
    parse(&r, NULL, 0);
    assert_int_equal(r.nparams, 0);
    req_free(&r);
    parse(&r, "", 0);
    assert_int_equal(r.nparams, 0);
    req_free(&r);
    /* the length bounds the input: the query is not NUL-terminated */
    parse(&r, "a=1&b=2", 3);
    assert_int_equal(r.nparams, 1);
    EXPECT(&r, "a", "1");
    assert_null(req_param(&r, "b"));
    req_free(&r);
}

static void test_spaces(void **state)
{
    (void)state;
    struct req r;
    PARSE(&r, "a=x+y&b=x%20y&c=%2B&d=++");
    EXPECT(&r, "a", "x y");
    EXPECT(&r, "b", "x y");
    EXPECT(&r, "c", "+");
    EXPECT(&r, "d", "  ");
    req_free(&r);
}

static void test_name_mangling(void **state)
{
    (void)state;
    struct req r;
    PARSE(&r, "a.b=1");
    assert_int_equal(r.nparams, 1);
    EXPECT(&r, "a_b", "1");
    assert_null(req_param(&r, "a.b"));
    req_free(&r);

    PARSE(&r, "a b=1");
    EXPECT(&r, "a_b", "1");
    req_free(&r);

    PARSE(&r, "a+b=1&c%20d=2&e%2Ef=3");
    EXPECT(&r, "a_b", "1");
    EXPECT(&r, "c_d", "2");
    EXPECT(&r, "e_f", "3");
    req_free(&r);

    /* leading spaces of a name are dropped */
    PARSE(&r, "++x=1");
    EXPECT(&r, "x", "1");
    req_free(&r);

    /* an encoded '=' belongs to the name: the split happens before decoding */
    PARSE(&r, "a%3Db=c%3Dd");
    EXPECT(&r, "a=b", "c=d");
    req_free(&r);

    /* no name at all: dropped */
    PARSE(&r, "=1&+=2&a=3");
    assert_int_equal(r.nparams, 1);
    EXPECT(&r, "a", "3");
    req_free(&r);
}

static void test_duplicates(void **state)
{
    (void)state;
    struct req r;
    PARSE(&r, "limit=1&offset=0&limit=2&limit=3");
    assert_int_equal(r.nparams, 2);
    EXPECT(&r, "limit", "3");
    EXPECT(&r, "offset", "0");
    /* the parameter keeps its first position */
    assert_string_equal(r.params[0].name, "limit");
    req_free(&r);

    /* a.b and a_b are the same PHP name */
    PARSE(&r, "a.b=1&a_b=2");
    assert_int_equal(r.nparams, 1);
    EXPECT(&r, "a_b", "2");
    req_free(&r);
}

static void test_arrays(void **state)
{
    (void)state;
    struct req r;
    PARSE(&r, "name[]=x");
    assert_int_equal(r.nparams, 1);
    expect_param(&r, "name", "x", 1, 1);
    req_free(&r);

    PARSE(&r, "client_name[k]=v&a.b[c.d]=1");
    expect_param(&r, "client_name", "v", 1, 1);
    expect_param(&r, "a_b", "1", 1, 1);
    req_free(&r);

    /* a scalar then an array of the same name: the array wins */
    PARSE(&r, "limit=5&limit[]=x");
    assert_int_equal(r.nparams, 1);
    expect_param(&r, "limit", "x", 1, 1);
    req_free(&r);

    /* "limit[]=" is a one-element array: set, even with an empty element */
    PARSE(&r, "limit[]=");
    expect_param(&r, "limit", "", 0, 1);
    req_free(&r);
}

/* PHP replaces an array with a later plain value of the same name: `a[]=1&a=2` gives
 * $_GET['a'] === "2" (php_register_variable_ex: plain_var -> zend_symtable_update). */
static void test_array_then_scalar(void **state)
{
    (void)state;
    struct req r;
    PARSE(&r, "a[]=1&a=2");
    assert_int_equal(r.nparams, 1);
    expect_param(&r, "a", "2", 1, 0);
    req_free(&r);
}

/* PHP: a '[' with no closing ']' is not an array; it becomes '_' (`a[b=1` -> $_GET['a_b']); a
 * name that starts with '[' is empty and dropped. */
static void test_unclosed_bracket(void **state)
{
    (void)state;
    struct req r;
    PARSE(&r, "a[b=1");
    assert_int_equal(r.nparams, 1);
    EXPECT(&r, "a_b", "1");
    req_free(&r);

    /* after an unclosed '[' the rest of the name is mangled too (PHP 8.2 parse_str) */
    PARSE(&r, "a.b[c.d=1");
    assert_int_equal(r.nparams, 1);
    EXPECT(&r, "a_b_c_d", "1");
    req_free(&r);

    PARSE(&r, "[x]=1&y=2");
    assert_int_equal(r.nparams, 1);
    EXPECT(&r, "y", "2");
    req_free(&r);
}

static void test_percent(void **state)
{
    (void)state;
    struct req r;
    PARSE(&r, "a=%FF&b=%e9&c=%41%42");
    EXPECT(&r, "a", "\xff");
    EXPECT(&r, "b", "\xe9");
    EXPECT(&r, "c", "AB");
    req_free(&r);

    /* malformed sequences are kept literally */
    PARSE(&r, "a=%G1&b=%&c=%4&d=100%&e=%%41&f=%4g");
    EXPECT(&r, "a", "%G1");
    EXPECT(&r, "b", "%");
    EXPECT(&r, "c", "%4");
    EXPECT(&r, "d", "100%");
    EXPECT(&r, "e", "%A");
    EXPECT(&r, "f", "%4g");
    req_free(&r);

    /* %00 makes a NUL byte inside the value; the length keeps it */
    PARSE(&r, "a=x%00y");
    expect_param(&r, "a", "x\0y", 3, 0);
    req_free(&r);
}

static void test_empty_values(void **state)
{
    (void)state;
    struct req r;
    PARSE(&r, "limit=&offset&api_key=k");
    assert_int_equal(r.nparams, 3);
    EXPECT(&r, "limit", "");
    EXPECT(&r, "offset", "");
    EXPECT(&r, "api_key", "k");
    req_free(&r);

    /* empty segments are skipped */
    PARSE(&r, "&&a=1&&b=2&");
    assert_int_equal(r.nparams, 2);
    EXPECT(&r, "a", "1");
    EXPECT(&r, "b", "2");
    req_free(&r);

    /* only the first '=' splits */
    PARSE(&r, "a=b=c");
    EXPECT(&r, "a", "b=c");
    req_free(&r);
}

static void test_overflow(void **state)
{
    (void)state;
    char q[2048];
    size_t n = 0;
    for (int i = 0; i < REQ_MAX_PARAMS + 5; i++)
        n += (size_t)snprintf(q + n, sizeof(q) - n, "%sp%d=%d", i ? "&" : "", i, i);
    struct req r;
    parse(&r, q, n);
    assert_int_equal(r.nparams, REQ_MAX_PARAMS);
    assert_int_equal(r.params_overflow, 1);
    EXPECT(&r, "p0", "0");
    assert_null(req_param(&r, "p70"));
    req_free(&r);

    /* repeating one name does not use up slots */
    n = 0;
    for (int i = 0; i < REQ_MAX_PARAMS + 5; i++)
        n += (size_t)snprintf(q + n, sizeof(q) - n, "%sa=%d", i ? "&" : "", i);
    parse(&r, q, n);
    assert_int_equal(r.nparams, 1);
    assert_int_equal(r.params_overflow, 0);
    EXPECT(&r, "a", "68");
    req_free(&r);
}

static void body(struct req *r, const char *data, size_t n)
{
    memset(r, 0, sizeof(*r));
    req_parse_body(r, data, n);
}

#define BODY(r, lit) body(r, lit, LEN(lit))

static void expect_invalid(const char *data, size_t n)
{
    struct req r;
    body(&r, data, n);
    if (r.body_state != BODY_INVALID)
        fail_msg("body \"%.*s\": state %d, want BODY_INVALID", (int)n, data, r.body_state);
    assert_null(r.body);
    assert_true(r.body_error[0] != 0);
    assert_true(strlen(r.body_error) < sizeof(r.body_error));
    req_free(&r);
}

#define INVALID(lit) expect_invalid(lit, LEN(lit))

static void test_body_none(void **state)
{
    (void)state;
    struct req r;
    body(&r, NULL, 0);
    assert_int_equal(r.body_state, BODY_NONE);
    assert_null(r.body);
    req_free(&r);
    static const char *const blanks[] = {"", " ", "\n", "\r\n", " \t \r\n "};
    for (size_t i = 0; i < sizeof(blanks) / sizeof(blanks[0]); i++) {
        body(&r, blanks[i], strlen(blanks[i]));
        assert_int_equal(r.body_state, BODY_NONE);
        assert_null(r.body);
        req_free(&r);
    }
}

static void test_body_object(void **state)
{
    (void)state;
    struct req r;
    BODY(&r, "{\"a\":1}");
    assert_int_equal(r.body_state, BODY_OBJECT);
    assert_true(json_is_object(r.body));
    assert_int_equal(json_integer_value(json_object_get(r.body, "a")), 1);
    req_free(&r);
    assert_null(r.body);

    BODY(&r, " \n{}\n ");
    assert_int_equal(r.body_state, BODY_OBJECT);
    assert_int_equal(json_object_size(r.body), 0);
    req_free(&r);

    /* the given length bounds the body */
    body(&r, "{\"a\":1}garbage", 7);
    assert_int_equal(r.body_state, BODY_OBJECT);
    req_free(&r);

    /* duplicate keys: the last one wins */
    BODY(&r, "{\"a\":1,\"b\":\"x\",\"a\":2}");
    assert_int_equal(r.body_state, BODY_OBJECT);
    assert_int_equal(json_object_size(r.body), 2);
    assert_int_equal(json_integer_value(json_object_get(r.body, "a")), 2);
    assert_string_equal(json_string_value(json_object_get(r.body, "b")), "x");
    req_free(&r);

    /* keys are case-sensitive; nested values and UTF-8 survive */
    BODY(&r, "{\"A\":1,\"a\":[1,{\"x\":null}],\"n\":\"caf\xc3\xa9\"}");
    assert_int_equal(r.body_state, BODY_OBJECT);
    assert_int_equal(json_integer_value(json_object_get(r.body, "A")), 1);
    assert_true(json_is_array(json_object_get(r.body, "a")));
    assert_string_equal(json_string_value(json_object_get(r.body, "n")), "caf\xc3\xa9");
    req_free(&r);
}

static void test_body_invalid(void **state)
{
    (void)state;
    INVALID("[1]");
    INVALID("[]");
    INVALID("\"x\"");
    INVALID("1");
    INVALID("true");
    INVALID("null");
    INVALID("{bad");
    INVALID("{\"a\":1");
    INVALID("{\"a\":1}}");
    INVALID("{\"a\":1} x");
    INVALID("{'a':1}");
    INVALID("{\"a\":1,}");
    INVALID("a=1&b=2"); /* a form-encoded body */
    INVALID("{\"a\":\"\xff\"}");
    INVALID("{\"a\":\"\xc3\x28\"}");
    INVALID("{\"\xed\xa0\x80\":1}");  /* an encoded surrogate */
    INVALID("\xef\xbb\xbf{\"a\":1}"); /* PHP json_decode rejects a BOM */
    INVALID("{\"a\":\"\\ud800\"}");   /* a lone surrogate escape */

    struct req r;
    BODY(&r, "[1]");
    assert_non_null(strstr(r.body_error, "array"));
    req_free(&r);
}

/* PHP json_decode(body, true) with its default depth 512 fails once 512 arrays/objects are nested
 * (verified with PHP 8.2: an object holding 510 nested arrays decodes, 511 do not), so such a body
 * is "not a JSON object" like any other json_decode failure (reference 1.3, COMPAT F19). */
static void nested(struct req *r, int containers)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "{\"api_key\":\"k\",\"a\":");
    for (int i = 1; i < containers; i++)
        buf_putc(&b, '[');
    buf_putc(&b, '1');
    for (int i = 1; i < containers; i++)
        buf_putc(&b, ']');
    buf_putc(&b, '}');
    assert_false(b.failed);
    body(r, b.p, b.len);
    buf_free(&b);
}

static void test_body_depth(void **state)
{
    (void)state;
    struct req r;
    nested(&r, 511);
    assert_int_equal(r.body_state, BODY_OBJECT);
    req_free(&r);
    nested(&r, 512);
    assert_int_equal(r.body_state, BODY_INVALID);
    assert_null(r.body);
    assert_true(r.body_error[0] != 0);
    req_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_spaces),
        cmocka_unit_test(test_name_mangling),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_array_then_scalar),
        cmocka_unit_test(test_unclosed_bracket),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_empty_values),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_body_none),
        cmocka_unit_test(test_body_object),
        cmocka_unit_test(test_body_invalid),
        cmocka_unit_test(test_body_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

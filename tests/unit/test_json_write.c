/* test_json_write: unit tests for src/json/json_write.c (PHP json_encode string bytes, K4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json/json_write.h"

#define LEN(lit) (sizeof(lit) - 1)

static void expect_json(const char *in, size_t n, const char *want)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "[");
    assert_int_equal(json_write_string(&b, in, n), 0);
    assert_false(b.failed);
    assert_int_equal(b.len, 1 + strlen(want));
    assert_memory_equal(b.p + 1, want, strlen(want));
    assert_int_equal(b.p[b.len], 0);
    buf_free(&b);
}

#define JSON(in, want) expect_json(in, LEN(in), want)

static void test_ascii(void **state)
{
    (void)state;
    JSON("", "\"\"");
    JSON("hello world", "\"hello world\"");
    JSON("<a href='x'>&amp;</a>", "\"<a href='x'>&amp;<\\/a>\"");
    JSON("a/b//c", "\"a\\/b\\/\\/c\"");
    JSON("say \"hi\" \\ bye", "\"say \\\"hi\\\" \\\\ bye\"");
    JSON("~\x7f", "\"~\x7f\"");
}

static void test_control(void **state)
{
    (void)state;
    JSON("a\nb", "\"a\\nb\"");
    JSON("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
    JSON("\x1f", "\"\\u001f\"");
    JSON("\x01\x0b\x1b", "\"\\u0001\\u000b\\u001b\"");
    JSON("a\0b", "\"a\\u0000b\"");
}

static void test_unicode(void **state)
{
    (void)state;
    JSON("\xc3\xa9", "\"\\u00e9\"");                /* é */
    JSON("\xe2\x82\xac", "\"\\u20ac\"");            /* € */
    JSON("\xf0\x9f\x98\x80", "\"\\ud83d\\ude00\""); /* 😀 */
    JSON("\xc2\x80", "\"\\u0080\"");
    JSON("\xef\xbf\xbf", "\"\\uffff\"");
    JSON("\xe2\x80\xa8", "\"\\u2028\"");
    JSON("\xf4\x8f\xbf\xbf", "\"\\udbff\\udfff\""); /* U+10FFFF */
    JSON("Caf\xc3\xa9 \xe2\x82\xac"
         "5",
         "\"Caf\\u00e9 \\u20ac5\"");
}

static void expect_invalid(const char *in, size_t n)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "{\"k\":");
    assert_int_equal(json_write_string(&b, in, n), -1);
    assert_false(b.failed);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.p, "{\"k\":");
    buf_free(&b);
}

#define INVALID(in) expect_invalid(in, LEN(in))

static void test_invalid(void **state)
{
    (void)state;
    INVALID("\xe9");
    INVALID("caf\xe9");
    INVALID("ok \xc3\xa9 then \xff");
    INVALID("\xc0\xaf");         /* overlong */
    INVALID("\xed\xa0\x80");     /* surrogate */
    INVALID("\xf4\x90\x80\x80"); /* above U+10FFFF */
    INVALID("\xe2\x82");         /* truncated */
}

static void test_invalid_on_empty_buf(void **state)
{
    struct buf b;
    (void)state;
    buf_init(&b, 0);
    assert_int_equal(json_write_string(&b, "\x80", 1), -1);
    assert_int_equal(b.len, 0);
    assert_false(b.failed);
    buf_free(&b);
}

static void test_limit(void **state)
{
    struct buf b;
    (void)state;
    buf_init(&b, 8);
    assert_int_equal(json_write_string(&b, "abcdefghij", 10), 0);
    assert_true(b.failed); /* too long for the buffer's maximum: reported through failed */
    buf_free(&b);
}

static void test_key(void **state)
{
    struct buf b;
    (void)state;
    buf_init(&b, 0);
    buf_putc(&b, '{');
    json_write_key(&b, "success");
    json_write_string(&b, "True", 4);
    buf_putc(&b, ',');
    json_write_key(&b, "a/b");
    json_write_string(&b, "", 0);
    buf_putc(&b, '}');
    assert_string_equal(b.p, "{\"success\":\"True\",\"a\\/b\":\"\"}");
    buf_free(&b);
}

/* Byte-at-a-time reference for ASCII input (the writer's word-at-a-time scan must agree). */
static void reference_ascii(struct buf *out, const char *s, size_t n)
{
    buf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '/') {
            buf_putc(out, '\\');
            buf_putc(out, (char)c);
        } else if (c == '\n') {
            buf_puts(out, "\\n");
        } else if (c == '\t') {
            buf_puts(out, "\\t");
        } else if (c == '\r') {
            buf_puts(out, "\\r");
        } else if (c == '\b') {
            buf_puts(out, "\\b");
        } else if (c == '\f') {
            buf_puts(out, "\\f");
        } else if (c < 0x20) {
            buf_printf(out, "\\u%04x", c);
        } else {
            buf_putc(out, (char)c);
        }
    }
    buf_putc(out, '"');
}

static void test_word_scan_matches_reference(void **state)
{
    (void)state;
    static const char alphabet[] = "abcXYZ019 -:.@\"\\/\n\t\x01\x1f\x7f~";
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        char s[64];
        size_t n = (size_t)(round % 40);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* mostly plain bytes, so that whole 8-byte words are plain too */
            unsigned r = (seed >> 16) % 100;
            s[i] = r < 80 ? (char)('a' + r % 26) : alphabet[r % (sizeof(alphabet) - 1)];
        }
        struct buf got, want;
        buf_init(&got, 0);
        buf_init(&want, 0);
        assert_int_equal(json_write_string(&got, s, n), 0);
        reference_ascii(&want, s, n);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.p, want.p, want.len);
        buf_free(&got);
        buf_free(&want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),   cmocka_unit_test(test_word_scan_matches_reference),
        cmocka_unit_test(test_control), cmocka_unit_test(test_unicode),
        cmocka_unit_test(test_invalid), cmocka_unit_test(test_invalid_on_empty_buf),
        cmocka_unit_test(test_limit),   cmocka_unit_test(test_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

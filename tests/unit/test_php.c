/* test_php: unit tests for src/core/php.c (PHP 8.2 conversions of reference 1.9). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/php.h"

#define LEN(lit) (sizeof(lit) - 1)

/* ---- intval ---- */

static int64_t ival(const char *s)
{
    return php_intval_str(s, strlen(s));
}

static void test_intval_str(void **state)
{
    (void)state;
    assert_true(ival("1e3") == 1000);
    assert_true(ival("1.9") == 1);
    assert_true(ival("12abc") == 12);
    assert_true(ival("12 ") == 12);
    assert_true(ival("abc") == 0);
    assert_true(ival("") == 0);
    assert_true(ival("0x1A") == 0);
    assert_true(ival(".5") == 0);
    assert_true(ival("0012") == 12);
    assert_true(ival(" 1") == 1);
    assert_true(ival("+1") == 1);
    assert_true(ival("-12") == -12);
    assert_true(ival(" \t\n\r\v\f7") == 7);
    assert_true(ival("99999999999999999999") == INT64_MAX);
    assert_true(ival("-99999999999999999999") == INT64_MIN);
    assert_true(ival("1e30") == INT64_MAX);
    assert_true(ival("-1e30") == INT64_MIN);
    assert_true(ival("9223372036854775807") == INT64_MAX);
    assert_true(ival("9223372036854775808") == INT64_MAX);
    assert_true(ival("-9223372036854775808") == INT64_MIN);
    assert_true(ival("1e") == 1);
    assert_true(ival("1e+") == 1);
    assert_true(ival("2E2x") == 200);
    assert_true(ival("1.5e3") == 1500);
    assert_true(ival("-1.9") == -1);
    assert_true(ival(".5e3") == 500); /* PHP: ".5e3" is a numeric string (double) */
    assert_true(ival("1e999") == 0);  /* infinity -> 0 (zend_dval_to_lval_cap) */
    assert_true(ival("-") == 0);
    assert_true(ival("+-1") == 0);
    assert_true(ival("\f12") == 12);
}

static void test_intval_not_terminated(void **state)
{
    (void)state;
    /* the view "12" inside "123e5": digits past n must not be read */
    assert_true(php_intval_str("123e5", 2) == 12);
    assert_true(php_intval_str("1.5e3", 3) == 1);
}

static void test_intval_double(void **state)
{
    (void)state;
    assert_true(php_intval_double(1.9) == 1);
    assert_true(php_intval_double(-1.9) == -1);
    assert_true(php_intval_double(1e19) == INT64_C(-8446744073709551616));
    assert_true(php_intval_double(1e20) == INT64_C(7766279631452241920));
    assert_true(php_intval_double(1e30) == INT64_C(5076964154930102272));
    assert_true(php_intval_double(-1e19) == INT64_C(8446744073709551616));
    assert_true(php_intval_double(9223372036854775808.0) == INT64_MIN);
    assert_true(php_intval_double(-9223372036854775808.0) == INT64_MIN);
    assert_true(php_intval_double(NAN) == 0);
    assert_true(php_intval_double(INFINITY) == 0);
    assert_true(php_intval_double(-INFINITY) == 0);
}

/* ---- floatval and float to string ---- */

static void test_floatval(void **state)
{
    (void)state;
    assert_true(php_floatval_str("12.345abc", 9) == 12.345);
    assert_true(php_floatval_str("1e3", 3) == 1000.0);
    assert_true(php_floatval_str(".5", 2) == 0.5);
    assert_true(php_floatval_str("abc", 3) == 0.0);
    assert_true(php_floatval_str("", 0) == 0.0);
    assert_true(php_floatval_str(" -2.5", 5) == -2.5);
    assert_true(php_floatval_str("0x1A", 4) == 0.0);
    assert_true(php_floatval_str("1e", 2) == 1.0);
}

static void expect_float(double d, const char *want)
{
    struct buf b;
    buf_init(&b, 0);
    php_float_to_string(d, &b);
    assert_false(b.failed);
    assert_string_equal(b.p, want);
    buf_free(&b);
}

static void test_float_to_string(void **state)
{
    (void)state;
    expect_float(12.345, "12.345");
    expect_float(0.1 + 0.2, "0.3");
    expect_float(0.1, "0.1");
    expect_float(1e20, "1.0E+20");
    expect_float(100.0, "100");
    expect_float(1.5e-7, "1.5E-7");
    expect_float(-1.5e-7, "-1.5E-7");
    expect_float(0.0, "0");
    expect_float(-0.0, "-0");
    expect_float(1.0, "1");
    expect_float(-2.5, "-2.5");
    expect_float(1e14, "1.0E+14");
    expect_float(1e13, "10000000000000");
    expect_float(0.0001, "0.0001");
    expect_float(0.00001, "1.0E-5");
    expect_float(123456789012345.0, "1.2345678901234E+14");
    expect_float(1e100, "1.0E+100");
    expect_float(2.5e-300, "2.5E-300");
    expect_float(1.0 / 3.0, "0.33333333333333");
    expect_float(99999999999999.5, "1.0E+14");
    expect_float(INFINITY, "INF");
    expect_float(-INFINITY, "-INF");
    expect_float(NAN, "NAN");
}

/* ---- strip_tags, trim, sanitize ---- */

static void expect_strip(const char *in, size_t n, const char *want)
{
    char tmp[256];
    size_t len;

    assert_true(n < sizeof(tmp));
    memcpy(tmp, in, n);
    len = php_strip_tags(tmp, n);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(tmp, want, len);
}

#define STRIP(in, want) expect_strip(in, LEN(in), want)

static void test_strip_tags_reference(void **state)
{
    (void)state;
    STRIP("a < b", "a < b");
    STRIP("a <b", "a ");
    STRIP("1<2", "1");
    STRIP("a <3 b", "a ");
    STRIP("5 <= 6", "5 ");
    STRIP("a<b>c</b>d", "acd");
    STRIP("x <!-- c --> y", "x  y");
    STRIP("<?php echo 1; ?>z", "z");
    STRIP("a > b", "a > b");
    STRIP("<a href=\"x>y\">t</a>", "t");
    STRIP("<<a>>", "");
    STRIP("<script>x</script>", "x");
    STRIP("a\0b", "ab");
    STRIP("tab\t<\tx>", "tab\t<\tx>");
}

static void test_strip_tags_more(void **state)
{
    (void)state;
    STRIP("", "");
    STRIP("plain text", "plain text");
    STRIP("<b>bold</b> and <i>it</i>", "bold and it");
    STRIP("<a title='x>y'>t</a>", "t");
    STRIP("<!DOCTYPE html>x", "x");
    STRIP("<!-- a > b -->c", "c");
    STRIP("<?xml version=\"1.0\"?>r", "r");
    STRIP("<? if (a > b) { } ?>z", "z");
    STRIP("<?php $a = \"?>\"; ?>q", "q");
    STRIP("a<br/>b", "ab");
    STRIP("x<", "x");
    STRIP("x<\n", "x<\n");
    STRIP("\xc3\xa9<p>\xc3\xa8</p>", "\xc3\xa9\xc3\xa8");
    STRIP("a\0<b>\0c", "ac");
    STRIP("ab\0<!--x-->c", "abc");
    STRIP("<<!-- x -->>y", "y"); /* the nesting depth survives the comment */
}

static void expect_trim(const char *in, size_t n, const char *want)
{
    const char *s = in;
    size_t len = n;
    php_trim(&s, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(s, want, len);
}

static void test_trim(void **state)
{
    (void)state;
    expect_trim("  a b  ", 7, "a b");
    expect_trim(" \t\n\r\0\x0B"
                "x"
                "\x0B\0",
                9, "x");
    expect_trim("\fx\f", 3, "\fx\f");
    expect_trim("   ", 3, "");
    expect_trim("", 0, "");
}

static void expect_sanitize(const char *in, size_t n, const char *want)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "pre:");
    php_sanitize(&b, in, n);
    assert_false(b.failed);
    assert_int_equal(b.len, 4 + strlen(want));
    assert_memory_equal(b.p, "pre:", 4);
    assert_memory_equal(b.p + 4, want, strlen(want));
    assert_int_equal(b.p[b.len], 0);
    buf_free(&b);
}

static void test_sanitize(void **state)
{
    (void)state;
    expect_sanitize("  <b>Globex</b> R&D  ", 21, "Globex R&D");
    expect_sanitize(" x <p> ", 7, "x");
    expect_sanitize("", 0, "");
    expect_sanitize("  caf\xc3\xa9 ", 8, "caf\xc3\xa9");
    /* invalid UTF-8 is read as Windows-1252 */
    expect_sanitize(" caf\xe9 ", 6, "caf\xc3\xa9");
    expect_sanitize("\x80\x81\x9f", 3, "\xe2\x82\xac\xc2\x81\xc5\xb8");
    expect_sanitize("\0 a \0", 5, "a");
}

/* ---- UTF-8 helpers ---- */

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("abc", 3));
    assert_true(utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    assert_true(utf8_valid("\xf4\x8f\xbf\xbf", 4));
    assert_false(utf8_valid("\xe9", 1));
    assert_false(utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(utf8_valid("\xf5\x80\x80\x80", 4));
    assert_false(utf8_valid("\xe2\x82", 2)); /* truncated */
    assert_false(utf8_valid("\x80", 1));
}

static void test_utf8_next(void **state)
{
    size_t pos = 0;
    (void)state;
    assert_int_equal(utf8_next("\xf0\x9f\x98\x80", 4, &pos), 0x1F600);
    assert_int_equal(pos, 4);
    pos = 0;
    assert_int_equal(utf8_next("\xe2\x82"
                               "a",
                               3, &pos),
                     -1);
    assert_int_equal(pos, 2); /* maximal subpart: the valid prefix E2 82 */
    pos = 0;
    assert_int_equal(utf8_next("\xe2"
                               "a",
                               2, &pos),
                     -1);
    assert_int_equal(pos, 1);
    pos = 0;
    assert_int_equal(utf8_next("\xc3"
                               "\xc3\xa9",
                               3, &pos),
                     -1);
    assert_int_equal(pos, 1);
    pos = 0;
    assert_int_equal(utf8_next("\xc3\xff", 2, &pos), -1);
    assert_int_equal(pos, 2);
    pos = 0;
    assert_int_equal(utf8_next("\xed\xa0\x80", 3, &pos), -1);
    assert_int_equal(pos, 3);
}

static void test_utf8_length_prefix(void **state)
{
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"; /* a é € 😀 z */
    size_t n = strlen(s);
    (void)state;
    assert_int_equal(utf8_length(s, n), 5);
    assert_int_equal(utf8_length("", 0), 0);
    assert_int_equal(utf8_prefix(s, n, 0), 0);
    assert_int_equal(utf8_prefix(s, n, 1), 1);
    assert_int_equal(utf8_prefix(s, n, 2), 3);
    assert_int_equal(utf8_prefix(s, n, 3), 6);
    assert_int_equal(utf8_prefix(s, n, 4), 10);
    assert_int_equal(utf8_prefix(s, n, 5), n);
    assert_int_equal(utf8_prefix(s, n, 99), n);
}

static void expect_buf(void (*fn)(struct buf *, const char *, size_t), const char *in, size_t n,
                       const char *want)
{
    struct buf b;
    buf_init(&b, 0);
    fn(&b, in, n);
    assert_false(b.failed);
    assert_int_equal(b.len, strlen(want));
    if (b.len)
        assert_memory_equal(b.p, want, b.len);
    buf_free(&b);
}

static void test_cp1252(void **state)
{
    (void)state;
    expect_buf(php_cp1252_to_utf8, "abc", 3, "abc");
    expect_buf(php_cp1252_to_utf8, "\x80\x85\x8a\x93\x94\x99", 6,
               "\xe2\x82\xac\xe2\x80\xa6\xc5\xa0\xe2\x80\x9c\xe2\x80\x9d\xe2\x84\xa2");
    expect_buf(php_cp1252_to_utf8, "\xa0\xe9\xff", 3, "\xc2\xa0\xc3\xa9\xc3\xbf");
    expect_buf(php_cp1252_to_utf8, "\x81\x8d\x8f\x90\x9d", 5,
               "\xc2\x81\xc2\x8d\xc2\x8f\xc2\x90\xc2\x9d");
}

/* ---- htmlentities ---- */

#define HTML(in, want) expect_buf(php_htmlentities, in, LEN(in), want)

static void test_htmlentities(void **state)
{
    (void)state;
    HTML("Globex R&D \"ops\" \xc3\xa9", "Globex R&amp;D &quot;ops&quot; &eacute;");
    HTML("it's <b>", "it&#039;s &lt;b&gt;");
    HTML("&amp;", "&amp;amp;");
    HTML("", "");
    HTML("\xc2\xa0\xc2\xa9\xc3\x9f\xc3\xbf", "&nbsp;&copy;&szlig;&yuml;");
    HTML("\xe2\x82\xac\xc5\x93\xc5\xa0\xe2\x80\x93\xe2\x80\x94",
         "&euro;&oelig;&Scaron;&ndash;&mdash;");
    HTML("\xe2\x80\x98\xe2\x80\x99\xe2\x80\x9c\xe2\x80\x9d", "&lsquo;&rsquo;&ldquo;&rdquo;");
    HTML("\xe2\x80\xa2\xe2\x80\xa6\xe2\x84\xa2", "&bull;&hellip;&trade;");
    HTML("\xce\xb1\xce\xa9\xcf\x82\xcf\x91\xcf\x92\xcf\x96",
         "&alpha;&Omega;&sigmaf;&thetasym;&upsih;&piv;");
    HTML("\xe2\x88\x80\xe2\x88\x9e\xe2\x89\xa0\xe2\x8c\xa9\xe2\x8c\xaa\xe2\x97\x8a\xe2\x99\xa6",
         "&forall;&infin;&ne;&lang;&rang;&loz;&diams;");
    HTML("\xc6\x92\xcb\x86\xcb\x9c\xe2\x80\xb0\xe2\x84\xb5",
         "&fnof;&circ;&tilde;&permil;&alefsym;");
    /* characters without an HTML 4.01 entity stay raw */
    HTML("\xc4\x81\xe4\xb8\xad\xf0\x9f\x98\x80\x7f", "\xc4\x81\xe4\xb8\xad\xf0\x9f\x98\x80\x7f");
    HTML("\xce\xa2", "\xce\xa2"); /* U+03A2 has no entity */
    /* invalid UTF-8 becomes U+FFFD (ENT_SUBSTITUTE) */
    HTML("a\xe9z", "a\xef\xbf\xbdz");
    HTML("\xe2\x82"
         "a",
         "\xef\xbf\xbd"
         "a");
}

static void test_entity_table(void **state)
{
    uint32_t cp;
    unsigned count = 0;
    (void)state;
    for (cp = 0xA0; cp < 0x10000; cp++)
        count += php_html401_entity(cp) != NULL;
    assert_int_equal(count, 248); /* 252 HTML 4.01 entities minus quot amp lt gt */
    assert_string_equal(php_html401_entity(0xE9), "eacute");
    assert_string_equal(php_html401_entity(0x20AC), "euro");
    assert_string_equal(php_html401_entity(0x2666), "diams");
    assert_null(php_html401_entity(0x9F));
    assert_null(php_html401_entity(0x100));
}

/* ---- digits_only, ucfirst ---- */

static void test_digits_ucfirst(void **state)
{
    (void)state;
    expect_buf(php_digits_only, "+1 (555) 010-9999", 17, "15550109999");
    expect_buf(php_digits_only, "abc", 3, "");
    expect_buf(php_ucfirst, "hello world", 11, "Hello world");
    expect_buf(php_ucfirst, "Hello", 5, "Hello");
    expect_buf(php_ucfirst, "\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9");
    expect_buf(php_ucfirst, "1abc", 4, "1abc");
    expect_buf(php_ucfirst, "", 0, "");
}

static void test_digits_value(void **state)
{
    (void)state;
    int64_t v = -1;
    assert_int_equal(digits_value("0", 1, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(digits_value("120", 3, &v), 0);
    assert_int_equal(v, 120);
    assert_int_equal(digits_value("999999999999999999", 18, &v), 0);
    assert_int_equal(v, 999999999999999999LL);
    assert_int_equal(digits_value("1000000000000000000", 19, &v), -1);
    assert_int_equal(digits_value("", 0, &v), -1);
    assert_int_equal(digits_value("-1", 2, &v), -1);
    assert_int_equal(digits_value(" 1", 2, &v), -1);
    assert_int_equal(digits_value("1e3", 3, &v), -1);
    assert_int_equal(digits_value("12x", 3, &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intval_str),      cmocka_unit_test(test_intval_not_terminated),
        cmocka_unit_test(test_intval_double),   cmocka_unit_test(test_floatval),
        cmocka_unit_test(test_float_to_string), cmocka_unit_test(test_strip_tags_reference),
        cmocka_unit_test(test_strip_tags_more), cmocka_unit_test(test_trim),
        cmocka_unit_test(test_sanitize),        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_next),       cmocka_unit_test(test_utf8_length_prefix),
        cmocka_unit_test(test_cp1252),          cmocka_unit_test(test_htmlentities),
        cmocka_unit_test(test_entity_table),    cmocka_unit_test(test_digits_ucfirst),
        cmocka_unit_test(test_digits_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

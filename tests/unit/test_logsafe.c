/* test_logsafe: unit tests for src/core/logsafe.c (log line escaping). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/logsafe.h"

static void test_controls_are_escaped(void **state)
{
    (void)state;
    char out[256];
    assert_string_equal(log_escape(out, sizeof(out), "/api/v1/x\n10.9.9.9 POST /y 200", 0),
                        "/api/v1/x\\x0a10.9.9.9 POST /y 200");
    assert_string_equal(log_escape(out, sizeof(out), "a\rb\x1b[31mc\x7f\x01\x1f", 0),
                        "a\\x0db\\x1b[31mc\\x7f\\x01\\x1f");
    assert_string_equal(log_escape(out, sizeof(out), "back\\slash", 0), "back\\x5cslash");
    assert_string_equal(log_escape(out, sizeof(out), "tab\there", 0), "tab\\x09here");
}

static void test_space_only_with_the_flag(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(log_escape(out, sizeof(out), "a b", 0), "a b");
    assert_string_equal(log_escape(out, sizeof(out), "a b", LOG_ESC_SPACE), "a\\x20b");
}

static void test_plain_and_utf8_unchanged(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(log_escape(out, sizeof(out), "/api/v1/clients/read.php", 0),
                        "/api/v1/clients/read.php");
    assert_string_equal(log_escape(out, sizeof(out), "M\xc3\xbcller", 0), "M\xc3\xbcller");
    assert_string_equal(log_escape(out, sizeof(out), NULL, 0), "-");
    assert_string_equal(log_escape(out, sizeof(out), "", 0), "");
}

static void test_cut_never_inside_an_escape(void **state)
{
    (void)state;
    char out[6];
    assert_string_equal(log_escape(out, sizeof(out), "abcdefgh", 0), "abcde");
    assert_string_equal(log_escape(out, sizeof(out), "ab\ncd", 0), "ab");
    assert_string_equal(log_escape(out, sizeof(out), "a\nbcd", 0), "a\\x0a");
    char one[1];
    assert_string_equal(log_escape(one, sizeof(one), "abc", 0), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_controls_are_escaped),
        cmocka_unit_test(test_space_only_with_the_flag),
        cmocka_unit_test(test_plain_and_utf8_unchanged),
        cmocka_unit_test(test_cut_never_inside_an_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

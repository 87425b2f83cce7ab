/* test_decimal: exact decimal amounts (engine/decimal.c): parsing, rounding half away from zero,
 * range, products and text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/decimal.h"

static int64_t parse(const char *s, int scale, int *rc)
{
    int64_t v = 0;
    *rc = dec_parse(s, strlen(s), scale, &v);
    return v;
}

static void test_parse(void **state)
{
    (void)state;
    int rc;
    assert_int_equal(parse("12", 2, &rc), 1200);
    assert_int_equal(rc, 0);
    assert_int_equal(parse(" -0.5 ", 2, &rc), -50);
    assert_int_equal(parse("+19.99", 2, &rc), 1999);
    assert_int_equal(parse("1.25e2", 2, &rc), 12500);
    assert_int_equal(parse("125E-2", 2, &rc), 125);
    assert_int_equal(parse(".5", 2, &rc), 50);
    assert_int_equal(parse("5.", 2, &rc), 500);
    assert_int_equal(parse("0.1", 4, &rc), 1000);
    assert_int_equal(parse("9999999999999.99", 2, &rc), 999999999999999LL);
    assert_int_equal(rc, 0);
    /* 0.1 + 0.2 is exactly 0.3 here */
    int64_t a = parse("0.1", 2, &rc), b = parse("0.2", 2, &rc);
    assert_int_equal(a + b, parse("0.3", 2, &rc));
}

static void test_round_half_away_from_zero(void **state)
{
    (void)state;
    int rc;
    assert_int_equal(parse("2.005", 2, &rc), 201);
    assert_int_equal(parse("-2.005", 2, &rc), -201);
    assert_int_equal(parse("2.0049999", 2, &rc), 200);
    assert_int_equal(parse("1.005", 2, &rc), 101); /* a double would give 1.00 */
    assert_int_equal(parse("0.0000001", 2, &rc), 0);
    assert_int_equal(dec_rescale(2995, 3, 2), 300);
    assert_int_equal(dec_rescale(-2995, 3, 2), -300);
    assert_int_equal(dec_rescale(2994, 3, 2), 299);
    assert_int_equal(dec_rescale(12, 2, 4), 1200);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"",   " ",    "abc", "1,50", "1.2.3", "--1",
                                      "1e", "0x10", "1 2", "NaN",  "inf",   "12abc"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc;
        parse(bad[i], 2, &rc);
        assert_int_equal(rc, -1);
    }
    int rc;
    parse("10000000000000", 2, &rc);
    assert_int_equal(rc, -2);
    parse("-1e13", 2, &rc);
    assert_int_equal(rc, -2);
    parse("1e400", 2, &rc);
    assert_int_equal(rc, -2);
    assert_int_equal(parse("1e-400", 2, &rc), 0);
    assert_int_equal(rc, 0);
}

static void test_mul_and_format(void **state)
{
    (void)state;
    int64_t out = 0;
    /* 1.5 x 19.99 = 29.985 -> 29.99 */
    assert_int_equal(dec_mul(150, 2, 1999, 2, 2, &out), 0);
    assert_int_equal(out, 2999);
    assert_int_equal(dec_mul(-150, 2, 1999, 2, 2, &out), 0);
    assert_int_equal(out, -2999);
    assert_int_equal(dec_mul(999999999999999LL, 2, 1000, 2, 2, &out), -2);
    char t[32];
    dec_format(-150, 2, t);
    assert_string_equal(t, "-1.50");
    dec_format(5, 2, t);
    assert_string_equal(t, "0.05");
    dec_format(-5, 2, t);
    assert_string_equal(t, "-0.05");
    dec_format(123, 0, t);
    assert_string_equal(t, "123");
    dec_format(INT64_MIN + 1, 2, t);
    assert_string_equal(t, "-92233720368547758.07");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_round_half_away_from_zero),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_mul_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

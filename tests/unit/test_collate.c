/* test_collate: unit tests for src/core/collate.c (utf8mb4_general_ci emulation, K12). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/collate.h"

static int cmp(const char *a, const char *b)
{
    int r = collate_ci_compare(a, strlen(a), b, strlen(b));
    int back = collate_ci_compare(b, strlen(b), a, strlen(a));
    /* antisymmetric, and always normalised to -1/0/1 */
    assert_true(r >= -1 && r <= 1);
    assert_int_equal(r, -back);
    return r;
}

static void test_case_folding(void **state)
{
    (void)state;
    assert_int_equal(cmp("SALLY@X.COM", "sally@x.com"), 0);
    assert_int_equal(cmp("Globex", "gLOBEX"), 0);
    assert_int_equal(cmp("", ""), 0);
    assert_int_equal(cmp("a", "b"), -1);
    assert_int_equal(cmp("B", "a"), 1);
    assert_int_equal(cmp("abc", "abd"), -1);
    assert_int_equal(cmp("ab", "abc"), -1);
    /* letters weigh as upper case, so [ \ ] ^ _ ` sort after every letter, @ before */
    assert_int_equal(cmp("_", "z"), 1);
    assert_int_equal(cmp("`", "Z"), 1);
    assert_int_equal(cmp("@", "a"), -1);
}

static void test_accents(void **state)
{
    (void)state;
    assert_int_equal(cmp("\xc3\xa9", "E"), 0); /* é = E */
    assert_int_equal(cmp("\xc3\xa9", "e"), 0);
    assert_int_equal(cmp("caf\xc3\xa9", "CAFE"), 0);
    assert_int_equal(cmp("\xc3\x85ngstr\xc3\xb6m", "angstrom"), 0);
    assert_int_equal(cmp("\xc3\x9f", "s"), 0); /* ß = s */
    assert_int_equal(cmp("\xc3\x9f", "ss"), -1);
    assert_int_equal(cmp("\xc3\xbf", "Y"), 0);        /* ÿ */
    assert_int_equal(cmp("\xc3\xa6", "\xc3\x86"), 0); /* æ = Æ, not AE */
    assert_int_equal(cmp("\xc3\xa6", "ae"), 1);
    assert_int_equal(cmp("\xc3\xb8", "o"), 1); /* ø is its own letter */
    assert_int_equal(cmp("\xc3\xb8", "\xc3\x98"), 0);
    assert_int_equal(cmp("\xc2\xb5", "\xce\xbc"), 0); /* micro sign = Greek mu */
    assert_int_equal(cmp("\xc3\x97", "x"), 1);        /* × is not a letter */
    /* Latin Extended-A */
    assert_int_equal(cmp("\xc5\xa0koda", "skoda"), 0); /* Š */
    assert_int_equal(cmp("\xc5\x81\xc3\xb3"
                         "d\xc5\xba",
                         "\xc5\x82odz"),
                     0); /* Ł = ł, not L */
    assert_int_equal(cmp("\xc5\x81", "L"), 1);
    assert_int_equal(cmp("\xc4\x8d", "C"), 0);        /* č */
    assert_int_equal(cmp("\xc5\x93", "\xc5\x92"), 0); /* œ = Œ */
    assert_int_equal(cmp("\xc5\xbf", "s"), 0);        /* long s */
    assert_int_equal(cmp("\xc4\xb1", "I"), 0);        /* dotless i */
    /* other scripts of the table */
    assert_int_equal(cmp("\xd0\xb0\xd0\xb1\xd0\xb2", "\xd0\x90\xd0\x91\xd0\x92"), 0);
    assert_int_equal(cmp("\xd1\x91", "\xd0\x95"), 0);         /* ё = Е */
    assert_int_equal(cmp("\xce\xac", "\xce\x91"), 0);         /* ά = Α */
    assert_int_equal(cmp("\xe1\xba\xa1", "a"), 0);            /* ạ */
    assert_int_equal(cmp("\xef\xbd\x81", "\xef\xbc\xa1"), 0); /* fullwidth a = A */
    assert_int_equal(cmp("\xef\xbd\x81", "a"), 1);
}

static void test_pad_space(void **state)
{
    (void)state;
    assert_int_equal(cmp("abc  ", "abc"), 0);
    assert_int_equal(cmp("abc", "ABC "), 0);
    assert_int_equal(cmp("", "   "), 0);
    assert_int_equal(cmp(" abc", "abc"), -1);  /* leading spaces count */
    assert_int_equal(cmp("abc\t", "abc"), -1); /* tab sorts below the padding space */
    assert_int_equal(cmp("abc\n", "abc "), -1);
    assert_int_equal(cmp("abc!", "abc"), 1);
    assert_int_equal(cmp("abc \xc3\xa9", "abc"), 1);
}

static void test_supplementary_and_invalid(void **state)
{
    (void)state;
    /* every supplementary character weighs U+FFFD */
    assert_int_equal(cmp("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x81"), 0);
    assert_int_equal(cmp("\xf0\x9f\x98\x80", "\xef\xbf\xbd"), 0);
    assert_int_equal(cmp("\xf0\x9f\x98\x80", "\xef\xbf\xbf"), -1);
    assert_int_equal(cmp("\xf0\x9f\x98\x80", "z"), 1);
    /* invalid bytes sort after every character, by byte value */
    assert_int_equal(cmp("\xff", "\xef\xbf\xbf"), 1);
    assert_int_equal(cmp("\x80", "\x81"), -1);
    assert_int_equal(cmp("a\xe9", "A\xe9"), 0);
    assert_int_equal(cmp("a\xe9", "a\xc3\xa9"), 1);
    assert_int_equal(cmp("\xc3", "\xc3"), 0);
    assert_int_equal(cmp("\xe2\x82", "\xe2\x82"), 0);
    assert_int_equal(cmp("\xc0\x80", "\xc1\x80"), -1); /* overlongs are bad bytes */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_folding),
        cmocka_unit_test(test_accents),
        cmocka_unit_test(test_pad_space),
        cmocka_unit_test(test_supplementary_and_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

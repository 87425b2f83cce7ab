/* test_throttle: failed-authentication throttling (src/auth/throttle.c, COMPAT A6) — the window
 * slides (failures on both sides of any boundary add up), an IPv6 /64 counts as one address and
 * an IPv4-mapped address as its IPv4 address, and a block lifts once the failures are older than
 * the window. Time is given explicitly (milliseconds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "auth/throttle.h"

#define S 1000                    /* ms */
#define T0 (1000000 * (int64_t)S) /* an arbitrary start, well inside the clock's range */

static int setup(void **state)
{
    (void)state;
    throttle_configure(5, 60); /* 5 failures within 60 s */
    return 0;
}

static void fail_n(const char *ip, int n, int64_t at)
{
    for (int i = 0; i < n; i++)
        throttle_failure_at(ip, at);
}

/* 3 failures late in one minute and 2 early in the next: 5 within 60 s, blocked. A fixed window
 * starting at T0 would have counted 2 in the second minute. */
static void test_failures_across_a_boundary_add_up(void **state)
{
    (void)state;
    const char *ip = "192.0.2.10";
    fail_n(ip, 3, T0 + 50 * S);
    assert_int_equal(throttle_blocked_at(ip, T0 + 50 * S), 0);
    assert_int_equal(throttle_failure_at(ip, T0 + 62 * S), 0);
    assert_int_equal(throttle_failure_at(ip, T0 + 64 * S), 1); /* the 5th blocks */
    unsigned wait = throttle_blocked_at(ip, T0 + 65 * S);
    /* until the 3 failures of T0+50s leave the window (about T0+110s; a bucket is 3.75 s) */
    assert_in_range(wait, 40, 46);
    assert_int_not_equal(throttle_blocked_at(ip, T0 + 100 * S), 0);
    /* then the 2 later ones still count, below the limit: not blocked */
    assert_int_equal(throttle_blocked_at(ip, T0 + 111 * S), 0);
    /* and 3 more within their window block again */
    fail_n(ip, 2, T0 + 112 * S);
    assert_int_equal(throttle_blocked_at(ip, T0 + 112 * S), 0);
    assert_int_equal(throttle_failure_at(ip, T0 + 113 * S), 1);
    assert_int_not_equal(throttle_blocked_at(ip, T0 + 113 * S), 0);
}

static void test_block_lifts_after_the_window(void **state)
{
    (void)state;
    const char *ip = "198.51.100.7";
    fail_n(ip, 5, T0);
    unsigned wait = throttle_blocked_at(ip, T0 + 1 * S);
    assert_in_range(wait, 56, 60);
    assert_int_not_equal(throttle_blocked_at(ip, T0 + 55 * S), 0);
    assert_int_equal(throttle_blocked_at(ip, T0 + 61 * S), 0);
    /* old failures are gone: one more does not block */
    assert_int_equal(throttle_failure_at(ip, T0 + 61 * S), 0);
    assert_int_equal(throttle_blocked_at(ip, T0 + 61 * S), 0);
}

/* A lone failure, then 4 more 50 s later and 2 after the minute since the first: the last 5 are
 * within 60 s. A window fixed at the first failure would start again at T0+60s and count 2. */
static void test_failures_spread_over_the_window_still_block(void **state)
{
    (void)state;
    const char *ip = "203.0.113.5";
    throttle_failure_at(ip, T0);
    fail_n(ip, 3, T0 + 50 * S);
    assert_int_equal(throttle_failure_at(ip, T0 + 62 * S), 0);
    assert_int_equal(throttle_blocked_at(ip, T0 + 62 * S), 0);
    assert_int_equal(throttle_failure_at(ip, T0 + 65 * S), 1);
    assert_int_not_equal(throttle_blocked_at(ip, T0 + 66 * S), 0);
}

static void test_ipv6_counts_per_64(void **state)
{
    (void)state;
    /* five addresses of one /64 share one count */
    const char *same[] = {"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9",
                          "2001:db8:1:2:abcd:ef01:2345:6789", "2001:0db8:0001:0002::77"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(throttle_failure_at(same[i], T0), 0);
    assert_int_equal(throttle_blocked_at("2001:db8:1:2::99", T0), 0);
    assert_int_equal(throttle_failure_at(same[4], T0), 1);
    assert_int_not_equal(throttle_blocked_at("2001:db8:1:2::1234", T0), 0);
    /* the neighbouring /64s are not blocked */
    assert_int_equal(throttle_blocked_at("2001:db8:1:3::1", T0), 0);
    assert_int_equal(throttle_blocked_at("2001:db8:1:1::1", T0), 0);
    /* and keep their own counts */
    fail_n("2001:db8:1:3::1", 4, T0);
    assert_int_equal(throttle_blocked_at("2001:db8:1:3::2", T0), 0);
}

static void test_ipv4_alone_and_mapped(void **state)
{
    (void)state;
    fail_n("10.0.0.1", 4, T0);
    /* a neighbour in the same /24 is another address */
    fail_n("10.0.0.2", 4, T0);
    assert_int_equal(throttle_blocked_at("10.0.0.1", T0), 0);
    assert_int_equal(throttle_blocked_at("10.0.0.2", T0), 0);
    /* the same address arriving IPv4-mapped on an IPv6 socket is the same address */
    assert_int_equal(throttle_failure_at("::ffff:10.0.0.1", T0), 1);
    assert_int_not_equal(throttle_blocked_at("10.0.0.1", T0), 0);
    assert_int_not_equal(throttle_blocked_at("::ffff:10.0.0.1", T0), 0);
    assert_int_equal(throttle_blocked_at("10.0.0.2", T0), 0);
}

static void test_limit_0_disables(void **state)
{
    (void)state;
    throttle_configure(0, 60);
    fail_n("192.0.2.99", 100, T0);
    assert_int_equal(throttle_blocked_at("192.0.2.99", T0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_failures_across_a_boundary_add_up, setup),
        cmocka_unit_test_setup(test_block_lifts_after_the_window, setup),
        cmocka_unit_test_setup(test_failures_spread_over_the_window_still_block, setup),
        cmocka_unit_test_setup(test_ipv6_counts_per_64, setup),
        cmocka_unit_test_setup(test_ipv4_alone_and_mapped, setup),
        cmocka_unit_test_setup(test_limit_0_disables, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

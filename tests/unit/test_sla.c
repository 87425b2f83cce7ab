/* test_sla: the business-hours arithmetic of ticket SLAs (modules/sla.c): adding business minutes
 * and counting them between two times, over weekends, before and after the daily window, across
 * several days, with an unusable calendar (24x7) and with 0 minutes; the UTC time texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "modules/sla.h"

static int64_t at(const char *s)
{
    int64_t t = 0;
    assert_int_equal(sla_parse_time(s, strlen(s), &t), 0);
    return t;
}

static void assert_time(int64_t t, const char *want)
{
    char got[20];
    sla_format_time(t, got);
    assert_string_equal(got, want);
}

/* Monday to Friday, 09:00 to 17:00 */
static struct sla_calendar office(void)
{
    struct sla_calendar c;
    sla_calendar_init(&c, "1,2,3,4,5", "09:00:00", "17:00:00");
    assert_false(c.all_hours);
    return c;
}

static void test_time_texts(void **state)
{
    (void)state;
    assert_time(at("1970-01-01 00:00:00"), "1970-01-01 00:00:00");
    assert_int_equal(at("1970-01-02 00:00:01"), 86401);
    assert_time(at("2024-02-29 12:34:56"), "2024-02-29 12:34:56");
    assert_time(at("2026-12-31 23:59:59") + 1, "2027-01-01 00:00:00");
    assert_time(at("2026-11-27"), "2026-11-27 00:00:00");
    assert_time(at("2026-11-27T08:05"), "2026-11-27 08:05:00");
    int64_t t;
    assert_int_equal(sla_parse_time("2026-13-01 00:00:00", 19, &t), -1);
    assert_int_equal(sla_parse_time("2026-11-27 25:00:00", 19, &t), -1);
    assert_int_equal(sla_parse_time("yesterday", 9, &t), -1);
    assert_int_equal(sla_parse_time("", 0, &t), -1);
}

static void test_zero_minutes(void **state)
{
    (void)state;
    struct sla_calendar c = office();
    /* even outside the window: the start itself */
    assert_time(sla_add_business_minutes(&c, at("2026-11-28 22:15:00"), 0), "2026-11-28 22:15:00");
    assert_time(sla_add_business_minutes(&c, at("2026-11-30 10:00:00"), -5), "2026-11-30 10:00:00");
    assert_int_equal(
        sla_business_minutes_between(&c, at("2026-11-30 10:00:00"), at("2026-11-30 10:00:00")), 0);
    assert_int_equal(
        sla_business_minutes_between(&c, at("2026-11-30 11:00:00"), at("2026-11-30 10:00:00")), 0);
    assert_int_equal(
        sla_business_minutes_between(&c, at("2026-11-30 10:00:00"), at("2026-11-30 10:00:59")), 0);
}

static void test_within_a_day(void **state)
{
    (void)state;
    struct sla_calendar c = office();
    assert_time(sla_add_business_minutes(&c, at("2026-11-30 10:00:00"), 90), "2026-11-30 11:30:00");
    /* the window's end is still inside it */
    assert_time(sla_add_business_minutes(&c, at("2026-11-30 09:00:00"), 480),
                "2026-11-30 17:00:00");
    assert_int_equal(
        sla_business_minutes_between(&c, at("2026-11-30 10:00:00"), at("2026-11-30 11:30:30")), 90);
}

static void test_before_and_after_the_window(void **state)
{
    (void)state;
    struct sla_calendar c = office();
    /* before: starts at 09:00 */
    assert_time(sla_add_business_minutes(&c, at("2026-11-30 07:00:00"), 60), "2026-11-30 10:00:00");
    /* after: the next business morning */
    assert_time(sla_add_business_minutes(&c, at("2026-11-30 18:00:00"), 60), "2026-12-01 10:00:00");
    /* what is left of the day, then the next morning */
    assert_time(sla_add_business_minutes(&c, at("2026-11-30 16:30:00"), 60), "2026-12-01 09:30:00");
    assert_int_equal(
        sla_business_minutes_between(&c, at("2026-11-30 07:00:00"), at("2026-11-30 18:00:00")),
        480);
    assert_int_equal(
        sla_business_minutes_between(&c, at("2026-11-30 17:00:00"), at("2026-12-01 09:00:00")), 0);
    assert_int_equal(
        sla_business_minutes_between(&c, at("2026-11-30 16:30:00"), at("2026-12-01 09:30:00")), 60);
}

static void test_weekends(void **state)
{
    (void)state;
    struct sla_calendar c = office();
    /* 2026-11-27 is a Friday */
    assert_time(sla_add_business_minutes(&c, at("2026-11-27 16:00:00"), 120),
                "2026-11-30 10:00:00");
    /* from a Saturday: Monday morning */
    assert_time(sla_add_business_minutes(&c, at("2026-11-28 10:00:00"), 30), "2026-11-30 09:30:00");
    assert_int_equal(
        sla_business_minutes_between(&c, at("2026-11-27 16:00:00"), at("2026-11-30 10:00:00")),
        120);
    assert_int_equal(
        sla_business_minutes_between(&c, at("2026-11-28 00:00:00"), at("2026-11-29 23:59:59")), 0);
    /* a Sunday-only calendar (ISO 7) */
    struct sla_calendar sun;
    sla_calendar_init(&sun, "7", "10:00", "12:00");
    assert_false(sun.all_hours);
    assert_time(sla_add_business_minutes(&sun, at("2026-11-28 11:00:00"), 150),
                "2026-12-06 10:30:00");
}

static void test_several_days(void **state)
{
    (void)state;
    struct sla_calendar c = office();
    /* three full days and 30 minutes: Monday 09:00 to Thursday 09:30 */
    assert_time(sla_add_business_minutes(&c, at("2026-11-30 09:00:00"), 3 * 480 + 30),
                "2026-12-03 09:30:00");
    assert_int_equal(
        sla_business_minutes_between(&c, at("2026-11-30 09:00:00"), at("2026-12-03 09:30:00")),
        3 * 480 + 30);
    /* over a weekend: Friday 16:00 plus 600 minutes is Tuesday 10:00 */
    assert_time(sla_add_business_minutes(&c, at("2026-11-27 16:00:00"), 600),
                "2026-12-01 10:00:00");
    /* two weeks of business time: 10 days later, the same hour */
    assert_time(sla_add_business_minutes(&c, at("2026-11-30 12:00:00"), 10 * 480),
                "2026-12-14 12:00:00");
    assert_int_equal(
        sla_business_minutes_between(&c, at("2026-11-30 12:00:00"), at("2026-12-14 12:00:00")),
        10 * 480);
    /* days given with spaces and out of order */
    struct sla_calendar d;
    sla_calendar_init(&d, "5, 1,3", "09:00:00", "17:00:00");
    assert_false(d.all_hours);
    assert_time(sla_add_business_minutes(&d, at("2026-11-30 16:00:00"), 120),
                "2026-12-02 10:00:00");
}

static void test_unusable_calendar_is_24x7(void **state)
{
    (void)state;
    static const char *const bad[][3] = {
        {"", "09:00:00", "17:00:00"},          /* no business day */
        {"0,8,x", "09:00:00", "17:00:00"},     /* no valid day */
        {"1,2,3,4,5", "17:00:00", "09:00:00"}, /* start after the end */
        {"1,2,3,4,5", "09:00:00", "09:00:00"}, /* empty window */
        {"1,2,3,4,5", "", "17:00:00"},         /* no start */
        {"1,2,3,4,5", "9am", "17:00:00"},      /* unreadable */
        {NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sla_calendar c;
        sla_calendar_init(&c, bad[i][0], bad[i][1], bad[i][2]);
        assert_true(c.all_hours);
        /* a Saturday night counts like any other time */
        assert_time(sla_add_business_minutes(&c, at("2026-11-28 23:30:00"), 90),
                    "2026-11-29 01:00:00");
        assert_int_equal(
            sla_business_minutes_between(&c, at("2026-11-28 23:30:00"), at("2026-11-29 01:00:59")),
            90);
        assert_time(sla_add_business_minutes(&c, at("2026-11-28 23:30:00"), 0),
                    "2026-11-28 23:30:00");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_texts),
        cmocka_unit_test(test_zero_minutes),
        cmocka_unit_test(test_within_a_day),
        cmocka_unit_test(test_before_and_after_the_window),
        cmocka_unit_test(test_weekends),
        cmocka_unit_test(test_several_days),
        cmocka_unit_test(test_unusable_calendar_is_24x7),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_render: unit tests for src/engine/render.c — stored values as MariaDB renders them (K3),
 * with the real schema columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db/schema.h"
#include "engine/engine_int.h"

#define LEN(lit) (sizeof(lit) - 1)

static const struct schema_column *column(const char *table, const char *name)
{
    const struct schema_table *t = schema_table(table);
    assert_non_null(t);
    const struct schema_column *c = schema_column(t, name);
    assert_non_null(c);
    return c;
}

static void expect_render(const struct schema_column *c, const char *in, size_t n, const char *want)
{
    struct buf b;
    buf_init(&b, 0);
    buf_putc(&b, '[');
    assert_int_equal(render_column(&b, c, in, n), 0);
    assert_false(b.failed);
    if (b.len != 1 + strlen(want) || memcmp(b.p + 1, want, strlen(want)) != 0)
        fail_msg("render of \"%.*s\": got %s, want %s", (int)n, in ? in : "(null)", b.p + 1, want);
    buf_free(&b);
}

#define RENDER(c, lit, want) expect_render(c, lit, LEN(lit), want)

static void expect_canonical(const struct schema_column *c, const char *in, const char *want)
{
    struct buf b;
    buf_init(&b, 0);
    render_canonical(&b, c, in, strlen(in));
    assert_false(b.failed);
    if (b.len != strlen(want) || (b.len && memcmp(b.p, want, b.len) != 0))
        fail_msg("canonical of \"%s\": got \"%s\", want \"%s\"", in, b.p ? b.p : "", want);
    buf_free(&b);
}

static void test_decimal_scale(void **state)
{
    (void)state;
    const struct schema_column *rate = column("clients", "client_rate");
    assert_int_equal(rate->type, COL_DECIMAL);
    assert_int_equal(rate->scale, 2);
    RENDER(rate, "125.5", "\"125.50\"");
    RENDER(rate, "100", "\"100.00\"");
    RENDER(rate, "12.345", "\"12.35\"");
    RENDER(rate, "-0.001", "\"0.00\"");
    RENDER(rate, "99.995", "\"100.00\"");
    RENDER(rate, "0", "\"0.00\"");
    RENDER(rate, "0.0", "\"0.00\"");
    RENDER(rate, "125.50", "\"125.50\"");
    RENDER(rate, "1.005", "\"1.01\""); /* decimal text, not a binary double */
    RENDER(rate, "12.344", "\"12.34\"");
    RENDER(rate, "-12.345", "\"-12.35\""); /* half away from zero */
    RENDER(rate, "-12.344", "\"-12.34\"");
    RENDER(rate, "-0.005", "\"-0.01\"");
    RENDER(rate, "-0", "\"0.00\"");
    RENDER(rate, "+5", "\"5.00\"");
    RENDER(rate, ".5", "\"0.50\"");
    RENDER(rate, "5.", "\"5.00\"");
    RENDER(rate, "0012.3", "\"12.30\"");
    RENDER(rate, "9.995", "\"10.00\"");
    RENDER(rate, "19.995", "\"20.00\"");
    RENDER(rate, "-99.995", "\"-100.00\"");
    RENDER(rate, "9999999999999.99", "\"9999999999999.99\"");
    RENDER(rate, "9999999999999.995", "\"10000000000000.00\"");
    /* already in the store's own form (the fast path) or only close to it */
    RENDER(rate, "0.05", "\"0.05\"");
    RENDER(rate, "-3.10", "\"-3.10\"");
    RENDER(rate, "-0.00", "\"0.00\"");
    RENDER(rate, "00.50", "\"0.50\"");
    RENDER(rate, "-00.50", "\"-0.50\"");
    RENDER(rate, "07.25", "\"7.25\"");
    RENDER(rate, "1.2x", "\"1.2x\"");
    RENDER(rate, "-.25", "\"-0.25\"");
    /* the other decimal columns render the same way */
    RENDER(column("invoices", "invoice_amount"), "42", "\"42.00\"");
    RENDER(column("payments", "payment_amount"), "0.1", "\"0.10\"");
    RENDER(column("invoice_items", "item_quantity"), "2.5", "\"2.50\"");
}

static void test_decimal_not_numeric(void **state)
{
    (void)state;
    const struct schema_column *rate = column("clients", "client_rate");
    /* text that is not a plain decimal number is passed through unchanged */
    RENDER(rate, "abc", "\"abc\"");
    RENDER(rate, "", "\"\"");
    RENDER(rate, "-", "\"-\"");
    RENDER(rate, ".", "\".\"");
    RENDER(rate, "1e5", "\"1e5\"");
    RENDER(rate, "1.2.3", "\"1.2.3\"");
}

static void test_null(void **state)
{
    (void)state;
    expect_render(column("clients", "client_rate"), NULL, 0, "null");
    expect_render(column("clients", "client_name"), NULL, 0, "null");
    expect_render(column("clients", "client_updated_at"), NULL, 0, "null");
    expect_render(column("clients", "client_id"), NULL, 0, "null");
    expect_render(NULL, NULL, 0, "null");
}

static void test_strings(void **state)
{
    (void)state;
    const struct schema_column *name = column("clients", "client_name");
    assert_int_equal(name->type, COL_VARCHAR);
    RENDER(name, "a/\xc3\xa9", "\"a\\/\\u00e9\"");
    RENDER(name, "Acme Corp", "\"Acme Corp\"");
    RENDER(name, "say \"hi\"\n", "\"say \\\"hi\\\"\\n\"");
    RENDER(name, "", "\"\"");
    RENDER(name, "\xf0\x9f\x98\x80", "\"\\ud83d\\ude00\"");
    /* integers, dates and datetimes are strings as MariaDB's text protocol gives them */
    RENDER(column("clients", "client_id"), "1", "\"1\"");
    RENDER(column("clients", "client_net_terms"), "30", "\"30\"");
    RENDER(column("clients", "client_created_at"), "2026-11-28 12:51:42",
           "\"2026-11-28 12:51:42\"");
    RENDER(column("assets", "asset_purchase_date"), "2025-01-15", "\"2025-01-15\"");
    /* no column: a plain string */
    RENDER(NULL, "12.3", "\"12.3\"");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    const struct schema_column *name = column("clients", "client_name");
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "x");
    assert_int_equal(render_column(&b, name, "a\xff", 2), -1);
    assert_string_equal(b.p, "x"); /* left as it was */
    buf_free(&b);
}

static void test_canonical(void **state)
{
    (void)state;
    const struct schema_column *rate = column("clients", "client_rate");
    expect_canonical(rate, "125.5", "125.50");
    expect_canonical(rate, "12.345", "12.35");
    expect_canonical(rate, "-0.001", "0.00");
    expect_canonical(rate, "99.995", "100.00");
    expect_canonical(rate, "abc", "abc");
    /* other types: the stored text as is (no JSON quoting or escaping) */
    expect_canonical(column("clients", "client_name"), "a/\xc3\xa9", "a/\xc3\xa9");
    expect_canonical(column("clients", "client_net_terms"), "007", "007");
    expect_canonical(NULL, "x", "x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_scale), cmocka_unit_test(test_decimal_not_numeric),
        cmocka_unit_test(test_null),          cmocka_unit_test(test_strings),
        cmocka_unit_test(test_invalid_utf8),  cmocka_unit_test(test_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

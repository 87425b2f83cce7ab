/* test_values: unit tests for src/engine/values.c — the plaintext limit of encrypted fields
 * (CV_SECRET), checked against what crypto_field_encrypt really produces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "db/schema.h"
#include "engine/engine_int.h"

static const struct schema_column *column(const char *table, const char *name)
{
    const struct schema_table *t = schema_table(table);
    assert_non_null(t);
    const struct schema_column *c = schema_column(t, name);
    assert_non_null(c);
    return c;
}

/* The limit is the largest plaintext whose stored form fits the column: every length up to it
 * fits, the next one does not. */
static void check_limit(const struct schema_column *c, size_t want)
{
    static const char master[] = "0123456789abcdef";
    char pt[1024];
    memset(pt, 'x', sizeof(pt));
    size_t max = value_secret_max(c);
    assert_int_equal(max, want);
    for (size_t n = 0; n <= max + 1; n++) {
        struct buf b;
        buf_init(&b, 0);
        assert_int_equal(crypto_field_encrypt(master, pt, n, &b), 0);
        if (n <= max)
            assert_true(b.len <= c->max_len);
        else
            assert_true(b.len > c->max_len);
        buf_free(&b);
    }
}

static void test_password_limit(void **state)
{
    (void)state;
    check_limit(column("credentials", "credential_password"), 127); /* varbinary(200) */
}

static void test_username_limit(void **state)
{
    (void)state;
    check_limit(column("credentials", "credential_username"), 351); /* varchar(500) */
}

static void test_tiny_column(void **state)
{
    (void)state;
    struct schema_column c = {0};
    c.max_len = 16 + 23; /* not even an empty plaintext's 16 + 24 characters fit */
    assert_int_equal(value_secret_max(&c), 0);
    assert_int_equal(value_secret_max(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_limit),
        cmocka_unit_test(test_username_limit),
        cmocka_unit_test(test_tiny_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

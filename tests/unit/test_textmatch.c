/* test_textmatch: the indexed K12 comparison finds exactly the rows the plain ITF_CI comparison
 * finds (for every value it is used with), and the SQLite planner really uses the indexes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "modules/registry.h"
#include "db/db.h"
#include "engine/engine_int.h"

static const char *const stored[] = {
    "alice@acme.example",
    "ALICE@ACME.EXAMPLE",
    "Alice@Acme.Example  ",
    "alice@acme.example\t",
    "josé@acme.example",
    "JOSE@acme.example",
    "jose@acme.example",
    "ÉCOLE",
    "ecole",
    "Straße",
    "strase",
    "",
    "  alice@acme.example",
    "a",
    "A ",
    "b",
};

static const char *const queries[] = {
    "alice@acme.example",
    "ALICE@acme.EXAMPLE ",
    "jose@acme.example",
    "josé@ACME.example",
    "ecole",
    "École",
    "strasse",
    "STRASE",
    "",
    " ",
    "a",
    "A  ",
    "b",
    "nobody",
    "alice@acme.example\t",
};

static char path[64];

static int setup(void **state)
{
    snprintf(path, sizeof(path), "/tmp/itfd-textmatch-%d.db", (int)getpid());
    unlink(path);
    struct db *db = NULL;
    if (db_open_create(path, &db) != DB_OK || db_create_schema(db) != DB_OK)
        return -1;
    char err[256];
    if (module_registry_init(err, sizeof(err)) != 0)
        return -1;
    struct buf ddl;
    buf_init(&ddl, 0);
    engine_index_ddl(DB_SQLITE, &ddl);
    enum db_rc rc = db_exec(db, ddl.p);
    buf_free(&ddl);
    if (rc != DB_OK)
        return -1;
    for (size_t i = 0; i < sizeof(stored) / sizeof(stored[0]); i++) {
        struct db_stmt *st;
        if (db_stmt(db,
                    "INSERT INTO contacts (contact_name, contact_email, contact_client_id) "
                    "VALUES ('n', ?, 1)",
                    &st) != DB_OK)
            return -1;
        db_bind_text(st, 1, stored[i], strlen(stored[i]));
        if (db_step(st) != DB_DONE)
            return -1;
        db_reset(st);
    }
    *state = db;
    return 0;
}

static int teardown(void **state)
{
    db_close(*state);
    unlink(path);
    char p[80];
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
    return 0;
}

/* The ids matching q as a bit set, with the indexed or the plain form. */
static uint64_t matches(struct db *db, const char *q, int indexed)
{
    struct buf sql;
    buf_init(&sql, 0);
    buf_puts(&sql, "SELECT contact_id FROM contacts WHERE ");
    int n = sql_text_eq(&sql, DB_SQLITE, "contacts", "contact_email", indexed);
    struct db_stmt *st;
    assert_int_equal(db_stmt(db, sql.p, &st), DB_OK);
    buf_free(&sql);
    for (int i = 1; i <= n; i++)
        db_bind_text(st, i, q, strlen(q));
    uint64_t set = 0;
    while (db_step(st) == DB_ROW)
        set |= 1ull << db_column_int(st, 0);
    db_reset(st);
    return set;
}

static void test_indexed_form_is_exact(void **state)
{
    struct db *db = *state;
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        const char *q = queries[i];
        uint64_t plain = matches(db, q, 0);
        if (text_indexable(q, strlen(q)))
            assert_int_equal(matches(db, q, 1), plain);
    }
    /* and the semantics themselves (K12): case, trailing spaces, accents */
    assert_int_equal(matches(db, "alice@acme.example", 0), (1u << 1) | (1u << 2) | (1u << 3));
    assert_int_equal(matches(db, "jose@acme.example", 1), (1u << 5) | (1u << 6) | (1u << 7));
    assert_int_equal(matches(db, "ecole", 1), (1u << 8) | (1u << 9));
}

static void test_indexable(void **state)
{
    (void)state;
    assert_true(text_indexable("alice@acme.example ", 19));
    assert_true(text_indexable("a\tb", 3));
    assert_false(text_indexable("josé", strlen("josé")));
    assert_false(text_indexable("a\nb", 3));
}

static void test_planner_uses_the_indexes(void **state)
{
    struct db *db = *state;
    struct buf sql;
    buf_init(&sql, 0);
    buf_puts(&sql, "EXPLAIN QUERY PLAN SELECT contact_id FROM contacts WHERE ");
    sql_text_eq(&sql, DB_SQLITE, "contacts", "contact_email", 1);
    struct db_stmt *st;
    assert_int_equal(db_stmt(db, sql.p, &st), DB_OK);
    buf_free(&sql);
    db_bind_text(st, 1, "x", 1);
    db_bind_text(st, 2, "x", 1);
    int ci = 0, nonascii = 0;
    while (db_step(st) == DB_ROW) {
        size_t n;
        const char *detail = db_column_text(st, 3, &n);
        ci |= detail && strstr(detail, "itfd_contacts_contact_email_ci") != NULL;
        nonascii |= detail && strstr(detail, "itfd_contacts_contact_email_nonascii") != NULL;
    }
    db_reset(st);
    assert_true(ci);
    assert_true(nonascii);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indexed_form_is_exact),
        cmocka_unit_test(test_indexable),
        cmocka_unit_test(test_planner_uses_the_indexes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

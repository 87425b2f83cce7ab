/* test_sqlmemo: the statement memo's key (engine/sqlmemo.h). Two keys that differ in any one
 * field (module, filter or endpoint, shape, flag bits, dialect) are two entries; equal keys are
 * one, whose text engine_stmt builds once and then only finds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/db.h"
#include "engine/hook.h"
#include "engine/sqlmemo.h"
#include "testfiles.h"

/* Only their addresses matter to the memo. */
static struct module mod_a, mod_b, mod_c, mod_d;
static struct filter filter_a, filter_b, filter_c, filter_d;

/* The base key and, per field, a key differing from it in that field only. */
static void keys_of(const struct module *m, const struct module *m2, const struct filter *w,
                    const struct filter *w2, struct sql_key *base, struct sql_key other[5])
{
    *base = (struct sql_key){m, w, SHAPE_READ_ROWS, SQL_JOIN, DB_SQLITE};
    for (int i = 0; i < 5; i++)
        other[i] = *base;
    other[0].mod = m2;
    other[1].which = w2;
    other[2].shape = SHAPE_READ_COUNT;
    other[3].bits = SQL_JOIN | SQL_INDEXED;
    other[4].dialect = DB_MARIADB;
}

static void test_keys_differing_in_one_field_are_apart(void **state)
{
    (void)state;
    struct sql_key base, other[5];
    keys_of(&mod_a, &mod_b, &filter_a, &filter_b, &base, other);
    assert_null(sqlmemo_find(&base));
    const char *s = sqlmemo_add(&base, "SELECT 'base'");
    assert_non_null(s);
    assert_string_equal(s, "SELECT 'base'");
    for (int i = 0; i < 5; i++) {
        assert_null(sqlmemo_find(&other[i]));
        char text[32];
        snprintf(text, sizeof(text), "SELECT 'other %d'", i);
        const char *o = sqlmemo_add(&other[i], text);
        assert_non_null(o);
        assert_string_equal(o, text);
        assert_ptr_equal(sqlmemo_find(&other[i]), o);
        /* the base entry is untouched */
        assert_ptr_equal(sqlmemo_find(&base), s);
    }
    /* an equal key built apart finds the same text; a second add keeps the first text */
    struct sql_key same = {&mod_a, &filter_a, SHAPE_READ_ROWS, SQL_JOIN, DB_SQLITE};
    assert_ptr_equal(sqlmemo_find(&same), s);
    assert_ptr_equal(sqlmemo_add(&same, "SELECT 'later'"), s);
}

struct fixture {
    char dir[64];
    char path[96];
    struct db *db;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/itflowd_test_sqlmemo.XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof(fx->path), "%s/itflow.db", fx->dir);
    if (db_open_create(fx->path, &fx->db) != DB_OK) {
        rmdir(fx->dir);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    db_close(fx->db);
    test_remove_db_files(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static int builds;

/* A different text on every call: a text found again was not built again. */
static void build_counted(struct op_ctx *ctx, struct buf *out, const void *arg)
{
    (void)ctx;
    (void)arg;
    buf_printf(out, "SELECT %d", ++builds);
}

static int64_t run(struct db_stmt *st)
{
    int64_t v = -1;
    assert_int_equal(db_query_int(st, &v), DB_ROW);
    return v;
}

static void test_engine_stmt_builds_once_per_key(void **state)
{
    struct fixture *fx = *state;
    struct op_ctx ctx = {.db = fx->db};
    struct sql_key base, other[5];
    keys_of(&mod_c, &mod_d, &filter_c, &filter_d, &base, other);
    builds = 0;
    struct db_stmt *st;
    assert_int_equal(
        engine_stmt(&ctx, base.mod, base.which, base.shape, base.bits, build_counted, NULL, &st),
        ENG_OK);
    assert_int_equal(builds, 1);
    assert_int_equal(run(st), 1);
    /* the same key again: found, not built; the same text */
    for (int k = 0; k < 3; k++) {
        assert_int_equal(engine_stmt(&ctx, &mod_c, &filter_c, SHAPE_READ_ROWS, SQL_JOIN,
                                     build_counted, NULL, &st),
                         ENG_OK);
        assert_int_equal(builds, 1);
        assert_int_equal(run(st), 1);
    }
    /* each key differing in one field (the dialect is the connection's: SQLite here, the
     * dialect is covered by the memo test above) is built once, then found */
    for (int i = 0; i < 4; i++) {
        const struct sql_key *o = &other[i];
        for (int k = 0; k < 2; k++) {
            assert_int_equal(
                engine_stmt(&ctx, o->mod, o->which, o->shape, o->bits, build_counted, NULL, &st),
                ENG_OK);
            assert_int_equal(builds, 2 + i);
            assert_int_equal(run(st), 2 + i);
        }
    }
    assert_int_equal(
        engine_stmt(&ctx, base.mod, base.which, base.shape, base.bits, build_counted, NULL, &st),
        ENG_OK);
    assert_int_equal(builds, 5);
    assert_int_equal(run(st), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_differing_in_one_field_are_apart),
        cmocka_unit_test_setup_teardown(test_engine_stmt_builds_once_per_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

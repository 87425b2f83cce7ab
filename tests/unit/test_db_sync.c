/* test_db_sync: the SQLite connections' durability (serve --sync): synchronous=FULL (2) unless
 * DB_SYNC_NORMAL (1) was chosen; read back from the connection the db layer opened. */
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

static char dir[64], path[96];

static int64_t synchronous_of_a_new_connection(void)
{
    struct db *db = NULL;
    assert_int_equal(db_open_create(path, &db), DB_OK);
    struct db_stmt *st;
    int64_t v = -1;
    assert_int_equal(db_stmt(db, "PRAGMA synchronous", &st), DB_OK);
    assert_int_equal(db_query_int(st, &v), DB_ROW);
    db_close(db);
    return v;
}

static void test_full_by_default_normal_when_chosen(void **state)
{
    (void)state;
    assert_int_equal(synchronous_of_a_new_connection(), 2); /* FULL */
    db_set_sync(DB_SYNC_NORMAL);
    assert_int_equal(synchronous_of_a_new_connection(), 1); /* NORMAL */
    db_set_sync(DB_SYNC_FULL);
    assert_int_equal(synchronous_of_a_new_connection(), 2);
}

/* The pool's connections, the group commit's writer included, are opened the same way. */
static void test_pool_connections(void **state)
{
    (void)state;
    struct db_pool *pool = NULL;
    struct db *db = NULL;
    struct db_stmt *st;
    int64_t v = -1;
    assert_int_equal(db_pool_new(path, 2, &pool), DB_OK);
    assert_int_equal(db_pool_get(pool, &db), DB_OK);
    assert_int_equal(db_stmt(db, "PRAGMA synchronous", &st), DB_OK);
    assert_int_equal(db_query_int(st, &v), DB_ROW);
    assert_int_equal(v, 2);
    db_pool_put(pool, db, 0);
    db_pool_free(pool);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/itflowd_test_sync.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/sync.db", dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_by_default_normal_when_chosen),
        cmocka_unit_test(test_pool_connections),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
    rmdir(dir);
    return rc;
}

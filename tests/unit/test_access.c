/* test_access: a key's client scope (req/access.c). The read scope's shape for each kind of key,
 * its SQL on a small table run against v26.08-style client lists (allow, deny, both; deny beats
 * allow, client 0 only visible without an allow list), the write-client decision (delta 2.3), the
 * module levels and the target client of a write (body, then query string, PHP intval). */
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
#include "req/access.h"
#include "testfiles.h"

static char path[64];
static struct db *db;

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/itfd-access-%d.db", (int)getpid());
    test_remove_db_files(path);
    if (db_open_create(path, &db) != DB_OK)
        return -1;
    return db_exec(db,
                   "CREATE TABLE user_client_permissions (user_id INTEGER NOT NULL, "
                   "client_id INTEGER NOT NULL, permission_type TEXT NOT NULL DEFAULT "
                   "'allow', PRIMARY KEY (user_id, client_id));"
                   "CREATE TABLE rows_t (id INTEGER PRIMARY KEY, client INTEGER);"
                   "INSERT INTO rows_t VALUES (1, 0), (2, 1), (3, 2), (4, 3);"
                   /* user 6: allow 1; user 7: deny 2; user 11: allow 1, 3 + deny 3 */
                   "INSERT INTO user_client_permissions VALUES (6, 1, 'allow'), "
                   "(7, 2, 'deny'), (11, 1, 'allow'), (11, 3, 'deny'), (11, 2, 'allow');") == DB_OK
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    db_close(db);
    test_remove_db_files(path);
    return 0;
}

static void rbac_key(struct req *r, int64_t user, int64_t nallow, int64_t ndeny, int admin)
{
    memset(r, 0, sizeof(*r));
    r->key.rbac = 1;
    r->key.user_id = user;
    r->key.access.nallow = nallow;
    r->key.access.ndeny = ndeny;
    r->key.access.is_admin = admin;
}

/* The ids of rows_t visible through the request's read scope, as "2,4". */
static void visible(struct req *r, char *out, size_t n)
{
    unsigned scope = access_read_scope(r);
    struct buf sql;
    buf_init(&sql, 0);
    buf_puts(&sql, "SELECT id FROM rows_t");
    if (scope) {
        buf_puts(&sql, " WHERE ");
        access_scope_sql(&sql, scope, "rows_t.client");
    }
    buf_puts(&sql, " ORDER BY id");
    struct db_stmt *st;
    assert_int_equal(db_stmt(db, sql.p, &st), DB_OK);
    access_scope_bind(st, 1, r, scope);
    out[0] = 0;
    size_t len = 0;
    while (db_step(st) == DB_ROW)
        len += (size_t)snprintf(out + len, n - len, "%s%lld", len ? "," : "",
                                (long long)db_column_int(st, 0));
    db_reset(st);
    buf_free(&sql);
}

static void test_read_scope(void **state)
{
    (void)state;
    struct req r;
    char ids[64];
    /* v26.07: all clients, or the key's client S */
    memset(&r, 0, sizeof(r));
    r.scope_all = 1;
    assert_int_equal(access_read_scope(&r), SCOPE_NONE);
    r.scope_all = 0;
    r.scope = 2;
    assert_int_equal(access_read_scope(&r), SCOPE_CLIENT);
    visible(&r, ids, sizeof(ids));
    assert_string_equal(ids, "3");
    /* v26.08: an admin and a user without lists see everything, client 0 included */
    rbac_key(&r, 10, 1, 0, 1);
    assert_int_equal(access_read_scope(&r), SCOPE_NONE);
    rbac_key(&r, 5, 0, 0, 0);
    assert_int_equal(access_read_scope(&r), SCOPE_NONE);
    /* an allow list: its clients only (client 0 gone); of one client, read as col = client */
    rbac_key(&r, 6, 1, 0, 0);
    r.key.access.allow_one = 1;
    assert_int_equal(access_read_scope(&r), SCOPE_CLIENT);
    visible(&r, ids, sizeof(ids));
    assert_string_equal(ids, "2");
    rbac_key(&r, 11, 2, 0, 0); /* user 11 as if without its deny row: the subquery form */
    assert_int_equal(access_read_scope(&r), SCOPE_ALLOW);
    visible(&r, ids, sizeof(ids));
    assert_string_equal(ids, "2,3");
    /* a deny list: everything else, client 0 included */
    rbac_key(&r, 7, 0, 1, 0);
    assert_int_equal(access_read_scope(&r), SCOPE_DENY);
    visible(&r, ids, sizeof(ids));
    assert_string_equal(ids, "1,2,4");
    /* both: allow {1, 2} minus deny {3} */
    rbac_key(&r, 11, 2, 1, 0);
    assert_int_equal(access_read_scope(&r), SCOPE_ALLOW | SCOPE_DENY);
    visible(&r, ids, sizeof(ids));
    assert_string_equal(ids, "2,3");
}

static void test_may_act(void **state)
{
    (void)state;
    struct req r;
    rbac_key(&r, 6, 1, 0, 0);
    assert_int_equal(access_may_act(db, &r, 1), 1);
    assert_int_equal(access_may_act(db, &r, 2), 0);
    assert_int_equal(access_may_act(db, &r, 0), 0); /* a global record needs no allow list */
    rbac_key(&r, 7, 0, 1, 0);
    assert_int_equal(access_may_act(db, &r, 2), 0);
    assert_int_equal(access_may_act(db, &r, 3), 1);
    assert_int_equal(access_may_act(db, &r, 0), 1);
    rbac_key(&r, 11, 2, 1, 0);
    assert_int_equal(access_may_act(db, &r, 3), 0); /* denied beats allowed */
    assert_int_equal(access_may_act(db, &r, 1), 1);
    assert_int_equal(access_may_act(db, &r, 4), 0);
    rbac_key(&r, 10, 1, 0, 1); /* an admin's lists are ignored */
    assert_int_equal(access_may_act(db, &r, 3), 1);
    memset(&r, 0, sizeof(r)); /* v26.07 keys are decided elsewhere */
    assert_int_equal(access_may_act(db, &r, 3), 1);
}

static void test_levels(void **state)
{
    (void)state;
    struct key_access a;
    memset(&a, 0, sizeof(a));
    snprintf(a.perm_name[0], sizeof(a.perm_name[0]), "module_support");
    a.perm_level[0] = 2;
    snprintf(a.perm_name[1], sizeof(a.perm_name[1]), "module_client");
    a.perm_level[1] = 1;
    a.nperm = 2;
    assert_int_equal(access_level(&a, "module_support"), 2);
    assert_int_equal(access_level(&a, "module_client"), 1);
    assert_int_equal(access_level(&a, "module_sales"), 0);
    a.is_admin = 1;
    assert_int_equal(access_level(&a, "module_sales"), 3);
}

static void test_target_client(void **state)
{
    (void)state;
    struct req r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(access_target_client(&r), 0);
    req_parse_query(&r, "client_id=2abc", 14);
    assert_int_equal(access_target_client(&r), 2);
    r.body = json_pack("{s:s}", "client_id", "-1");
    assert_int_equal(access_target_client(&r), -1); /* the body wins */
    json_decref(r.body);
    r.body = json_pack("{s:n}", "client_id");
    assert_int_equal(access_target_client(&r), 2); /* null: the query's */
    json_decref(r.body);
    r.body = json_pack("{s:[i]}", "client_id", 7);
    assert_int_equal(access_target_client(&r), 1); /* intval of a non-empty array */
    json_decref(r.body);
    r.body = NULL;
    req_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_scope),
        cmocka_unit_test(test_may_act),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_target_client),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

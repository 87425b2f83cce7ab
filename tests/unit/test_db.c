/* test_db: src/db/ with the SQLite backend — the schema DDL (column order K3, AUTOINCREMENT, the
 * ON UPDATE triggers, cascades), the ITF_CI collation, the statement cache and the pool. Each
 * test gets a fresh database file, seeded with the shared conformance seed when it exists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "db/db.h"
#include "db/schema.h"
#include "testfiles.h"

#define SEED_PATH SOURCE_DIR "/../shared/conformance/seed.sql"

struct fixture {
    char dir[64];
    char path[96];
    struct db *db;
    int seeded;
};

static void remove_db_files(struct fixture *fx)
{
    test_remove_db_files(fx->path);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/itflowd_test_db.XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof(fx->path), "%s/itflow.db", fx->dir);
    if (db_open_create(fx->path, &fx->db) != DB_OK) {
        fprintf(stderr, "db_open_create(%s) failed\n", fx->path);
        rmdir(fx->dir);
        free(fx);
        return -1;
    }
    if (db_create_schema(fx->db) != DB_OK) {
        fprintf(stderr, "db_create_schema: %s\n", db_errmsg(fx->db));
        return -1;
    }
    char *seed = test_read_file(SEED_PATH, NULL);
    if (seed) {
        enum db_rc rc = db_exec(fx->db, seed);
        free(seed);
        if (rc != DB_OK) {
            fprintf(stderr, "loading %s: %s\n", SEED_PATH, db_errmsg(fx->db));
            return -1;
        }
        fx->seeded = 1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (!fx)
        return 0;
    db_close(fx->db);
    remove_db_files(fx);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void need_seed(const struct fixture *fx)
{
    if (!fx->seeded) {
        print_message("skipped: conformance seed %s not found\n", SEED_PATH);
        skip();
    }
}

static void exec_ok(struct db *db, const char *sql)
{
    if (db_exec(db, sql) != DB_OK)
        fail_msg("%s: %s", sql, db_errmsg(db));
}

static int64_t q_int(struct db *db, const char *sql)
{
    struct db_stmt *st;
    if (db_stmt(db, sql, &st) != DB_OK)
        fail_msg("prepare %s: %s", sql, db_errmsg(db));
    int64_t v = -1;
    assert_int_equal(db_query_int(st, &v), DB_ROW);
    return v;
}

/* The text of the first column of the first row (NULL for SQL NULL), copied into out. */
static const char *q_text(struct db *db, const char *sql, char *out, size_t outlen)
{
    struct db_stmt *st;
    if (db_stmt(db, sql, &st) != DB_OK)
        fail_msg("prepare %s: %s", sql, db_errmsg(db));
    assert_int_equal(db_step(st), DB_ROW);
    size_t n;
    const char *s = db_column_text(st, 0, &n);
    const char *ret = NULL;
    if (s) {
        snprintf(out, outlen, "%.*s", (int)n, s);
        ret = out;
    }
    db_reset(st);
    return ret;
}

static void test_open_and_dialect(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(db_dialect(fx->db), DB_SQLITE);
    /* opening without create fails for a missing file */
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/missing.db", fx->dir);
    struct db *db = NULL;
    assert_int_not_equal(db_open(missing, &db), DB_OK);
    assert_int_equal(access(missing, F_OK), -1);
    /* "sqlite:" targets name the same file */
    char target[128];
    snprintf(target, sizeof(target), "sqlite:%s", fx->path);
    assert_int_equal(db_open(target, &db), DB_OK);
    assert_true(q_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'clients'") == 1);
    db_close(db);
    db_close(NULL);
    /* the schema cannot be created twice */
    assert_int_not_equal(db_create_schema(fx->db), DB_OK);
}

static void test_every_table_created(void **state)
{
    struct fixture *fx = *state;
    for (size_t i = 0; i < schema_active()->ntables; i++) {
        const struct schema_table *t = &schema_active()->tables[i];
        char sql[256];
        snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", t->name);
        struct db_stmt *st;
        assert_int_equal(db_stmt(fx->db, sql, &st), DB_OK);
        size_t k = 0;
        enum db_rc rc;
        while ((rc = db_step(st)) == DB_ROW) {
            size_t n;
            const char *name = db_column_text(st, 1, &n);
            if (k >= t->ncols)
                fail_msg("%s: extra column %.*s", t->name, (int)n, name);
            if (strlen(t->cols[k].name) != n || memcmp(name, t->cols[k].name, n) != 0)
                fail_msg("%s: column %zu is %.*s, schema says %s", t->name, k, (int)n, name,
                         t->cols[k].name);
            k++;
        }
        db_reset(st);
        assert_int_equal(rc, DB_DONE);
        if (k != t->ncols)
            fail_msg("%s: %zu columns, schema has %zu", t->name, k, t->ncols);
    }
}

static void test_select_star_order(void **state)
{
    struct fixture *fx = *state;
    const struct schema_table *t = schema_table("clients");
    assert_non_null(t);

    /* the column names of SELECT *, as the driver reports them */
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(fx->path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *raw;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT * FROM clients", -1, &raw, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_column_count(raw), (int)t->ncols);
    for (size_t i = 0; i < t->ncols; i++)
        assert_string_equal(sqlite3_column_name(raw, (int)i), t->cols[i].name);
    sqlite3_finalize(raw);
    sqlite3_close(h);

    struct db_stmt *st;
    assert_int_equal(db_stmt(fx->db, "SELECT * FROM clients WHERE client_id = 1", &st), DB_OK);
    assert_int_equal(db_column_count(st), (int)t->ncols);
    if (!fx->seeded) {
        db_reset(st);
        return;
    }
    /* the seeded row's values sit where the schema puts their columns */
    assert_int_equal(db_step(st), DB_ROW);
    size_t n;
    const char *v = db_column_text(st, schema_column_index(t, "client_name"), &n);
    assert_non_null(v);
    assert_int_equal(n, 9);
    assert_memory_equal(v, "Acme Corp", 9);
    v = db_column_text(st, schema_column_index(t, "client_currency_code"), &n);
    assert_memory_equal(v, "USD", 3);
    assert_int_equal(db_column_int(st, schema_column_index(t, "client_net_terms")), 30);
    assert_int_equal(db_column_int(st, schema_column_index(t, "client_id")), 1);
    v = db_column_text(st, schema_column_index(t, "client_rate"), &n);
    assert_non_null(v);
    assert_true(strncmp(v, "125.5", 5) == 0);
    assert_null(db_column_text(st, schema_column_index(t, "client_updated_at"), &n));
    assert_null(db_column_text(st, schema_column_index(t, "client_archived_at"), &n));
    assert_int_equal(db_step(st), DB_DONE);
    db_reset(st);
}

static void test_defaults(void **state)
{
    struct fixture *fx = *state;
    exec_ok(fx->db, "INSERT INTO clients (client_name, client_currency_code, client_net_terms) "
                    "VALUES ('Defaults', 'USD', 0)");
    int64_t id = db_last_insert_id(fx->db);
    assert_true(id > 0);
    assert_int_equal(db_changes(fx->db), 1);
    char sql[256], buf[64];
    snprintf(sql, sizeof(sql), "SELECT client_created_at FROM clients WHERE client_id = %lld",
             (long long)id);
    const char *created = q_text(fx->db, sql, buf, sizeof(buf));
    assert_non_null(created); /* DEFAULT current_timestamp() */
    assert_int_equal(strlen(created), 19);
    assert_true(created[4] == '-' && created[10] == ' ' && created[13] == ':');
    snprintf(sql, sizeof(sql),
             "SELECT client_lead + client_favorite FROM clients WHERE client_id = %lld",
             (long long)id);
    assert_int_equal(q_int(fx->db, sql), 0);
    snprintf(sql, sizeof(sql),
             "SELECT client_updated_at IS NULL AND client_rate IS NULL FROM clients WHERE "
             "client_id = %lld",
             (long long)id);
    assert_int_equal(q_int(fx->db, sql), 1);
    /* NOT NULL without a default rejects a missing value */
    assert_int_not_equal(db_exec(fx->db, "INSERT INTO clients (client_name) VALUES ('x')"), DB_OK);
}

static void test_autoincrement(void **state)
{
    struct fixture *fx = *state;
    need_seed(fx);
    int64_t max = q_int(fx->db, "SELECT MAX(client_id) FROM clients");
    assert_true(max >= 1);
    static const char ins[] = "INSERT INTO clients (client_name, client_currency_code, "
                              "client_net_terms) VALUES ('Next', 'USD', 0)";
    exec_ok(fx->db, ins);
    int64_t id1 = db_last_insert_id(fx->db);
    assert_int_equal(id1, max + 1);
    /* delete the highest id: it is not handed out again (InnoDB keeps counting too) */
    char sql[128];
    snprintf(sql, sizeof(sql), "DELETE FROM clients WHERE client_id = %lld", (long long)id1);
    exec_ok(fx->db, sql);
    assert_int_equal(db_changes(fx->db), 1);
    exec_ok(fx->db, ins);
    int64_t id2 = db_last_insert_id(fx->db);
    assert_int_equal(id2, id1 + 1);
    assert_int_equal(q_int(fx->db, "SELECT MAX(client_id) FROM clients"), id2);

    /* every seeded table continues after its highest id */
    for (size_t i = 0; i < schema_active()->ntables; i++) {
        const struct schema_table *t = &schema_active()->tables[i];
        if (!(t->cols[0].flags & COL_AUTO_INC) || strcmp(t->name, "clients") == 0)
            continue;
        snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(%s), 0) FROM %s", t->cols[0].name, t->name);
        int64_t hi = q_int(fx->db, sql);
        char seq_sql[192];
        snprintf(seq_sql, sizeof(seq_sql),
                 "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '%s'), 0)",
                 t->name);
        int64_t seq = q_int(fx->db, seq_sql);
        if (seq != hi)
            fail_msg("%s: next id after %lld, highest row %lld", t->name, (long long)seq,
                     (long long)hi);
    }
}

static void test_on_update_trigger(void **state)
{
    struct fixture *fx = *state;
    need_seed(fx);
    char buf[64];
    static const char get[] = "SELECT client_updated_at FROM clients WHERE client_id = 1";
    assert_null(q_text(fx->db, get, buf, sizeof(buf)));

    /* statements that match the row but change nothing leave it NULL */
    exec_ok(fx->db, "UPDATE clients SET client_name = client_name WHERE client_id = 1");
    assert_int_equal(db_changes(fx->db), 1);
    assert_null(q_text(fx->db, get, buf, sizeof(buf)));
    exec_ok(fx->db, "UPDATE clients SET client_name = 'Acme Corp', client_rate = 125.50, "
                    "client_net_terms = 30, client_type = 'Business' WHERE client_id = 1");
    assert_null(q_text(fx->db, get, buf, sizeof(buf)));
    /* the same value in another spelling is no change either (NUMERIC/INTEGER affinity) */
    exec_ok(fx->db, "UPDATE clients SET client_rate = '125.5', client_net_terms = '30' "
                    "WHERE client_id = 1");
    assert_null(q_text(fx->db, get, buf, sizeof(buf)));
    exec_ok(fx->db, "UPDATE clients SET client_archived_at = NULL WHERE client_id = 1");
    assert_null(q_text(fx->db, get, buf, sizeof(buf)));

    /* a real change sets it, on that row only */
    exec_ok(fx->db, "UPDATE clients SET client_notes = 'changed' WHERE client_id = 1");
    const char *v = q_text(fx->db, get, buf, sizeof(buf));
    assert_non_null(v);
    assert_int_equal(strlen(v), 19);
    assert_true(v[4] == '-' && v[7] == '-' && v[10] == ' ' && v[13] == ':' && v[16] == ':');
    assert_int_equal(
        q_int(fx->db, "SELECT COUNT(*) FROM clients WHERE client_updated_at IS NOT NULL"), 1);

    /* NULL -> value and a case-only change are changes (MariaDB compares the record bytes) */
    exec_ok(fx->db, "UPDATE clients SET client_updated_at = NULL WHERE client_id = 2");
    exec_ok(fx->db, "UPDATE clients SET client_archived_at = '2026-01-01 00:00:00' "
                    "WHERE client_id = 2");
    assert_non_null(q_text(fx->db, "SELECT client_updated_at FROM clients WHERE client_id = 2", buf,
                           sizeof(buf)));
    exec_ok(fx->db, "UPDATE clients SET client_name = 'INITECH' WHERE client_id = 3");
    assert_non_null(q_text(fx->db, "SELECT client_updated_at FROM clients WHERE client_id = 3", buf,
                           sizeof(buf)));

    /* an explicit value for the column is kept */
    exec_ok(fx->db, "UPDATE clients SET client_notes = 'again', client_updated_at = "
                    "'2001-02-03 04:05:06' WHERE client_id = 1");
    assert_string_equal(q_text(fx->db, get, buf, sizeof(buf)), "2001-02-03 04:05:06");
}

static void test_itf_ci(void **state)
{
    struct fixture *fx = *state;
    need_seed(fx);
    assert_int_equal(q_int(fx->db, "SELECT COUNT(*) FROM contacts WHERE contact_email = "
                                   "'ALICE@ACME.EXAMPLE' COLLATE ITF_CI"),
                     1);
    /* without the collation the comparison is binary */
    assert_int_equal(
        q_int(fx->db, "SELECT COUNT(*) FROM contacts WHERE contact_email = 'ALICE@ACME.EXAMPLE'"),
        0);
    /* trailing spaces and accents do not count (utf8mb4_general_ci, K12) */
    assert_int_equal(q_int(fx->db, "SELECT COUNT(*) FROM contacts WHERE contact_email = "
                                   "'alice@acme.example   ' COLLATE ITF_CI"),
                     1);
    assert_int_equal(q_int(fx->db, "SELECT COUNT(*) FROM contacts WHERE contact_email = "
                                   "'\xc3\x80lice@acme.example' COLLATE ITF_CI"),
                     1);
    assert_int_equal(q_int(fx->db, "SELECT COUNT(*) FROM contacts WHERE contact_email = "
                                   "' alice@acme.example' COLLATE ITF_CI"),
                     0);
    /* bound parameters compare the same way */
    struct db_stmt *st;
    assert_int_equal(db_stmt(fx->db,
                             "SELECT COUNT(*) FROM contacts WHERE contact_email = ? COLLATE ITF_CI",
                             &st),
                     DB_OK);
    assert_int_equal(db_bind_text(st, 1, "Bob@Acme.Example", 16), DB_OK);
    int64_t n = -1;
    assert_int_equal(db_query_int(st, &n), DB_ROW);
    assert_int_equal(n, 1);
    /* ordering */
    assert_int_equal(q_int(fx->db, "SELECT 'a' < 'B' COLLATE ITF_CI"), 1);
    assert_int_equal(q_int(fx->db, "SELECT 'a' < 'B'"), 0);
}

static void test_cascade(void **state)
{
    struct fixture *fx = *state;
    need_seed(fx);
    static const char count1[] = "SELECT COUNT(*) FROM asset_interfaces WHERE "
                                 "interface_asset_id = 1";
    int64_t others =
        q_int(fx->db, "SELECT COUNT(*) FROM asset_interfaces WHERE interface_asset_id <> 1");
    assert_true(q_int(fx->db, count1) > 0);
    exec_ok(fx->db, "INSERT INTO asset_history (asset_history_status, asset_history_description, "
                    "asset_history_asset_id) VALUES ('Deployed', 'test', 1)");
    assert_int_equal(
        q_int(fx->db, "SELECT COUNT(*) FROM asset_history WHERE asset_history_asset_id = 1"), 1);
    exec_ok(fx->db, "DELETE FROM assets WHERE asset_id = 1");
    assert_int_equal(db_changes(fx->db), 1);
    assert_int_equal(q_int(fx->db, count1), 0);
    assert_int_equal(
        q_int(fx->db, "SELECT COUNT(*) FROM asset_history WHERE asset_history_asset_id = 1"), 0);
    /* other assets' interfaces stay */
    assert_int_equal(
        q_int(fx->db, "SELECT COUNT(*) FROM asset_interfaces WHERE interface_asset_id <> 1"),
        others);
    /* foreign keys are enforced: an interface of a missing asset is refused */
    assert_int_not_equal(db_exec(fx->db, "INSERT INTO asset_interfaces (interface_name, "
                                         "interface_asset_id) VALUES ('x', 999999)"),
                         DB_OK);
}

static void test_stmt_cache(void **state)
{
    struct fixture *fx = *state;
    struct db_stmt *a, *b, *c;
    static const char sql[] = "SELECT ? + 1";
    char copy[sizeof(sql)];
    memcpy(copy, sql, sizeof(sql));
    assert_int_equal(db_stmt(fx->db, sql, &a), DB_OK);
    assert_int_equal(db_stmt(fx->db, copy, &b), DB_OK); /* same text, another buffer */
    assert_ptr_equal(a, b);
    assert_int_equal(db_stmt(fx->db, "SELECT ? + 2", &c), DB_OK);
    assert_ptr_not_equal(a, c);

    /* a statement handed out again is reset and its bindings cleared */
    assert_int_equal(db_stmt(fx->db, sql, &a), DB_OK);
    assert_int_equal(db_bind_int(a, 1, 41), DB_OK);
    assert_int_equal(db_step(a), DB_ROW);
    assert_int_equal(db_column_int(a, 0), 42);
    assert_int_equal(db_stmt(fx->db, sql, &b), DB_OK); /* no db_reset in between */
    assert_ptr_equal(a, b);
    assert_int_equal(db_step(b), DB_ROW);
    size_t n;
    assert_null(db_column_text(b, 0, &n)); /* NULL + 1 */
    assert_int_equal(db_step(b), DB_DONE);
    db_reset(b);

    /* text binding with an explicit length */
    struct db_stmt *t;
    assert_int_equal(db_stmt(fx->db, "SELECT length(?), ?", &t), DB_OK);
    assert_int_equal(db_bind_text(t, 1, "abcdef", 3), DB_OK);
    assert_int_equal(db_bind_null(t, 2), DB_OK);
    assert_int_equal(db_step(t), DB_ROW);
    assert_int_equal(db_column_int(t, 0), 3);
    assert_null(db_column_text(t, 1, &n));
    db_reset(t);

    /* a bad statement is an error, and the cache still works afterwards */
    struct db_stmt *bad = NULL;
    assert_int_equal(db_stmt(fx->db, "SELEKT 1", &bad), DB_ERROR);
    assert_int_equal(db_stmt(fx->db, sql, &b), DB_OK);
    assert_ptr_equal(a, b);
}

static void test_transactions(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(db_rollback(fx->db), DB_OK); /* nothing open: fine */
    assert_int_equal(db_begin(fx->db, 1), DB_OK);
    exec_ok(fx->db, "INSERT INTO clients (client_name, client_currency_code, client_net_terms) "
                    "VALUES ('Rolled back', 'USD', 0)");
    assert_int_equal(db_rollback(fx->db), DB_OK);
    assert_int_equal(
        q_int(fx->db, "SELECT COUNT(*) FROM clients WHERE client_name = 'Rolled back'"), 0);
    assert_int_equal(db_begin(fx->db, 1), DB_OK);
    exec_ok(fx->db, "INSERT INTO clients (client_name, client_currency_code, client_net_terms) "
                    "VALUES ('Committed', 'USD', 0)");
    assert_int_equal(db_commit(fx->db), DB_OK);
    assert_int_equal(q_int(fx->db, "SELECT COUNT(*) FROM clients WHERE client_name = 'Committed'"),
                     1);
}

static void test_pool(void **state)
{
    struct fixture *fx = *state;
    struct db_pool *pool = NULL;
    assert_int_equal(db_pool_new(fx->path, 3, &pool), DB_OK);
    assert_non_null(pool);
    struct db *c[3] = {NULL, NULL, NULL}, *extra = NULL;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(db_pool_get(pool, &c[i]), DB_OK);
        assert_non_null(c[i]);
        assert_ptr_not_equal(c[i], fx->db);
        for (int k = 0; k < i; k++)
            assert_ptr_not_equal(c[i], c[k]);
    }
    assert_int_equal(db_pool_get(pool, &extra), DB_BUSY);
    assert_int_equal(db_pool_get(pool, &extra), DB_BUSY);

    /* a returned connection is handed out again */
    db_pool_put(pool, c[1], 0);
    assert_int_equal(db_pool_get(pool, &extra), DB_OK);
    assert_ptr_equal(extra, c[1]);
    assert_int_equal(db_pool_get(pool, &extra), DB_BUSY);

    /* they all reach the same database */
    exec_ok(c[0], "INSERT INTO clients (client_name, client_currency_code, client_net_terms) "
                  "VALUES ('Pooled', 'USD', 0)");
    assert_int_equal(q_int(c[2], "SELECT COUNT(*) FROM clients WHERE client_name = 'Pooled'"), 1);

    /* put rolls back a transaction left open */
    assert_int_equal(db_begin(c[2], 1), DB_OK);
    exec_ok(c[2], "INSERT INTO clients (client_name, client_currency_code, client_net_terms) "
                  "VALUES ('Left open', 'USD', 0)");
    db_pool_put(pool, c[2], 0);
    assert_int_equal(q_int(c[0], "SELECT COUNT(*) FROM clients WHERE client_name = 'Left open'"),
                     0);
    assert_int_equal(db_pool_get(pool, &c[2]), DB_OK);
    assert_int_equal(db_begin(c[2], 1), DB_OK); /* no transaction was still open */
    assert_int_equal(db_rollback(c[2]), DB_OK);

    /* a broken connection is closed and frees its slot for a new one */
    db_pool_put(pool, c[0], 1);
    assert_int_equal(db_pool_get(pool, &c[0]), DB_OK);
    assert_non_null(c[0]);
    assert_int_equal(q_int(c[0], "SELECT COUNT(*) FROM clients WHERE client_name = 'Pooled'"), 1);
    assert_int_equal(db_pool_get(pool, &extra), DB_BUSY);

    db_pool_put(pool, NULL, 0); /* ignored */
    for (int i = 0; i < 3; i++)
        db_pool_put(pool, c[i], 0);
    db_pool_free(pool);
    db_pool_free(NULL);

    /* max 0 means one connection */
    assert_int_equal(db_pool_new(fx->path, 0, &pool), DB_OK);
    assert_int_equal(db_pool_get(pool, &c[0]), DB_OK);
    assert_int_equal(db_pool_get(pool, &c[1]), DB_BUSY);
    db_pool_put(pool, c[0], 0);
    db_pool_free(pool);

    /* a target that cannot be opened fails at once */
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/nope/missing.db", fx->dir);
    pool = NULL;
    assert_int_not_equal(db_pool_new(missing, 2, &pool), DB_OK);
}

/* A statement in use (handed out, stepped, not reset) survives any number of other texts: the
 * cache never evicts it (before, a text hashing to its slot finalized it under the caller). */
static void test_stmt_cache_keeps_statement_in_use(void **state)
{
    struct fixture *fx = *state;
    struct db_stmt *held, *held_static, *st;
    static const char HELD_STATIC[] = "SELECT 'static ' || ?";
    assert_int_equal(db_stmt(fx->db, "SELECT 'held ' || ?", &held), DB_OK);
    assert_int_equal(db_bind_text(held, 1, "one", 3), DB_OK);
    assert_int_equal(db_step(held), DB_ROW);
    assert_int_equal(db_stmt_static(fx->db, HELD_STATIC, &held_static), DB_OK);
    assert_int_equal(db_bind_int(held_static, 1, 7), DB_OK);
    assert_int_equal(db_step(held_static), DB_ROW);
    for (int i = 0; i < 2000; i++) { /* every slot of both caches taken many times over */
        char sql[64];
        snprintf(sql, sizeof(sql), "SELECT %d", i);
        assert_int_equal(db_stmt(fx->db, sql, &st), DB_OK);
        assert_int_equal(db_step(st), DB_ROW);
        db_reset(st);
        const char *interned = sql_intern(sql);
        assert_non_null(interned);
        assert_int_equal(db_stmt_static(fx->db, interned, &st), DB_OK);
        assert_int_equal(db_step(st), DB_ROW);
        db_reset(st);
    }
    size_t n;
    assert_string_equal(db_column_text(held, 0, &n), "held one");
    assert_string_equal(db_column_text(held_static, 0, &n), "static 7");
    assert_int_equal(db_step(held), DB_DONE);
    assert_int_equal(db_step(held_static), DB_DONE);
    db_reset(held);
    db_reset(held_static);
}

/* A failed bind fails the statement's step instead of running it with the parameter NULL. */
static void test_failed_bind_fails_step(void **state)
{
    struct fixture *fx = *state;
    struct db_stmt *st;
    assert_int_equal(db_stmt(fx->db, "SELECT ?", &st), DB_OK);
    assert_int_not_equal(db_bind_int(st, 5, 1), DB_OK); /* no such parameter */
    assert_int_equal(db_step(st), DB_ERROR);
    assert_non_null(strstr(db_errmsg(fx->db), "range"));
    db_reset(st);
    assert_int_equal(db_stmt(fx->db, "SELECT ?", &st), DB_OK); /* handed out anew: usable */
    assert_int_equal(db_bind_int(st, 1, 1), DB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    db_reset(st);
}

/* ---- group commit (db_pool_write) ---- */

#define GC_THREADS 8
#define GC_JOBS 25

struct gc_job {
    int thread, i;
    int slow;     /* sleeps inside the transaction: the other threads queue behind it */
    int sabotage; /* first run ends the shared transaction, as a store failure would */
    int calls;
    pthread_t ran_on;
    enum db_rc rc;
    int fn_rc;
};

struct gc_thread {
    struct db_pool *pool;
    pthread_t self;
    struct gc_job jobs[GC_JOBS];
};

static int gc_body(struct db *db, void *arg)
{
    struct gc_job *j = arg;
    j->calls++;
    j->ran_on = pthread_self();
    if (j->slow)
        usleep(200000);
    char sql[160];
    snprintf(sql, sizeof(sql),
             "INSERT INTO clients (client_name, client_currency_code, client_net_terms) "
             "VALUES ('gc %d %d', 'USD', 0)",
             j->thread, j->i);
    if (db_exec(db, sql) != DB_OK)
        return 2;
    if (j->sabotage && j->calls == 1) {
        db_exec(db, "ROLLBACK");
        return 0;
    }
    return j->i % 5 == 0 ? 1 : 0; /* every fifth asks for its changes to be undone */
}

static void *gc_thread_main(void *arg)
{
    struct gc_thread *t = arg;
    t->self = pthread_self();
    if (t->jobs[0].thread != 0)
        usleep(50000); /* thread 0's slow job leads first */
    for (int i = 0; i < GC_JOBS; i++)
        t->jobs[i].rc = db_pool_write(t->pool, gc_body, &t->jobs[i], &t->jobs[i].fn_rc, NULL);
    return NULL;
}

static void test_group_commit(void **state)
{
    struct fixture *fx = *state;
    struct db_pool *pool = NULL;
    assert_int_equal(db_pool_new(fx->path, 2, &pool), DB_OK);
    assert_int_equal(db_pool_single_writer(pool), 1);
    static struct gc_thread th[GC_THREADS];
    memset(th, 0, sizeof(th));
    for (int t = 0; t < GC_THREADS; t++) {
        th[t].pool = pool;
        for (int i = 0; i < GC_JOBS; i++) {
            th[t].jobs[i].thread = t;
            th[t].jobs[i].i = i;
        }
    }
    th[0].jobs[0].slow = 1;
    th[1].jobs[0].sabotage = 1; /* queued behind the slow job: runs inside a batch */
    pthread_t ids[GC_THREADS];
    for (int t = 0; t < GC_THREADS; t++)
        assert_int_equal(pthread_create(&ids[t], NULL, gc_thread_main, &th[t]), 0);
    for (int t = 0; t < GC_THREADS; t++)
        pthread_join(ids[t], NULL);

    int kept = 0, foreign = 0;
    for (int t = 0; t < GC_THREADS; t++) {
        for (int i = 0; i < GC_JOBS; i++) {
            const struct gc_job *j = &th[t].jobs[i];
            assert_int_equal(j->rc, DB_OK);
            assert_int_equal(j->fn_rc, i % 5 == 0 ? 1 : 0);
            kept += j->fn_rc == 0;
            foreign += !pthread_equal(j->ran_on, th[t].self);
            char sql[128];
            snprintf(sql, sizeof(sql),
                     "SELECT COUNT(*) FROM clients WHERE client_name = 'gc %d %d'", t, i);
            /* kept exactly once (also after the re-run), undone ones absent */
            assert_int_equal(q_int(fx->db, sql), j->fn_rc == 0 ? 1 : 0);
        }
    }
    assert_int_equal(q_int(fx->db, "SELECT COUNT(*) FROM clients WHERE client_name LIKE 'gc %'"),
                     kept);
    /* other threads' writes ran in the leader's transaction */
    assert_true(foreign > 0);
    /* the batch whose transaction broke ran again, each write alone */
    assert_int_equal(th[1].jobs[0].calls, 2);
    db_pool_free(pool);
}

/* db_data_version: moves with another connection's commit and with this connection's own
 * changes, stays put otherwise; inside a read transaction it is the snapshot's. */
static int memo_freed;

static void count_memo_free(void *memo)
{
    memo_freed += memo == (void *)&memo_freed;
}

static void test_data_version(void **state)
{
    struct fixture *fx = *state;
    struct db *other;
    assert_int_equal(db_open(fx->path, &other), DB_OK);
    uint64_t v0[2], v1[2], v2[2];
    assert_int_equal(db_data_version(fx->db, v0), DB_OK);
    assert_int_equal(db_data_version(fx->db, v1), DB_OK);
    assert_memory_equal(v0, v1, sizeof(v0)); /* nothing happened */

    exec_ok(other, "INSERT INTO clients (client_name, client_currency_code, client_net_terms) "
                   "VALUES ('By the other one', 'USD', 0)");
    assert_int_equal(db_data_version(fx->db, v1), DB_OK);
    assert_memory_not_equal(v0, v1, sizeof(v0)); /* another connection committed */

    exec_ok(fx->db, "UPDATE clients SET client_net_terms = 1 WHERE client_name = "
                    "'By the other one'");
    assert_int_equal(db_data_version(fx->db, v2), DB_OK);
    assert_memory_not_equal(v1, v2, sizeof(v1)); /* this connection changed a row */

    /* a read transaction keeps its snapshot's version while others commit */
    assert_int_equal(db_begin(fx->db, 0), DB_OK);
    assert_int_equal(db_data_version(fx->db, v0), DB_OK);
    exec_ok(other, "DELETE FROM clients WHERE client_name = 'By the other one'");
    assert_int_equal(db_data_version(fx->db, v1), DB_OK);
    assert_memory_equal(v0, v1, sizeof(v0));
    assert_int_equal(db_rollback(fx->db), DB_OK);
    assert_int_equal(db_data_version(fx->db, v1), DB_OK);
    assert_memory_not_equal(v0, v1, sizeof(v0));

    /* the memo pointer is the connection's: replaced or closed, its free function runs */
    memo_freed = 0;
    db_set_memo(other, &memo_freed, count_memo_free);
    assert_ptr_equal(db_memo(other), &memo_freed);
    db_close(other);
    assert_int_equal(memo_freed, 1);
}

/* The frames a passive checkpoint from an unrelated connection left in the WAL (0 = all copied). */
static int frames_left(sqlite3 *raw)
{
    int log = -1, done = -1;
    int rc = sqlite3_wal_checkpoint_v2(raw, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    assert_true(rc == SQLITE_OK || rc == SQLITE_BUSY);
    assert_true(log >= 0 && done >= 0);
    return log - done;
}

static void insert_client(struct db *db, const char *name)
{
    char sql[200];
    snprintf(sql, sizeof(sql),
             "INSERT INTO clients (client_name, client_currency_code, client_net_terms) "
             "VALUES ('%s', 'USD', 0)",
             name);
    exec_ok(db, sql);
}

/* db_maintain(): after a turn that copied everything and saw no write since the previous one, it
 * keeps WAL read lock 0 until its next turn; writers and readers go on meanwhile; a turn that sees
 * a write, or whose checkpoint was kept from copying, does not take the lock, so neither a busy
 * writer's checkpoints nor another maintainer's (another process) are starved. */
static void test_maintain_holds_read_lock(void **state)
{
    struct fixture *fx = *state;
    struct db *m1, *m2, *reader;
    sqlite3 *raw;
    assert_int_equal(db_open(fx->path, &m1), DB_OK);
    assert_int_equal(db_open(fx->path, &m2), DB_OK);
    assert_int_equal(db_open(fx->path, &reader), DB_OK);
    assert_int_equal(sqlite3_open(fx->path, &raw), SQLITE_OK);
    /* a first read opens the WAL on raw (until then it has none to checkpoint) */
    assert_int_equal(sqlite3_exec(raw, "SELECT COUNT(*) FROM sqlite_master", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_true(db_has_maintenance(m1));

    insert_client(fx->db, "Maint 1");
    assert_int_equal(db_maintain(m1), DB_OK); /* copies the WAL; a write was seen: no lock */
    insert_client(fx->db, "Maint 2");
    assert_int_equal(frames_left(raw), 0);
    assert_int_equal(db_maintain(m1), DB_OK); /* saw the write of Maint 2: still no lock */
    assert_int_equal(db_maintain(m1), DB_OK); /* a quiet turn: holds lock 0 */
    insert_client(fx->db, "Maint 3");         /* writes are not held up */
    assert_int_equal(q_int(reader, "SELECT COUNT(*) FROM clients WHERE client_name LIKE 'Maint %'"),
                     3);
    assert_true(frames_left(raw) > 0);        /* a checkpoint needs lock 0: it waits for m1 */
    assert_int_equal(db_maintain(m2), DB_OK); /* kept from copying as well: m2 takes nothing */
    assert_int_equal(db_maintain(m1), DB_OK); /* releases, copies everything, saw a write */
    assert_int_equal(frames_left(raw), 0);
    insert_client(fx->db, "Maint 4");
    assert_int_equal(frames_left(raw), 0); /* neither holds the lock */

    assert_int_equal(db_maintain(m1), DB_OK);
    assert_int_equal(db_maintain(m1), DB_OK); /* quiet again: holds */
    insert_client(fx->db, "Maint 5");
    assert_true(frames_left(raw) > 0);
    db_close(m1); /* closing ends it; m2 holds nothing */
    assert_int_equal(frames_left(raw), 0);
    assert_int_equal(q_int(reader, "SELECT COUNT(*) FROM clients WHERE client_name LIKE 'Maint %'"),
                     5);
    db_close(m2);
    db_close(reader);
    sqlite3_close(raw);
}

/* A request that returns between db_stmt() and db_reset() (an error path) leaves its statement in
 * use; db_pool_put resets it, so the connection holds no read snapshot (a checkpoint can copy
 * everything and start the WAL over) and the slot can be reused. */
static void test_pool_put_resets_statements_left_in_use(void **state)
{
    struct fixture *fx = *state;
    insert_client(fx->db, "Left 1");
    insert_client(fx->db, "Left 2");
    struct db_pool *pool = NULL;
    assert_int_equal(db_pool_new(fx->path, 2, &pool), DB_OK);
    struct db *c = NULL;
    assert_int_equal(db_pool_get(pool, &c), DB_OK);
    struct db_stmt *st;
    assert_int_equal(db_stmt(c, "SELECT client_id FROM clients ORDER BY client_id", &st), DB_OK);
    assert_int_equal(db_step(st), DB_ROW); /* stepped, never reset: a read snapshot is open */
    db_pool_put(pool, c, 0);

    insert_client(fx->db, "Left 3"); /* a commit after that snapshot */
    sqlite3 *raw;
    assert_int_equal(sqlite3_open(fx->path, &raw), SQLITE_OK);
    sqlite3_stmt *ck;
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &ck, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(ck), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(ck, 0), 0); /* not blocked by a reader */
    sqlite3_finalize(ck);
    sqlite3_close(raw);
    db_pool_free(pool);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_and_dialect),
        T(test_every_table_created),
        T(test_select_star_order),
        T(test_defaults),
        T(test_autoincrement),
        T(test_on_update_trigger),
        T(test_itf_ci),
        T(test_cascade),
        T(test_stmt_cache),
        T(test_transactions),
        T(test_pool),
        T(test_stmt_cache_keeps_statement_in_use),
        T(test_failed_bind_fails_step),
        T(test_group_commit),
        T(test_data_version),
        T(test_maintain_holds_read_lock),
        T(test_pool_put_resets_statements_left_in_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

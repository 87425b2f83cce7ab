/* test_schema: the two schema sets (v26.07, v26.08), the choice of the active one, the SQLite DDL
 * of each (the v26.08 seed loads into it), the v26.07 tables beyond the reference, and
 * db_identify() on databases of either release, of a version we do not know, and on one that is
 * no ITFlow database. */
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
#include "db/schema.h"
#include "modules/registry.h"
#include "testfiles.h"

#define SEED_2608 SOURCE_DIR "/../shared/conformance/seed-2608.sql"

struct fixture {
    char dir[64];
    char path[96];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/itflowd_test_schema.XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof(fx->path), "%s/itflow.db", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    test_remove_db_files(fx->path);
    rmdir(fx->dir);
    free(fx);
    schema_select(ITFLOW_V2607);
    return 0;
}

/* A new database with the tables of release v. */
static struct db *create(struct fixture *fx, enum itflow_version v)
{
    schema_select(v);
    struct db *db = NULL;
    assert_int_equal(db_open_create(fx->path, &db), DB_OK);
    if (db_create_schema(db) != DB_OK)
        fail_msg("db_create_schema: %s", db_errmsg(db));
    return db;
}

static void exec_ok(struct db *db, const char *sql)
{
    if (db_exec(db, sql) != DB_OK)
        fail_msg("%s: %s", sql, db_errmsg(db));
}

static void test_default_and_choice(void **state)
{
    (void)state;
    schema_use(NULL);
    assert_ptr_equal(schema_active(), &schema_set_v2607); /* the default */
    assert_ptr_equal(schema_set_of(ITFLOW_V2608), &schema_set_v2608);
    assert_string_equal(schema_set_v2607.db_version, "2.4.4");
    assert_string_equal(schema_set_v2608.db_version, "2.6.6");
    enum itflow_version v = ITFLOW_V2607;
    assert_int_equal(schema_parse_version("26.08", &v), 0);
    assert_int_equal(v, ITFLOW_V2608);
    assert_int_equal(schema_parse_version("26.07", &v), 0);
    assert_int_equal(v, ITFLOW_V2607);
    assert_int_equal(schema_parse_version("26.09", &v), -1);
    assert_int_equal(schema_parse_version("", &v), -1);

    /* api_keys: the scope column in 26.07, the owner in 26.08 (last column) */
    const struct schema_table *k = schema_table("api_keys");
    assert_non_null(schema_column(k, "api_key_client_id"));
    assert_null(schema_column(k, "api_key_user_id"));
    assert_null(schema_table("user_roles"));
    size_t tickets_2607 = schema_table("tickets")->ncols;

    schema_select(ITFLOW_V2608);
    assert_ptr_equal(schema_active(), &schema_set_v2608);
    k = schema_table("api_keys");
    assert_null(schema_column(k, "api_key_client_id"));
    assert_int_equal(schema_column_index(k, "api_key_user_id"), (int)k->ncols - 1);
    /* the SLA columns (the by-id read adds the status row's ticket_status_pauses_sla) */
    const struct schema_table *t = schema_table("tickets");
    assert_int_equal(t->ncols, tickets_2607 + 7);
    assert_int_equal(schema_column_index(t, "ticket_sla_id"),
                     schema_column_index(t, "ticket_status") + 1);
    assert_int_equal(schema_column_index(t, "ticket_response_due_at"),
                     schema_column_index(t, "ticket_first_response_at") + 1);
    const struct schema_column *pw =
        schema_column(schema_table("credentials"), "credential_password");
    assert_int_equal(pw->type, COL_VARCHAR);
    assert_int_equal(pw->max_len, 500);
    const struct schema_column *pt =
        schema_column(schema_table("user_client_permissions"), "permission_type");
    assert_int_equal(pt->type, COL_ENUM);
    assert_string_equal(pt->dflt, "'allow'");
    assert_int_equal(schema_column(schema_table("taxes"), "tax_percent")->type, COL_FLOAT);
    static const char *const rbac[] = {"users", "user_roles", "user_role_permissions", "modules",
                                       "user_client_permissions"};
    for (size_t i = 0; i < sizeof(rbac) / sizeof(rbac[0]); i++)
        assert_non_null(schema_table(rbac[i]));
    /* the module descriptors resolve against either set */
    char err[256] = "";
    if (module_registry_init(err, sizeof(err)) != 0)
        fail_msg("v26.08: %s", err);
    schema_select(ITFLOW_V2607);
    assert_non_null(schema_column(schema_table("api_keys"), "api_key_client_id"));
}

/* Every table the v26.08 seed fills exists, and the seed loads; the sequences continue after it. */
static void test_2608_seed_loads(void **state)
{
    struct fixture *fx = *state;
    struct db *db = create(fx, ITFLOW_V2608);
    char *seed = test_read_file(SEED_2608, NULL);
    if (!seed) {
        db_close(db);
        skip();
    }
    enum db_rc rc = db_exec(db, seed);
    free(seed);
    if (rc != DB_OK)
        fail_msg("seed-2608.sql: %s", db_errmsg(db));
    struct db_stmt *st;
    int64_t n = 0;
    assert_int_equal(db_stmt(db, "SELECT seq FROM sqlite_sequence WHERE name = 'tickets'", &st),
                     DB_OK);
    assert_int_equal(db_query_int(st, &n), DB_ROW);
    assert_int_equal(n, 4);
    /* composite primary key: one rule per (user, client) */
    assert_int_not_equal(db_exec(db, "INSERT INTO user_client_permissions (user_id, client_id, "
                                     "permission_type) SELECT user_id, client_id, 'deny' FROM "
                                     "user_client_permissions LIMIT 1"),
                         DB_OK);
    exec_ok(db, "INSERT INTO user_client_permissions (user_id, client_id) VALUES (77, 1)");
    assert_int_equal(db_stmt(db,
                             "SELECT COUNT(*) FROM user_client_permissions WHERE user_id = 77 "
                             "AND permission_type = 'allow'",
                             &st),
                     DB_OK);
    assert_int_equal(db_query_int(st, &n), DB_ROW);
    assert_int_equal(n, 1);
    db_close(db);
}

static void test_identify(void **state)
{
    struct fixture *fx = *state;
    struct db_identity id;
    /* v26.08 */
    struct db *db = create(fx, ITFLOW_V2608);
    schema_select(ITFLOW_V2607); /* detection does not depend on the active set */
    assert_int_equal(db_identify(db, &id), DB_OK);
    assert_int_equal(id.dialect, ITFLOW_V2608);
    assert_string_equal(id.version, ""); /* no settings row yet */
    assert_int_equal(id.known, 0);
    exec_ok(db, "INSERT INTO settings (company_id, config_current_database_version) VALUES (1, "
                "'2.6.6')");
    assert_int_equal(db_identify(db, &id), DB_OK);
    assert_int_equal(id.dialect, ITFLOW_V2608);
    assert_string_equal(id.version, "2.6.6");
    assert_int_equal(id.known, 1);
    exec_ok(db, "UPDATE settings SET config_current_database_version = '2.7.1'");
    assert_int_equal(db_identify(db, &id), DB_OK);
    assert_int_equal(id.dialect, ITFLOW_V2608);
    assert_string_equal(id.version, "2.7.1");
    assert_int_equal(id.known, 0);
    db_close(db);
    test_remove_db_files(fx->path);

    /* v26.07 */
    db = create(fx, ITFLOW_V2607);
    schema_select(ITFLOW_V2608);
    exec_ok(db, "INSERT INTO settings (company_id, config_current_database_version) VALUES (1, "
                "'2.4.4')");
    assert_int_equal(db_identify(db, &id), DB_OK);
    assert_int_equal(id.dialect, ITFLOW_V2607);
    assert_string_equal(id.version, "2.4.4");
    assert_int_equal(id.known, 1);
    /* a 26.07 key table with a 26.08 version: the version is not the release's */
    exec_ok(db, "UPDATE settings SET config_current_database_version = '2.6.6'");
    assert_int_equal(db_identify(db, &id), DB_OK);
    assert_int_equal(id.dialect, ITFLOW_V2607);
    assert_int_equal(id.known, 0);
    db_close(db);
    test_remove_db_files(fx->path);

    /* no ITFlow tables at all */
    assert_int_equal(db_open_create(fx->path, &db), DB_OK);
    exec_ok(db, "CREATE TABLE t (a INTEGER)");
    assert_int_equal(db_identify(db, &id), DB_DONE);
    db_close(db);
}

static int count_column(void *arg, const struct db_column_info *c)
{
    (*(int *)arg)++;
    return strcmp(c->name, "stop") == 0;
}

static void test_table_columns(void **state)
{
    struct fixture *fx = *state;
    struct db *db = create(fx, ITFLOW_V2607);
    int n = 0;
    assert_int_equal(db_table_columns(db, "clients", count_column, &n), DB_OK);
    assert_int_equal(n, (int)schema_table("clients")->ncols);
    n = 0;
    assert_int_equal(db_table_columns(db, "no_such_table", count_column, &n), DB_DONE);
    assert_int_equal(n, 0);
    /* a callback's refusal stops the walk */
    exec_ok(db, "CREATE TABLE odd (a INTEGER, stop TEXT, b TEXT)");
    assert_int_equal(db_table_columns(db, "odd", count_column, &n), DB_ERROR);
    assert_int_equal(n, 2);
    db_close(db);
}

static void test_column_from_catalogue(void **state)
{
    (void)state;
    struct schema_column c;
    schema_column_from_catalogue("a", "varchar(40)", 1, "'x'", &c);
    assert_int_equal(c.type, COL_VARCHAR);
    assert_int_equal(c.max_len, 40);
    assert_int_equal(c.flags, COL_NOT_NULL);
    assert_string_equal(c.dflt, "'x'");
    schema_column_from_catalogue("b", "decimal(7,2)", 0, NULL, &c);
    assert_int_equal(c.type, COL_DECIMAL);
    assert_int_equal(c.scale, 2);
    assert_int_equal(c.flags, 0);
    schema_column_from_catalogue("c", "int(11)", 0, NULL, &c);
    assert_int_equal(c.type, COL_INT);
    schema_column_from_catalogue("d", "BIGINT UNSIGNED", 0, NULL, &c);
    assert_int_equal(c.type, COL_INT);
    schema_column_from_catalogue("e", "NUMERIC", 0, NULL, &c); /* SQLite: as stored */
    assert_int_equal(c.type, COL_FLOAT);
    schema_column_from_catalogue("f", "mediumtext", 0, NULL, &c);
    assert_int_equal(c.type, COL_TEXT);
    assert_int_equal(c.max_len, 16777215u);
    schema_column_from_catalogue("g", "json", 0, NULL, &c); /* unknown: text */
    assert_int_equal(c.type, COL_TEXT);
    schema_column_from_catalogue("h", "", 0, NULL, &c); /* SQLite: no declared type */
    assert_int_equal(c.type, COL_TEXT);
    schema_column_from_catalogue("i", "enum('a','b')", 1, "'a'", &c);
    assert_int_equal(c.type, COL_ENUM);
    schema_column_from_catalogue("j", "datetime", 0, NULL, &c);
    assert_int_equal(c.type, COL_DATETIME);
}

/* Every generated column is typed as its own MariaDB definition says (a hand edit that typed a
 * float column as a decimal would render and declare it wrongly). */
static void check_types_follow_definitions(const struct schema_set *set)
{
    for (size_t t = 0; t < set->ntables; t++)
        for (size_t i = 0; i < set->tables[t].ncols; i++) {
            const struct schema_column *c = &set->tables[t].cols[i];
            struct schema_column from;
            schema_column_from_catalogue(c->name, c->mariadb, 0, NULL, &from);
            if (from.type != c->type || from.max_len != c->max_len || from.scale != c->scale)
                fail_msg("%s %s.%s \"%s\": type %d/%u/%u, the definition says %d/%u/%u",
                         set->itflow, set->tables[t].name, c->name, c->mariadb, (int)c->type,
                         (unsigned)c->max_len, (unsigned)c->scale, (int)from.type,
                         (unsigned)from.max_len, (unsigned)from.scale);
        }
}

static void assert_same_table(const char *name)
{
    const struct schema_table *a = schema_set_table(&schema_set_v2607, name);
    const struct schema_table *b = schema_set_table(&schema_set_v2608, name);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->ncols, b->ncols);
    for (size_t i = 0; i < a->ncols; i++) {
        assert_string_equal(a->cols[i].name, b->cols[i].name);
        assert_string_equal(a->cols[i].mariadb, b->cols[i].mariadb);
        assert_int_equal(a->cols[i].type, b->cols[i].type);
        assert_int_equal(a->cols[i].flags, b->cols[i].flags);
        assert_int_equal(a->cols[i].max_len, b->cols[i].max_len);
        assert_int_equal(a->cols[i].scale, b->cols[i].scale);
        assert_true((a->cols[i].dflt == NULL) == (b->cols[i].dflt == NULL));
        if (a->cols[i].dflt)
            assert_string_equal(a->cols[i].dflt, b->cols[i].dflt);
    }
    assert_string_equal(a->keys, b->keys);
}

/* The v26.07 set has what the reference leaves out but the v1 writes use (from ITFlow's v26.07
 * db.sql): four tables, unchanged in v26.08 (whose set has them too), and the invoice and quote
 * counters. */
static void test_2607_beyond_reference(void **state)
{
    (void)state;
    check_types_follow_definitions(&schema_set_v2607);
    check_types_follow_definitions(&schema_set_v2608);
    static const char *const extra[] = {"ticket_history", "taxes", "product_stock", "quote_items"};
    const struct schema_table *replies = schema_set_table(&schema_set_v2607, "ticket_replies");
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
        assert_ptr_equal(schema_set_table(&schema_set_v2607, extra[i]), replies + 1 + i);
    assert_same_table("ticket_history");
    assert_same_table("taxes");
    assert_same_table("product_stock");
    assert_same_table("quote_items");
    const struct schema_table *q = schema_set_table(&schema_set_v2607, "quote_items");
    assert_int_equal(q->ncols, 15);
    assert_string_equal(q->cols[q->ncols - 1].name, "item_quote_id");
    assert_string_equal(q->keys, "PRIMARY KEY (item_id)");
    assert_int_equal(schema_column(q, "item_total")->type, COL_DECIMAL);
    assert_int_equal(schema_column(q, "item_total")->scale, 2);
    assert_int_equal(
        schema_column(schema_set_table(&schema_set_v2607, "taxes"), "tax_percent")->type,
        COL_FLOAT);
    const struct schema_table *s = schema_set_table(&schema_set_v2607, "settings");
    static const char *const counters[] = {"config_ticket_next_number", "config_invoice_prefix",
                                           "config_invoice_next_number", "config_quote_prefix",
                                           "config_quote_next_number"};
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
        assert_int_equal(schema_column_index(s, counters[i]), (int)(s->ncols - 5 + i));
    assert_int_equal(schema_column(s, "config_quote_prefix")->max_len, 200);
}

/* Schema drift: the active set becomes the tables as the database has them. */
static void test_learn_schema(void **state)
{
    struct fixture *fx = *state;
    struct db *db = create(fx, ITFLOW_V2607);
    const struct schema_table *built = schema_table("assets");
    struct db_drift drift;
    /* the release's tables exactly: nothing differs, the generated descriptions stay */
    assert_int_equal(db_learn_schema(db, &drift), DB_OK);
    assert_int_equal(drift.tables, 0);
    assert_ptr_not_equal(schema_active(), &schema_set_v2607);
    assert_ptr_equal(schema_table("assets")->cols, built->cols);
    schema_select(ITFLOW_V2607);

    exec_ok(db, "ALTER TABLE assets ADD COLUMN asset_power decimal(7,2) NOT NULL DEFAULT 1.5");
    exec_ok(db, "ALTER TABLE assets ADD COLUMN asset_label varchar(40)");
    exec_ok(db, "ALTER TABLE logs DROP COLUMN log_user_agent");
    assert_int_equal(db_learn_schema(db, &drift), DB_OK);
    assert_int_equal(drift.tables, 2);
    assert_int_equal(drift.added, 2);
    assert_int_equal(drift.missing, 1);
    const struct schema_table *t = schema_table("assets");
    assert_int_equal(t->ncols, built->ncols + 2);
    for (size_t i = 0; i < built->ncols; i++) { /* known columns keep their description */
        assert_string_equal(t->cols[i].name, built->cols[i].name);
        assert_int_equal(t->cols[i].type, built->cols[i].type);
        assert_int_equal(t->cols[i].max_len, built->cols[i].max_len);
    }
    const struct schema_column *p = &t->cols[built->ncols];
    assert_string_equal(p->name, "asset_power");
    assert_int_equal(p->type, COL_DECIMAL);
    assert_int_equal(p->scale, 2);
    assert_int_equal(p->flags, COL_NOT_NULL);
    assert_string_equal(t->cols[built->ncols + 1].name, "asset_label");
    assert_int_equal(t->cols[built->ncols + 1].max_len, 40);
    assert_null(schema_column(schema_table("logs"), "log_user_agent"));
    assert_non_null(schema_column(schema_table("logs"), "log_ip"));
    /* a table the database lacks keeps the release's description */
    exec_ok(db, "DROP TABLE folders");
    schema_select(ITFLOW_V2607);
    assert_int_equal(db_learn_schema(db, NULL), DB_OK);
    assert_ptr_equal(schema_table("folders")->cols,
                     schema_set_table(&schema_set_v2607, "folders")->cols);
    db_close(db);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_default_and_choice),    T(test_2608_seed_loads),       T(test_identify),
        T(test_table_columns),         T(test_column_from_catalogue), T(test_learn_schema),
        T(test_2607_beyond_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

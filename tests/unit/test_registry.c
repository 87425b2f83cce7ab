/* test_registry: sanity of the module descriptors in src/modules/ against the schema, checked
 * independently of module_registry_init's own checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modules/registry.h"
#include "db/schema.h"
#include "engine/module.h"

static const char *const url_names[] = {
    "assets",           "certificates",   "clients",  "contacts", "credentials",   "documents",
    "document_folders", "domains",        "expenses", "invoices", "invoice_items", "locations",
    "networks",         "payments",       "products", "quotes",   "software",      "technicians",
    "tickets",          "ticket_replies", "vendors",
};

static int setup(void **state)
{
    char err[256] = "";
    (void)state;
    if (module_registry_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "module_registry_init: %s\n", err);
        return -1;
    }
    return 0;
}

/* "table.column" -> that table's column; "column" -> a column of t. */
static const struct schema_column *qualified_column(const struct schema_table *t, const char *col)
{
    const char *dot = strchr(col, '.');
    if (!dot)
        return schema_column(t, col);
    char table[64];
    size_t n = (size_t)(dot - col);
    if (n == 0 || n >= sizeof(table))
        return NULL;
    memcpy(table, col, n);
    table[n] = 0;
    const struct schema_table *other = schema_table(table);
    return other ? schema_column(other, dot + 1) : NULL;
}

static void test_init(void **state)
{
    (void)state;
    char err[256] = "";
    /* idempotent: a second run over the resolved descriptors succeeds too */
    assert_int_equal(module_registry_init(err, sizeof(err)), 0);
    assert_string_equal(err, "");
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        assert_non_null(m->res->t);
        assert_non_null(m->res->pk);
        assert_string_equal(m->res->pk, m->res->t->cols[0].name);
        if (m->join)
            assert_ptr_equal(m->res->jt, schema_table(m->join->table));
        else
            assert_null(m->res->jt);
    }
}

static void test_module_list(void **state)
{
    (void)state;
    size_t n = sizeof(url_names) / sizeof(url_names[0]);
    assert_int_equal(n, 21);
    assert_int_equal(module_count, n);
    for (size_t i = 0; i < n; i++) {
        const struct module *m = module_find(url_names[i], strlen(url_names[i]));
        if (!m)
            fail_msg("module %s is not registered", url_names[i]);
        assert_string_equal(m->name, url_names[i]);
    }
    for (size_t i = 0; i < module_count; i++) {
        int known = 0;
        for (size_t k = 0; k < n; k++)
            known |= strcmp(module_registry[i]->name, url_names[k]) == 0;
        if (!known)
            fail_msg("unexpected module %s", module_registry[i]->name);
    }
    /* module_find compares the whole name */
    assert_null(module_find("client", 6));
    assert_null(module_find("clientsx", 8));
    assert_null(module_find("", 0));
    assert_non_null(module_find("clients/read", 7));
}

static void test_tables_exist(void **state)
{
    (void)state;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        const struct schema_table *t = schema_table(m->table);
        if (!t)
            fail_msg("module %s: table %s not in the schema", m->name, m->table);
        assert_ptr_equal(m->res->t, t);
        /* the first column is the AUTO_INCREMENT primary key */
        assert_true(t->ncols > 1);
        if (!(t->cols[0].flags & COL_AUTO_INC))
            fail_msg("module %s: %s.%s is not AUTO_INCREMENT", m->name, t->name, t->cols[0].name);
        if (m->join && !schema_table(m->join->table))
            fail_msg("module %s: join table %s missing", m->name, m->join->table);
        if (m->scope_join && !schema_table(m->scope_join->table))
            fail_msg("module %s: scope table %s missing", m->name, m->scope_join->table);
    }
}

static void test_columns_exist(void **state)
{
    (void)state;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        const struct schema_table *t = schema_table(m->table);
        const struct schema_table *jt = m->join ? schema_table(m->join->table) : NULL;
        assert_non_null(t);
        for (size_t k = 0; k < m->nfields; k++) {
            const struct field *f = &m->fields[k];
            if (f->column && !qualified_column(t, f->column))
                fail_msg("module %s: field %s: no column %s", m->name, f->name, f->column);
        }
        for (size_t k = 0; k < m->nfilters; k++) {
            const struct filter *f = &m->filters[k];
            const char *cols[2] = {f->column, f->column2};
            assert_non_null(f->column);
            for (int c = 0; c < 2; c++) {
                if (!cols[c])
                    continue;
                int ok = schema_column(t, cols[c]) != NULL;
                /* a filter on a joined column needs the join in its rows */
                if (!ok && jt && schema_column(jt, cols[c]))
                    ok = 1;
                if (!ok)
                    fail_msg("module %s: filter %s: no column %s", m->name, f->param, cols[c]);
            }
        }
        if (m->client_col) {
            const struct schema_table *ct = m->scope_join ? schema_table(m->scope_join->table) : t;
            if (!schema_column(ct, m->client_col))
                fail_msg("module %s: client_col %s not in %s", m->name, m->client_col, ct->name);
            if (schema_column(ct, m->client_col)->type != COL_INT)
                fail_msg("module %s: client_col %s is not an integer", m->name, m->client_col);
        } else if (!(m->flags & (MOD_ALL_CLIENTS_ONLY | MOD_NO_CLIENT_SCOPE)) &&
                   !module_client_scoped(m)) {
            /* only aggregate endpoints with their own scope column may go without one */
            fail_msg("module %s: no client column and no scope flag", m->name);
        }
        if (m->archived_col) {
            const struct schema_column *c = schema_column(t, m->archived_col);
            if (!c)
                fail_msg("module %s: archived_col %s not in %s", m->name, m->archived_col, t->name);
            assert_int_equal(c->type, COL_DATETIME);
        }
    }
}

static void test_no_duplicates(void **state)
{
    (void)state;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        for (size_t k = i + 1; k < module_count; k++)
            if (strcmp(m->name, module_registry[k]->name) == 0)
                fail_msg("module %s twice", m->name);
        for (size_t a = 0; a < m->nendpoints; a++)
            for (size_t b = a + 1; b < m->nendpoints; b++)
                if (strcmp(m->endpoints[a].function, m->endpoints[b].function) == 0)
                    fail_msg("module %s: function %s twice", m->name, m->endpoints[a].function);
        for (size_t a = 0; a < m->nfields; a++) {
            assert_ptr_equal(module_field(m, m->fields[a].name), &m->fields[a]);
            for (size_t b = a + 1; b < m->nfields; b++)
                if (strcmp(m->fields[a].name, m->fields[b].name) == 0)
                    fail_msg("module %s: field %s twice", m->name, m->fields[a].name);
        }
        for (size_t a = 0; a < m->nfilters; a++)
            for (size_t b = a + 1; b < m->nfilters; b++)
                if (strcmp(m->filters[a].param, m->filters[b].param) == 0)
                    fail_msg("module %s: filter %s twice", m->name, m->filters[a].param);
    }
}

static void test_read_endpoints(void **state)
{
    (void)state;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        int nread = 0;
        for (size_t k = 0; k < m->nendpoints; k++) {
            const struct endpoint *ep = &m->endpoints[k];
            int is_tech_time =
                strcmp(m->name, "technicians") == 0 && strcmp(ep->function, "time") == 0;
            if (ep->op == OP_READ) {
                nread++;
                if (strcmp(ep->function, "read") != 0 && !is_tech_time)
                    fail_msg("module %s: read operation named %s", m->name, ep->function);
            } else if (strcmp(ep->function, "read") == 0 || is_tech_time) {
                fail_msg("module %s: %s is not a read operation", m->name, ep->function);
            }
        }
        assert_int_equal(nread, 1);
        if (strcmp(m->name, "technicians") == 0) {
            assert_non_null(module_endpoint(m, "time", 4));
            assert_null(module_endpoint(m, "read", 4));
            assert_non_null(module_endpoint(m, "time", 4)->aggregate);
        } else {
            assert_non_null(module_endpoint(m, "read", 4));
        }
    }
}

/* technicians/time is an aggregate read scoped on the ticket's client: no client column of the
 * replies table stands in for it */
static void test_aggregate_scope(void **state)
{
    (void)state;
    const struct module *m = module_find("technicians", 11);
    assert_non_null(m);
    assert_null(m->client_col);
    const struct endpoint *ep = module_endpoint(m, "time", 4);
    assert_non_null(ep);
    assert_non_null(ep->aggregate);
    assert_string_equal(ep->aggregate->scope_col, "t.ticket_client_id");
    assert_true(module_client_scoped(m));
    /* every other endpoint is a table read or write */
    for (size_t i = 0; i < module_count; i++)
        for (size_t k = 0; k < module_registry[i]->nendpoints; k++)
            if (module_registry[i] != m)
                assert_null(module_registry[i]->endpoints[k].aggregate);
    assert_false(module_client_scoped(module_find("products", 8)));
    assert_true(module_client_scoped(module_find("assets", 6)));
}

static int has_name_field(const struct module *m)
{
    for (size_t k = 0; k < m->nfields; k++)
        if (m->fields[k].flags & FF_NAME)
            return 1;
    return 0;
}

static void check_name_use(const struct module *m, const struct endpoint *ep,
                           const struct log_spec *l)
{
    if (l->text && strstr(l->text, "{name}") && !has_name_field(m))
        fail_msg("module %s: %s logs {name} but no field is FF_NAME", m->name, ep->function);
}

static void test_name_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        for (size_t k = 0; k < m->nendpoints; k++) {
            const struct endpoint *ep = &m->endpoints[k];
            if (ep->op == OP_READ)
                continue;
            for (int l = 0; l < EP_MAX_LOGS && ep->logs[l].type; l++)
                check_name_use(m, ep, &ep->logs[l]);
            if (ep->miss_log)
                check_name_use(m, ep, ep->miss_log);
        }
        /* an FF_NAME field names a column the log code can read back from the row */
        for (size_t k = 0; k < m->nfields; k++)
            if (m->fields[k].flags & FF_NAME) {
                assert_non_null(m->fields[k].column);
                assert_non_null(schema_column(m->res->t, m->fields[k].column));
            }
    }
}

static void check_template(const struct module *m, const struct endpoint *ep, const char *text)
{
    const char *p = text;
    while ((p = strchr(p, '{')) != NULL) {
        const char *close = strchr(p, '}');
        if (!close)
            fail_msg("module %s: %s: unterminated placeholder in \"%s\"", m->name, ep->function,
                     text);
        char var[64];
        size_t n = (size_t)(close - p - 1);
        if (n == 0 || n >= sizeof(var))
            fail_msg("module %s: %s: bad placeholder in \"%s\"", m->name, ep->function, text);
        memcpy(var, p + 1, n);
        var[n] = 0;
        if (strchr(var, '{'))
            fail_msg("module %s: %s: nested '{' in \"%s\"", m->name, ep->function, text);
        int ok = strcmp(var, "key") == 0 || strcmp(var, "name") == 0 ||
                 schema_column(m->res->t, var) != NULL;
        if (!ok)
            fail_msg("module %s: %s: placeholder {%s} does not resolve", m->name, ep->function,
                     var);
        p = close + 1;
    }
}

static void test_log_templates(void **state)
{
    (void)state;
    size_t nlogs = 0;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        for (size_t k = 0; k < m->nendpoints; k++) {
            const struct endpoint *ep = &m->endpoints[k];
            if (ep->op == OP_READ) {
                assert_null(ep->logs[0].type);
                continue;
            }
            for (int l = 0; l < EP_MAX_LOGS && ep->logs[l].type; l++) {
                const struct log_spec *s = &ep->logs[l];
                assert_non_null(s->action);
                assert_non_null(s->text);
                assert_true(s->text[0] != 0);
                check_template(m, ep, s->text);
                nlogs++;
            }
            if (ep->miss_log) {
                assert_non_null(ep->miss_log->type);
                assert_non_null(ep->miss_log->text);
                check_template(m, ep, ep->miss_log->text);
            }
        }
    }
    assert_true(nlogs > 0);
}

static void test_field_flags(void **state)
{
    (void)state;
    for (size_t i = 0; i < module_count; i++) {
        const struct module *m = module_registry[i];
        for (size_t k = 0; k < m->nfields; k++) {
            const struct field *f = &m->fields[k];
            assert_non_null(f->name);
            assert_true(f->name[0] != 0);
            /* a required field must be read on create */
            if ((f->flags & FF_REQUIRED) && (f->flags & (FF_NO_CREATE | FF_CONST)))
                fail_msg("module %s: required field %s is never read on create", m->name, f->name);
        }
    }
}

/* Read columns: ticket_replies' ticket columns are typed by the tickets table, the writer's name
 * is an expression; the row keys hold the table's columns, then the read columns'. */
static void test_read_columns(void **state)
{
    (void)state;
    const struct module *m = module_find("ticket_replies", 14);
    assert_non_null(m);
    assert_int_equal(m->nread_cols, 5);
    assert_ptr_equal(m->res->read_col_types[0],
                     schema_column(schema_table("tickets"), "ticket_prefix"));
    assert_null(m->res->read_col_types[4]);
    size_t nt = m->res->t->ncols;
    assert_string_equal(m->res->row_keys[nt], ",\"ticket_prefix\":");
    assert_string_equal(m->res->row_keys[nt + 4], ",\"ticket_reply_by_name\":");
    assert_string_equal(m->archived_param, "include_archived");
    /* no module answers a read with SQL of its own */
    for (size_t i = 0; i < module_count; i++)
        for (size_t k = 0; k < module_registry[i]->nendpoints; k++)
            if (module_registry[i]->endpoints[k].op == OP_READ &&
                module_registry[i]->endpoints[k].before)
                fail_msg("module %s: a read hook", module_registry[i]->name);
}

static enum eng_rc read_hook(struct op_ctx *ctx)
{
    (void)ctx;
    return ENG_OK;
}

static const char *const two_values[] = {"A", "B", NULL};
static const struct filter bad_also[] = {
    {"x", FK_TEXT, "ticket_reply", NULL, FS_LIST, FLT_ALSO, NULL}};
static const struct filter no_values[] = {
    {"x", FK_ONE_OF, "ticket_reply_type", NULL, FS_LIST, 0, NULL}};
static const struct filter good_filters[] = {
    {"x", FK_ONE_OF, "ticket_reply_type", NULL, FS_LIST, FLT_ALSO, two_values}};
static const struct read_col unjoined[] = {{"name", "users.user_name", NULL}};
static const struct read_col unknown[] = {{"name", "tickets.no_such_column", NULL}};
static const struct read_col no_expr[] = {{"name", NULL, NULL}};
static const struct read_col good_cols[] = {{"name", "users.user_name", NULL},
                                            {"sum", NULL, "1 + 1"}};
static const struct join users_join[] = {
    {"users", "users.user_id = ticket_replies.ticket_reply_by"}};
static const struct join bad_join[] = {{"no_such_table", "1 = 1"}};

/* module_check refuses read columns and filters the engine could not read */
static void test_read_descriptor_checks(void **state)
{
    (void)state;
    static struct module_resolved res;
    struct module m = {.name = "probe",
                       .table = "ticket_replies",
                       .client_col = "ticket_client_id",
                       .scope_join =
                           &(const struct join){"tickets", "tickets.ticket_id = "
                                                           "ticket_replies.ticket_reply_ticket_id"},
                       .res = &res};
    char err[256];
    struct {
        const struct filter *filters;
        const struct read_col *cols;
        const struct join *joins;
        const char *archived_col, *archived_param;
        int ok;
    } cases[] = {
        {good_filters, good_cols, users_join, "ticket_reply_archived_at", "include_archived", 1},
        {bad_also, NULL, NULL, NULL, NULL, 0},
        {no_values, NULL, NULL, NULL, NULL, 0},
        {NULL, unjoined, NULL, NULL, NULL, 0},
        {NULL, unknown, NULL, NULL, NULL, 0},
        {NULL, no_expr, NULL, NULL, NULL, 0},
        {NULL, good_cols, bad_join, NULL, NULL, 0},
        {NULL, NULL, NULL, NULL, "include_archived", 0},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        memset(&res, 0, sizeof(res));
        m.filters = cases[i].filters;
        m.nfilters = cases[i].filters ? 1 : 0;
        m.read_cols = cases[i].cols;
        m.nread_cols = !cases[i].cols ? 0 : cases[i].cols == good_cols ? 2 : 1;
        m.read_joins = cases[i].joins;
        m.nread_joins = cases[i].joins ? 1 : 0;
        m.archived_col = cases[i].archived_col;
        m.archived_param = cases[i].archived_param;
        err[0] = 0;
        int rc = module_check(&m, err, sizeof(err));
        if ((rc == 0) != cases[i].ok)
            fail_msg("case %zu: module_check %d (%s)", i, rc, err);
        for (size_t k = 0; rc == 0 && k < res.t->ncols + m.nread_cols; k++)
            free((void *)(uintptr_t)res.row_keys[k]);
        free(res.row_keys);
        free(res.row_key_lens);
        free(res.read_col_types);
    }
    /* a read is the engine's: no hook answers it */
    const struct endpoint hooked[] = {{.function = "read", .op = OP_READ, .before = read_hook}};
    memset(&res, 0, sizeof(res));
    m.filters = NULL, m.nfilters = 0, m.read_cols = NULL, m.nread_cols = 0, m.read_joins = NULL;
    m.nread_joins = 0, m.archived_param = NULL;
    m.endpoints = hooked;
    m.nendpoints = 1;
    assert_int_equal(module_check(&m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "a read has no hooks"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_module_list),
        cmocka_unit_test(test_tables_exist),
        cmocka_unit_test(test_columns_exist),
        cmocka_unit_test(test_no_duplicates),
        cmocka_unit_test(test_read_endpoints),
        cmocka_unit_test(test_aggregate_scope),
        cmocka_unit_test(test_name_fields),
        cmocka_unit_test(test_log_templates),
        cmocka_unit_test(test_field_flags),
        cmocka_unit_test(test_read_columns),
        cmocka_unit_test(test_read_descriptor_checks),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

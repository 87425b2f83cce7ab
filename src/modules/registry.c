/* registry: the list of API modules, and the start-up check of every descriptor against the
 * schema (a descriptor that names a missing column fails here, not on a request). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/registry.h"

#include "engine/engine.h"
#include "engine/hook.h"
#include "json/json_write.h"

extern const struct module module_assets, module_certificates, module_clients, module_contacts,
    module_credentials, module_documents, module_document_folders, module_domains, module_expenses,
    module_invoices, module_invoice_items, module_locations, module_networks, module_payments,
    module_products, module_quotes, module_software, module_technicians, module_tickets,
    module_ticket_replies, module_vendors;

const struct module *const module_registry[] = {
    &module_assets,      &module_certificates, &module_clients,          &module_contacts,
    &module_credentials, &module_documents,    &module_document_folders, &module_domains,
    &module_expenses,    &module_invoices,     &module_invoice_items,    &module_locations,
    &module_networks,    &module_payments,     &module_products,         &module_quotes,
    &module_software,    &module_technicians,  &module_tickets,          &module_ticket_replies,
    &module_vendors,
};
const size_t module_count = COUNT_OF(module_registry);

static int check_column(const struct module *m, const char *col, const char *what, char *err,
                        size_t errlen)
{
    if (!col || schema_column(m->res->t, col) || (m->res->jt && schema_column(m->res->jt, col)))
        return 0;
    snprintf(err, errlen, "module %s: %s names unknown column %s", m->name, what, col);
    return -1;
}

/* An aggregate's "alias.column" names a column of the aliased table (the module's or a join's);
 * any other text (an expression) is left to the store. */
static int check_agg_column(const struct module *m, const struct aggregate *a, const char *col,
                            char *err, size_t errlen)
{
    const char *dot = col ? strchr(col, '.') : NULL;
    if (!col || !dot || strpbrk(col, " (),'"))
        return 0;
    size_t n = (size_t)(dot - col);
    const char *table = strlen(a->alias) == n && !strncmp(a->alias, col, n) ? m->table : NULL;
    for (size_t i = 0; !table && i < a->njoins; i++)
        if (strlen(a->joins[i].alias) == n && !strncmp(a->joins[i].alias, col, n))
            table = a->joins[i].table;
    const struct schema_table *t = table ? schema_table(table) : NULL;
    if (t && schema_column(t, dot + 1))
        return 0;
    snprintf(err, errlen, "module %s: aggregate names unknown column %s", m->name, col);
    return -1;
}

static int check_aggregate(const struct module *m, const struct endpoint *ep, char *err,
                           size_t errlen)
{
    const struct aggregate *a = ep->aggregate;
    if (ep->op != OP_READ || !a->alias || !a->ncols || !a->period_col || !a->group_by ||
        !a->order_by.sqlite || !a->order_by.mariadb || a->nfilters > AGG_MAX_FILTERS ||
        (a->month_param && !a->month_error)) {
        snprintf(err, errlen, "module %s: %s: incomplete aggregate read", m->name, ep->function);
        return -1;
    }
    for (size_t i = 0; i < a->njoins; i++)
        if (!schema_table(a->joins[i].table)) {
            snprintf(err, errlen, "module %s: unknown join table %s", m->name, a->joins[i].table);
            return -1;
        }
    for (size_t i = 0; i < a->ncols; i++) {
        const struct agg_col *c = &a->cols[i];
        if (!c->key || (!c->expr && (!c->dexpr.sqlite || !c->dexpr.mariadb)) ||
            (c->out == AO_CONCAT && !c->expr2)) {
            snprintf(err, errlen, "module %s: %s: incomplete aggregate column %s", m->name,
                     ep->function, c->key ? c->key : "(unnamed)");
            return -1;
        }
        if (check_agg_column(m, a, c->expr, err, errlen) ||
            check_agg_column(m, a, c->expr2, err, errlen))
            return -1;
    }
    for (size_t i = 0; i < a->nfilters; i++)
        if (check_agg_column(m, a, a->filters[i].column, err, errlen))
            return -1;
    /* a client-scoped module's aggregate must say how a scoped key's rows are limited */
    if (!a->scope_col && !(m->flags & (MOD_ALL_CLIENTS_ONLY | MOD_NO_CLIENT_SCOPE))) {
        snprintf(err, errlen, "module %s: %s: aggregate read without a scope column", m->name,
                 ep->function);
        return -1;
    }
    return check_agg_column(m, a, a->period_col, err, errlen) ||
           check_agg_column(m, a, a->scope_col, err, errlen);
}

/* The filters: FK_ONE_OF lists its values; a FLT_ALSO filter compares exactly and has a bit. */
static int check_filters(const struct module *m, char *err, size_t errlen)
{
    for (size_t i = 0; i < m->nfilters; i++) {
        const struct filter *f = &m->filters[i];
        if (f->kind == FK_ONE_OF && (!f->values || !f->values[0])) {
            snprintf(err, errlen, "module %s: filter %s lists no values", m->name, f->param);
            return -1;
        }
        if ((f->flags & FLT_ALSO) &&
            ((f->kind != FK_ID && f->kind != FK_ONE_OF) || i >= FLT_ALSO_MAX || f->column2)) {
            snprintf(err, errlen,
                     "module %s: filter %s applies beside the others: one column, FK_ID or "
                     "FK_ONE_OF, among the first %d filters",
                     m->name, f->param, FLT_ALSO_MAX);
            return -1;
        }
    }
    if (m->archived_param && !m->archived_col) {
        snprintf(err, errlen, "module %s: %s needs an archived column", m->name, m->archived_param);
        return -1;
    }
    return 0;
}

/* A table a read names: the module's, its scope join's, its join's or a read join's. */
static const struct schema_table *read_table(const struct module *m, const char *name, size_t n)
{
    const char *names[3] = {m->table, m->scope_join ? m->scope_join->table : NULL,
                            m->join ? m->join->table : NULL};
    for (size_t i = 0; i < COUNT_OF(names); i++)
        if (names[i] && strlen(names[i]) == n && !strncmp(names[i], name, n))
            return schema_table(names[i]);
    for (size_t i = 0; i < m->nread_joins; i++)
        if (strlen(m->read_joins[i].table) == n && !strncmp(m->read_joins[i].table, name, n))
            return schema_table(m->read_joins[i].table);
    return NULL;
}

/* The read joins' tables exist; each read column names a column of a table the read joins, or
 * is an expression. */
static int check_read_cols(const struct module *m, char *err, size_t errlen)
{
    for (size_t i = 0; i < m->nread_joins; i++)
        if (!m->read_joins[i].on || !schema_table(m->read_joins[i].table)) {
            snprintf(err, errlen, "module %s: unknown read join table %s", m->name,
                     m->read_joins[i].table);
            return -1;
        }
    if (m->nread_cols && !m->res->read_col_types &&
        !(m->res->read_col_types = calloc(m->nread_cols, sizeof(*m->res->read_col_types)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < m->nread_cols; i++) {
        const struct read_col *c = &m->read_cols[i];
        const char *dot = c->column ? strchr(c->column, '.') : NULL;
        const struct schema_table *t =
            dot ? read_table(m, c->column, (size_t)(dot - c->column)) : NULL;
        const struct schema_column *col = t ? schema_column(t, dot + 1) : NULL;
        if (!c->key || (c->column ? !col : !c->expr)) {
            snprintf(err, errlen, "module %s: read column %s names no column of a joined table",
                     m->name, c->key ? c->key : "(unnamed)");
            return -1;
        }
        m->res->read_col_types[i] = col;
    }
    return 0;
}

/* A module without a client column says how its reads are scoped: all-clients keys only, no
 * scope at all, or endpoints that are all aggregates with their own scope column. */
static int check_client_scope(const struct module *m, char *err, size_t errlen)
{
    if (m->client_col || (m->flags & (MOD_ALL_CLIENTS_ONLY | MOD_NO_CLIENT_SCOPE)))
        return 0;
    for (size_t i = 0; i < m->nendpoints; i++) {
        const struct endpoint *ep = &m->endpoints[i];
        if (!ep->aggregate || !ep->aggregate->scope_col) {
            snprintf(err, errlen,
                     "module %s: no client column, and endpoint %s has no scope of its own",
                     m->name, ep->function);
            return -1;
        }
    }
    return 0;
}

static int check_module(const struct module *m, char *err, size_t errlen)
{
    m->res->t = schema_table(m->table);
    if (!m->res->t) {
        snprintf(err, errlen, "module %s: unknown table %s", m->name, m->table);
        return -1;
    }
    m->res->pk = m->res->t->cols[0].name;
    m->res->jt = NULL;
    if (m->join && !(m->res->jt = schema_table(m->join->table))) {
        snprintf(err, errlen, "module %s: unknown join table %s", m->name, m->join->table);
        return -1;
    }
    const struct schema_table *st = m->scope_join ? schema_table(m->scope_join->table) : NULL;
    if (m->scope_join && !st) {
        snprintf(err, errlen, "module %s: unknown scope table %s", m->name, m->scope_join->table);
        return -1;
    }
    if (st && m->client_col && !schema_column(st, m->client_col)) {
        snprintf(err, errlen, "module %s: no column %s in %s", m->name, m->client_col, st->name);
        return -1;
    }
    if ((!st && check_column(m, m->client_col, "client_col", err, errlen)) ||
        check_column(m, m->archived_col, "archived_col", err, errlen))
        return -1;
    if (check_filters(m, err, errlen) || check_read_cols(m, err, errlen))
        return -1;
    for (size_t i = 0; i < m->nfilters; i++)
        if (check_column(m, m->filters[i].column, m->filters[i].param, err, errlen) ||
            check_column(m, m->filters[i].column2, m->filters[i].param, err, errlen))
            return -1;
    for (size_t i = 0; i < m->nfields; i++) {
        const struct field *f = &m->fields[i];
        if (f->column && !field_column(m, f)) {
            snprintf(err, errlen, "module %s: field %s names unknown column %s", m->name, f->name,
                     f->column);
            return -1;
        }
    }
    if (m->nrefs && !m->res->refs && !(m->res->refs = calloc(m->nrefs, sizeof(*m->res->refs)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < m->nrefs; i++) {
        const struct field_ref *ref = &m->refs[i];
        const struct field *f = module_field(m, ref->field);
        const struct module *to = module_find(ref->module, strlen(ref->module));
        m->res->refs[i].to = to;
        m->res->refs[i].field = f ? (size_t)(f - m->fields) : 0;
        if (!f || f->conv != CV_INT || !to || !to->client_col ||
            (to->flags & MOD_NO_CLIENT_SCOPE) || to->scope_join || !ref->noun) {
            snprintf(err, errlen,
                     "module %s: reference %s -> %s is not an integer field naming a "
                     "module with a client column",
                     m->name, ref->field, ref->module);
            return -1;
        }
    }
    if (check_client_scope(m, err, errlen))
        return -1;
    for (size_t i = 0; i < m->nendpoints; i++) {
        const struct endpoint *ep = &m->endpoints[i];
        /* rows scoped through another table: the engine's statements cannot name the client,
         * so each write has a hook that checks the row's (ctx_row_client) */
        if (m->scope_join && ep->op != OP_READ && ep->op != OP_CUSTOM && !ep->before) {
            snprintf(err, errlen,
                     "module %s: endpoint %s writes rows scoped through %s without a before hook "
                     "to check their client",
                     m->name, ep->function, m->scope_join->table);
            return -1;
        }
        if (ep->aggregate && check_aggregate(m, ep, err, errlen))
            return -1;
        if (ep->op == OP_READ && (ep->before || ep->after)) {
            snprintf(err, errlen,
                     "module %s: %s: a read has no hooks (read columns, joins and "
                     "filters describe it)",
                     m->name, ep->function);
            return -1;
        }
        int needs_archive = ep->op == OP_ARCHIVE || ep->op == OP_UNARCHIVE;
        if (needs_archive && !m->archived_col) {
            snprintf(err, errlen, "module %s: %s needs an archived column", m->name, ep->function);
            return -1;
        }
        for (size_t k = i + 1; k < m->nendpoints; k++)
            if (strcmp(ep->function, m->endpoints[k].function) == 0) {
                snprintf(err, errlen, "module %s: function %s twice", m->name, ep->function);
                return -1;
            }
    }
    return 0;
}

/* The escaped "name": prefix of every row column (the table's, the join's, the read columns') with
 * the separator before it ('{' opens the row,
 * ',' otherwise), built once (they live as long as the process). */
static int build_row_keys(const struct module *m, char *err, size_t errlen)
{
    size_t nt = m->res->t->ncols, nj = m->res->jt ? m->res->jt->ncols : 0;
    size_t n = nt + nj + m->nread_cols;
    if (m->res->row_keys)
        return 0;
    const char **keys = calloc(n, sizeof(*keys));
    size_t *lens = calloc(n, sizeof(*lens));
    for (size_t i = 0; keys && lens && i < n; i++) {
        const char *name = i < nt        ? m->res->t->cols[i].name
                           : i < nt + nj ? m->res->jt->cols[i - nt].name
                                         : m->read_cols[i - nt - nj].key;
        struct buf b;
        buf_init(&b, 0);
        buf_putc(&b, i ? ',' : '{');
        json_write_key(&b, name);
        lens[i] = b.len;
        keys[i] = b.failed ? NULL : buf_steal(&b, NULL);
        if (!keys[i]) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    if (!keys || !lens) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    m->res->row_keys = keys;
    m->res->row_key_lens = lens;
    return 0;
}

int module_check(const struct module *m, char *err, size_t errlen)
{
    return check_module(m, err, errlen) || build_row_keys(m, err, errlen) ? -1 : 0;
}

int module_registry_init(char *err, size_t errlen)
{
    for (size_t i = 0; i < module_count; i++) {
        if (check_module(module_registry[i], err, errlen) ||
            build_row_keys(module_registry[i], err, errlen))
            return -1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(module_registry[k]->name, module_registry[i]->name) == 0) {
                snprintf(err, errlen, "module %s registered twice", module_registry[i]->name);
                return -1;
            }
    }
    return 0;
}

const struct module *module_find(const char *name, size_t n)
{
    for (size_t i = 0; i < module_count; i++)
        if (strlen(module_registry[i]->name) == n && memcmp(module_registry[i]->name, name, n) == 0)
            return module_registry[i];
    return NULL;
}

void engine_index_ddl(enum db_dialect d, struct buf *out)
{
    engine_index_ddl_for(module_registry, module_count, d, out);
}

/* indexes: the CREATE INDEX statements of the modules given (the read filters' K12 indexes from
 * textmatch.c, the ids-only order index of deep pages from read.c). The caller passes the module
 * list: the engine never looks modules up itself. */
#include "engine/engine.h"
#include "engine/engine_int.h"

static void index_pair(struct buf *out, enum db_dialect d, const char *table, const char *col)
{
    if (d != DB_SQLITE) {
        buf_printf(out, "CREATE INDEX IF NOT EXISTS itfd_%s_%s ON %s (%s);\n", table, col, table,
                   col);
        return;
    }
    const struct schema_table *t = schema_table(table);
    buf_printf(out,
               "CREATE INDEX IF NOT EXISTS itfd_%s_%s_ci ON %s (rtrim(%s) COLLATE NOCASE);\n"
               "CREATE INDEX IF NOT EXISTS itfd_%s_%s_nonascii ON %s (%s) WHERE %s GLOB "
               "'*[^ -~]*';\n",
               table, col, table, col, table, col, table, t ? t->cols[0].name : col, col);
}

void engine_index_ddl_for(const struct module *const *mods, size_t n, enum db_dialect d,
                          struct buf *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct module *m = mods[i];
        /* SQLite: an index of the ids alone, in list order, for deep pages (read.c) */
        if (d == DB_SQLITE && engine_pages_by_id(m))
            buf_printf(out, "CREATE INDEX IF NOT EXISTS itfd_%s_order ON %s (%s);\n", m->table,
                       m->table, m->res->pk);
        /* the times updated_since compares and sort= orders by (sync.c) */
        const char *tc[2];
        sync_time_cols(m, &tc[0], &tc[1]);
        for (int k = 0; k < 2; k++)
            if (tc[k])
                buf_printf(out, "CREATE INDEX IF NOT EXISTS itfd_%s_%s ON %s (%s);\n", m->table,
                           tc[k], m->table, tc[k]);
        for (size_t k = 0; k < m->nfilters; k++) {
            const struct filter *f = &m->filters[k];
            if (f->kind == FK_ID || f->kind == FK_ONE_OF)
                continue; /* exact comparisons: no K12 index */
            const char *table = schema_column(m->res->t, f->column) ? m->table : m->join->table;
            index_pair(out, d, table, f->column);
            if (f->column2)
                index_pair(out, d, table, f->column2);
        }
        for (size_t k = 0; k < m->nfields; k++)
            if ((m->fields[k].flags & FF_UNIQUE) && field_local(&m->fields[k]))
                index_pair(out, d, m->table, m->fields[k].column);
    }
}

/* textmatch: K12 string equality on SQLite — exact utf8mb4_general_ci semantics (the ITF_CI
 * collation) that can still use an index the plain sqlite3 shell can maintain:
 *   pk IN (rows whose rtrim(col) equals rtrim(v) ignoring ASCII case    -- expression index
 *          UNION ALL rows whose col holds non-ASCII or control bytes)   -- partial index
 *   AND col = v COLLATE ITF_CI                                          -- the exact test
 * For an ASCII value every ITF_CI match is in one of the two sets: an all-ASCII stored value
 * equals an ASCII value under general_ci exactly when it does ignoring ASCII case and trailing
 * spaces. A non-ASCII value uses the plain comparison. */
#include <string.h>

#include "engine/engine.h"
#include "engine/engine_int.h"

int text_indexable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c > 0x7e)
            return 0;
    }
    return 1;
}

int sql_text_eq(struct buf *sql, enum db_dialect d, const char *table, const char *col, int indexed)
{
    if (d != DB_SQLITE) {
        buf_printf(sql, "%s.%s = ?", table, col);
        return 1;
    }
    if (!indexed) {
        buf_printf(sql, "%s.%s = ? COLLATE ITF_CI", table, col);
        return 1;
    }
    const struct schema_table *t = schema_table(table);
    const char *pk = t ? t->cols[0].name : "rowid";
    buf_printf(sql,
               "%s.%s IN (SELECT %s FROM %s WHERE rtrim(%s) = rtrim(?) COLLATE NOCASE "
               "UNION ALL SELECT %s FROM %s WHERE %s GLOB '*[^ -~]*') AND %s.%s = ? COLLATE ITF_CI",
               table, pk, pk, table, col, pk, table, col, table, col);
    return 2;
}

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
        for (size_t k = 0; k < m->nfilters; k++) {
            const struct filter *f = &m->filters[k];
            if (f->kind == FK_ID)
                continue;
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

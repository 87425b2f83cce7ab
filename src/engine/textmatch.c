/* textmatch: K12 string equality on SQLite — exact utf8mb4_general_ci semantics (the ITF_CI
 * collation) that can still use an index the plain sqlite3 shell can maintain:
 *   pk IN (rows whose rtrim(col) equals rtrim(v) ignoring ASCII case    -- expression index
 *          UNION ALL rows whose col holds non-ASCII or control bytes)   -- partial index
 *   AND col = v COLLATE ITF_CI                                          -- the exact test
 * For an ASCII value every ITF_CI match is in one of the two sets: an all-ASCII stored value
 * equals an ASCII value under general_ci exactly when it does ignoring ASCII case and trailing
 * spaces. A non-ASCII value uses the plain comparison. */
#include <string.h>

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

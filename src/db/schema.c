/* schema: lookups over the generated table list and the SQLite DDL built from it. */
#include "db/schema.h"

#include <string.h>

const struct schema_table *schema_table(const char *name)
{
    for (size_t i = 0; i < schema_ntables; i++)
        if (strcmp(schema_tables[i].name, name) == 0)
            return &schema_tables[i];
    return NULL;
}

int schema_column_index(const struct schema_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

const struct schema_column *schema_column(const struct schema_table *t, const char *name)
{
    int i = schema_column_index(t, name);
    return i < 0 ? NULL : &t->cols[i];
}

static const char *sqlite_type(const struct schema_column *c)
{
    switch (c->type) {
    case COL_INT:
        return "INTEGER";
    case COL_DECIMAL:
        return "NUMERIC";
    default:
        return "TEXT";
    }
}

/* Reads "FOREIGN KEY (col) REFERENCES parent (pk) ON DELETE CASCADE" out of the MariaDB keys. */
static void sqlite_foreign_keys(struct buf *out, const struct schema_table *t)
{
    const char *p = t->keys;
    while ((p = strstr(p, "FOREIGN KEY (")) != NULL) {
        const char *end = strstr(p, "ON DELETE CASCADE");
        if (!end)
            break;
        end += strlen("ON DELETE CASCADE");
        buf_puts(out, ",\n  ");
        buf_append(out, p, (size_t)(end - p));
        p = end;
    }
}

static void sqlite_table(struct buf *out, const struct schema_table *t)
{
    buf_printf(out, "CREATE TABLE %s (", t->name);
    for (size_t i = 0; i < t->ncols; i++) {
        const struct schema_column *c = &t->cols[i];
        buf_printf(out, "%s\n  %s %s", i ? "," : "", c->name, sqlite_type(c));
        if (c->flags & COL_AUTO_INC) {
            buf_puts(out, " PRIMARY KEY AUTOINCREMENT");
            continue;
        }
        if (c->flags & COL_NOT_NULL)
            buf_puts(out, " NOT NULL");
        if (c->flags & COL_DEFAULT_NOW)
            buf_puts(out, " DEFAULT CURRENT_TIMESTAMP");
        else if (c->dflt)
            buf_printf(out, " DEFAULT %s", c->dflt);
    }
    if (strcmp(t->name, "settings") == 0)
        buf_puts(out, ",\n  PRIMARY KEY (company_id)");
    sqlite_foreign_keys(out, t);
    buf_puts(out, "\n);\n");
}

/* MariaDB sets an ON UPDATE column only when some other column really changed. */
static void sqlite_on_update_trigger(struct buf *out, const struct schema_table *t)
{
    const struct schema_column *upd = NULL;
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].flags & COL_ON_UPDATE_NOW)
            upd = &t->cols[i];
    if (!upd)
        return;
    const char *pk = t->cols[0].name;
    buf_printf(out,
               "CREATE TRIGGER %s_on_update AFTER UPDATE ON %s FOR EACH ROW\n"
               "WHEN NEW.%s IS OLD.%s AND (",
               t->name, t->name, upd->name, upd->name);
    int first = 1;
    for (size_t i = 0; i < t->ncols; i++) {
        const struct schema_column *c = &t->cols[i];
        if (c == upd)
            continue;
        buf_printf(out, "%sNEW.%s IS NOT OLD.%s", first ? "" : " OR ", c->name, c->name);
        first = 0;
    }
    buf_printf(out, ")\nBEGIN UPDATE %s SET %s = CURRENT_TIMESTAMP WHERE %s = NEW.%s; END;\n",
               t->name, upd->name, pk, pk);
}

/* Indexes for the scope column and the foreign-key style lookups the API makes. */
static void sqlite_indexes(struct buf *out, const struct schema_table *t)
{
    static const char *const suffixes[] = {"_client_id", "_asset_id", "_invoice_id", "_document_id",
                                           "_ticket_id"};
    for (size_t i = 1; i < t->ncols; i++) {
        const char *n = t->cols[i].name;
        size_t nl = strlen(n);
        for (size_t s = 0; s < sizeof(suffixes) / sizeof(suffixes[0]); s++) {
            size_t sl = strlen(suffixes[s]);
            if (nl > sl && strcmp(n + nl - sl, suffixes[s]) == 0 && t->cols[i].type == COL_INT) {
                buf_printf(out, "CREATE INDEX %s_%s ON %s (%s);\n", t->name, n, t->name, n);
                break;
            }
        }
    }
}

void schema_sqlite_ddl(struct buf *out)
{
    for (size_t i = 0; i < schema_ntables; i++) {
        sqlite_table(out, &schema_tables[i]);
        sqlite_on_update_trigger(out, &schema_tables[i]);
        sqlite_indexes(out, &schema_tables[i]);
    }
}

/* schema: the choice of the active table set, lookups over it, and the SQLite DDL built from it.
 */
#include "db/schema.h"

#include <stdio.h>
#include <string.h>

static const struct schema_set *active;

const struct schema_set *schema_set_of(enum itflow_version v)
{
    return v == ITFLOW_V2608 ? &schema_set_v2608 : &schema_set_v2607;
}

int schema_parse_version(const char *text, enum itflow_version *ret)
{
    static const enum itflow_version all[] = {ITFLOW_V2607, ITFLOW_V2608};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (text && strcmp(text, schema_set_of(all[i])->itflow) == 0) {
            *ret = all[i];
            return 0;
        }
    return -1;
}

void schema_select(enum itflow_version v)
{
    active = schema_set_of(v);
}

void schema_use(const struct schema_set *set)
{
    active = set;
}

const struct schema_set *schema_active(void)
{
    return active ? active : &schema_set_v2607;
}

const struct schema_table *schema_set_table(const struct schema_set *s, const char *name)
{
    for (size_t i = 0; i < s->ntables; i++)
        if (strcmp(s->tables[i].name, name) == 0)
            return &s->tables[i];
    return NULL;
}

const struct schema_table *schema_table(const char *name)
{
    return schema_set_table(schema_active(), name);
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

void schema_column_from_catalogue(const char *name, const char *type, int not_null,
                                  const char *dflt, struct schema_column *out)
{
    static const struct {
        const char *base;
        enum col_type type;
    } types[] = {
        {"int", COL_INT},         {"integer", COL_INT},         {"tinyint", COL_INT},
        {"smallint", COL_INT},    {"mediumint", COL_INT},       {"bigint", COL_INT},
        {"decimal", COL_DECIMAL}, {"numeric", COL_DECIMAL},     {"float", COL_FLOAT},
        {"double", COL_FLOAT},    {"real", COL_FLOAT},          {"varchar", COL_VARCHAR},
        {"char", COL_VARCHAR},    {"varbinary", COL_VARBINARY}, {"binary", COL_VARBINARY},
        {"date", COL_DATE},       {"datetime", COL_DATETIME},   {"timestamp", COL_DATETIME},
        {"time", COL_TIME},       {"enum", COL_ENUM},
    };
    char base[16];
    size_t n = 0;
    while (type[n] && n + 1 < sizeof(base) &&
           ((type[n] >= 'a' && type[n] <= 'z') || (type[n] >= 'A' && type[n] <= 'Z'))) {
        base[n] = (char)(type[n] | 0x20);
        n++;
    }
    base[n] = 0;
    memset(out, 0, sizeof(*out));
    out->name = name;
    out->mariadb = type;
    out->type = COL_TEXT;
    out->dflt = dflt;
    out->flags = not_null ? COL_NOT_NULL : 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(base, types[i].base) == 0)
            out->type = types[i].type;
    unsigned long len = 0, scale = 0;
    const char *paren = type[n] == '(' ? type + n : NULL;
    if (paren && sscanf(paren, "(%lu,%lu)", &len, &scale) < 1)
        len = scale = 0;
    if (out->type == COL_DECIMAL && !paren) /* SQLite's NUMERIC: rendered as stored */
        out->type = COL_FLOAT;
    if (out->type == COL_VARCHAR || out->type == COL_VARBINARY)
        out->max_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    else if (out->type == COL_DECIMAL) {
        out->max_len = (uint32_t)(len > 65 ? 65 : len);
        out->scale = (uint8_t)(scale > 30 ? 30 : scale);
    } else if (out->type == COL_TEXT)
        out->max_len = strcmp(base, "tinytext") == 0     ? 255u
                       : strcmp(base, "mediumtext") == 0 ? 16777215u
                       : strcmp(base, "longtext") == 0   ? UINT32_MAX
                                                         : 65535u;
}

/* The declared type of a column: the affinity SQLite gives it (INTEGER, NUMERIC, TEXT); a decimal
 * is declared DECIMAL(p,s) (NUMERIC affinity), so that its scale stays readable in the catalogue.
 */
static void sqlite_type(struct buf *out, const struct schema_column *c)
{
    switch (c->type) {
    case COL_INT:
        buf_puts(out, "INTEGER");
        break;
    case COL_DECIMAL:
        buf_printf(out, "DECIMAL(%u,%u)", (unsigned)c->max_len, (unsigned)c->scale);
        break;
    case COL_FLOAT:
        buf_puts(out, "NUMERIC");
        break;
    default:
        buf_puts(out, "TEXT");
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

/* A primary key of a table without an AUTO_INCREMENT column (settings, a pair of ids) and the
 * UNIQUE KEYs, out of the MariaDB keys ("PRIMARY KEY (a,b)", "UNIQUE KEY name (a,b)"). */
static void sqlite_keys(struct buf *out, const struct schema_table *t)
{
    int auto_inc = 0;
    for (size_t i = 0; i < t->ncols; i++)
        auto_inc |= (t->cols[i].flags & COL_AUTO_INC) != 0;
    const char *k = t->keys;
    while (k && *k) {
        size_t n = strcspn(k, ";");
        const char *open = memchr(k, '(', n);
        const char *close = open ? memchr(open, ')', n - (size_t)(open - k)) : NULL;
        if (close && !auto_inc && strncmp(k, "PRIMARY KEY ", 12) == 0)
            buf_printf(out, ",\n  PRIMARY KEY %.*s", (int)(close + 1 - open), open);
        else if (close && strncmp(k, "UNIQUE KEY ", 11) == 0)
            buf_printf(out, ",\n  UNIQUE %.*s", (int)(close + 1 - open), open);
        k += n;
        while (*k == ';' || *k == ' ')
            k++;
    }
}

static void sqlite_table(struct buf *out, const struct schema_table *t)
{
    buf_printf(out, "CREATE TABLE %s (", t->name);
    for (size_t i = 0; i < t->ncols; i++) {
        const struct schema_column *c = &t->cols[i];
        buf_printf(out, "%s\n  %s ", i ? "," : "", c->name);
        sqlite_type(out, c);
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
    sqlite_keys(out, t);
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
    const struct schema_set *s = schema_active();
    for (size_t i = 0; i < s->ntables; i++) {
        sqlite_table(out, &s->tables[i]);
        sqlite_on_update_trigger(out, &s->tables[i]);
        sqlite_indexes(out, &s->tables[i]);
    }
}

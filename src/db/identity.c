/* identity: what an ITFlow database is — the release its api_keys table speaks (v26.07: a key
 * scoped by api_key_client_id; v26.08: a key owned by api_key_user_id), the version its settings
 * row names, and whether itflowd knows that version. Read once at start-up, kept for the process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

static const char sqlite_columns[] =
    "SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info(?)";
static const char mariadb_columns[] =
    "SELECT column_name, column_type, is_nullable = 'NO', column_default FROM "
    "information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? "
    "ORDER BY ordinal_position";

enum db_rc db_table_columns(struct db *db, const char *table, db_column_fn fn, void *arg)
{
    struct db_stmt *st;
    const char *sql = db_dialect(db) == DB_SQLITE ? sqlite_columns : mariadb_columns;
    enum db_rc rc = db_stmt_static(db, sql, &st);
    if (rc != DB_OK)
        return rc;
    db_bind_text(st, 1, table, strlen(table));
    int n = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        struct db_column_info c;
        size_t len;
        c.name = db_column_text(st, 0, &len);
        c.type = db_column_text(st, 1, &len);
        c.not_null = db_column_int(st, 2) != 0;
        c.dflt = db_column_text(st, 3, &len);
        if (!c.name)
            continue;
        if (!c.type)
            c.type = "";
        n++;
        if (fn(arg, &c) != 0) {
            rc = DB_ERROR;
            break;
        }
    }
    db_reset(st);
    if (rc == DB_DONE)
        rc = n ? DB_OK : DB_DONE;
    return rc;
}

struct key_cols {
    int client_id, user_id;
};

static int note_key_column(void *arg, const struct db_column_info *c)
{
    struct key_cols *k = arg;
    if (strcmp(c->name, "api_key_client_id") == 0)
        k->client_id = 1;
    else if (strcmp(c->name, "api_key_user_id") == 0)
        k->user_id = 1;
    return 0;
}

enum db_rc db_identify(struct db *db, struct db_identity *ret)
{
    memset(ret, 0, sizeof(*ret));
    struct key_cols k = {0, 0};
    enum db_rc rc = db_table_columns(db, "api_keys", note_key_column, &k);
    if (rc != DB_OK && rc != DB_DONE)
        return rc;
    if (k.user_id == k.client_id) /* no api_keys table, or neither column, or both */
        return DB_DONE;
    ret->dialect = k.user_id ? ITFLOW_V2608 : ITFLOW_V2607;
    struct db_stmt *st;
    rc = db_stmt_static(db,
                        "SELECT config_current_database_version FROM settings ORDER BY company_id "
                        "LIMIT 1",
                        &st);
    if (rc != DB_OK)
        return rc;
    rc = db_step(st);
    if (rc == DB_ROW) {
        size_t n;
        const char *v = db_column_text(st, 0, &n);
        if (v)
            snprintf(ret->version, sizeof(ret->version), "%.*s", (int)n, v);
        rc = DB_OK;
    } else if (rc == DB_DONE) {
        rc = DB_OK; /* no settings row yet (a schema-only database) */
    }
    db_reset(st);
    ret->known = strcmp(ret->version, schema_set_of(ret->dialect)->db_version) == 0;
    return rc;
}

static struct db_identity identity; /* ITFLOW_V2607, no version, until db_set_identity */

void db_set_identity(const struct db_identity *id)
{
    identity = *id;
}

const struct db_identity *db_identity(void)
{
    return &identity;
}

/* ---- schema drift ---- */

/* The set db_learn_schema made, and what it allocated: the tables, the column arrays of the tables
 * that differ from the release's, the texts of the columns the release does not have. Lives as long
 * as the process (a second call, in tests, frees the first's). */
static struct {
    struct schema_set set;
    struct schema_table *tables;
    struct schema_column **made; /* per table: its own column array, or NULL */
    char **texts;
    size_t ntexts, captexts;
} learned;

static void forget_learned(void)
{
    for (size_t i = 0; learned.made && i < learned.set.ntables; i++)
        free(learned.made[i]);
    for (size_t i = 0; i < learned.ntexts; i++)
        free(learned.texts[i]);
    free(learned.made);
    free(learned.tables);
    free(learned.texts);
    memset(&learned, 0, sizeof(learned));
}

/* A copy of s kept until forget_learned(); NULL for NULL or out of memory (*failed set). */
static const char *keep_text(const char *s, int *failed)
{
    if (!s)
        return NULL;
    if (learned.ntexts == learned.captexts) {
        size_t cap = learned.captexts ? 2 * learned.captexts : 32;
        char **texts = realloc(learned.texts, cap * sizeof(*texts));
        if (!texts) {
            *failed = 1;
            return NULL;
        }
        learned.texts = texts;
        learned.captexts = cap;
    }
    char *copy = strdup(s);
    if (!copy)
        *failed = 1;
    else
        learned.texts[learned.ntexts++] = copy;
    return copy;
}

struct learn_state {
    const struct schema_table *known; /* the release's table */
    struct schema_column *cols;
    size_t n, cap;
    int failed;
};

static int learn_column(void *arg, const struct db_column_info *c)
{
    struct learn_state *ls = arg;
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? 2 * ls->cap : 64;
        struct schema_column *cols = realloc(ls->cols, cap * sizeof(*cols));
        if (!cols)
            return ls->failed = 1;
        ls->cols = cols;
        ls->cap = cap;
    }
    const struct schema_column *k = schema_column(ls->known, c->name);
    if (k) { /* a column the release has keeps its description */
        ls->cols[ls->n++] = *k;
        return 0;
    }
    const char *name = keep_text(c->name, &ls->failed);
    const char *type = keep_text(c->type, &ls->failed);
    const char *dflt = keep_text(c->dflt, &ls->failed);
    if (ls->failed)
        return 1;
    schema_column_from_catalogue(name, type, c->not_null, dflt, &ls->cols[ls->n++]);
    return 0;
}

enum db_rc db_learn_schema(struct db *db, struct db_drift *drift)
{
    /* learned against the release's own tables, also when called again */
    const struct schema_set *set = schema_set_of(schema_active()->version);
    schema_use(set);
    forget_learned();
    if (drift)
        memset(drift, 0, sizeof(*drift));
    learned.set = *set;
    learned.tables = calloc(set->ntables, sizeof(*learned.tables));
    learned.made = calloc(set->ntables, sizeof(*learned.made));
    enum db_rc rc = learned.tables && learned.made ? DB_OK : DB_ERROR;
    for (size_t i = 0; i < set->ntables && rc == DB_OK; i++) {
        const struct schema_table *t = &set->tables[i];
        struct learn_state ls = {t, NULL, 0, 0, 0};
        enum db_rc crc = db_table_columns(db, t->name, learn_column, &ls);
        learned.tables[i] = *t;
        learned.made[i] = ls.cols; /* freed with the set, whatever happens next */
        if (crc == DB_DONE)        /* not in the database: the release's description stays */
            continue;
        if (crc != DB_OK || ls.failed) {
            rc = ls.failed ? DB_ERROR : crc;
            break;
        }
        int same = ls.n == t->ncols;
        for (size_t c = 0; same && c < ls.n; c++)
            same = ls.cols[c].name == t->cols[c].name;
        if (same) /* the release's table exactly: its generated description serves */
            continue;
        size_t added = 0;
        for (size_t c = 0; c < ls.n; c++)
            added += !schema_column(t, ls.cols[c].name);
        if (drift) {
            drift->tables++;
            drift->added += added;
            drift->missing += t->ncols - (ls.n - added);
        }
        learned.tables[i].cols = ls.cols;
        learned.tables[i].ncols = ls.n;
    }
    if (rc != DB_OK) {
        forget_learned();
        return rc;
    }
    learned.set.tables = learned.tables;
    schema_use(&learned.set);
    return DB_OK;
}

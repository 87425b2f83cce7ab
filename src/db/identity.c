/* identity: what an ITFlow database is — the release its api_keys table speaks (v26.07: a key
 * scoped by api_key_client_id; v26.08: a key owned by api_key_user_id), the version its settings
 * row names, and whether itflowd knows that version. Read once at start-up, kept for the process.
 */
#include <stdio.h>
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

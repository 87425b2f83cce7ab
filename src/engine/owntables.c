/* owntables: the tables itflowd keeps beside ITFlow's (never columns added to ITFlow's own):
 * remembered write answers (idem.c) and key permissions and last use (keyperm.c). Created by
 * init and, when missing, at serve start-up, on both stores. */
#include "engine/engine.h"
#include "engine/engine_int.h"

static const char *const SQLITE_DDL[] = {
    "CREATE TABLE IF NOT EXISTS itflowd_idempotency (\n"
    "  idem_api_key_id INTEGER NOT NULL,\n"
    "  idem_key TEXT NOT NULL,\n"
    "  idem_request_hash TEXT NOT NULL,\n"
    "  idem_created_at INTEGER NOT NULL,\n"
    "  idem_status INTEGER NOT NULL DEFAULT 0,\n"
    "  idem_answer BLOB,\n"
    "  PRIMARY KEY (idem_api_key_id, idem_key)\n"
    ")",
    "CREATE INDEX IF NOT EXISTS itflowd_idempotency_created ON itflowd_idempotency "
    "(idem_created_at)",
    "CREATE TABLE IF NOT EXISTS itflowd_key_perms (\n"
    "  perm_api_key_id INTEGER NOT NULL PRIMARY KEY,\n"
    "  perm_read_only INTEGER NOT NULL DEFAULT 0,\n"
    "  perm_no_delete INTEGER NOT NULL DEFAULT 0,\n"
    "  perm_allow_ips TEXT DEFAULT NULL,\n"
    "  perm_last_used_at INTEGER DEFAULT NULL,\n"
    "  perm_last_used_ip TEXT DEFAULT NULL\n"
    ")",
};

static const char *const MARIADB_DDL[] = {
    "CREATE TABLE IF NOT EXISTS itflowd_idempotency (\n"
    "  idem_api_key_id int(11) NOT NULL,\n"
    "  idem_key varchar(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,\n"
    "  idem_request_hash char(64) CHARACTER SET ascii NOT NULL,\n"
    "  idem_created_at bigint(20) NOT NULL,\n"
    "  idem_status int(11) NOT NULL DEFAULT 0,\n"
    "  idem_answer mediumblob,\n"
    "  PRIMARY KEY (idem_api_key_id, idem_key),\n"
    "  KEY itflowd_idempotency_created (idem_created_at)\n"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS itflowd_key_perms (\n"
    "  perm_api_key_id int(11) NOT NULL PRIMARY KEY,\n"
    "  perm_read_only tinyint(1) NOT NULL DEFAULT 0,\n"
    "  perm_no_delete tinyint(1) NOT NULL DEFAULT 0,\n"
    "  perm_allow_ips text DEFAULT NULL,\n"
    "  perm_last_used_at bigint(20) DEFAULT NULL,\n"
    "  perm_last_used_ip varchar(64) DEFAULT NULL\n"
    ") ENGINE=InnoDB",
};

enum db_rc engine_own_tables(struct db *db)
{
    int sqlite = db_dialect(db) == DB_SQLITE;
    const char *const *ddl = sqlite ? SQLITE_DDL : MARIADB_DDL;
    size_t n = sqlite ? sizeof(SQLITE_DDL) / sizeof(*ddl) : sizeof(MARIADB_DDL) / sizeof(*ddl);
    for (size_t i = 0; i < n; i++) {
        enum db_rc rc = db_exec(db, ddl[i]);
        if (rc != DB_OK)
            return rc;
    }
    return DB_OK;
}

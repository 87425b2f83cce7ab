/* owntables: the tables itflowd keeps beside ITFlow's (never columns added to ITFlow's own):
 * remembered write answers (idem.c), key permissions and last use (keyperm.c), the events of the
 * writes with their sequence counter (events.c) and the webhook subscriptions with their delivery
 * state (webhook/). Created by init and, when missing, at serve start-up, on both stores. */
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
    "CREATE TABLE IF NOT EXISTS itflowd_events (\n"
    "  event_seq INTEGER NOT NULL PRIMARY KEY,\n"
    "  event_type TEXT NOT NULL,\n"
    "  event_module TEXT NOT NULL,\n"
    "  event_action TEXT NOT NULL,\n"
    "  event_object_id INTEGER NOT NULL,\n"
    "  event_client_id INTEGER DEFAULT NULL,\n"
    "  event_created_at INTEGER NOT NULL\n"
    ")",
    "CREATE INDEX IF NOT EXISTS itflowd_events_created ON itflowd_events (event_created_at)",
    "CREATE TABLE IF NOT EXISTS itflowd_event_seq (\n"
    "  seq_id INTEGER NOT NULL PRIMARY KEY,\n"
    "  seq_last INTEGER NOT NULL DEFAULT 0\n"
    ")",
    "INSERT OR IGNORE INTO itflowd_event_seq (seq_id, seq_last) VALUES (1, 0)",
    "CREATE TABLE IF NOT EXISTS itflowd_webhooks (\n"
    "  webhook_id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  webhook_url TEXT NOT NULL,\n"
    "  webhook_events TEXT NOT NULL,\n"
    "  webhook_secret TEXT NOT NULL,\n"
    "  webhook_active INTEGER NOT NULL DEFAULT 1,\n"
    "  webhook_created_at INTEGER NOT NULL,\n"
    "  webhook_cursor INTEGER NOT NULL DEFAULT 0,\n"
    "  webhook_attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  webhook_next_at INTEGER NOT NULL DEFAULT 0,\n"
    "  webhook_delivered INTEGER NOT NULL DEFAULT 0,\n"
    "  webhook_failures INTEGER NOT NULL DEFAULT 0,\n"
    "  webhook_last_status INTEGER DEFAULT NULL,\n"
    "  webhook_last_error TEXT DEFAULT NULL,\n"
    "  webhook_last_success_at INTEGER DEFAULT NULL,\n"
    "  webhook_lease_owner TEXT DEFAULT NULL,\n"
    "  webhook_lease_until INTEGER NOT NULL DEFAULT 0\n"
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
    "CREATE TABLE IF NOT EXISTS itflowd_events (\n"
    "  event_seq bigint(20) NOT NULL PRIMARY KEY,\n"
    "  event_type varchar(160) NOT NULL,\n"
    "  event_module varchar(64) NOT NULL,\n"
    "  event_action varchar(64) NOT NULL,\n"
    "  event_object_id bigint(20) NOT NULL,\n"
    "  event_client_id int(11) DEFAULT NULL,\n"
    "  event_created_at bigint(20) NOT NULL,\n"
    "  KEY itflowd_events_created (event_created_at)\n"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS itflowd_event_seq (\n"
    "  seq_id int(11) NOT NULL PRIMARY KEY,\n"
    "  seq_last bigint(20) NOT NULL DEFAULT 0\n"
    ") ENGINE=InnoDB",
    "INSERT IGNORE INTO itflowd_event_seq (seq_id, seq_last) VALUES (1, 0)",
    "CREATE TABLE IF NOT EXISTS itflowd_webhooks (\n"
    "  webhook_id int(11) NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
    "  webhook_url varchar(2048) NOT NULL,\n"
    "  webhook_events varchar(1024) NOT NULL,\n"
    "  webhook_secret varchar(255) NOT NULL,\n"
    "  webhook_active tinyint(1) NOT NULL DEFAULT 1,\n"
    "  webhook_created_at bigint(20) NOT NULL,\n"
    "  webhook_cursor bigint(20) NOT NULL DEFAULT 0,\n"
    "  webhook_attempts int(11) NOT NULL DEFAULT 0,\n"
    "  webhook_next_at bigint(20) NOT NULL DEFAULT 0,\n"
    "  webhook_delivered bigint(20) NOT NULL DEFAULT 0,\n"
    "  webhook_failures bigint(20) NOT NULL DEFAULT 0,\n"
    "  webhook_last_status int(11) DEFAULT NULL,\n"
    "  webhook_last_error varchar(255) DEFAULT NULL,\n"
    "  webhook_last_success_at bigint(20) DEFAULT NULL,\n"
    "  webhook_lease_owner varchar(128) DEFAULT NULL,\n"
    "  webhook_lease_until bigint(20) NOT NULL DEFAULT 0\n"
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

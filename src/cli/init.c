/* init: creates the ITFlow schema of a release (--itflow-version: 26.07, the default, or 26.08)
 * and seeds a new database (company 1, ticket statuses, the admin with the site master key wrapped
 * by the admin password; for 26.08 also the permission modules and the built-in roles, the admin
 * in the Administrator role, as ITFlow's setup makes them). */
#include <crypt.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <openssl/crypto.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "crypto/crypto.h"
#include "db/secret.h"
#include "engine/engine.h"
#include "modules/registry.h"

int cli_read_secret_file(const char *path, char *out, size_t outlen)
{
    char err[512];
    if (secret_read_file(path, out, outlen, CLI_PASSWORD_MAX, 0, err, sizeof(err)) != 0)
        return cli_fail("%s.", err);
    return 0;
}

int cli_admin_password(const struct cli_opts *o, char *out, size_t outlen)
{
    if (o->admin_pw_file)
        return cli_read_secret_file(o->admin_pw_file, out, outlen);
    char err[512];
    int rc =
        secret_from_env("ITFLOWD_ADMIN_PASSWORD", out, outlen, CLI_PASSWORD_MAX, err, sizeof(err));
    if (rc < 0)
        return cli_fail("%s.", err);
    if (rc > 0)
        return 0;
    const char *file = getenv("ITFLOWD_ADMIN_PASSWORD_FILE");
    if (file && file[0])
        return cli_read_secret_file(file, out, outlen);
    return -1;
}

static int insert_admin(struct db *db, const char *email, const char *password)
{
    char master[CRYPTO_MASTER_LEN + 1];
    struct buf wrapped;
    buf_init(&wrapped, 0);
    if (crypto_random_string(master, CRYPTO_MASTER_LEN) ||
        crypto_wrap_master(master, CRYPTO_MASTER_LEN, password, strlen(password), &wrapped)) {
        buf_free(&wrapped);
        return -1;
    }
    char salt[64];
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    const char *hash = NULL;
    if (crypt_gensalt_rn("$2y$", 10, NULL, 0, salt, sizeof(salt)))
        hash = crypt_r(password, salt, &cd);
    if (!hash || hash[0] == '*')
        hash = "!"; /* no web login possible, the API does not need one */
    struct db_stmt *st;
    enum db_rc rc = db_stmt(db,
                            "INSERT INTO users (user_name, user_email, user_password, user_type, "
                            "user_specific_encryption_ciphertext, user_role_id) VALUES "
                            "('Administrator', ?, ?, 1, ?, 3)",
                            &st);
    if (rc == DB_OK) {
        db_bind_text(st, 1, email, strlen(email));
        db_bind_text(st, 2, hash, strlen(hash));
        db_bind_text(st, 3, wrapped.p, wrapped.len);
        rc = db_step(st) == DB_DONE ? DB_OK : DB_ERROR;
        db_reset(st);
    }
    OPENSSL_cleanse(master, sizeof(master));
    OPENSSL_cleanse(&cd, sizeof(cd)); /* crypt_r's state derived from the password */
    buf_free(&wrapped);
    return rc == DB_OK ? 0 : -1;
}

enum db_rc cli_ensure_indexes(struct db *db)
{
    struct buf ddl;
    buf_init(&ddl, 0);
    engine_index_ddl(db_dialect(db), &ddl);
    enum db_rc rc = ddl.failed ? DB_ERROR : db_exec(db, ddl.p ? ddl.p : "");
    buf_free(&ddl);
    return rc;
}

/* Removes a database file (and its WAL companions) that a failed init created. */
static void remove_db_files(const char *path)
{
    char tmp[4096];
    unlink(path);
    snprintf(tmp, sizeof(tmp), "%s-wal", path);
    unlink(tmp);
    snprintf(tmp, sizeof(tmp), "%s-shm", path);
    unlink(tmp);
}

/* ITFlow 26.08's permission modules and built-in roles (ids as its setup makes them); the admin
 * user gets role 3, Administrator (role_is_admin = 1). */
static int write_roles(struct db *db)
{
    return db_exec(db, "INSERT INTO modules (module_id, module_name, module_description) VALUES "
                       "(1, 'module_client', 'General client & contact management'), "
                       "(2, 'module_support', 'Access to ticketing, assets and documentation'), "
                       "(3, 'module_credential', 'Access to client credentials - usernames, "
                       "passwords and 2FA codes'), "
                       "(4, 'module_sales', 'Access to quotes, invoices and products'), "
                       "(5, 'module_financial', 'Access to payments, accounts, expenses and "
                       "budgets'), "
                       "(6, 'module_reporting', 'Access to all reports')") == DB_OK &&
           db_exec(db, "INSERT INTO user_roles (role_id, role_name, role_description, "
                       "role_is_admin) VALUES "
                       "(1, 'Accountant', 'Built-in - Limited access to financial-focused "
                       "modules', 0), "
                       "(2, 'Technician', 'Built-in - Limited access to technical-focused "
                       "modules', 0), "
                       "(3, 'Administrator', 'Built-in - Full administrative access to all "
                       "modules (including user management)', 1)") == DB_OK &&
           db_exec(db, "INSERT INTO user_role_permissions (user_role_id, module_id, "
                       "user_role_permission_level) VALUES "
                       "(1, 1, 1), (1, 2, 1), (1, 4, 1), (1, 5, 2), (1, 6, 1), "
                       "(2, 1, 2), (2, 2, 2), (2, 3, 2), (2, 4, 2)") == DB_OK;
}

static int write_defaults(struct db *db, const struct schema_set *set, const char *email,
                          const char *pw)
{
    struct db_stmt *st = NULL;
    int ok = db_begin(db, 1) == DB_OK &&
             db_exec(db, "INSERT INTO companies (company_id, company_name) VALUES (1, 'My "
                         "Company')") == DB_OK &&
             db_stmt(db,
                     "INSERT INTO settings (company_id, config_current_database_version, "
                     "config_ticket_prefix, config_ticket_next_number) VALUES (1, ?, 'TCK-', 1)",
                     &st) == DB_OK;
    if (ok) {
        db_bind_text(st, 1, set->db_version, strlen(set->db_version));
        ok = db_step(st) == DB_DONE;
        db_reset(st);
    }
    return ok && (set->version != ITFLOW_V2608 || write_roles(db)) &&
           db_exec(db, "INSERT INTO ticket_statuses (ticket_status_id, ticket_status_name, "
                       "ticket_status_color, ticket_status_active, ticket_status_order) VALUES "
                       "(1, 'New', '#dc3545', 1, 0), (2, 'Open', '#007bff', 1, 0), "
                       "(3, 'On Hold', '#28a745', 1, 0), (4, 'Resolved', '#343a40', 1, 0), "
                       "(5, 'Closed', '#343a40', 1, 0)") == DB_OK &&
           insert_admin(db, email, pw) == 0 && db_commit(db) == DB_OK;
}

/* init once the admin password is known (pw: "" for --schema-only; generated: print it). */
static int init_db(const struct cli_opts *o, const char *pw, int generated)
{
    const char *email = o->admin_email ? o->admin_email : "admin@localhost";
    if (!o->schema_only && (!email[0] || strlen(email) > 200))
        return cli_fail("--admin-email must be 1 to 200 characters."), 2;
    int existed = access(o->db, F_OK) == 0;
    struct db *db = NULL;
    if (db_open_create(o->db, &db) != DB_OK)
        return cli_fail("cannot open or create the database %s.", o->db_shown);
    struct db_stmt *st;
    if (db_stmt(db, "SELECT 1 FROM api_keys LIMIT 1", &st) == DB_OK) {
        db_close(db);
        return cli_fail("%s already has the ITFlow tables; init does not touch an existing "
                        "database.",
                        o->db_shown);
    }
    int ok = db_create_schema(db) == DB_OK && cli_ensure_indexes(db) == DB_OK &&
             engine_own_tables(db) == DB_OK;
    if (ok && !o->schema_only)
        ok = write_defaults(db, schema_active(), email, pw);
    if (!ok) {
        cli_fail("cannot initialise %s: %s", o->db_shown, db_errmsg(db));
        db_rollback(db);
        db_close(db);
        if (!existed && !strstr(o->db, "://"))
            remove_db_files(o->db);
        return 1;
    }
    db_close(db);
    const struct schema_set *set = schema_active();
    if (o->schema_only) {
        printf("Created the ITFlow %s schema (database version %s) in %s.\n", set->itflow,
               set->db_version, o->db_shown);
        return 0;
    }
    printf("Created %s (ITFlow %s, database version %s): company 1, ticket prefix TCK-, admin %s"
           "%s.\n",
           o->db_shown, set->itflow, set->db_version, email,
           set->version == ITFLOW_V2608 ? " (user 1, role Administrator)" : "");
    if (generated)
        printf("Admin password (shown once, needed for 'itflowd key create'): %s\n", pw);
    return 0;
}

int cmd_init(const struct cli_opts *o)
{
    if (!o->db)
        return cli_fail("init needs --db PATH."), 2;
    enum itflow_version v = ITFLOW_V2607;
    if (o->itflow_version && schema_parse_version(o->itflow_version, &v) != 0)
        return cli_fail("--itflow-version must be 26.07 or 26.08, not %s.", o->itflow_version), 2;
    schema_select(v);
    char err[256];
    if (module_registry_init(err, sizeof(err)) != 0)
        return cli_fail("%s", err);
    char pw[CLI_PASSWORD_MAX + 1];
    int generated = 0;
    if (o->schema_only) {
        pw[0] = 0;
    } else {
        int rc = cli_admin_password(o, pw, sizeof(pw));
        if (rc > 0) {
            OPENSSL_cleanse(pw, sizeof(pw));
            return 1;
        }
        if (rc < 0) {
            crypto_random_string(pw, 24);
            generated = 1;
        }
    }
    umask(077); /* the database file and its -wal/-shm: readable by their owner only */
    int rc = init_db(o, pw, generated);
    OPENSSL_cleanse(pw, sizeof(pw));
    return rc;
}

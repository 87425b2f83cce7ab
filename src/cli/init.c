/* init: creates the ITFlow schema and seeds a new database (company 1, ticket statuses, the
 * admin with the site master key wrapped by the admin password). */
#include <crypt.h>
#include <openssl/crypto.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "crypto/crypto.h"
#include "engine/engine.h"
#include "modules/registry.h"

int cli_read_secret_file(const char *path, char *out, size_t outlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_fail("cannot read %s.", path);
    if (!fgets(out, (int)outlen, f))
        out[0] = 0;
    fclose(f);
    out[strcspn(out, "\r\n")] = 0;
    if (!out[0])
        return cli_fail("%s is empty.", path);
    return 0;
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

static int write_defaults(struct db *db, const char *email, const char *pw)
{
    return db_begin(db, 1) == DB_OK &&
           db_exec(db, "INSERT INTO companies (company_id, company_name) VALUES (1, 'My "
                       "Company')") == DB_OK &&
           db_exec(db, "INSERT INTO settings (company_id, config_current_database_version, "
                       "config_ticket_prefix, config_ticket_next_number) VALUES "
                       "(1, '2.4.4', 'TCK-', 1)") == DB_OK &&
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
        return cli_fail("--admin-email must be 1 to 200 characters.");
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
        ok = write_defaults(db, email, pw);
    if (!ok) {
        cli_fail("cannot initialise %s: %s", o->db_shown, db_errmsg(db));
        db_rollback(db);
        db_close(db);
        if (!existed && !strstr(o->db, "://"))
            remove_db_files(o->db);
        return 1;
    }
    db_close(db);
    if (o->schema_only) {
        printf("Created the ITFlow schema in %s.\n", o->db_shown);
        return 0;
    }
    printf("Created %s: company 1, ticket prefix TCK-, admin %s.\n", o->db_shown, email);
    if (generated)
        printf("Admin password (shown once, needed for 'itflowd key create'): %s\n", pw);
    return 0;
}

int cmd_init(const struct cli_opts *o)
{
    if (!o->db)
        return cli_fail("init needs --db PATH.");
    char pw[256];
    int generated = 0;
    if (o->schema_only) {
        pw[0] = 0;
    } else if (o->admin_pw_file) {
        if (cli_read_secret_file(o->admin_pw_file, pw, sizeof(pw))) {
            OPENSSL_cleanse(pw, sizeof(pw));
            return 1;
        }
    } else {
        crypto_random_string(pw, 24);
        generated = 1;
    }
    int rc = init_db(o, pw, generated);
    OPENSSL_cleanse(pw, sizeof(pw));
    return rc;
}

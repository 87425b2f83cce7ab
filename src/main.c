/* itflowd: command line — init, key create/list/revoke, serve. Errors are one sentence on stderr
 * and a non-zero exit. */
#include <crypt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/throttle.h"
#include "core/membudget.h"
#include "core/php.h"
#include "crypto/crypto.h"
#include "db/db.h"
#include "modules/registry.h"
#include "http/netaddr.h"
#include "http/server.h"
#include "json/json_alloc.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("itflowd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static void usage(FILE *f)
{
    fputs("usage:\n"
          "  itflowd init --db PATH [--schema-only] [--admin-email E] [--admin-password-file F]\n"
          "  itflowd key create --db PATH --name NAME --expires YYYY-MM-DD [--client ID]\n"
          "                     [--secret S] [--decrypt-password P] [--admin-password-file F]\n"
          "  itflowd key list --db PATH\n"
          "  itflowd key revoke --db PATH ID\n"
          "  itflowd serve --db PATH [--listen 127.0.0.1:8080] [--threads N] [--quiet]\n"
          "                [--max-body BYTES] [--max-connections N] [--timeout SEC]\n"
          "                [--auth-fail-limit N] [--auth-fail-window SEC]\n"
          "                [--shutdown-timeout SEC] [--log FILE] [--max-url BYTES]\n"
          "                [--max-header BYTES] [--write-workers N] [--max-body-memory BYTES]\n"
          "                [--reuse-port] [--max-connections-per-ip N] [--header-timeout SEC]\n"
          "                [--body-min-rate BYTES]\n"
          "                [--buffer-answer BYTES] [--max-streams-per-ip N] [--send-timeout SEC]\n"
          "                [--metrics-from CIDR|none]... [--trusted-proxy CIDR]...\n"
          "                [--sync full|normal]\n",
          f);
}

/* Options: --name VALUE pairs and bare flags; one positional argument allowed. */
struct opts {
    const char *db, *name, *expires, *client, *secret, *decrypt, *admin_pw_file, *admin_email;
    const char *listen, *threads, *positional, *max_body, *auth_fail_limit, *auth_fail_window;
    const char *max_connections, *timeout, *shutdown_timeout, *log, *max_url, *max_header;
    const char *write_workers, *max_body_memory, *max_conn_per_ip, *header_timeout;
    const char *body_min_rate, *buffer_answer, *max_streams_per_ip, *send_timeout, *sync;
    struct cidr_list metrics_from, trusted_proxies; /* repeatable flags */
    int metrics_given, metrics_none;
    int schema_only, quiet, reuse_port;
    char db_shown[512]; /* db for messages: a URL's password replaced by *** */
};

/* --metrics-from / --trusted-proxy: an address or network, repeatable (none: no address). */
static int add_cidr(struct opts *o, const char *flag, const char *v)
{
    int metrics = strcmp(flag, "--metrics-from") == 0;
    if (!v)
        return fail("%s needs a value.", flag);
    if (metrics) {
        o->metrics_given = 1;
        if (strcmp(v, "none") == 0) {
            o->metrics_none = 1;
            return o->metrics_from.n ? fail("--metrics-from none excludes every other value.") : 0;
        }
        if (o->metrics_none)
            return fail("--metrics-from none excludes every other value.");
    }
    struct cidr_list *l = metrics ? &o->metrics_from : &o->trusted_proxies;
    if (l->n >= CIDR_LIST_MAX)
        return fail("%s may be given at most %d times.", flag, CIDR_LIST_MAX);
    if (cidr_list_add(l, v) != 0)
        return fail("%s needs an IP address or network (e.g. 10.0.0.0/8 or 2001:db8::/32) with "
                    "no host bits set, not %s.",
                    flag, v);
    return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct {
        const char *flag;
        size_t off;
    } valued[] = {
        {"--db", offsetof(struct opts, db)},
        {"--name", offsetof(struct opts, name)},
        {"--expires", offsetof(struct opts, expires)},
        {"--client", offsetof(struct opts, client)},
        {"--secret", offsetof(struct opts, secret)},
        {"--decrypt-password", offsetof(struct opts, decrypt)},
        {"--admin-password-file", offsetof(struct opts, admin_pw_file)},
        {"--admin-email", offsetof(struct opts, admin_email)},
        {"--listen", offsetof(struct opts, listen)},
        {"--threads", offsetof(struct opts, threads)},
        {"--max-body", offsetof(struct opts, max_body)},
        {"--auth-fail-limit", offsetof(struct opts, auth_fail_limit)},
        {"--auth-fail-window", offsetof(struct opts, auth_fail_window)},
        {"--max-connections", offsetof(struct opts, max_connections)},
        {"--timeout", offsetof(struct opts, timeout)},
        {"--shutdown-timeout", offsetof(struct opts, shutdown_timeout)},
        {"--log", offsetof(struct opts, log)},
        {"--max-url", offsetof(struct opts, max_url)},
        {"--max-header", offsetof(struct opts, max_header)},
        {"--write-workers", offsetof(struct opts, write_workers)},
        {"--max-body-memory", offsetof(struct opts, max_body_memory)},
        {"--max-connections-per-ip", offsetof(struct opts, max_conn_per_ip)},
        {"--header-timeout", offsetof(struct opts, header_timeout)},
        {"--body-min-rate", offsetof(struct opts, body_min_rate)},
        {"--buffer-answer", offsetof(struct opts, buffer_answer)},
        {"--max-streams-per-ip", offsetof(struct opts, max_streams_per_ip)},
        {"--send-timeout", offsetof(struct opts, send_timeout)},
        {"--sync", offsetof(struct opts, sync)},
    };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--schema-only") == 0) {
            o->schema_only = 1;
            continue;
        }
        if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            continue;
        }
        if (strcmp(a, "--reuse-port") == 0) {
            o->reuse_port = 1;
            continue;
        }
        if (strcmp(a, "--metrics-from") == 0 || strcmp(a, "--trusted-proxy") == 0) {
            if (add_cidr(o, a, i + 1 < argc ? argv[++i] : NULL))
                return 1;
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
            if (strcmp(a, valued[k].flag) == 0)
                break;
        if (k < sizeof(valued) / sizeof(valued[0])) {
            if (i + 1 >= argc)
                return fail("%s needs a value.", a);
            *(const char **)(void *)((char *)o + valued[k].off) = argv[++i];
            continue;
        }
        if (a[0] == '-' || o->positional)
            return fail("unknown argument %s (see itflowd --help).", a);
        o->positional = a;
    }
    return 0;
}

/* Reads the first line of a file (the admin password), without its line end. */
static int read_secret_file(const char *path, char *out, size_t outlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail("cannot read %s.", path);
    if (!fgets(out, (int)outlen, f))
        out[0] = 0;
    fclose(f);
    out[strcspn(out, "\r\n")] = 0;
    if (!out[0])
        return fail("%s is empty.", path);
    return 0;
}

static int admin_password(const struct opts *o, char *out, size_t outlen)
{
    if (o->admin_pw_file)
        return read_secret_file(o->admin_pw_file, out, outlen);
    const char *env = getenv("ITFLOWD_ADMIN_PASSWORD");
    if (env && env[0]) {
        snprintf(out, outlen, "%s", env);
        return 0;
    }
    return fail("the admin password is needed: give --admin-password-file F or set "
                "ITFLOWD_ADMIN_PASSWORD.");
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
    memset(master, 0, sizeof(master));
    buf_free(&wrapped);
    return rc == DB_OK ? 0 : -1;
}

/* The read indexes of every module filter (CREATE INDEX IF NOT EXISTS: cheap when present). */
static enum db_rc ensure_indexes(struct db *db)
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

static int cmd_init(const struct opts *o)
{
    if (!o->db)
        return fail("init needs --db PATH.");
    char pw[256];
    int generated = 0;
    if (o->schema_only) {
        pw[0] = 0;
    } else if (o->admin_pw_file) {
        if (read_secret_file(o->admin_pw_file, pw, sizeof(pw)))
            return 1;
    } else {
        crypto_random_string(pw, 24);
        generated = 1;
    }
    const char *email = o->admin_email ? o->admin_email : "admin@localhost";
    if (!o->schema_only && (!email[0] || strlen(email) > 200))
        return fail("--admin-email must be 1 to 200 characters.");
    int existed = access(o->db, F_OK) == 0;
    struct db *db = NULL;
    if (db_open_create(o->db, &db) != DB_OK)
        return fail("cannot open or create the database %s.", o->db_shown);
    struct db_stmt *st;
    if (db_stmt(db, "SELECT 1 FROM api_keys LIMIT 1", &st) == DB_OK) {
        db_close(db);
        return fail("%s already has the ITFlow tables; init does not touch an existing "
                    "database.",
                    o->db_shown);
    }
    int ok = db_create_schema(db) == DB_OK && ensure_indexes(db) == DB_OK;
    if (ok && !o->schema_only)
        ok = write_defaults(db, email, pw);
    if (!ok) {
        fail("cannot initialise %s: %s", o->db, db_errmsg(db));
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
    memset(pw, 0, sizeof(pw));
    return 0;
}

static int valid_date(const char *s)
{
    int y, m, d;
    char extra;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3)
        return 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1000 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* The site master key, unwrapped from the first active admin's ciphertext. */
static int site_master(struct db *db, const char *password, char master[CRYPTO_MASTER_LEN + 1])
{
    struct db_stmt *st;
    if (db_stmt(db,
                "SELECT user_specific_encryption_ciphertext FROM users WHERE "
                "user_specific_encryption_ciphertext IS NOT NULL AND "
                "user_specific_encryption_ciphertext <> '' AND user_archived_at IS NULL "
                "ORDER BY user_id",
                &st) != DB_OK)
        return fail("cannot read the users table.");
    int found = 0;
    enum db_rc rc;
    while (!found && (rc = db_step(st)) == DB_ROW) {
        size_t n;
        const char *w = db_column_text(st, 0, &n);
        if (w && crypto_unwrap_master(w, n, password, strlen(password), master) == 0)
            found = 1;
    }
    db_reset(st);
    if (!found)
        return fail("the admin password does not unlock the site master key of any user.");
    return 0;
}

/* Characters of a UTF-8 string (bytes that do not continue a character). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* 1 when a key row (active, expired or revoked) already has this secret: hashed, or a legacy
 * plaintext key matched as the server matches it; -1 on a store error. Two keys with one secret
 * would authenticate as whichever the server finds first. */
static int secret_in_use(struct db *db, const char *secret, const char *hash)
{
    struct db_stmt *st;
    if (db_stmt(db,
                "SELECT api_key_secret FROM api_keys WHERE api_key_secret = ? OR "
                "SUBSTR(api_key_secret, 1, 13) <> '$itfd-sha256$'",
                &st) != DB_OK)
        return -1;
    db_bind_text(st, 1, hash, strlen(hash));
    int used = 0, rc;
    while ((rc = db_step(st)) == DB_ROW) {
        size_t n;
        const char *stored = db_column_text(st, 0, &n);
        if (stored && (crypto_key_is_hashed(stored, n)
                           ? n == strlen(hash) && memcmp(stored, hash, n) == 0
                           : crypto_key_matches(stored, n, secret, strlen(secret))))
            used = 1;
    }
    db_reset(st);
    return rc == DB_DONE ? used : -1;
}

static int cmd_key_create(const struct opts *o)
{
    if (!o->db || !o->name || !o->expires)
        return fail("key create needs --db PATH, --name NAME and --expires YYYY-MM-DD.");
    if (!o->name[0] || strlen(o->name) > 255 || !utf8_valid(o->name, strlen(o->name)))
        return fail("--name must be 1 to 255 characters of UTF-8.");
    if (!valid_date(o->expires))
        return fail("--expires must be a date as YYYY-MM-DD, not %s.", o->expires);
    char today[11];
    auth_today(today);
    if (strcmp(o->expires, today) <= 0)
        return fail("--expires must be after today (%s): a key is valid before its expiry date.",
                    today);
    char *end = NULL;
    long long client = o->client ? strtoll(o->client, &end, 10) : 0;
    if (o->client && (*end || client < 0 || client > 2147483647))
        return fail("--client must be a client id (0 = all clients), not %s.", o->client);
    char secret[256], decrypt[256], pw[256];
    if (o->secret && (strlen(o->secret) < 16 || strlen(o->secret) > 200))
        return fail("--secret must be 16 to 200 characters.");
    if (o->decrypt && (utf8_chars(o->decrypt) < 16 || strlen(o->decrypt) > 200))
        return fail("--decrypt-password must be 16 to 200 characters.");
    snprintf(secret, sizeof(secret), "%s", o->secret ? o->secret : "");
    snprintf(decrypt, sizeof(decrypt), "%s", o->decrypt ? o->decrypt : "");
    if (!o->secret)
        crypto_random_string(secret, 32);
    if (!o->decrypt)
        crypto_random_string(decrypt, 32);
    if (admin_password(o, pw, sizeof(pw)))
        return 1;
    struct db *db = NULL;
    if (db_open(o->db, &db) != DB_OK)
        return fail("cannot open the database %s.", o->db_shown);
    char master[CRYPTO_MASTER_LEN + 1];
    int rc = 1;
    struct buf wrapped;
    buf_init(&wrapped, 0);
    if (site_master(db, pw, master))
        goto out;
    if (client) {
        struct db_stmt *st;
        int64_t n = 0;
        if (db_stmt(db, "SELECT COUNT(*) FROM clients WHERE client_id = ?", &st) != DB_OK)
            goto out;
        db_bind_int(st, 1, client);
        db_query_int(st, &n);
        if (n == 0) {
            fail("there is no client %s.", o->client);
            goto out;
        }
    }
    char hash[CRYPTO_KEY_HASH_LEN + 1];
    crypto_key_hash(secret, strlen(secret), hash);
    if (crypto_wrap_master(master, CRYPTO_MASTER_LEN, decrypt, strlen(decrypt), &wrapped)) {
        fail("cannot wrap the master key.");
        goto out;
    }
    struct db_stmt *st;
    if (db_begin(db, 1) != DB_OK ||
        db_stmt(db,
                "INSERT INTO api_keys (api_key_name, api_key_secret, api_key_decrypt_hash, "
                "api_key_expire, api_key_client_id) VALUES (?, ?, ?, ?, ?)",
                &st) != DB_OK) {
        fail("cannot write the key: %s", db_errmsg(db));
        goto out;
    }
    int used = secret_in_use(db, secret, hash); /* inside the write transaction: no race */
    if (used) {
        if (used > 0)
            fail("that secret is already used by a key (active, expired or revoked); choose "
                 "another.");
        else
            fail("cannot read api_keys: %s", db_errmsg(db));
        goto out;
    }
    db_bind_text(st, 1, o->name, strlen(o->name));
    db_bind_text(st, 2, hash, strlen(hash));
    db_bind_text(st, 3, wrapped.p, wrapped.len);
    db_bind_text(st, 4, o->expires, 10);
    db_bind_int(st, 5, client);
    enum db_rc step = db_step(st);
    db_reset(st);
    int64_t id = db_last_insert_id(db);
    if (step != DB_DONE || db_commit(db) != DB_OK) {
        fail("cannot write the key: %s", db_errmsg(db));
        goto out;
    }
    printf("Created API key %lld \"%s\" for %s, valid until %s (exclusive).\n", (long long)id,
           o->name, client ? "one client" : "all clients", o->expires);
    printf("api_key: %s\napi_key_decrypt_password: %s\n", secret, decrypt);
    printf("Both are shown once; only a hash of the key is stored.\n");
    rc = 0;
out:
    memset(master, 0, sizeof(master));
    memset(pw, 0, sizeof(pw));
    memset(secret, 0, sizeof(secret));
    memset(decrypt, 0, sizeof(decrypt));
    buf_free(&wrapped);
    db_rollback(db);
    db_close(db);
    return rc;
}

static int cmd_key_list(const struct opts *o)
{
    if (!o->db)
        return fail("key list needs --db PATH.");
    struct db *db = NULL;
    if (db_open(o->db, &db) != DB_OK)
        return fail("cannot open the database %s.", o->db_shown);
    struct db_stmt *st;
    if (db_stmt(db,
                "SELECT api_key_id, api_key_name, api_key_client_id, api_key_expire, "
                "api_key_secret FROM api_keys ORDER BY api_key_id",
                &st) != DB_OK) {
        db_close(db);
        return fail("cannot read api_keys.");
    }
    char today[11];
    auth_today(today);
    printf("%-5s %-30s %-12s %-11s %-8s %s\n", "ID", "NAME", "SCOPE", "EXPIRES", "STATUS",
           "SECRET");
    while (db_step(st) == DB_ROW) {
        size_t n, sn;
        const char *name = db_column_text(st, 1, &n);
        const char *exp = db_column_text(st, 3, &n);
        const char *sec = db_column_text(st, 4, &sn);
        char scope[24], last4[5] = "????";
        int64_t c = db_column_int(st, 2);
        if (c)
            snprintf(scope, sizeof(scope), "client %lld", (long long)c);
        else
            snprintf(scope, sizeof(scope), "all clients");
        if (sec && crypto_key_is_hashed(sec, sn))
            memcpy(last4, sec + sn - 4, 4);
        else if (sec && sn >= 4)
            memcpy(last4, sec + sn - 4, 4);
        printf("%-5lld %-30s %-12s %-11s %-8s ************%s\n", (long long)db_column_int(st, 0),
               name ? name : "", scope, exp ? exp : "",
               exp && strcmp(exp, today) > 0 ? "active" : "expired", last4);
    }
    db_reset(st);
    db_close(db);
    return 0;
}

static int cmd_key_revoke(const struct opts *o)
{
    if (!o->db || !o->positional)
        return fail("key revoke needs --db PATH and a key id.");
    char *end;
    long long id = strtoll(o->positional, &end, 10);
    if (*end || id <= 0)
        return fail("%s is not a key id.", o->positional);
    struct db *db = NULL;
    if (db_open(o->db, &db) != DB_OK)
        return fail("cannot open the database %s.", o->db_shown);
    char today[11];
    auth_today(today);
    struct db_stmt *st;
    int rc = 1;
    if (db_stmt(db, "UPDATE api_keys SET api_key_expire = ? WHERE api_key_id = ?", &st) == DB_OK) {
        db_bind_text(st, 1, today, 10);
        db_bind_int(st, 2, id);
        if (db_step(st) == DB_DONE)
            rc = db_changes(db) == 1 ? 0 : 2;
        db_reset(st);
    }
    db_close(db);
    if (rc == 2)
        return fail("there is no key %s.", o->positional);
    if (rc)
        return fail("cannot revoke the key.");
    printf("Revoked API key %lld (it expired today, %s).\n", id, today);
    return 0;
}

#define SERVE_NUMBERS 17

/* The numeric options of serve, each checked against its range (defaults when absent). */
static int serve_numbers(const struct opts *o, long val[SERVE_NUMBERS])
{
    const struct {
        const char *flag, *given;
        long lo, hi, dflt;
    } nums[SERVE_NUMBERS] = {
        {"--threads", o->threads, 1, 256, sysconf(_SC_NPROCESSORS_ONLN)},
        {"--max-body", o->max_body, 1024, 1L << 30, 16L << 20},
        {"--auth-fail-limit", o->auth_fail_limit, 0, 1000000, 30},
        {"--auth-fail-window", o->auth_fail_window, 1, 86400, 60},
        {"--max-connections", o->max_connections, 1, 100000, 1000},
        {"--timeout", o->timeout, 1, 3600, 30},
        {"--shutdown-timeout", o->shutdown_timeout, 0, 3600, 10},
        {"--max-url", o->max_url, 256, 1L << 20, 4096},
        {"--max-header", o->max_header, 1024, 1L << 20, 8192},
        {"--write-workers", o->write_workers, 1, 256, 16},
        /* bodies being received or parsed, all requests together; default 8 x --max-body */
        {"--max-body-memory", o->max_body_memory, 1L << 20, 1L << 40, 128L << 20},
        {"--max-connections-per-ip", o->max_conn_per_ip, 1, 100000, 64},
        {"--header-timeout", o->header_timeout, 1, 3600, 10},
        {"--body-min-rate", o->body_min_rate, 0, 1L << 30, 1024},
        {"--buffer-answer", o->buffer_answer, 64L << 10, 1L << 30, 4L << 20},
        {"--max-streams-per-ip", o->max_streams_per_ip, 1, 10000, 4},
        {"--send-timeout", o->send_timeout, 1, 3600, 10},
    };
    for (int i = 0; i < SERVE_NUMBERS; i++) {
        char *end = NULL;
        val[i] = nums[i].given ? strtol(nums[i].given, &end, 10) : nums[i].dflt;
        if ((nums[i].given && (*end || !nums[i].given[0])) || val[i] < nums[i].lo ||
            val[i] > nums[i].hi)
            return fail("%s must be a number from %ld to %ld.", nums[i].flag, nums[i].lo,
                        nums[i].hi);
    }
    return 0;
}

static int cmd_serve(const struct opts *o)
{
    if (!o->db)
        return fail("serve needs --db PATH.");
    if (access(o->db, R_OK | W_OK) != 0 && !strstr(o->db, "://"))
        return fail("cannot open %s; create it with 'itflowd init --db PATH'.", o->db_shown);
    struct server_config cfg = {0};
    cfg.db_target = o->db;
    char host[128];
    const char *listen = o->listen ? o->listen : DEFAULT_LISTEN;
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(host))
        return fail("--listen must be HOST:PORT, not %s.", listen);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        return fail("--listen has an invalid port: %s.", colon + 1);
    long val[SERVE_NUMBERS];
    if (serve_numbers(o, val))
        return 2;
    if (o->sync && strcmp(o->sync, "full") != 0 && strcmp(o->sync, "normal") != 0)
        return fail("--sync must be full or normal, not %s.", o->sync);
    db_set_sync(o->sync && !strcmp(o->sync, "normal") ? DB_SYNC_NORMAL : DB_SYNC_FULL);
    struct db *db = NULL;
    if (db_open(o->db, &db) != DB_OK)
        return fail("cannot open the database %s.", o->db_shown);
    enum db_rc rc = db_dialect(db) == DB_SQLITE ? ensure_indexes(db) : DB_OK;
    if (rc != DB_OK)
        fail("cannot create the read indexes: %s", db_errmsg(db));
    db_close(db);
    if (rc != DB_OK)
        return 1;
    cfg.threads = (unsigned)val[0];
    cfg.max_body = (size_t)val[1];
    throttle_configure((unsigned)val[2], (unsigned)val[3]);
    cfg.max_connections = (unsigned)val[4];
    cfg.timeout_sec = (unsigned)val[5];
    cfg.shutdown_sec = (unsigned)val[6];
    cfg.max_url = (size_t)val[7];
    cfg.max_header = (size_t)val[8];
    cfg.write_workers = (unsigned)val[9];
    membudget_configure(o->max_body_memory ? (size_t)val[10] : 8 * cfg.max_body);
    cfg.max_conn_per_ip = (unsigned)val[11];
    cfg.header_timeout = (unsigned)val[12];
    cfg.body_min_rate = (unsigned)val[13];
    cfg.reuse_port = o->reuse_port;
    cfg.buffer_answer = (size_t)val[14];
    cfg.max_streams_per_ip = (unsigned)val[15];
    cfg.send_timeout_sec = (unsigned)val[16];
    struct cidr_list loopback = {0};
    cidr_list_loopback(&loopback);
    cfg.metrics_from = o->metrics_given ? &o->metrics_from : &loopback;
    cfg.trusted_proxies = &o->trusted_proxies;
    cfg.log_path = o->log;
    cfg.listen_host = host;
    cfg.port = (unsigned short)port;
    cfg.quiet = o->quiet;
    return server_run(&cfg);
}

int main(int argc, char **argv)
{
    json_alloc_install(); /* before any JSON value exists */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    }
    char err[256];
    if (module_registry_init(err, sizeof(err)) != 0)
        return fail("%s", err);
    struct opts o;
    memset(&o, 0, sizeof(o));
    const char *cmd = argv[1];
    int sub = !strcmp(cmd, "key") && argc >= 3;
    if (parse_opts(argc - 2 - sub, argv + 2 + sub, &o))
        return 2;
    if (o.db)
        db_target_display(o.db, o.db_shown, sizeof(o.db_shown));
    if (!strcmp(cmd, "init"))
        return cmd_init(&o);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(&o);
    if (sub && !strcmp(argv[2], "create"))
        return cmd_key_create(&o);
    if (sub && !strcmp(argv[2], "list"))
        return cmd_key_list(&o);
    if (sub && !strcmp(argv[2], "revoke"))
        return cmd_key_revoke(&o);
    usage(stderr);
    return 2;
}

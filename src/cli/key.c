/* key: 'itflowd key create|list|revoke' — the arguments checked and the results printed; the
 * api_keys store is keys/keys.c. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "cli/keyperm.h"
#include "core/buf.h"
#include "core/php.h"
#include "keys/keys.h"

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

static int admin_password(const struct cli_opts *o, char *out, size_t outlen)
{
    if (o->admin_pw_file)
        return cli_read_secret_file(o->admin_pw_file, out, outlen);
    const char *env = getenv("ITFLOWD_ADMIN_PASSWORD");
    if (env && env[0]) {
        snprintf(out, outlen, "%s", env);
        return 0;
    }
    return cli_fail("the admin password is needed: give --admin-password-file F or set "
                    "ITFLOWD_ADMIN_PASSWORD.");
}

int cmd_key_create(const struct cli_opts *o)
{
    if (!o->db || !o->name || !o->expires)
        return cli_fail("key create needs --db PATH, --name NAME and --expires YYYY-MM-DD.");
    if (!o->name[0] || strlen(o->name) > 255 || !utf8_valid(o->name, strlen(o->name)))
        return cli_fail("--name must be 1 to 255 characters of UTF-8.");
    if (!valid_date(o->expires))
        return cli_fail("--expires must be a date as YYYY-MM-DD, not %s.", o->expires);
    char today[11];
    auth_today(today);
    if (strcmp(o->expires, today) <= 0)
        return cli_fail(
            "--expires must be after today (%s): a key is valid before its expiry date.", today);
    char *end = NULL;
    long long client = o->client ? strtoll(o->client, &end, 10) : 0;
    if (o->client && (*end || client < 0 || client > 2147483647))
        return cli_fail("--client must be a client id (0 = all clients), not %s.", o->client);
    char secret[256], decrypt[256], pw[256];
    if (o->secret && (strlen(o->secret) < 16 || strlen(o->secret) > 200))
        return cli_fail("--secret must be 16 to 200 characters.");
    if (o->decrypt &&
        (utf8_length(o->decrypt, strlen(o->decrypt)) < 16 || strlen(o->decrypt) > 200))
        return cli_fail("--decrypt-password must be 16 to 200 characters.");
    snprintf(secret, sizeof(secret), "%s", o->secret ? o->secret : "");
    snprintf(decrypt, sizeof(decrypt), "%s", o->decrypt ? o->decrypt : "");
    if (!o->secret)
        crypto_random_string(secret, 32);
    if (!o->decrypt)
        crypto_random_string(decrypt, 32);
    if (keyperm_check_opts())
        return 1;
    if (admin_password(o, pw, sizeof(pw)))
        return 1;
    struct db *db = NULL;
    if (db_open(o->db, &db) != DB_OK)
        return cli_fail("cannot open the database %s.", o->db_shown);
    char master[CRYPTO_MASTER_LEN + 1];
    int rc = 1;
    struct buf wrapped;
    buf_init(&wrapped, 0);
    enum keys_rc krc = keys_site_master(db, pw, master);
    if (krc != KEYS_OK) {
        cli_fail(krc == KEYS_NOT_FOUND ? "the admin password does not unlock the site master key "
                                         "of any user."
                                       : "cannot read the users table.");
        goto out;
    }
    if (client) {
        krc = keys_client_exists(db, client);
        if (krc == KEYS_NOT_FOUND)
            cli_fail("there is no client %s.", o->client);
        if (krc != KEYS_OK)
            goto out;
    }
    if (crypto_wrap_master(master, CRYPTO_MASTER_LEN, decrypt, strlen(decrypt), &wrapped)) {
        cli_fail("cannot wrap the master key.");
        goto out;
    }
    struct key_new k = {o->name, secret, wrapped.p, wrapped.len, o->expires, client};
    int64_t id = 0;
    krc = keys_create(db, &k, &id);
    if (krc == KEYS_SECRET_USED)
        cli_fail("that secret is already used by a key (active, expired or revoked); choose "
                 "another.");
    else if (krc == KEYS_READ_ERROR)
        cli_fail("cannot read api_keys: %s", db_errmsg(db));
    else if (krc != KEYS_OK)
        cli_fail("cannot write the key: %s", db_errmsg(db));
    if (krc != KEYS_OK)
        goto out;
    printf("Created API key %lld \"%s\" for %s, valid until %s (exclusive).\n", (long long)id,
           o->name, client ? "one client" : "all clients", o->expires);
    printf("api_key: %s\napi_key_decrypt_password: %s\n", secret, decrypt);
    printf("Both are shown once; only a hash of the key is stored.\n");
    rc = keyperm_after_create(db, id);
out:
    OPENSSL_cleanse(master, sizeof(master));
    OPENSSL_cleanse(pw, sizeof(pw));
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(decrypt, sizeof(decrypt));
    buf_free(&wrapped);
    db_rollback(db);
    db_close(db);
    return rc;
}

struct list_state {
    char today[11];
    int header; /* printed */
};

static void print_header(struct list_state *ls)
{
    if (!ls->header)
        printf("%-5s %-30s %-12s %-11s %-8s %s\n", "ID", "NAME", "SCOPE", "EXPIRES", "STATUS",
               "SECRET");
    ls->header = 1;
}

static void print_key(const struct key_row *k, void *arg)
{
    struct list_state *ls = arg;
    char scope[24];
    print_header(ls);
    if (k->client)
        snprintf(scope, sizeof(scope), "client %lld", (long long)k->client);
    else
        snprintf(scope, sizeof(scope), "all clients");
    printf("%-5lld %-30s %-12s %-11s %-8s ************%s\n", (long long)k->id,
           k->name ? k->name : "", scope, k->expires ? k->expires : "",
           k->expires && strcmp(k->expires, ls->today) > 0 ? "active" : "expired", k->last4);
    keyperm_list_line(k->id);
}

int cmd_key_list(const struct cli_opts *o)
{
    if (!o->db)
        return cli_fail("key list needs --db PATH.");
    struct db *db = NULL;
    if (db_open(o->db, &db) != DB_OK)
        return cli_fail("cannot open the database %s.", o->db_shown);
    struct list_state ls = {.header = 0};
    auth_today(ls.today);
    if (keyperm_list_load(db) != 0) {
        db_close(db);
        return cli_fail("cannot read itflowd_key_perms: %s", db_errmsg(db));
    }
    enum keys_rc rc = keys_list(db, print_key, &ls);
    keyperm_list_free();
    db_close(db);
    if (rc != KEYS_OK)
        return cli_fail("cannot read api_keys.");
    print_header(&ls); /* no keys: the header alone */
    return 0;
}

int cmd_key_revoke(const struct cli_opts *o)
{
    if (!o->db || !o->positional)
        return cli_fail("key revoke needs --db PATH and a key id.");
    char *end;
    long long id = strtoll(o->positional, &end, 10);
    if (*end || id <= 0)
        return cli_fail("%s is not a key id.", o->positional);
    struct db *db = NULL;
    if (db_open(o->db, &db) != DB_OK)
        return cli_fail("cannot open the database %s.", o->db_shown);
    char today[11];
    auth_today(today);
    enum keys_rc rc = keys_revoke(db, id, today);
    db_close(db);
    if (rc == KEYS_NOT_FOUND)
        return cli_fail("there is no key %s.", o->positional);
    if (rc != KEYS_OK)
        return cli_fail("cannot revoke the key.");
    printf("Revoked API key %lld (it expired today, %s).\n", id, today);
    return 0;
}

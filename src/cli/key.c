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
    int rc = cli_admin_password(o, out, outlen);
    if (rc >= 0)
        return rc;
    return cli_fail("the admin password is needed: give --admin-password-file FILE or set "
                    "ITFLOWD_ADMIN_PASSWORD or ITFLOWD_ADMIN_PASSWORD_FILE.");
}

int cmd_key_create(const struct cli_opts *o)
{
    if (!o->name[0] || strlen(o->name) > 255 || !utf8_valid(o->name, strlen(o->name)))
        return cli_fail("--name must be 1 to 255 characters of UTF-8."), 2;
    if (!valid_date(o->expires))
        return cli_fail("--expires must be a date as YYYY-MM-DD, not %s.", o->expires), 2;
    char today[11];
    auth_today(today);
    if (strcmp(o->expires, today) <= 0)
        return cli_fail(
                   "--expires must be after today (%s): a key is valid before its expiry date.",
                   today),
               2;
    char *end = NULL;
    long long client = o->client ? strtoll(o->client, &end, 10) : 0;
    if (o->client && (!o->client[0] || *end || client < 0 || client > 2147483647))
        return cli_fail("--client must be a client id (0 = all clients), not %s.", o->client), 2;
    long long user = o->user ? strtoll(o->user, &end, 10) : 0;
    if (o->user && (!o->user[0] || *end || user <= 0 || user > 2147483647))
        return cli_fail("--user must be a user id, not %s.", o->user), 2;
    char secret[256], decrypt[256], pw[CLI_PASSWORD_MAX + 1];
    if (o->secret && (strlen(o->secret) < 16 || strlen(o->secret) > 200))
        return cli_fail("--secret must be 16 to 200 characters."), 2;
    if (o->decrypt &&
        (utf8_length(o->decrypt, strlen(o->decrypt)) < 16 || strlen(o->decrypt) > 200))
        return cli_fail("--decrypt-password must be 16 to 200 characters."), 2;
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
    struct db_identity id;
    char master[CRYPTO_MASTER_LEN + 1];
    int rc = 1;
    struct buf wrapped;
    buf_init(&wrapped, 0);
    char owner[256] = "";
    if (cli_open_identified(o, &db, &id)) {
        OPENSSL_cleanse(pw, sizeof(pw));
        OPENSSL_cleanse(secret, sizeof(secret));
        OPENSSL_cleanse(decrypt, sizeof(decrypt));
        return 1;
    }
    enum keys_rc krc = KEYS_OK;
    if (id.dialect == ITFLOW_V2608 && o->client) {
        cli_fail("--client is for ITFlow 26.07 databases; %s is ITFlow 26.08, where a key runs "
                 "as a user and sees that user's clients: give --user ID.",
                 o->db_shown);
        goto out;
    }
    if (id.dialect == ITFLOW_V2608 && !o->user) {
        cli_fail("%s is ITFlow 26.08, where a key runs as a user: give --user ID.", o->db_shown);
        goto out;
    }
    if (id.dialect == ITFLOW_V2607 && o->user) {
        cli_fail("--user is for ITFlow 26.08 databases; %s is ITFlow 26.07, where a key sees all "
                 "clients or one (--client ID).",
                 o->db_shown);
        goto out;
    }
    krc = keys_site_master(db, pw, master);
    if (krc != KEYS_OK) {
        cli_fail(krc == KEYS_NOT_FOUND ? "the admin password does not unlock the site master key "
                                         "of any user."
                                       : "cannot read the users table.");
        goto out;
    }
    if (id.dialect == ITFLOW_V2608) {
        krc = keys_user_check(db, user, owner, sizeof(owner));
        if (krc == KEYS_NOT_FOUND)
            cli_fail("there is no user %s.", o->user);
        else if (krc == KEYS_USER_NOT_AGENT)
            cli_fail("user %s is a client-portal user; a key runs as an agent.", o->user);
        else if (krc == KEYS_USER_DISABLED)
            cli_fail("user %s is not active.", o->user);
        else if (krc == KEYS_USER_ARCHIVED)
            cli_fail("user %s is archived.", o->user);
        else if (krc != KEYS_OK)
            cli_fail("cannot read the users table: %s", db_errmsg(db));
        if (krc != KEYS_OK)
            goto out;
    } else if (client) {
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
    struct key_new k = {o->name,
                        secret,
                        wrapped.p,
                        wrapped.len,
                        o->expires,
                        id.dialect,
                        id.dialect == ITFLOW_V2608 ? user : client};
    int64_t kid = 0;
    krc = keys_create(db, &k, &kid);
    if (krc == KEYS_SECRET_USED)
        cli_fail("that secret is already used by a key (active, expired or revoked); choose "
                 "another.");
    else if (krc == KEYS_READ_ERROR)
        cli_fail("cannot read api_keys: %s", db_errmsg(db));
    else if (krc != KEYS_OK)
        cli_fail("cannot write the key: %s", db_errmsg(db));
    if (krc != KEYS_OK)
        goto out;
    if (k.dialect == ITFLOW_V2608)
        printf("Created API key %lld \"%s\" running as user %lld (%s), valid until %s "
               "(exclusive).\n",
               (long long)kid, o->name, user, owner, o->expires);
    else
        printf("Created API key %lld \"%s\" for %s, valid until %s (exclusive).\n", (long long)kid,
               o->name, client ? "one client" : "all clients", o->expires);
    printf("api_key: %s\napi_key_decrypt_password: %s\n", secret, decrypt);
    printf("Both are shown once; only a hash of the key is stored.\n");
    rc = keyperm_after_create(db, kid);
out:
    OPENSSL_cleanse(master, sizeof(master));
    OPENSSL_cleanse(pw, sizeof(pw));
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(decrypt, sizeof(decrypt));
    buf_free(&wrapped);
    if (db) {
        db_rollback(db);
        db_close(db);
    }
    return rc;
}

struct list_state {
    char today[11];
    int header; /* printed */
    enum itflow_version dialect;
};

static void print_header(struct list_state *ls)
{
    if (!ls->header)
        printf("%-5s %-30s %-*s %-11s %-8s %s\n", "ID", "NAME",
               ls->dialect == ITFLOW_V2608 ? 30 : 12,
               ls->dialect == ITFLOW_V2608 ? "OWNER" : "SCOPE", "EXPIRES", "STATUS", "SECRET");
    ls->header = 1;
}

static void print_key(const struct key_row *k, void *arg)
{
    struct list_state *ls = arg;
    char scope[256];
    print_header(ls);
    if (ls->dialect == ITFLOW_V2608)
        snprintf(scope, sizeof(scope), "user %lld %s", (long long)k->owner,
                 k->owner_name ? k->owner_name
                 : k->owner    ? "(no such user)"
                               : "(none)");
    else if (k->owner)
        snprintf(scope, sizeof(scope), "client %lld", (long long)k->owner);
    else
        snprintf(scope, sizeof(scope), "all clients");
    printf("%-5lld %-30s %-*s %-11s %-8s ************%s\n", (long long)k->id,
           k->name ? k->name : "", ls->dialect == ITFLOW_V2608 ? 30 : 12, scope,
           k->expires ? k->expires : "",
           k->expires && strcmp(k->expires, ls->today) > 0 ? "active" : "expired", k->last4);
    keyperm_list_line(k->id);
}

int cmd_key_list(const struct cli_opts *o)
{
    struct db *db = NULL;
    struct db_identity id;
    if (cli_open_identified(o, &db, &id))
        return 1;
    struct list_state ls = {.header = 0, .dialect = id.dialect};
    auth_today(ls.today);
    if (keyperm_list_load(db) != 0) {
        db_close(db);
        return cli_fail("cannot read itflowd_key_perms: %s", db_errmsg(db));
    }
    enum keys_rc rc = keys_list(db, id.dialect, print_key, &ls);
    keyperm_list_free();
    db_close(db);
    if (rc != KEYS_OK)
        return cli_fail("cannot read api_keys.");
    print_header(&ls); /* no keys: the header alone */
    return 0;
}

int cmd_key_revoke(const struct cli_opts *o)
{
    char *end;
    long long id = strtoll(o->positional, &end, 10);
    if (*end || id <= 0)
        return cli_fail("%s is not a key id.", o->positional), 2;
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

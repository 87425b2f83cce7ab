/* keyperm: the least-privilege options of 'itflowd key create' (--read-only, --no-delete,
 * --allow-ip CIDR...), 'itflowd key update ID' (the same, their opposites --writable,
 * --allow-delete, --any-ip; the secret is not re-issued) and the permissions and last use that
 * 'key list' shows under each key. The store is keys/keyperms.c, the check engine/keyperm.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/keyperm.h"
#include "http/netaddr.h"
#include "keys/keyperms.h"

static struct keyperm_opts kp;

void keyperm_set(const struct keyperm_opts *v)
{
    kp = *v;
}

/* Applies the options to p: 0, or the exit code after printing why not. */
static int apply(struct key_perm *p)
{
    if (kp.read_only && kp.writable)
        return cli_fail("--read-only and --writable contradict each other.");
    if (kp.no_delete && kp.allow_delete)
        return cli_fail("--no-delete and --allow-delete contradict each other.");
    if (kp.allow_ip.n && kp.any_ip)
        return cli_fail("--allow-ip and --any-ip contradict each other.");
    if (kp.read_only)
        p->read_only = 1;
    if (kp.writable)
        p->read_only = 0;
    if (kp.no_delete)
        p->no_delete = 1;
    if (kp.allow_delete)
        p->no_delete = 0;
    if (kp.any_ip)
        p->allow_ips[0] = 0;
    if (kp.allow_ip.n) {
        size_t len = 0;
        p->allow_ips[0] = 0;
        for (size_t i = 0; i < kp.allow_ip.n; i++) {
            struct cidr c;
            const char *v = kp.allow_ip.v[i];
            if (cidr_parse(v, &c) != 0 || strchr(v, ' '))
                return cli_fail("--allow-ip must be an address or a network (CIDR), not %s.", v);
            size_t n = strlen(v);
            if (len + n + 2 > sizeof(p->allow_ips))
                return cli_fail("--allow-ip: too many networks.");
            if (len)
                p->allow_ips[len++] = ' ';
            memcpy(p->allow_ips + len, v, n + 1);
            len += n;
        }
    }
    return 0;
}

static int keyperm_any_given(void)
{
    return kp.read_only || kp.writable || kp.no_delete || kp.allow_delete || kp.allow_ip.n ||
           kp.any_ip;
}

static void describe(const struct key_perm *p, char *out, size_t n)
{
    snprintf(out, n, "%s, %s, %s%s", p->read_only ? "read-only" : "read and write",
             p->no_delete || p->read_only ? "no delete" : "delete",
             p->allow_ips[0] ? "from " : "from any address", p->allow_ips);
}

int keyperm_check_opts(void)
{
    struct key_perm p;
    memset(&p, 0, sizeof(p));
    if (kp.writable || kp.allow_delete || kp.any_ip)
        return cli_fail("--writable, --allow-delete and --any-ip are for key update.");
    return apply(&p);
}

int keyperm_after_create(struct db *db, int64_t id)
{
    if (!keyperm_any_given())
        return 0;
    struct key_perm p;
    memset(&p, 0, sizeof(p));
    p.id = id;
    if (apply(&p))
        return 1;
    if (keys_perm_set(db, &p) != KEYS_OK)
        return cli_fail("cannot store the key's permissions: %s", db_errmsg(db));
    char text[2200];
    describe(&p, text, sizeof(text));
    printf("Permissions: %s.\n", text);
    return 0;
}

int cmd_key_update(const struct cli_opts *o)
{
    if (!o->db || !o->positional)
        return cli_fail("key update needs --db PATH and a key id.");
    char *end;
    long long id = strtoll(o->positional, &end, 10);
    if (*end || id <= 0)
        return cli_fail("%s is not a key id.", o->positional);
    if (!keyperm_any_given())
        return cli_fail("key update needs at least one of --read-only, --writable, --no-delete, "
                        "--allow-delete, --allow-ip CIDR, --any-ip.");
    struct db *db = NULL;
    if (db_open(o->db, &db) != DB_OK)
        return cli_fail("cannot open the database %s.", o->db_shown);
    struct key_perm p;
    int rc = 1;
    if (keys_perm_get(db, id, &p) != KEYS_OK) {
        cli_fail("cannot read the key's permissions: %s", db_errmsg(db));
        goto out;
    }
    if (apply(&p))
        goto out;
    enum keys_rc krc = keys_perm_set(db, &p);
    if (krc == KEYS_NOT_FOUND) {
        cli_fail("there is no key %s.", o->positional);
        goto out;
    }
    if (krc != KEYS_OK) {
        cli_fail("cannot store the key's permissions: %s", db_errmsg(db));
        goto out;
    }
    char text[2200];
    describe(&p, text, sizeof(text));
    printf("Updated API key %lld: %s.\n", id, text);
    rc = 0;
out:
    db_close(db);
    return rc;
}

/* key list: the rows read before the keys (MariaDB streams one result at a time) */
static struct key_perm *perms;
static size_t nperms;

int keyperm_list_load(struct db *db)
{
    return keys_perm_all(db, &perms, &nperms) == KEYS_OK ? 0 : -1;
}

void keyperm_list_line(int64_t id)
{
    for (size_t i = 0; i < nperms; i++) {
        if (perms[i].id != id)
            continue;
        const struct key_perm *p = &perms[i];
        char text[2200], when[32] = "never";
        describe(p, text, sizeof(text));
        if (p->last_used_at) {
            time_t t = (time_t)p->last_used_at;
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
        }
        printf("      last used: %s%s%s; %s\n", when, p->last_used_at ? " from " : "",
               p->last_used_at ? p->last_used_ip : "", text);
        return;
    }
    printf("      last used: never; read and write, delete, from any address\n");
}

void keyperm_list_free(void)
{
    free(perms);
    perms = NULL;
    nperms = 0;
}

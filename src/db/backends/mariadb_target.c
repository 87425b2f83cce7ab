/* mariadb_target: parsing a mariadb:// target, sourcing its password, and showing it without the
 * password (db_target_display). See mariadb_target.h. */
#include "db/backends/mariadb_target.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"
#include "db/db.h"
#include "db/secret.h"

static const char SCHEME[] = "mariadb://";

/* Frees a string that may hold a secret, wiping it first. */
static void free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void mariadb_target_free(struct mariadb_target *t)
{
    free(t->user);
    free_secret(t->password);
    for (size_t i = 0; t->hosts && i < t->nhosts; i++)
        free(t->hosts[i].host); /* t->host is hosts[0].host */
    free(t->hosts);
    free(t->database);
    free(t->socket);
    memset(t, 0, sizeof(*t));
}

/* *out = a percent-decoded copy of s[0..n). 0, or -1 with a message in err naming what (a bad
 * escape or %00, longer than max bytes, out of memory); *out is then NULL. */
static int decode(const char *s, size_t n, size_t max, const char *what, char **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    char *p = malloc(n + 1);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? hex_digit((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_digit((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi | lo) == 0) { /* a NUL would cut the value short */
                OPENSSL_cleanse(p, n + 1);
                free(p);
                snprintf(err, errlen, "bad %%-escape in the target's %s (%%XX, not %%00)", what);
                return -1;
            }
            p[k++] = (char)(hi * 16 + lo);
            i += 2;
            continue;
        }
        p[k++] = s[i];
    }
    p[k] = 0;
    if (k > max) {
        OPENSSL_cleanse(p, n + 1);
        free(p);
        snprintf(err, errlen, "the target's %s is longer than %zu bytes", what, max);
        return -1;
    }
    *out = p;
    return 0;
}

/* The part after the scheme, up to the first '?': [s, *end); the '@' that ends the user
 * information (the last one there), or NULL. */
static const char *split_userinfo(const char *s, const char **end)
{
    const char *q = strchr(s, '?');
    *end = q ? q : s + strlen(s);
    const char *at = NULL;
    for (const char *p = s; p < *end; p++)
        if (*p == '@')
            at = p;
    return at;
}

/* One server: host[:port] or [v6][:port], hp..end (not empty). */
static int parse_host_port(const char *hp, const char *end, struct mariadb_host *h, char *err,
                           size_t errlen)
{
    const char *hend = end, *pstart = NULL;
    if (*hp == '[') {
        const char *rb = memchr(hp, ']', (size_t)(end - hp));
        if (!rb || rb == hp + 1) {
            snprintf(err, errlen, "bad host in the target");
            return -1;
        }
        if (decode(hp + 1, (size_t)(rb - hp - 1), MARIADB_TARGET_NAME_MAX, "host", &h->host, err,
                   errlen))
            return -1;
        if (rb + 1 < end) {
            if (rb[1] != ':') {
                snprintf(err, errlen, "bad host in the target");
                return -1;
            }
            pstart = rb + 2;
        }
    } else {
        const char *pc = memchr(hp, ':', (size_t)(end - hp));
        if (pc) {
            hend = pc;
            pstart = pc + 1;
        }
        if (hend == hp) {
            snprintf(err, errlen, "a host of the target has no name");
            return -1;
        }
        if (decode(hp, (size_t)(hend - hp), MARIADB_TARGET_NAME_MAX, "host", &h->host, err, errlen))
            return -1;
    }
    if (!h->host[0]) {
        snprintf(err, errlen, "a host of the target has no name");
        return -1;
    }
    if (pstart) {
        unsigned long port = 0;
        const char *p = pstart;
        for (; p < end && *p >= '0' && *p <= '9' && port <= 65535; p++)
            port = port * 10 + (unsigned long)(*p - '0');
        if (p != end || p == pstart || port == 0 || port > 65535) {
            snprintf(err, errlen, "bad port in the target");
            return -1;
        }
        h->port = (unsigned)port;
    }
    return 0;
}

/* HOST[:PORT][,HOST[:PORT]]... (commas inside [v6] brackets do not separate), or nothing (a UNIX
 * socket): hp..slash. */
static int parse_hosts(const char *hp, const char *slash, struct mariadb_target *t, char *err,
                       size_t errlen)
{
    if (hp == slash)
        return 0;
    size_t n = 1;
    int in_brackets = 0;
    for (const char *p = hp; p < slash; p++) {
        if (*p == '[')
            in_brackets = 1;
        else if (*p == ']')
            in_brackets = 0;
        else if (*p == ',' && !in_brackets)
            n++;
    }
    if (n > MARIADB_TARGET_HOSTS_MAX) {
        snprintf(err, errlen, "the target names more than %d hosts", MARIADB_TARGET_HOSTS_MAX);
        return -1;
    }
    if (!(t->hosts = calloc(n, sizeof(*t->hosts)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *start = hp;
    in_brackets = 0;
    for (const char *p = hp;; p++) {
        if (p < slash && *p == '[')
            in_brackets = 1;
        else if (p < slash && *p == ']')
            in_brackets = 0;
        if (p < slash && (*p != ',' || in_brackets))
            continue;
        if (p == start) {
            snprintf(err, errlen, "empty host in the target's host list");
            return -1;
        }
        if (parse_host_port(start, p, &t->hosts[t->nhosts], err, errlen)) {
            t->nhosts++; /* a host decoded before the failure is freed with the rest */
            return -1;
        }
        t->nhosts++;
        if (p == slash)
            break;
        start = p + 1;
    }
    t->host = t->hosts[0].host;
    t->port = t->hosts[0].port;
    return 0;
}

/* ?socket=PATH&sync_wait=N (the last of each counts), from the '?' on. */
static int parse_query(const char *query, struct mariadb_target *t, char *err, size_t errlen)
{
    for (const char *q = query; q && *q;) {
        q++;
        const char *amp = strchr(q, '&');
        const char *qe = amp ? amp : q + strlen(q);
        if ((size_t)(qe - q) > 7 && strncmp(q, "socket=", 7) == 0) {
            free(t->socket);
            if (decode(q + 7, (size_t)(qe - q - 7), MARIADB_TARGET_SOCKET_MAX, "socket path",
                       &t->socket, err, errlen))
                return -1;
        } else if ((size_t)(qe - q) == 7 && strncmp(q, "socket=", 7) == 0) {
            snprintf(err, errlen, "bad socket path in the target");
            return -1;
        } else if ((size_t)(qe - q) >= 10 && strncmp(q, "sync_wait=", 10) == 0) {
            const char *v = q + 10;
            int n = 0;
            for (; v < qe && *v >= '0' && *v <= '9' && n <= 15; v++)
                n = n * 10 + (*v - '0');
            if (v != qe || v == q + 10 || n > 15) {
                snprintf(err, errlen, "bad sync_wait in the target (0..15)");
                return -1;
            }
            t->sync_wait = n;
        } else if (qe > q) {
            snprintf(err, errlen,
                     "unknown target parameter %.*s (only socket=PATH and sync_wait=N)",
                     (int)(qe - q > 64 ? 64 : qe - q), q);
            return -1;
        }
        q = qe;
    }
    return 0;
}

static int parse(const char *target, struct mariadb_target *t, char *err, size_t errlen)
{
    if (strncmp(target, SCHEME, sizeof(SCHEME) - 1) != 0) {
        snprintf(err, errlen, "a MariaDB target starts with %s", SCHEME);
        return -1;
    }
    const char *s = target + sizeof(SCHEME) - 1, *end;
    const char *at = split_userinfo(s, &end);
    if (!at) {
        snprintf(err, errlen, "the target needs a user: mariadb://USER[:PASSWORD]@HOST[:PORT]/DB");
        return -1;
    }
    const char *colon = memchr(s, ':', (size_t)(at - s));
    if (decode(s, (size_t)((colon ? colon : at) - s), MARIADB_TARGET_NAME_MAX, "user", &t->user,
               err, errlen))
        return -1;
    if (colon && decode(colon + 1, (size_t)(at - colon - 1), MARIADB_TARGET_PASSWORD_MAX,
                        "password", &t->password, err, errlen))
        return -1;
    const char *hp = at + 1;
    const char *slash = memchr(hp, '/', (size_t)(end - hp));
    if (!t->user[0] || !slash) {
        snprintf(err, errlen, "bad target: expected mariadb://USER[:PASSWORD]@HOST[:PORT]/DB");
        return -1;
    }
    if (decode(slash + 1, (size_t)(end - slash - 1), MARIADB_TARGET_NAME_MAX, "database",
               &t->database, err, errlen))
        return -1;
    if (!t->database[0]) {
        snprintf(err, errlen, "the target names no database: mariadb://USER@HOST[:PORT]/DB");
        return -1;
    }
    if (parse_hosts(hp, slash, t, err, errlen) || parse_query(*end ? end : NULL, t, err, errlen))
        return -1;
    if (!t->host && !t->socket) {
        snprintf(err, errlen, "the target needs a host or ?socket=PATH");
        return -1;
    }
    if (t->socket && t->nhosts > 1) {
        snprintf(err, errlen, "a target with ?socket=PATH names one server, not a host list");
        return -1;
    }
    return 0;
}

int mariadb_target_parse(const char *target, struct mariadb_target *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    t->sync_wait = -1;
    if (errlen)
        err[0] = 0;
    if (parse(target, t, err, errlen) == 0)
        return 0;
    mariadb_target_free(t);
    return -1;
}

void mariadb_host_order(size_t n, unsigned down, unsigned char order[])
{
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++)
            if (((down >> i) & 1u) == (unsigned)pass)
                order[k++] = (unsigned char)i;
}

int mariadb_target_password_from_env(struct mariadb_target *t, char *err, size_t errlen)
{
    if (t->password)
        return 0;
    const char *env = getenv("ITFLOWD_DB_PASSWORD");
    if (env && env[0]) {
        if (strlen(env) > MARIADB_TARGET_PASSWORD_MAX) {
            snprintf(err, errlen, "ITFLOWD_DB_PASSWORD is longer than %d bytes",
                     MARIADB_TARGET_PASSWORD_MAX);
            return -1;
        }
        if (!(t->password = strdup(env))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    }
    const char *file = getenv("ITFLOWD_DB_PASSWORD_FILE");
    if (!file || !file[0])
        return 0;
    char line[MARIADB_TARGET_PASSWORD_MAX + 1];
    int rc = -1;
    if (secret_read_file(file, line, sizeof(line), MARIADB_TARGET_PASSWORD_MAX, 1, err, errlen) ==
        0) {
        if (!(t->password = strdup(line)))
            snprintf(err, errlen, "out of memory");
        else
            rc = 0;
    }
    OPENSSL_cleanse(line, sizeof(line));
    return rc;
}

void db_target_display(const char *target, char *out, size_t outlen)
{
    const char *scheme = strstr(target, "://");
    if (!scheme) {
        snprintf(out, outlen, "%s", target);
        return;
    }
    /* the password as the parser sees it: from the first ':' to the last '@' before any '?';
     * with no '@' there (a target that does not parse), to the first '@' at all */
    const char *s = scheme + 3, *end;
    const char *at = split_userinfo(s, &end);
    if (!at)
        at = strchr(s, '@');
    const char *colon = at ? memchr(s, ':', (size_t)(at - s)) : NULL;
    if (!colon) {
        snprintf(out, outlen, "%s", target);
        return;
    }
    snprintf(out, outlen, "%.*s:***%s", (int)(colon - target), target, at);
}

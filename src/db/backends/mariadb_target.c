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
    free(t->host);
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

/* host[:port], [v6][:port], or nothing (a UNIX socket): hp..slash. */
static int parse_host_port(const char *hp, const char *slash, struct mariadb_target *t, char *err,
                           size_t errlen)
{
    const char *hend = slash, *pstart = NULL;
    if (hp < slash && *hp == '[') {
        const char *rb = memchr(hp, ']', (size_t)(slash - hp));
        if (!rb) {
            snprintf(err, errlen, "bad host in the target");
            return -1;
        }
        if (decode(hp + 1, (size_t)(rb - hp - 1), MARIADB_TARGET_NAME_MAX, "host", &t->host, err,
                   errlen))
            return -1;
        if (rb + 1 < slash) {
            if (rb[1] != ':') {
                snprintf(err, errlen, "bad host in the target");
                return -1;
            }
            pstart = rb + 2;
        }
    } else {
        const char *pc = memchr(hp, ':', (size_t)(slash - hp));
        if (pc) {
            hend = pc;
            pstart = pc + 1;
        }
        if (hend > hp &&
            decode(hp, (size_t)(hend - hp), MARIADB_TARGET_NAME_MAX, "host", &t->host, err, errlen))
            return -1;
    }
    if (pstart) {
        unsigned long port = 0;
        const char *p = pstart;
        for (; p < slash && *p >= '0' && *p <= '9' && port <= 65535; p++)
            port = port * 10 + (unsigned long)(*p - '0');
        if (p != slash || p == pstart || port == 0 || port > 65535) {
            snprintf(err, errlen, "bad port in the target");
            return -1;
        }
        t->port = (unsigned)port;
    }
    return 0;
}

/* ?socket=PATH (the only parameter; the last one counts), from the '?' on. */
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
        } else if (qe > q) {
            snprintf(err, errlen, "unknown target parameter %.*s (only socket=PATH)",
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
    if (parse_host_port(hp, slash, t, err, errlen) ||
        parse_query(*end ? end : NULL, t, err, errlen))
        return -1;
    if (!t->host && !t->socket) {
        snprintf(err, errlen, "the target needs a host or ?socket=PATH");
        return -1;
    }
    return 0;
}

int mariadb_target_parse(const char *target, struct mariadb_target *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    if (errlen)
        err[0] = 0;
    if (parse(target, t, err, errlen) == 0)
        return 0;
    mariadb_target_free(t);
    return -1;
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

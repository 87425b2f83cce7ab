/* fuzz_dbtarget: the MariaDB target parser (mariadb_target_parse) and db_target_display on the
 * input as a target (a NUL-terminated copy: an embedded NUL ends it, as in argv). */
#include <string.h>

#include "db/backends/mariadb_target.h"
#include "db/db.h"
#include "fuzz.h"

static int all_zero(const struct mariadb_target *t)
{
    return !t->user && !t->password && !t->host && !t->database && !t->socket && !t->port &&
           !t->hosts && !t->nhosts && !t->sync_wait;
}

/* Decoded length of the raw text s[0..n) that parsed: every %XX is one byte. */
static size_t decoded_len(const char *s, size_t n)
{
    size_t pct = 0;
    for (size_t i = 0; i < n; i++)
        pct += s[i] == '%';
    return n - 2 * pct;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    size_t len = strlen(s);

    struct mariadb_target t;
    char err[1024];
    memset(err, '?', sizeof(err));
    int rc = mariadb_target_parse(s, &t, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL);

    /* the display, with room to spare: the password span becomes "***" (at most 3 more bytes) */
    size_t cap = len + 8;
    char *shown = malloc(cap);
    FUZZ_CHECK(shown != NULL);
    memset(shown, '?', cap);
    db_target_display(s, shown, cap);
    FUZZ_CHECK(memchr(shown, 0, cap) != NULL);
    size_t shown_len = strlen(shown);
    FUZZ_CHECK(shown_len <= len + 3);

    /* a short buffer holds a prefix of it */
    char small[40];
    size_t small_cap = size ? 1 + data[0] % sizeof(small) : 1;
    db_target_display(s, small, small_cap);
    FUZZ_CHECK(strlen(small) < small_cap && strncmp(small, shown, strlen(small)) == 0);

    if (rc == 0) {
        FUZZ_CHECK(err[0] == 0);
        FUZZ_CHECK(strncmp(s, "mariadb://", 10) == 0);
        FUZZ_CHECK(t.user && t.user[0] && strlen(t.user) <= MARIADB_TARGET_NAME_MAX);
        FUZZ_CHECK(t.database && t.database[0] && strlen(t.database) <= MARIADB_TARGET_NAME_MAX);
        FUZZ_CHECK(t.host || t.socket);
        FUZZ_CHECK(!t.host || strlen(t.host) <= MARIADB_TARGET_NAME_MAX);
        FUZZ_CHECK(!t.socket || (t.socket[0] && strlen(t.socket) <= MARIADB_TARGET_SOCKET_MAX));
        FUZZ_CHECK(t.port <= 65535);
        /* the host list: host/port are its first entry; a socket never comes with several */
        FUZZ_CHECK(t.nhosts <= MARIADB_TARGET_HOSTS_MAX);
        FUZZ_CHECK(!t.host == !t.nhosts && (!t.host || t.host == t.hosts[0].host));
        FUZZ_CHECK(!t.nhosts || t.port == t.hosts[0].port);
        FUZZ_CHECK(!t.socket || t.nhosts <= 1);
        for (size_t i = 0; i < t.nhosts; i++)
            FUZZ_CHECK(t.hosts[i].host[0] && strlen(t.hosts[i].host) <= MARIADB_TARGET_NAME_MAX &&
                       t.hosts[i].port <= 65535);
        FUZZ_CHECK(t.sync_wait >= -1 && t.sync_wait <= 15);
        /* the user information, split as documented: the password from the first ':' to the
         * last '@' before any '?' */
        const char *u = s + 10, *q = strchr(u, '?'), *end = q ? q : s + len, *at = NULL;
        for (const char *p = u; p < end; p++)
            if (*p == '@')
                at = p;
        FUZZ_CHECK(at != NULL);
        const char *colon = memchr(u, ':', (size_t)(at - u));
        FUZZ_CHECK(!colon == !t.password);
        if (t.password) {
            size_t span = (size_t)(at - colon - 1);
            FUZZ_CHECK(strlen(t.password) == decoded_len(colon + 1, span));
            FUZZ_CHECK(strlen(t.password) <= MARIADB_TARGET_PASSWORD_MAX);
            /* exactly that span of the target is hidden, and nothing else */
            size_t head = (size_t)(colon + 1 - s);
            FUZZ_CHECK(shown_len == len - span + 3);
            FUZZ_CHECK(memcmp(shown, s, head) == 0);
            FUZZ_CHECK(memcmp(shown + head, "***", 3) == 0);
            FUZZ_CHECK(strcmp(shown + head + 3, at) == 0);
        } else {
            FUZZ_CHECK(strcmp(shown, s) == 0); /* nothing to hide */
        }
        FUZZ_CHECK(strlen(t.user) == decoded_len(u, (size_t)((colon ? colon : at) - u)));
        mariadb_target_free(&t);
        FUZZ_CHECK(all_zero(&t));
    } else {
        FUZZ_CHECK(err[0] != 0);
        FUZZ_CHECK(all_zero(&t)); /* a refused target leaves nothing behind */
        mariadb_target_free(&t);
    }
    free(shown);
    free(s);
    return 0;
}

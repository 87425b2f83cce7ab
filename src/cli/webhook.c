/* webhook: 'itflowd webhook add|list|remove' — the arguments checked and the results printed; the
 * subscriptions' store and their delivery are src/webhook/. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "webhook/webhook.h"

/* Opens the database and makes sure itflowd's own tables exist (a database made by an older
 * init has no itflowd_webhooks yet). */
static int open_db(const struct cli_opts *o, struct db **db)
{
    struct db_identity id;
    if (cli_open_identified(o, db, &id))
        return 1;
    if (engine_own_tables(*db) != DB_OK) {
        cli_fail("cannot create itflowd's own tables in %s: %s", o->db_shown, db_errmsg(*db));
        db_close(*db);
        *db = NULL;
        return 1;
    }
    return 0;
}

int cmd_webhook_add(const struct cli_opts *o)
{
    const char *url = o->positional;
    if (!webhook_url_valid(url))
        return cli_fail("the URL must be an http:// or https:// URL with a host, without spaces, "
                        "at most %d bytes, not %s.",
                        WEBHOOK_URL_MAX, url),
               2;
    /* the patterns: each --events value, itself a comma list, joined with commas */
    char events[WEBHOOK_EVENTS_MAX + 1] = "";
    size_t len = 0;
    for (size_t i = 0; i < o->events.n; i++) {
        const char *v = o->events.v[i];
        if (!events_patterns_valid(v))
            return cli_fail("--events takes event types or patterns such as tickets.create, "
                            "tickets.* or * (letters, digits, '_', '.', one '*' at the start or "
                            "end, comma-separated), not %s.",
                            v),
                   2;
        size_t n = strlen(v);
        if (len + n + 1 > WEBHOOK_EVENTS_MAX)
            return cli_fail("--events: at most %d bytes of patterns.", WEBHOOK_EVENTS_MAX), 2;
        if (len)
            events[len++] = ',';
        memcpy(events + len, v, n + 1);
        len += n;
    }
    if (!len)
        return cli_fail("webhook add needs --events PATTERNS (see itflowd webhook add --help)."), 2;
    int64_t from = -1;
    if (o->from && !strcmp(o->from, "start"))
        from = 0;
    else if (o->from && strcmp(o->from, "now") != 0) {
        char *end;
        long long v = strtoll(o->from, &end, 10);
        if (!o->from[0] || *end || v < 0)
            return cli_fail("--from must be now, start or a sequence number, not %s.", o->from), 2;
        from = v;
    }
    if (o->secret && o->secret_file)
        return cli_fail("give --secret or --secret-file, not both."), 2;
    char secret[CLI_PASSWORD_MAX + 1] = "";
    int generated = 0;
    if (o->secret) {
        snprintf(secret, sizeof(secret), "%s", o->secret);
    } else if (o->secret_file) {
        if (cli_read_secret_file(o->secret_file, secret, sizeof(secret)))
            return 1;
    } else {
        if (webhook_new_secret(secret, sizeof(secret)))
            return cli_fail("cannot make a random secret.");
        generated = 1;
    }
    size_t slen = strlen(secret);
    int bad = slen < 16 || slen > WEBHOOK_SECRET_MAX;
    for (size_t i = 0; i < slen && !bad; i++)
        bad = (unsigned char)secret[i] < 0x20 || secret[i] == 0x7f;
    if (bad) {
        OPENSSL_cleanse(secret, sizeof(secret));
        return cli_fail("the secret must be 16 to %d bytes without control characters.",
                        WEBHOOK_SECRET_MAX),
               2;
    }
    struct db *db = NULL;
    if (open_db(o, &db)) {
        OPENSSL_cleanse(secret, sizeof(secret));
        return 1;
    }
    int64_t id = 0;
    enum db_rc rc = webhook_add(db, url, events, secret, from, &id);
    if (rc != DB_OK) {
        cli_fail("cannot add the webhook: %s", db_errmsg(db));
        db_close(db);
        OPENSSL_cleanse(secret, sizeof(secret));
        return 1;
    }
    db_close(db);
    printf("Added webhook %lld: %s for %s.\n", (long long)id, url, events);
    if (generated)
        printf("secret: %s\nThe secret is shown once; receivers check X-Itflowd-Signature with "
               "it.\n",
               secret);
    OPENSSL_cleanse(secret, sizeof(secret));
    return 0;
}

struct list_state {
    int header;
};

static void print_header(struct list_state *ls)
{
    if (!ls->header)
        printf("%-5s %-40s %-24s %8s %8s %6s %-24s %9s %s\n", "ID", "URL", "EVENTS", "CURSOR",
               "PENDING", "FAILS", "LAST", "DELIVERED", "LAST SUCCESS");
    ls->header = 1;
}

static void print_webhook(const struct webhook_row *w, void *arg)
{
    struct list_state *ls = arg;
    print_header(ls);
    char last[64] = "-", when[32] = "never";
    if (w->last_error && w->last_error[0])
        snprintf(last, sizeof(last), "%s", w->last_error);
    else if (w->has_status)
        snprintf(last, sizeof(last), "HTTP %lld", (long long)w->last_status);
    if (w->last_success_at) {
        time_t t = (time_t)w->last_success_at;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    printf("%-5lld %-40s %-24s %8lld %8lld %6lld %-24s %9lld %s%s\n", (long long)w->id, w->url,
           w->events, (long long)w->cursor, (long long)w->pending, (long long)w->attempts, last,
           (long long)w->delivered, when, w->active ? "" : " (inactive)");
}

int cmd_webhook_list(const struct cli_opts *o)
{
    struct db *db = NULL;
    if (open_db(o, &db))
        return 1;
    struct list_state ls = {0};
    enum db_rc rc = webhook_list(db, print_webhook, &ls);
    if (rc != DB_OK) {
        cli_fail("cannot read itflowd_webhooks: %s", db_errmsg(db));
        db_close(db);
        return 1;
    }
    db_close(db);
    print_header(&ls); /* none: the header alone */
    return 0;
}

int cmd_webhook_remove(const struct cli_opts *o)
{
    char *end;
    long long id = strtoll(o->positional, &end, 10);
    if (!o->positional[0] || *end || id <= 0)
        return cli_fail("%s is not a webhook id.", o->positional), 2;
    struct db *db = NULL;
    if (open_db(o, &db))
        return 1;
    enum db_rc rc = webhook_remove(db, id);
    if (rc != DB_OK && rc != DB_DONE)
        cli_fail("cannot remove the webhook: %s", db_errmsg(db));
    db_close(db);
    if (rc == DB_DONE)
        return cli_fail("there is no webhook %s.", o->positional);
    if (rc != DB_OK)
        return 1;
    printf("Removed webhook %lld.\n", id);
    return 0;
}

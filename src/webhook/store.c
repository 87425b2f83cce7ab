/* store: the subscriptions in itflowd_webhooks as the command line sees them (add, list,
 * remove), and the signature both sides agree on. */
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/events.h"
#include "webhook/webhook.h"

int webhook_url_valid(const char *url)
{
    size_t n = strlen(url), skip;
    if (n > WEBHOOK_URL_MAX)
        return 0;
    if (!strncasecmp(url, "http://", 7))
        skip = 7;
    else if (!strncasecmp(url, "https://", 8))
        skip = 8;
    else
        return 0;
    if (!url[skip] || url[skip] == '/' || url[skip] == '?' || url[skip] == '#')
        return 0; /* no host */
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

int webhook_new_secret(char *out, size_t outlen)
{
    unsigned char raw[32];
    if (outlen < 2 * sizeof(raw) + 1 || RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

int webhook_signature(const char *secret, int64_t ts, const char *body, size_t body_len, char *out,
                      size_t outlen)
{
    char head[32];
    int hn = snprintf(head, sizeof(head), "%lld.", (long long)ts);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    /* EVP_MAC: the timestamp and the body are two parts, no copy of the body joined */
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t got = 0;
    int ok = c && EVP_MAC_init(c, (const unsigned char *)secret, strlen(secret), params) == 1 &&
             EVP_MAC_update(c, (const unsigned char *)head, (size_t)hn) == 1 &&
             EVP_MAC_update(c, (const unsigned char *)body, body_len) == 1 &&
             EVP_MAC_final(c, mac, &got, sizeof(mac)) == 1 && got == 32;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(m);
    maclen = (unsigned int)got;
    if (!ok || outlen < 2 * maclen + 40)
        return -1;
    int k = snprintf(out, outlen, "t=%lld,v1=", (long long)ts);
    for (unsigned int i = 0; i < maclen; i++)
        k += snprintf(out + k, outlen - (size_t)k, "%02x", mac[i]);
    return 0;
}

enum db_rc webhook_add(struct db *db, const char *url, const char *events, const char *secret,
                       int64_t from, int64_t *id)
{
    enum db_rc rc = db_begin(db, 1);
    if (rc != DB_OK)
        return rc;
    if (from < 0)
        rc = engine_events_last(db, &from);
    struct db_stmt *st;
    if (rc == DB_OK)
        rc = db_stmt_static(db,
                            "INSERT INTO itflowd_webhooks (webhook_url, webhook_events, "
                            "webhook_secret, webhook_active, webhook_created_at, webhook_cursor) "
                            "VALUES (?, ?, ?, 1, ?, ?)",
                            &st);
    if (rc == DB_OK) {
        db_bind_text(st, 1, url, strlen(url));
        db_bind_text(st, 2, events, strlen(events));
        db_bind_text(st, 3, secret, strlen(secret));
        db_bind_int(st, 4, (int64_t)time(NULL));
        db_bind_int(st, 5, from);
        rc = db_step(st);
        db_reset(st);
        rc = rc == DB_DONE ? DB_OK : rc;
    }
    if (rc == DB_OK) {
        *id = db_last_insert_id(db);
        rc = db_commit(db);
    }
    if (rc != DB_OK)
        db_rollback(db);
    return rc;
}

enum db_rc webhook_list(struct db *db, void (*fn)(const struct webhook_row *w, void *arg),
                        void *arg)
{
    int64_t last = 0;
    enum db_rc rc = engine_events_last(db, &last);
    struct db_stmt *st;
    if (rc == DB_OK)
        rc = db_stmt_static(db,
                            "SELECT webhook_id, webhook_url, webhook_events, webhook_active, "
                            "webhook_cursor, webhook_attempts, webhook_failures, "
                            "webhook_delivered, webhook_last_status, webhook_last_error, "
                            "webhook_last_success_at, webhook_next_at FROM itflowd_webhooks "
                            "ORDER BY webhook_id",
                            &st);
    if (rc != DB_OK)
        return rc;
    while ((rc = db_step(st)) == DB_ROW) {
        struct webhook_row w;
        memset(&w, 0, sizeof(w));
        size_t n;
        w.id = db_column_int(st, 0);
        w.url = db_column_text(st, 1, &n);
        w.events = db_column_text(st, 2, &n);
        w.active = (int)db_column_int(st, 3);
        w.cursor = db_column_int(st, 4);
        w.pending = last > w.cursor ? last - w.cursor : 0;
        w.attempts = db_column_int(st, 5);
        w.failures = db_column_int(st, 6);
        w.delivered = db_column_int(st, 7);
        w.has_status = db_column_text(st, 8, &n) != NULL;
        w.last_status = w.has_status ? db_column_int(st, 8) : 0;
        w.last_error = db_column_text(st, 9, &n);
        w.last_success_at = db_column_text(st, 10, &n) ? db_column_int(st, 10) : 0;
        w.next_at_ms = db_column_int(st, 11);
        if (!w.url)
            w.url = "";
        if (!w.events)
            w.events = "";
        fn(&w, arg);
    }
    db_reset(st);
    return rc == DB_DONE ? DB_OK : rc;
}

enum db_rc webhook_remove(struct db *db, int64_t id)
{
    struct db_stmt *st;
    enum db_rc rc = db_stmt_static(db, "DELETE FROM itflowd_webhooks WHERE webhook_id = ?", &st);
    if (rc != DB_OK)
        return rc;
    db_bind_int(st, 1, id);
    rc = db_step(st);
    db_reset(st);
    if (rc != DB_DONE)
        return rc;
    return db_changes(db) > 0 ? DB_OK : DB_DONE;
}

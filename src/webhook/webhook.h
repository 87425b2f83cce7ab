/* webhook: deliveries of the events outbox (engine/events.h) to subscribed URLs. A subscription
 * (a row of itflowd_webhooks: URL, type patterns, secret, cursor) receives every event after its
 * cursor whose type matches, one POST at a time and in sequence order, signed with HMAC-SHA256;
 * a 2xx advances the cursor, anything else is retried with backoff (never skipped). Several
 * instances on one database share the work through a lease per subscription. docs/WEBHOOKS.md. */
#ifndef ITFLOWD_WEBHOOK_WEBHOOK_H
#define ITFLOWD_WEBHOOK_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "db/db.h"

/* serve's options for the delivery thread (cli/serve_opts.c gives every default and range) */
struct webhook_config {
    int off;                  /* --webhooks off: no deliveries (events are still pruned) */
    unsigned connect_timeout; /* seconds to connect to a receiver */
    unsigned timeout;         /* seconds a whole delivery may take */
    unsigned max_backoff;     /* seconds: the longest wait before a retry */
    unsigned retention_days;  /* events older than this are pruned once every webhook has them */
    int log_format;           /* 0 text, 1 JSON (serve's --log-format) */
};

struct webhook_runner;

/* Starts the delivery thread with a store connection of its own (opened on the thread, so a
 * store that is down at start-up is retried). Registers with engine_events_on_commit() (once per
 * process). NULL when the thread cannot start (said on stderr). */
struct webhook_runner *webhook_start(const char *db_target, const struct webhook_config *cfg);
/* Stops starting deliveries, lets the ones in flight end (at most the delivery timeout), gives
 * the leases back and joins the thread. Accepts NULL. */
void webhook_stop(struct webhook_runner *w);

/* The delivery metrics of every subscription as the thread last saw them (Prometheus text). */
void webhook_metrics_render(struct buf *out);

/* ---- the subscriptions, for the command line ---- */

#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_EVENTS_MAX 1024
#define WEBHOOK_SECRET_MAX 255

/* 1 when url is an http:// or https:// URL with a host, without spaces or control bytes, and at
 * most WEBHOOK_URL_MAX bytes. */
int webhook_url_valid(const char *url);
/* A new secret: 32 random bytes as 64 hex digits (out: at least 65 bytes). 0 or -1. */
int webhook_new_secret(char *out, size_t outlen);
/* "t=<ts>,v1=<hex of HMAC-SHA256(secret, "<ts>.<body>")>" into out (at least 96 bytes). 0 or -1. */
int webhook_signature(const char *secret, int64_t ts, const char *body, size_t body_len, char *out,
                      size_t outlen);

/* Adds a subscription whose cursor is `from` (-1: the newest event now, so only later events
 * are sent): *id its webhook_id. */
enum db_rc webhook_add(struct db *db, const char *url, const char *events, const char *secret,
                       int64_t from, int64_t *id);

/* One subscription as listed (never its secret); the texts are valid during the callback. */
struct webhook_row {
    int64_t id;
    const char *url, *events;
    int active;
    int64_t cursor, pending, attempts, failures, delivered;
    int has_status;
    int64_t last_status;     /* meaningful when has_status: the last answer's HTTP status, 0 none */
    const char *last_error;  /* NULL: none */
    int64_t last_success_at; /* Unix time, 0: never */
    int64_t next_at_ms;      /* the next attempt, Unix time in ms (0: when due) */
};
enum db_rc webhook_list(struct db *db, void (*fn)(const struct webhook_row *w, void *arg),
                        void *arg);
/* Removes subscription id: DB_OK, DB_DONE when there is none. */
enum db_rc webhook_remove(struct db *db, int64_t id);

#endif

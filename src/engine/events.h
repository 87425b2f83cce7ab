/* events: what every write did, as a sequence of events (engine/events.c). A write that changed a
 * row appends one event in its own transaction (type "<module>.<function>", the row's id, its
 * client, the time, and a sequence number that grows in commit order); readers ask for the events
 * after a sequence number. The table is the outbox of the webhooks: each subscription keeps the
 * sequence number it has delivered up to. */
#ifndef ITFLOWD_ENGINE_EVENTS_H
#define ITFLOWD_ENGINE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "db/db.h"
#include "engine/module.h"
#include "req/req.h"

#define EVENTS_LIMIT_DEFAULT 100
#define EVENTS_LIMIT_MAX 1000

/* One event as stored. The texts point into the statement's row (valid until its next step). */
struct event_row {
    int64_t seq;
    const char *type; /* "tickets.create" */
    size_t type_len;
    const char *module; /* "tickets" */
    size_t module_len;
    const char *action; /* "create" */
    size_t action_len;
    int64_t object_id;
    int64_t client_id;  /* meaningful when has_client */
    int has_client;     /* 0: the module's rows have no client (products) */
    int64_t created_at; /* Unix time */
};

/* The event's JSON object:
 * {"seq":12,"type":"tickets.create","module":"tickets","action":"create","id":57,
 *  "client_id":3,"time":"2026-12-05T10:00:00Z"} (client_id null when has_client is 0). */
void events_render_json(struct buf *out, const struct event_row *e);
/* 1 when type matches one of the comma- or space-separated patterns: an exact type, "*", or a
 * prefix followed by '*' ("tickets.*", "*.delete" matches the suffix). NULL/empty list: 1. */
int events_type_match(const char *patterns, const char *type, size_t type_len);
/* 1 when patterns is a valid list (at least one pattern, each of letters, digits, '_', '.' and at
 * most one '*' at its start or end, and not longer than 64 bytes). */
int events_patterns_valid(const char *patterns);

/* A request's view of the events. */
struct events_query {
    int64_t after;     /* events with a greater sequence number */
    int limit;         /* 1 .. EVENTS_LIMIT_MAX rows at most */
    const char *types; /* patterns (events_type_match), or NULL for every type */
    int64_t client;    /* an all-clients v26.07 key's client_id filter; 0 = none */
    int sse;           /* render text/event-stream frames instead of a JSON array */
};

/* The events after q->after that the request's key may see (r->key authenticated on r->db, inside
 * the request's read transaction; mods: every module, for the key's module rights), rendered into
 * out: JSON objects separated by commas, or SSE frames ("id: N\nevent: T\ndata: {...}\n\n").
 * *count = events written; *next = the sequence number to ask after next time: the last event
 * looked at, or when every event was looked at, the newest one committed in the snapshot (events
 * the key may not see are passed over, never shown). 0, or -1 on a store error (r->error says
 * why). A key that may not be used from the request's address gets a 403 in r: returns 1. */
int engine_events_read(struct req *r, const struct module *const *mods, size_t nmods,
                       const struct events_query *q, struct buf *out, int *count, int64_t *next);
/* The newest sequence number committed (0 when none): *ret. */
enum db_rc engine_events_last(struct db *db, int64_t *ret);
/* Every event after `after` (no key scope: the webhooks' view), up to limit, in order: fn is
 * called for each; a nonzero return stops the walk. */
enum db_rc engine_events_walk(struct db *db, int64_t after, int limit,
                              int (*fn)(const struct event_row *e, void *arg), void *arg);
/* Deletes the events created before `before` (Unix time) that every webhook has passed (their
 * cursor is at or beyond them). *deleted = rows removed. */
enum db_rc engine_events_prune(struct db *db, int64_t before, int64_t *deleted);

/* fn is told after every commit of this process that appended an event, with its sequence number
 * (the http layer's waiters, the webhook deliveries); registered at start-up, before requests (at
 * most 4; -1 beyond). Other processes' events are found by polling engine_events_last(). */
int engine_events_on_commit(void (*fn)(int64_t seq));

#endif

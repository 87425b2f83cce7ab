/* engine: runs one routed, authenticated request against its module descriptor. */
#ifndef ITFLOWD_ENGINE_ENGINE_H
#define ITFLOWD_ENGINE_ENGINE_H

#include <stddef.h>

#include "core/buf.h"
#include "db/db.h"
#include "engine/module.h"
#include "engine/rc.h"
#include "req/req.h"

/* Fills r->status and r->out (or the streaming callbacks). r->mod, r->ep, r->key and r->db are
 * set; the request's limit/offset/scope are derived here. */
void engine_handle(struct req *r);

/* Creates itflowd's own tables where missing (owntables.c). */
enum db_rc engine_own_tables(struct db *db);
/* The engine's background thread (background.c): the keys' last use written every second, and
 * once more when stopped. NULL when the thread cannot start. */
struct engine_bg;
struct engine_bg *engine_bg_start(const char *db_target);
void engine_bg_stop(struct engine_bg *bg); /* accepts NULL */
/* keyperm.c: 1 when ip is in one of the space-separated CIDRs of list. */
int keyperm_ip_allowed(const char *list, size_t n, const char *ip);
/* A request that is not a module's endpoint (a custom script, the events): notes the key's use
 * and checks the networks it may be used from. 1: go on; 0: answered (403 naming the missing
 * permission); -1: the store failed (reading a long network list). */
int engine_key_usable(struct req *r);
/* Idempotency-Key for a write that is not a module's endpoint (a custom script's POST), as
 * engine_write does it (idem.c). engine_idem_header_ok: 0 when the header is malformed (answered
 * 400). In the write's transaction on db, before the write: engine_idem_claim gives 1 (no key, or
 * this request claims it: run the write), 0 (answered: the stored answer replayed, or 409;
 * write nothing) or -1 (the store failed); after a write that is kept, engine_idem_store stores
 * r->status and r->out with the claim (0, or -1 when the store failed: roll back). */
int engine_idem_header_ok(struct req *r);
int engine_idem_claim(struct req *r, struct db *db);
int engine_idem_store(struct req *r, struct db *db);
/* The 403 message when the key may not run a custom script's data change of this kind ("INSERT",
 * "UPDATE", "DELETE": what the statement does), else NULL: read-only keys change nothing,
 * no-delete keys delete nothing. */
const char *engine_key_refuses_sql(const struct req *r, const char *kind);
/* An event for a write that is not a module's endpoint (a custom script's, events.c):
 * <module>.<action> for the row id of module m, appended in db's open write transaction with the
 * next sequence number (*seq). Its client is the row's as reads see it (its client column, or its
 * scope join's), so the row must exist: after a create or update, before a delete. ENG_NOT_DONE
 * when the row does not exist or the action is not a name (engine_event_action_ok: a lower-case
 * letter, then up to 39 of a-z, 0-9, _), ENG_DB when the store failed. After the commit,
 * engine_events_notify(seq) wakes the long-polls and the webhook deliveries. */
int engine_event_action_ok(const char *action);
enum eng_rc engine_event_row(struct db *db, const struct module *m, const char *action, int64_t id,
                             int64_t *seq);
void engine_events_notify(int64_t seq);
/* CREATE INDEX IF NOT EXISTS statements for every text filter and unique field column of the n
 * modules given, and, on SQLite, the ids-only order index of every module whose pages are read by
 * id (deep pages, read.c). */
void engine_index_ddl_for(const struct module *const *mods, size_t n, enum db_dialect d,
                          struct buf *out);

#endif

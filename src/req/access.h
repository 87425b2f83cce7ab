/* access: what a request's key may reach, as SQL and as answers, for both dialects. The one place
 * that turns a key into a client scope: reads (the engine's generic reads and aggregates, and any
 * hook or extension reading rows) append access_scope_sql() on the row's client column and bind
 * access_scope_bind(); writes ask access_may_act() about the client they name (delta 2.3, 2.5).
 *   v26.07: a client-scoped key sees col = S; an all-clients key everything.
 *   v26.08: an admin, or a user with neither list, sees everything; otherwise
 *           col IN (allow list) when it has one, and col NOT IN (deny list) when it has one
 *           (an allow list of one client and no deny list: col = that client). */
#ifndef ITFLOWD_REQ_ACCESS_H
#define ITFLOWD_REQ_ACCESS_H

#include <stdint.h>

#include "core/buf.h"
#include "db/db.h"
#include "req/req.h"

/* The shape of a read scope: which conditions it has (bits; 0 = every client). */
enum access_scope {
    SCOPE_NONE = 0,
    SCOPE_CLIENT = 1u, /* v26.07: col = the request's scope S; v26.08: col = the one client of
                          an allow list of one, when there is no deny list (read with the key) */
    SCOPE_ALLOW = 2u,  /* v26.08: col IN (the user's allow list) */
    SCOPE_DENY = 4u,   /* v26.08: col NOT IN (the user's deny list) */
};

/* The read scope of the request (r->key, and for v26.07 r->scope / r->scope_all). */
unsigned access_read_scope(const struct req *r);
/* Appends the condition of scope on column col (e.g. "tickets.ticket_client_id"), without a
 * leading AND/WHERE; nothing for SCOPE_NONE. Depends only on (scope, col), so it can be part of
 * memoised SQL. */
void access_scope_sql(struct buf *sql, unsigned scope, const char *col);
/* Binds the condition's parameters from index idx on; returns the next index. */
int access_scope_bind(struct db_stmt *st, int idx, const struct req *r, unsigned scope);

/* v26.08: may the key's user act on client c (2.3: admin yes; denied no; no allow list yes; else
 * c in the allow list)? 1 yes, 0 no, -1 store error. v26.07 keys: 1. */
int access_may_act(struct db *db, const struct req *r, int64_t client);
/* The client a v26.08 write names (2.5): intval of the body's client_id, or when that is absent
 * or null the query string's, else 0 (an array counts as PHP's intval of it). */
int64_t access_target_client(const struct req *r);
/* The user's level for an RBAC module (delta 2.2): 3 for an admin, else the role's level, 0 when
 * the role has no row for it. */
int access_level(const struct key_access *a, const char *module);

#endif

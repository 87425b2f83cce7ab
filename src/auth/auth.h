/* auth: the API key of a request — where it comes from (K7, A1), how it is matched (F14: hashed
 * or legacy plaintext, exact, constant time), expiry (K15) and the failure log row. */
#ifndef ITFLOWD_AUTH_AUTH_H
#define ITFLOWD_AUTH_AUTH_H

#include "db/db.h"
#include "req/req.h"

enum auth_result {
    AUTH_OK = 0,
    AUTH_NO_KEY,  /* no key sent: 401, empty body (K6) */
    AUTH_INVALID, /* 401 with the JSON message, logged */
    AUTH_REPLIED, /* r->out holds a 4xx answer (a key of the wrong JSON type) */
    AUTH_ERROR,   /* store fault */
};

/* Authenticates r on db; on AUTH_OK fills r->key. */
enum auth_result auth_request(struct req *r, struct db *db);
/* v26.08 keys (delta 2.4, checks 1-5): the key's user, the endpoint's RBAC module and level, and
 * for a write the client it names. AUTH_OK, AUTH_REPLIED (r->out holds the 403) or AUTH_ERROR.
 * v26.07 keys: AUTH_OK. rbac_module NULL = the resource is not mapped. */
enum auth_result auth_authorize(struct req *r, struct db *db, const char *rbac_module,
                                const char *function, int is_write);
/* v26.08 keys: checks 1-2 of auth_authorize only (the key is tied to an active user), for what is
 * not one module's resource (the events, scoped by the user's rights themselves). AUTH_OK or
 * AUTH_REPLIED (403). v26.07 keys: AUTH_OK. */
enum auth_result auth_authorize_user(struct req *r);
/* Today's date in UTC as YYYY-MM-DD. */
void auth_today(char out[11]);

#endif

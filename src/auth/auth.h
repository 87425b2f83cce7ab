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
/* Today's date in UTC as YYYY-MM-DD. */
void auth_today(char out[11]);

#endif

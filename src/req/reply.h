/* reply: the v1 envelopes and message texts (COMPAT K2, K5) and our error answers (F2), written
 * into a request's answer. Every layer that answers (http, auth, the engine) uses these. */
#ifndef ITFLOWD_REQ_REPLY_H
#define ITFLOWD_REQ_REPLY_H

#include <stdint.h>

#include "db/db.h"
#include "req/req.h"

extern const char MSG_NO_RESOURCE[];
extern const char MSG_INSERT_FAILED[];
extern const char MSG_UPDATE_FAILED[];
extern const char MSG_DELETE_FAILED[];

/* {"success":"False","message":msg} with this status. */
void reply_message(struct req *r, int status, const char *msg);
/* 400 with a message naming the problem (F2). */
void reply_badf(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The 5xx answer of a store fault: 503 when the store is busy, unreachable or full, else 500. */
void reply_server_error(struct req *r, enum db_rc rc);
/* Notes why an operation is answered with the generic "not done" text (r->why, kept first). */
void reply_why(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_count(struct req *r, int64_t count);
void reply_created(struct req *r, int64_t id);

#endif

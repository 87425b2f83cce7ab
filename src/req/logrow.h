/* logrow: one row of the `logs` table (reference 1.12) for a request: its address and user agent
 * are the request's. Written by auth (a failed key) and by the engine's endpoint logs. */
#ifndef ITFLOWD_REQ_LOGROW_H
#define ITFLOWD_REQ_LOGROW_H

#include <stdint.h>

#include "db/db.h"
#include "req/req.h"

/* One logs row; description is cut to 1000 bytes at a character boundary. */
enum db_rc logs_insert(struct db *db, struct req *r, const char *type, const char *action,
                       const char *desc, int64_t client_id, int64_t entity_id);

#endif

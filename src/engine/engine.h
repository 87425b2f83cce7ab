/* engine: runs one routed, authenticated request against its module descriptor. */
#ifndef ITFLOWD_ENGINE_ENGINE_H
#define ITFLOWD_ENGINE_ENGINE_H

#include "req/req.h"

/* Fills r->status and r->out (or the streaming callbacks). r->mod, r->ep, r->key and r->db are
 * set; the request's limit/offset/scope are derived here. */
void engine_handle(struct req *r);

#endif

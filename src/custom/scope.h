/* scope: what rows of a client column an API key may see, as an SQL condition with bound values.
 * The one place that turns the authenticated key into a scope for custom scripts: a key model
 * with more to it (a user's clients, roles) changes only custom_key_scope(). */
#ifndef ITFLOWD_CUSTOM_SCOPE_H
#define ITFLOWD_CUSTOM_SCOPE_H

#include <stddef.h>
#include <stdint.h>

#include "req/req.h"

#define CUSTOM_SCOPE_MAX_BINDS 8

/* 1 when column is "name" or "qualifier.name" (identifiers of letters, digits and '_', 64 bytes
 * each at most) and name is a column of a table of the schema, else 0. */
int custom_scope_column_ok(const char *column);

/* The condition limiting column to what key may see, with '?' for each value: "1=1" and no
 * values for a key of all clients, "column = ?" and the key's client otherwise; for a v26.08
 * key (key->rbac) the condition of req/access.c on the user's allow/deny lists. Returns 0, or -1
 * when column is not accepted (custom_scope_column_ok) or cond is too small. */
int custom_key_scope(const struct api_key *key, const char *column, char *cond, size_t condlen,
                     int64_t binds[CUSTOM_SCOPE_MAX_BINDS], size_t *ret_nbinds);

#endif

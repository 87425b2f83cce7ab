/* tickets_common: what the tickets and ticket_replies modules share (status names, history). */
#ifndef ITFLOWD_MODULES_TICKETS_COMMON_H
#define ITFLOWD_MODULES_TICKETS_COMMON_H

#include "engine/hook.h"

/* A ticket_history row; the description is cut at the column's 255 characters. */
enum eng_rc ticket_history_row(struct op_ctx *ctx, int64_t ticket_id, const char *status,
                               const char *desc);
/* The status id a ticket_status value names: a number by id, text by its name (case-insensitive).
 * 0 when absent, empty or 0; -1 when no status of the database matches (the caller answers 400);
 * -2 on a store fault. *name gets the status name. */
int64_t ticket_status_lookup(struct op_ctx *ctx, const struct value *v, const char **name);

#endif

/* counter: the numbering ITFlow takes from a settings counter (tickets, invoices, quotes). */
#ifndef ITFLOWD_MODULES_COUNTER_H
#define ITFLOWD_MODULES_COUNTER_H

#include "engine/hook.h"

/* In the write's transaction: take_sql moves the counter on (one row changed), taken_sql reads
 * the prefix and the number taken back; they go into the fields <noun>_prefix and <noun>_number,
 * and 32 random characters into <noun>_url_key. ENG_DB on a store fault or out of memory. */
enum eng_rc counter_take(struct op_ctx *ctx, const char *take_sql, const char *taken_sql,
                         const char *noun);

#endif

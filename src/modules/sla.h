/* sla: ticket SLAs of v26.08 databases (ITFlow's functions/sla.php). Which SLA a ticket gets
 * (a client's assignment for the priority, else the global one of client 0; an assignment to SLA
 * 0 means none; archived SLAs are ignored), its due dates from the creation time in business
 * minutes, the met verdicts, and the resolution clock (sla_history intervals, paused by statuses
 * with ticket_status_pauses_sla). Each ticket function runs in the write's transaction and does
 * nothing on a v26.07 database, which has no SLA columns. All times are UTC. */
#ifndef ITFLOWD_MODULES_SLA_H
#define ITFLOWD_MODULES_SLA_H

#include <stddef.h>
#include <stdint.h>

#include "engine/hook.h"

/* The business calendar of the settings row. */
struct sla_calendar {
    unsigned days;      /* bit n set: ISO weekday n (1 Monday .. 7 Sunday) is a business day */
    int32_t start, end; /* the daily window, seconds after midnight */
    int all_hours;      /* 1: no usable calendar, the clock runs 24x7 */
};

/* From config_business_days ("1,2,3,4,5") and config_business_hours_start/end ("HH:MM:SS");
 * no day, an empty or unreadable time, or a start not before the end: 24x7. NULL = empty. */
void sla_calendar_init(struct sla_calendar *c, const char *days, const char *start,
                       const char *end);
/* The time `minutes` business minutes after `from` (seconds since the epoch, UTC); `from` itself
 * for 0 or fewer minutes. */
int64_t sla_add_business_minutes(const struct sla_calendar *c, int64_t from, int64_t minutes);
/* Whole business minutes between two times; 0 when `to` is not after `from`. */
int64_t sla_business_minutes_between(const struct sla_calendar *c, int64_t from, int64_t to);
/* "YYYY-MM-DD[ HH:MM[:SS]]" (UTC) to seconds since the epoch: 0, or -1 when unreadable. */
int sla_parse_time(const char *s, size_t n, int64_t *ret);
/* Seconds since the epoch as "YYYY-MM-DD HH:MM:SS" (UTC). */
void sla_format_time(int64_t t, char out[20]);

/* 1 when the database has SLAs: a v26.08 database whose learned schema has the SLA tables and
 * columns. */
int sla_enabled(const struct op_ctx *ctx);
/* Stamps (or re-stamps) the ticket's SLA, due dates and verdicts (alert stages 0), then syncs the
 * clock. */
enum eng_rc sla_apply(struct op_ctx *ctx, int64_t ticket_id);
/* Opens or closes the ticket's clock interval to match its state; a resume moves the resolution
 * deadline to now plus the budget left. */
enum eng_rc sla_sync_clock(struct op_ctx *ctx, int64_t ticket_id);
/* The first response now (when there is none yet) and its verdict against the due date. */
enum eng_rc sla_first_response(struct op_ctx *ctx, int64_t ticket_id);
/* The resolution verdict (a recorded miss stays), then the clock synced. */
enum eng_rc sla_resolution_met(struct op_ctx *ctx, int64_t ticket_id);
/* A reopened ticket: the resolution verdict cleared unless its miss is final (budget spent), then
 * the clock synced. */
enum eng_rc sla_reset_resolution(struct op_ctx *ctx, int64_t ticket_id);

#endif

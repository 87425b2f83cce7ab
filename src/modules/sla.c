/* sla: ticket SLAs of v26.08 databases, after ITFlow v26.08's functions/sla.php (see sla.h).
 * Deadlines are computed once at write time and stored on the ticket; the business calendar is
 * read from the settings row in the write's transaction. Times are UTC: the MariaDB session and
 * SQLite's CURRENT_TIMESTAMP are, and "now" is the store's CURRENT_TIMESTAMP. */
#include "modules/sla.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/php.h"
#include "db/schema.h"

/* ---- the calendar ---- */

#define DAY 86400

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t day_of(int64_t t)
{
    return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY);
}

/* ISO weekday of a day number (day 0, 1970-01-01, was a Thursday: 4). */
static int iso_weekday(int64_t day)
{
    return (int)(((day % 7) + 7 + 3) % 7) + 1;
}

static int digits(const char *s, size_t n, size_t at, size_t len, int *ret)
{
    if (at + len > n)
        return -1;
    int v = 0;
    for (size_t i = at; i < at + len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return 0;
}

/* "HH:MM[:SS]" to seconds after midnight (up to 24:00:00); -1 when unreadable. */
static int32_t clock_seconds(const char *s)
{
    if (!s)
        return -1;
    size_t n = strlen(s);
    int h, m, sec = 0;
    if (digits(s, n, 0, 2, &h) || n < 5 || s[2] != ':' || digits(s, n, 3, 2, &m))
        return -1;
    if (n > 5 && (n != 8 || s[5] != ':' || digits(s, n, 6, 2, &sec)))
        return -1;
    if (m > 59 || sec > 59 || h > 24 || (h == 24 && (m || sec)))
        return -1;
    return h * 3600 + m * 60 + sec;
}

void sla_calendar_init(struct sla_calendar *c, const char *days, const char *start, const char *end)
{
    c->days = 0;
    for (const char *p = days ? days : ""; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int64_t d = php_intval_str(p, len);
        if (d >= 1 && d <= 7)
            c->days |= 1u << d;
        p += len + (comma != NULL);
    }
    c->start = clock_seconds(start);
    c->end = clock_seconds(end);
    c->all_hours = c->days == 0 || c->start < 0 || c->end < 0 || c->start >= c->end;
}

int64_t sla_add_business_minutes(const struct sla_calendar *c, int64_t from, int64_t minutes)
{
    if (minutes <= 0)
        return from;
    int64_t rem = minutes * 60;
    if (c->all_hours)
        return from + rem;
    int64_t cur = from;
    /* a day at a time, two years at most (a sane calendar ends much sooner) */
    for (int i = 0; i < 731; i++) {
        int64_t day = day_of(cur), midnight = day * DAY;
        if (c->days & (1u << iso_weekday(day))) {
            int64_t ws = midnight + c->start, we = midnight + c->end;
            if (cur < ws)
                cur = ws;
            if (cur < we) {
                if (rem <= we - cur)
                    return cur + rem;
                rem -= we - cur;
            }
        }
        cur = midnight + DAY;
    }
    return cur + rem;
}

int64_t sla_business_minutes_between(const struct sla_calendar *c, int64_t from, int64_t to)
{
    if (to <= from)
        return 0;
    if (c->all_hours)
        return (to - from) / 60;
    int64_t seconds = 0, cur = from;
    for (int i = 0; i < 731 && cur <= to; i++) {
        int64_t day = day_of(cur), midnight = day * DAY;
        if (c->days & (1u << iso_weekday(day))) {
            int64_t lo = cur > midnight + c->start ? cur : midnight + c->start;
            int64_t hi = to < midnight + c->end ? to : midnight + c->end;
            if (hi > lo)
                seconds += hi - lo;
        }
        cur = midnight + DAY;
    }
    return seconds / 60;
}

int sla_parse_time(const char *s, size_t n, int64_t *ret)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!s || digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || digits(s, n, 5, 2, &mo) ||
        s[7] != '-' || digits(s, n, 8, 2, &d))
        return -1;
    if (n > 10) {
        if ((s[10] != ' ' && s[10] != 'T') || digits(s, n, 11, 2, &h) || n < 16 || s[13] != ':' ||
            digits(s, n, 14, 2, &mi))
            return -1;
        if (n > 16 && (s[16] != ':' || digits(s, n, 17, 2, &sec)))
            return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    *ret = days_from_civil(y, mo, d) * DAY + h * 3600 + mi * 60 + sec;
    return 0;
}

void sla_format_time(int64_t t, char out[20])
{
    int64_t day = day_of(t), y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    int64_t s = t - day * DAY;
    char tmp[96];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d %02d:%02d:%02d", (int)(y % 10000), m, d,
             (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    memcpy(out, tmp, 19);
    out[19] = '\0';
}

/* ---- the tickets ---- */

/* What the functions of one call share: the calendar and the store's now, read once. */
struct run {
    struct op_ctx *ctx;
    struct sla_calendar cal;
    int64_t now;
    int have_cal, have_now;
};

static int has_column(const char *table, const char *column)
{
    const struct schema_table *t = schema_table(table);
    return t && schema_column_index(t, column) >= 0;
}

int sla_enabled(const struct op_ctx *ctx)
{
    /* a v26.08 key (the database is v26.08) and the SLA tables and columns in what start-up
     * learned of the database, so that a database without them is served as before */
    return ctx->r->key.rbac && has_column("tickets", "ticket_sla_id") &&
           has_column("slas", "sla_resolution_minutes") &&
           has_column("sla_assignments", "sla_assignment_sla_id") &&
           has_column("sla_history", "sla_history_minutes") &&
           has_column("ticket_statuses", "ticket_status_pauses_sla") &&
           has_column("settings", "config_business_days");
}

/* 1 when column i is not SQL NULL. */
static int col_set(struct db_stmt *st, int i)
{
    size_t n;
    return db_column_text(st, i, &n) != NULL;
}

static int col_time(struct db_stmt *st, int i, int64_t *ret)
{
    size_t n;
    const char *p = db_column_text(st, i, &n);
    return p && sla_parse_time(p, n, ret) == 0;
}

static void col_copy(struct db_stmt *st, int i, char *out, size_t size)
{
    size_t n;
    const char *p = db_column_text(st, i, &n);
    if (!p)
        n = 0;
    if (n >= size)
        n = size - 1;
    memcpy(out, p ? p : "", n);
    out[n] = '\0';
}

static enum eng_rc cal_of(struct run *run, const struct sla_calendar **ret)
{
    static const char sql[] = "SELECT config_business_days, config_business_hours_start, "
                              "config_business_hours_end FROM settings WHERE company_id = 1";
    if (!run->have_cal) {
        struct db_stmt *st;
        if (db_stmt(run->ctx->db, sql, &st) != DB_OK)
            return ENG_DB;
        char days[64] = "", start[32] = "", end[32] = "";
        enum db_rc rc = db_step(st);
        if (rc == DB_ROW) {
            col_copy(st, 0, days, sizeof(days));
            col_copy(st, 1, start, sizeof(start));
            col_copy(st, 2, end, sizeof(end));
        }
        db_reset(st);
        if (rc != DB_ROW && rc != DB_DONE)
            return ENG_DB;
        sla_calendar_init(&run->cal, days, start, end);
        run->have_cal = 1;
    }
    *ret = &run->cal;
    return ENG_OK;
}

static enum eng_rc now_of(struct run *run, int64_t *ret)
{
    if (!run->have_now) {
        struct db_stmt *st;
        if (db_stmt(run->ctx->db, "SELECT CURRENT_TIMESTAMP", &st) != DB_OK)
            return ENG_DB;
        enum db_rc rc = db_step(st);
        if (rc == DB_ROW && !col_time(st, 0, &run->now))
            run->now = (int64_t)time(NULL);
        db_reset(st);
        if (rc != DB_ROW)
            return ENG_DB;
        run->have_now = 1;
    }
    *ret = run->now;
    return ENG_OK;
}

/* Binds a time as text, or NULL; buf must live until the step. */
static void bind_time(struct db_stmt *st, int idx, int has, int64_t t, char buf[20])
{
    if (!has) {
        db_bind_null(st, idx);
        return;
    }
    sla_format_time(t, buf);
    db_bind_text(st, idx, buf, strlen(buf));
}

/* Binds 0/1, or NULL for -1. */
static void bind_flag(struct db_stmt *st, int idx, int v)
{
    if (v < 0)
        db_bind_null(st, idx);
    else
        db_bind_int(st, idx, v);
}

static enum eng_rc finish(struct db_stmt *st)
{
    enum db_rc rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? ENG_OK : ENG_DB;
}

/* The row of sql (its one parameter: a ticket's or an SLA's id) in *st, for the caller to read
 * and reset: ENG_OK; ENG_NOT_DONE when there is no such row; ENG_DB. */
static enum eng_rc row_by_id(struct op_ctx *ctx, const char *sql, int64_t id, struct db_stmt **st)
{
    if (db_stmt(ctx->db, sql, st) != DB_OK)
        return ENG_DB;
    db_bind_int(*st, 1, id);
    enum db_rc rc = db_step(*st);
    if (rc == DB_ROW)
        return ENG_OK;
    db_reset(*st);
    return rc == DB_DONE ? ENG_NOT_DONE : ENG_DB;
}

/* An entry point's ticket row (row_by_id), or ENG_NOT_DONE where the database has no SLAs. */
static enum eng_rc sla_ticket(struct op_ctx *ctx, const char *sql, int64_t ticket,
                              struct db_stmt **st)
{
    return sla_enabled(ctx) ? row_by_id(ctx, sql, ticket, st) : ENG_NOT_DONE;
}

/* How many intervals of the ticket's clock are closed (times it was stopped). */
static enum eng_rc paused_count(struct run *run, int64_t ticket, int64_t *ret)
{
    static const char sql[] = "SELECT COUNT(sla_history_id) FROM sla_history WHERE "
                              "sla_history_ticket_id = ? AND sla_history_ended_at IS NOT NULL";
    struct db_stmt *st;
    if (db_stmt(run->ctx->db, sql, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, ticket);
    *ret = 0;
    enum db_rc rc = db_query_int(st, ret);
    return rc == DB_ROW || rc == DB_DONE ? ENG_OK : ENG_DB;
}

/* Business minutes the ticket's resolution clock has run, the open interval up to now included;
 * without any interval, the business time since it was raised (until resolved or closed). */
static enum eng_rc consumed_minutes(struct run *run, int64_t ticket, int64_t *ret)
{
    static const char intervals[] =
        "SELECT sla_history_started_at, sla_history_ended_at, sla_history_minutes FROM "
        "sla_history WHERE sla_history_ticket_id = ?";
    static const char raised[] =
        "SELECT ticket_created_at, ticket_resolved_at, ticket_closed_at FROM tickets WHERE "
        "ticket_id = ?";
    const struct sla_calendar *cal;
    int64_t now;
    enum eng_rc erc;
    if ((erc = cal_of(run, &cal)) != ENG_OK || (erc = now_of(run, &now)) != ENG_OK)
        return erc;
    struct db_stmt *st;
    if (db_stmt(run->ctx->db, intervals, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, ticket);
    int64_t sum = 0, n = 0;
    enum db_rc rc;
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t start;
        n++;
        if (col_set(st, 1))
            sum += db_column_int(st, 2);
        else if (col_time(st, 0, &start))
            sum += sla_business_minutes_between(cal, start, now);
    }
    db_reset(st);
    if (rc != DB_DONE)
        return ENG_DB;
    *ret = sum;
    if (n > 0)
        return ENG_OK;
    *ret = 0;
    if (db_stmt(run->ctx->db, raised, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, ticket);
    if ((rc = db_step(st)) == DB_ROW) {
        int64_t created = now, ended = now;
        col_time(st, 0, &created);
        if (!col_time(st, 1, &ended) && !col_time(st, 2, &ended))
            ended = now;
        *ret = sla_business_minutes_between(cal, created, ended);
    }
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? ENG_OK : ENG_DB;
}

static enum eng_rc sync_clock(struct run *run, int64_t ticket)
{
    static const char state[] =
        "SELECT t.ticket_sla_id, t.ticket_created_at, t.ticket_resolved_at, t.ticket_closed_at, "
        "t.ticket_archived_at, t.ticket_resolution_sla_alert_stage, s.sla_resolution_minutes, "
        "st.ticket_status_pauses_sla FROM tickets t LEFT JOIN slas s ON t.ticket_sla_id = "
        "s.sla_id LEFT JOIN ticket_statuses st ON t.ticket_status = st.ticket_status_id WHERE "
        "t.ticket_id = ?";
    static const char open_sql[] =
        "SELECT sla_history_id, sla_history_started_at FROM sla_history WHERE "
        "sla_history_ticket_id = ? AND sla_history_ended_at IS NULL ORDER BY sla_history_id DESC "
        "LIMIT 1";
    static const char start_sql[] =
        "INSERT INTO sla_history (sla_history_started_at, sla_history_ticket_id) VALUES (?, ?)";
    static const char rebase_sql[] =
        "UPDATE tickets SET ticket_resolution_due_at = ?, ticket_resolution_sla_alert_stage = ? "
        "WHERE ticket_id = ?";
    static const char stop_sql[] = "UPDATE sla_history SET sla_history_ended_at = ?, "
                                   "sla_history_minutes = ? WHERE sla_history_id = ?";
    struct op_ctx *ctx = run->ctx;
    struct db_stmt *st;
    enum eng_rc found = row_by_id(ctx, state, ticket, &st);
    if (found != ENG_OK)
        return found == ENG_NOT_DONE ? ENG_OK : found; /* no such ticket: nothing to do */
    int64_t sla_id = db_column_int(st, 0), created = 0;
    int has_created = col_time(st, 1, &created);
    int stopped = col_set(st, 2) || col_set(st, 3) || col_set(st, 4);
    int64_t stage = db_column_int(st, 5), budget = db_column_int(st, 6);
    int pauses = db_column_int(st, 7) != 0;
    db_reset(st);

    if (db_stmt(ctx->db, open_sql, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, ticket);
    int64_t open_id = 0, open_start = 0;
    int open_ok = 0;
    enum db_rc rc;
    if ((rc = db_step(st)) == DB_ROW) {
        open_id = db_column_int(st, 0);
        open_ok = col_time(st, 1, &open_start);
    }
    db_reset(st);
    if (rc != DB_ROW && rc != DB_DONE)
        return ENG_DB;

    int run_clock = sla_id > 0 && budget > 0 && !stopped && !pauses;
    int64_t now;
    enum eng_rc erc;
    char t1[20];
    if (run_clock && open_id == 0) {
        /* earlier intervals: a resume, the deadline moves out by the budget left; the very
         * first interval starts at the ticket's creation */
        int64_t paused, consumed = 0;
        if ((erc = paused_count(run, ticket, &paused)) != ENG_OK ||
            (paused > 0 && (erc = consumed_minutes(run, ticket, &consumed)) != ENG_OK) ||
            (erc = now_of(run, &now)) != ENG_OK)
            return erc;
        if (db_stmt(ctx->db, start_sql, &st) != DB_OK)
            return ENG_DB;
        bind_time(st, 1, 1, paused > 0 || !has_created ? now : created, t1);
        db_bind_int(st, 2, ticket);
        if ((erc = finish(st)) != ENG_OK || paused == 0)
            return erc;
        const struct sla_calendar *cal;
        if ((erc = cal_of(run, &cal)) != ENG_OK)
            return erc;
        int64_t left = budget - consumed < 0 ? 0 : budget - consumed;
        if (db_stmt(ctx->db, rebase_sql, &st) != DB_OK)
            return ENG_DB;
        bind_time(st, 1, 1, sla_add_business_minutes(cal, now, left), t1);
        db_bind_int(st, 2, stage == 2 ? 2 : 0); /* a breach stays a breach */
        db_bind_int(st, 3, ticket);
        return finish(st);
    }
    if (!run_clock && open_id != 0) {
        const struct sla_calendar *cal;
        if ((erc = cal_of(run, &cal)) != ENG_OK || (erc = now_of(run, &now)) != ENG_OK)
            return erc;
        if (db_stmt(ctx->db, stop_sql, &st) != DB_OK)
            return ENG_DB;
        bind_time(st, 1, 1, now, t1);
        db_bind_int(st, 2, open_ok ? sla_business_minutes_between(cal, open_start, now) : 0);
        db_bind_int(st, 3, open_id);
        return finish(st);
    }
    return ENG_OK;
}

/* The SLA of a client and priority: the client's assignment, else the global one (client 0); an
 * assignment to SLA 0 or to an archived SLA: none (0). */
static enum eng_rc sla_for(struct op_ctx *ctx, int64_t client, const char *priority, int64_t *ret)
{
    static const char assigned[] =
        "SELECT sla_assignment_sla_id FROM sla_assignments WHERE sla_assignment_client_id = ? "
        "AND sla_assignment_priority = ? ORDER BY sla_assignment_id LIMIT 1";
    static const char live[] = "SELECT sla_id FROM slas WHERE sla_id = ? AND sla_archived_at IS "
                               "NULL";
    *ret = 0;
    int found = 0;
    int64_t id = 0;
    for (int pass = client > 0 ? 0 : 1; pass < 2 && !found; pass++) {
        struct db_stmt *st;
        if (db_stmt(ctx->db, assigned, &st) != DB_OK)
            return ENG_DB;
        db_bind_int(st, 1, pass == 0 ? client : 0);
        db_bind_text(st, 2, priority, strlen(priority));
        enum db_rc rc = db_query_int(st, &id);
        if (rc == DB_ROW)
            found = 1;
        else if (rc != DB_DONE)
            return ENG_DB;
    }
    if (!found || id <= 0)
        return ENG_OK;
    struct db_stmt *st;
    if (db_stmt(ctx->db, live, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, id);
    int64_t same;
    enum db_rc rc = db_query_int(st, &same);
    if (rc == DB_ROW)
        *ret = id;
    return rc == DB_ROW || rc == DB_DONE ? ENG_OK : ENG_DB;
}

enum eng_rc sla_apply(struct op_ctx *ctx, int64_t ticket_id)
{
    static const char ticket_sql[] =
        "SELECT ticket_client_id, ticket_priority, ticket_created_at, ticket_first_response_at, "
        "ticket_resolved_at FROM tickets WHERE ticket_id = ?";
    static const char none_sql[] =
        "UPDATE tickets SET ticket_sla_id = 0, ticket_response_due_at = NULL, "
        "ticket_resolution_due_at = NULL, ticket_response_sla_met = NULL, "
        "ticket_resolution_sla_met = NULL, ticket_response_sla_alert_stage = 0, "
        "ticket_resolution_sla_alert_stage = 0 WHERE ticket_id = ?";
    static const char sla_sql[] =
        "SELECT sla_response_minutes, sla_resolution_minutes FROM slas WHERE sla_id = ?";
    static const char stamp_sql[] =
        "UPDATE tickets SET ticket_sla_id = ?, ticket_response_due_at = ?, "
        "ticket_resolution_due_at = ?, ticket_response_sla_met = ?, ticket_resolution_sla_met = "
        "?, ticket_response_sla_alert_stage = 0, ticket_resolution_sla_alert_stage = 0 WHERE "
        "ticket_id = ?";
    struct db_stmt *st;
    enum eng_rc found = sla_ticket(ctx, ticket_sql, ticket_id, &st);
    if (found != ENG_OK) /* no SLAs here, or no such ticket: nothing to do */
        return found == ENG_NOT_DONE ? ENG_OK : found;
    struct run run = {.ctx = ctx};
    int64_t client = db_column_int(st, 0), created = 0, first = 0, resolved = 0;
    char priority[256];
    col_copy(st, 1, priority, sizeof(priority));
    int has_created = col_time(st, 2, &created);
    int has_first = col_time(st, 3, &first);
    int has_resolved = col_time(st, 4, &resolved);
    db_reset(st);

    int64_t sla_id;
    enum eng_rc erc = sla_for(ctx, client, priority, &sla_id);
    if (erc != ENG_OK)
        return erc;
    if (sla_id == 0) {
        if ((erc = ctx_exec_ints(ctx, none_sql, 1, &ticket_id)) != ENG_OK)
            return erc;
        return sync_clock(&run, ticket_id);
    }
    if ((erc = row_by_id(ctx, sla_sql, sla_id, &st)) != ENG_OK)
        return erc == ENG_NOT_DONE ? ENG_OK : erc; /* the SLA is gone: nothing to stamp */
    int64_t response_min = db_column_int(st, 0), resolution_min = db_column_int(st, 1);
    db_reset(st);

    const struct sla_calendar *cal;
    int64_t now;
    if ((erc = cal_of(&run, &cal)) != ENG_OK || (erc = now_of(&run, &now)) != ENG_OK)
        return erc;
    if (!has_created)
        created = now;
    int64_t response_due = sla_add_business_minutes(cal, created, response_min);
    int64_t resolution_due = 0;
    int has_resolution_due = resolution_min > 0;
    if (has_resolution_due) {
        /* once paused, the budget is what is left of it from now; a ticket that has only ever
         * run keeps its deadline from creation, even one already past */
        int64_t paused, consumed;
        if ((erc = paused_count(&run, ticket_id, &paused)) != ENG_OK)
            return erc;
        if (paused > 0) {
            if ((erc = consumed_minutes(&run, ticket_id, &consumed)) != ENG_OK)
                return erc;
            int64_t left = resolution_min - consumed < 0 ? 0 : resolution_min - consumed;
            resolution_due = sla_add_business_minutes(cal, now, left);
        } else {
            resolution_due = sla_add_business_minutes(cal, created, resolution_min);
        }
    }
    /* verdicts of the milestones already reached, judged again */
    int response_met = has_first ? first <= response_due : -1;
    int resolution_met = has_resolved && has_resolution_due ? resolved <= resolution_due : -1;
    char t1[20], t2[20];
    if (db_stmt(ctx->db, stamp_sql, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, sla_id);
    bind_time(st, 2, 1, response_due, t1);
    bind_time(st, 3, has_resolution_due, resolution_due, t2);
    bind_flag(st, 4, response_met);
    bind_flag(st, 5, resolution_met);
    db_bind_int(st, 6, ticket_id);
    if ((erc = finish(st)) != ENG_OK)
        return erc;
    return sync_clock(&run, ticket_id);
}

enum eng_rc sla_sync_clock(struct op_ctx *ctx, int64_t ticket_id)
{
    if (!sla_enabled(ctx))
        return ENG_OK;
    struct run run = {.ctx = ctx};
    return sync_clock(&run, ticket_id);
}

enum eng_rc sla_first_response(struct op_ctx *ctx, int64_t ticket_id)
{
    static const char sql[] = "SELECT ticket_first_response_at, ticket_response_due_at FROM "
                              "tickets WHERE ticket_id = ?";
    static const char set_sql[] = "UPDATE tickets SET ticket_first_response_at = ?, "
                                  "ticket_response_sla_met = ? WHERE ticket_id = ?";
    struct db_stmt *st;
    enum eng_rc found = sla_ticket(ctx, sql, ticket_id, &st);
    if (found != ENG_OK) /* no SLAs here, or no such ticket: nothing to do */
        return found == ENG_NOT_DONE ? ENG_OK : found;
    struct run run = {.ctx = ctx};
    int answered = col_set(st, 0);
    int64_t due = 0;
    int has_due = col_time(st, 1, &due);
    db_reset(st);
    if (answered)
        return ENG_OK;
    int64_t now;
    enum eng_rc erc = now_of(&run, &now);
    if (erc != ENG_OK)
        return erc;
    char t1[20];
    if (db_stmt(ctx->db, set_sql, &st) != DB_OK)
        return ENG_DB;
    bind_time(st, 1, 1, now, t1);
    bind_flag(st, 2, has_due ? now <= due : -1);
    db_bind_int(st, 3, ticket_id);
    return finish(st);
}

enum eng_rc sla_resolution_met(struct op_ctx *ctx, int64_t ticket_id)
{
    static const char sql[] = "SELECT ticket_resolution_due_at, ticket_resolved_at, "
                              "ticket_resolution_sla_met FROM tickets WHERE ticket_id = ?";
    static const char set_sql[] =
        "UPDATE tickets SET ticket_resolution_sla_met = ? WHERE ticket_id = ?";
    struct db_stmt *st;
    enum eng_rc found = sla_ticket(ctx, sql, ticket_id, &st);
    if (found != ENG_OK) /* no SLAs here, or no such ticket: nothing to do */
        return found == ENG_NOT_DONE ? ENG_OK : found;
    struct run run = {.ctx = ctx};
    int64_t due = 0, ended = 0;
    int has_due = col_time(st, 0, &due);
    int has_resolved = col_time(st, 1, &ended);
    int missed = col_set(st, 2) && db_column_int(st, 2) == 0;
    db_reset(st);
    if (!has_due)
        return ENG_OK;
    /* a recorded miss is final here: only a re-stamp (sla_apply) judges again */
    if (!missed) {
        enum eng_rc erc;
        if (!has_resolved && (erc = now_of(&run, &ended)) != ENG_OK)
            return erc;
        int64_t args[2] = {ended <= due, ticket_id};
        if ((erc = ctx_exec_ints(ctx, set_sql, 2, args)) != ENG_OK)
            return erc;
    }
    return sync_clock(&run, ticket_id);
}

enum eng_rc sla_reset_resolution(struct op_ctx *ctx, int64_t ticket_id)
{
    static const char sql[] =
        "SELECT t.ticket_resolution_sla_met, s.sla_resolution_minutes FROM tickets t LEFT JOIN "
        "slas s ON t.ticket_sla_id = s.sla_id WHERE t.ticket_id = ?";
    static const char clear_sql[] =
        "UPDATE tickets SET ticket_resolution_sla_met = NULL, ticket_resolution_sla_alert_stage = "
        "0 WHERE ticket_id = ?";
    if (!sla_enabled(ctx))
        return ENG_OK;
    struct run run = {.ctx = ctx};
    struct db_stmt *st;
    if (db_stmt(ctx->db, sql, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, ticket_id);
    enum db_rc rc = db_step(st);
    int missed = 0;
    int64_t budget = 0;
    if (rc == DB_ROW) {
        missed = col_set(st, 0) && db_column_int(st, 0) == 0;
        budget = db_column_int(st, 1);
    }
    db_reset(st);
    if (rc != DB_ROW && rc != DB_DONE)
        return ENG_DB;
    enum eng_rc erc;
    if (missed && budget > 0) {
        /* the budget spent: the miss and its breach stage stay, only the clock restarts */
        int64_t consumed;
        if ((erc = consumed_minutes(&run, ticket_id, &consumed)) != ENG_OK)
            return erc;
        if (consumed >= budget)
            return sync_clock(&run, ticket_id);
    }
    if ((erc = ctx_exec_ints(ctx, clear_sql, 1, &ticket_id)) != ENG_OK)
        return erc;
    return sync_clock(&run, ticket_id);
}

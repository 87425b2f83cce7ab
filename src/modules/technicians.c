/* technicians: reference 2.17 — time worked per ticket and technician in a year or one month of
 * it: an aggregate read (engine/aggregate.c) over the ticket replies, scoped on the ticket's
 * client. */
#include "engine/hook.h"

/* seconds of a TIME value: MariaDB's own; on SQLite from the stored 'H:MM:SS' text */
#define SECONDS_SQLITE(x)                                                                          \
    "CAST(substr(" x ", 1, instr(" x ", ':') - 1) AS INTEGER) * 3600 + "                           \
    "CAST(substr(" x ", instr(" x ", ':') + 1, 2) AS INTEGER) * 60 + "                             \
    "CAST(substr(" x ", -2) AS INTEGER)"

static const struct agg_join joins[] = {
    {"tickets", "t", "t.ticket_id = tr.ticket_reply_ticket_id"},
    {"clients", "c", "c.client_id = t.ticket_client_id"},
    {"users", "u", "u.user_id = tr.ticket_reply_by"},
};

static const struct agg_col cols[] = {
    {.key = "ticket_id", .expr = "t.ticket_id"},
    {.key = "ticket_number",
     .expr = "t.ticket_prefix",
     .expr2 = "t.ticket_number",
     .out = AO_CONCAT},
    {.key = "ticket_subject", .expr = "t.ticket_subject"},
    {.key = "client_id", .expr = "c.client_id"},
    {.key = "company", .expr = "c.client_name"},
    {.key = "technician_id", .expr = "u.user_id"},
    {.key = "technician", .expr = "u.user_name"},
    {.key = "time_worked",
     .dexpr = {.sqlite = "SUM(" SECONDS_SQLITE("tr.ticket_reply_time_worked") ")",
               .mariadb = "SUM(TIME_TO_SEC(tr.ticket_reply_time_worked))"},
     .out = AO_HMS},
};

static const struct agg_filter filters[] = {
    {"technician_id", "tr.ticket_reply_by"},
};

static const struct aggregate time_worked = {
    .alias = "tr",
    .joins = joins,
    .njoins = COUNT_OF(joins),
    .cols = cols,
    .ncols = COUNT_OF(cols),
    .where = "tr.ticket_reply_time_worked IS NOT NULL "
             "AND tr.ticket_reply_time_worked <> '00:00:00'",
    .period_col = "tr.ticket_reply_created_at",
    .year_param = "year",
    .month_param = "month",
    .month_error = "Invalid month parameter. Must be between 1 and 12.",
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .scope_col = "t.ticket_client_id",
    .group_by = "t.ticket_id, u.user_id",
    .order_by = {.sqlite = "c.client_name COLLATE ITF_CI ASC, t.ticket_number ASC, "
                           "u.user_name COLLATE ITF_CI ASC",
                 .mariadb = "c.client_name ASC, t.ticket_number ASC, u.user_name ASC"},
};

static const struct endpoint endpoints[] = {
    {.function = "time", .op = OP_READ, .aggregate = &time_worked},
};

static struct module_resolved resolved;

const struct module module_technicians = {
    .res = &resolved,
    .name = "technicians",
    .rbac_module = "module_support",
    .table = "ticket_replies",
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

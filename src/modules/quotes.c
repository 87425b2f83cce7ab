/* quotes: reference 2.15 with F7 (the by-id read works with every key); read only in v1. */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"quote_id", FK_ID, "quote_id", NULL, FS_ONE, 0},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
};

static struct module_resolved resolved;

const struct module module_quotes = {
    .res = &resolved,
    .name = "quotes",
    .rbac_module = "module_sales",
    .table = "quotes",
    .client_col = "quote_client_id",
    .archived_col = "quote_archived_at",
    .flags = 0,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

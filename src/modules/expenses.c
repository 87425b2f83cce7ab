/* expenses: reference 2.8 with F8 (all-clients keys only); read only in v1. */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"expense_id", FK_ID, "expense_id", NULL, FS_ONE, 0},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
};

static struct module_resolved resolved;

const struct module module_expenses = {
    .res = &resolved,
    .name = "expenses",
    .rbac_module = "module_financial",
    .table = "expenses",
    .client_col = "expense_client_id", /* v26.08 reads are scoped (F23); v26.07: F8 */
    .archived_col = "expense_archived_at",
    .flags = MOD_ALL_CLIENTS_ONLY,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

/* payments: reference 2.13, F16 (restored) and F8 (all-clients keys only); read only in v1. */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"payment_id", FK_ID, "payment_id", NULL, FS_ONE, 0},
    {"payment_invoice_id", FK_ID, "payment_invoice_id", NULL, FS_LIST, 0},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
};

static struct module_resolved resolved;

const struct module module_payments = {
    .res = &resolved,
    .name = "payments",
    .rbac_module = "module_financial",
    .table = "payments",
    .client_col = NULL,
    .archived_col = "payment_archived_at",
    .flags = MOD_ALL_CLIENTS_ONLY | MOD_RBAC_ALL_CLIENTS,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

/* invoices: reference 2.9; read only in v1. */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"invoice_id", FK_ID, "invoice_id", NULL, FS_ONE, 0},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
};

static struct module_resolved resolved;

const struct module module_invoices = {
    .res = &resolved,
    .name = "invoices",
    .rbac_module = "module_sales",
    .table = "invoices",
    .client_col = "invoice_client_id",
    .archived_col = "invoice_archived_at",
    .flags = 0,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

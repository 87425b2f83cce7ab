/* products: reference 2.14 with F8 (all-clients keys only); read only in v1. */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"product_id", FK_ID, "product_id", NULL, FS_ONE, 0},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
};

static struct module_resolved resolved;

const struct module module_products = {
    .res = &resolved,
    .name = "products",
    .rbac_module = "module_sales",
    .table = "products",
    .client_col = NULL,
    .archived_col = "product_archived_at",
    .flags = MOD_ALL_CLIENTS_ONLY,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

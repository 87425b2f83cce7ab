/* vendors: reference 2.19; read only in v1. */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"vendor_id", FK_ID, "vendor_id", NULL, FS_ONE, 0},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
};

static struct module_resolved resolved;

const struct module module_vendors = {
    .res = &resolved,
    .name = "vendors",
    .rbac_module = "module_client",
    .table = "vendors",
    .client_col = "vendor_client_id",
    .archived_col = "vendor_archived_at",
    .flags = 0,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

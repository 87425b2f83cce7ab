/* networks: reference 2.12; read only in v1. */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"network_id", FK_ID, "network_id", NULL, FS_ONE, 0},
    {"network_name", FK_TEXT, "network_name", NULL, FS_LIST, 0},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
};

static struct module_resolved resolved;

const struct module module_networks = {
    .res = &resolved,
    .name = "networks",
    .rbac_module = "module_support",
    .table = "networks",
    .client_col = "network_client_id",
    .archived_col = "network_archived_at",
    .flags = 0,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

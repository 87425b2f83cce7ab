/* software: reference 2.16 with F6 (software_key and software_name compare what they name); read
 * only in v1. */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"software_id", FK_ID, "software_id", NULL, FS_ONE, 0},
    {"software_key", FK_TEXT, "software_key", NULL, FS_LIST, 0},
    {"software_name", FK_TEXT, "software_name", NULL, FS_LIST, 0},
    {"software_type", FK_INT_TEXT, "software_type", NULL, FS_LIST, 0},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
};

static struct module_resolved resolved;

const struct module module_software = {
    .res = &resolved,
    .name = "software",
    .rbac_module = "module_support",
    .table = "software",
    .client_col = "software_client_id",
    .archived_col = "software_archived_at",
    .flags = 0,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

/* domains: reference 2.7; read only in v1. */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"domain_id", FK_ID, "domain_id", NULL, FS_ONE, 0},
    {"domain_name", FK_TEXT, "domain_name", NULL, FS_LIST, 0},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
};

static struct module_resolved resolved;

const struct module module_domains = {
    .res = &resolved,
    .name = "domains",
    .rbac_module = "module_support",
    .table = "domains",
    .client_col = "domain_client_id",
    .archived_col = "domain_archived_at",
    .flags = 0,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

/* networks: reference 2.12, and the writes of COMPAT A3 (crud.h). */
#include "engine/hook.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"network_id", FK_ID, "network_id", NULL, FS_ONE, 0, NULL},
    {"network_name", FK_TEXT, "network_name", NULL, FS_LIST, 0, NULL},
};

static const struct field fields[] = {
    {"network_name", "network_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"network_description", "network_description", CV_TEXT, 0, NULL},
    {"network_vlan", "network_vlan", CV_INT, 0, NULL},
    {"network", "network", CV_TEXT, FF_REQUIRED, NULL},
    {"network_subnet", "network_subnet", CV_TEXT, 0, NULL},
    {"network_gateway", "network_gateway", CV_TEXT, 0, NULL},
    {"network_primary_dns", "network_primary_dns", CV_TEXT, 0, NULL},
    {"network_secondary_dns", "network_secondary_dns", CV_TEXT, 0, NULL},
    {"network_dhcp_range", "network_dhcp_range", CV_TEXT, 0, NULL},
    {"network_notes", "network_notes", CV_TEXT, 0, NULL},
    {"network_location_id", "network_location_id", CV_INT, 0, NULL},
};

static const struct field_ref refs[] = {
    {"network_location_id", "locations", "a location"},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    CRUD_WRITES("Network", "network", "network_id", SR_NONZERO),
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
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .refs = refs,
    .nrefs = COUNT_OF(refs),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

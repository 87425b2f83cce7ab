/* locations: reference 2.11; the primary flag is exclusive per client (K14). */
#include "engine/hook.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"location_id", FK_ID, "location_id", NULL, FS_ONE, 0, NULL},
};

static const struct field fields[] = {
    {"location_name", "location_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"location_description", "location_description", CV_TEXT, 0, NULL},
    {"location_country", "location_country", CV_TEXT, 0, NULL},
    {"location_address", "location_address", CV_TEXT, 0, NULL},
    {"location_city", "location_city", CV_TEXT, 0, NULL},
    {"location_state", "location_state", CV_TEXT, 0, NULL},
    {"location_zip", "location_zip", CV_TEXT, 0, NULL},
    {"location_hours", "location_hours", CV_TEXT, 0, NULL},
    {"location_notes", "location_notes", CV_TEXT, 0, NULL},
    {"location_primary", "location_primary", CV_INT, FF_PRIMARY, NULL},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create",
     .op = OP_CREATE,
     .scope_rule = SR_NONZERO,
     .logs = {{"Location", "Create", "{name} via API ({key})", LR_SCOPE, LR_NEW_ID},
              {"API", "Success", "Created location {name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    CRUD_UPDATE("Location", "location", "location_id", NULL, NULL),
    CRUD_DELETE("Location", "location", "location_id", NULL),
    CRUD_ARCHIVE("Location", "location", "location_id"),
};

static struct module_resolved resolved;

const struct module module_locations = {
    .res = &resolved,
    .name = "locations",
    .rbac_module = "module_client",
    .table = "locations",
    .client_col = "location_client_id",
    .archived_col = "location_archived_at",
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

/* vendors: reference 2.19, and the writes of COMPAT A3 (crud.h). */
#include "engine/hook.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"vendor_id", FK_ID, "vendor_id", NULL, FS_ONE, 0, NULL},
};

static const struct field fields[] = {
    {"vendor_name", "vendor_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"vendor_description", "vendor_description", CV_TEXT, 0, NULL},
    {"vendor_contact_name", "vendor_contact_name", CV_TEXT, 0, NULL},
    {"vendor_phone", "vendor_phone", CV_DIGITS, 0, NULL},
    {"vendor_extension", "vendor_extension", CV_DIGITS, 0, NULL},
    {"vendor_email", "vendor_email", CV_TEXT, 0, NULL},
    {"vendor_website", "vendor_website", CV_WEBSITE, 0, NULL},
    {"vendor_hours", "vendor_hours", CV_TEXT, 0, NULL},
    {"vendor_sla", "vendor_sla", CV_TEXT, 0, NULL},
    {"vendor_code", "vendor_code", CV_TEXT, 0, NULL},
    {"vendor_account_number", "vendor_account_number", CV_TEXT, 0, NULL},
    {"vendor_notes", "vendor_notes", CV_TEXT, 0, NULL},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    CRUD_WRITES("Vendor", "vendor", "vendor_id", SR_NONZERO),
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
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

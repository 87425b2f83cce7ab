/* software: reference 2.16 with F6 (software_key and software_name compare what they name), and
 * the writes of COMPAT A3 (crud.h). */
#include "engine/hook.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"software_id", FK_ID, "software_id", NULL, FS_ONE, 0, NULL},
    {"software_key", FK_TEXT, "software_key", NULL, FS_LIST, 0, NULL},
    {"software_name", FK_TEXT, "software_name", NULL, FS_LIST, 0, NULL},
    {"software_type", FK_INT_TEXT, "software_type", NULL, FS_LIST, 0, NULL},
};

static const struct field fields[] = {
    {"software_name", "software_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"software_description", "software_description", CV_TEXT, 0, NULL},
    {"software_version", "software_version", CV_TEXT, 0, NULL},
    {"software_type", "software_type", CV_TEXT, 0, NULL},
    {"software_license_type", "software_license_type", CV_TEXT, 0, NULL},
    {"software_key", "software_key", CV_TEXT, 0, NULL},
    {"software_seats", "software_seats", CV_INT, 0, NULL},
    {"software_purchase_reference", "software_purchase_reference", CV_TEXT, 0, NULL},
    {"software_purchase", "software_purchase", CV_DATE, 0, NULL},
    {"software_expire", "software_expire", CV_DATE, 0, NULL},
    {"software_notes", "software_notes", CV_TEXT, 0, NULL},
    {"software_vendor_id", "software_vendor_id", CV_INT, 0, NULL},
};

static const struct field_ref refs[] = {
    {"software_vendor_id", "vendors", "a vendor"},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    CRUD_WRITES("Software", "software", "software_id", SR_NONZERO),
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
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .refs = refs,
    .nrefs = COUNT_OF(refs),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

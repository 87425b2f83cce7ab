/* document_folders: the client's document folders (table folders, folder_location 0 = documents),
 * read and create (COMPAT A3). */
#include "engine/hook.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"folder_id", FK_ID, "folder_id", NULL, FS_ONE, 0, NULL},
    {"parent_folder", FK_ID, "parent_folder", NULL, FS_LIST, 0, NULL},
};

static const struct field fields[] = {
    {"folder_name", "folder_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"parent_folder", "parent_folder", CV_INT, 0, NULL},
    {"folder_location", "folder_location", CV_INT, FF_CONST, "0"},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    CRUD_CREATE("Folder", "document folder", SR_NONZERO, NULL, NULL),
};

static struct module_resolved resolved;

const struct module module_document_folders = {
    .res = &resolved,
    .name = "document_folders",
    .table = "folders",
    .rbac_module = "module_support",
    .client_col = "folder_client_id",
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

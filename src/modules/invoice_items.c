/* invoice_items: reference 2.10 — scoped through the item's invoice; a filter is required. */
#include "engine/hook.h"

static const struct filter filters[] = {
    {"item_id", FK_ID, "item_id", NULL, FS_FIRST, 0},
    {"invoice_id", FK_ID, "item_invoice_id", NULL, FS_LIST, 0},
};

static const struct join invoice = {"invoices",
                                    "invoices.invoice_id = invoice_items.item_invoice_id"};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
};

static struct module_resolved resolved;

const struct module module_invoice_items = {
    .res = &resolved,
    .name = "invoice_items",
    .rbac_module = "module_sales",
    .table = "invoice_items",
    .client_col = "invoice_client_id",
    .archived_col = "item_archived_at",
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
    .scope_join = &invoice,
    .order_by = "invoice_items.item_order ASC, invoice_items.item_id ASC",
    .filter_required = "A filter is required. Please supply either invoice_id or item_id.",
};

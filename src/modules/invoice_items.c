/* invoice_items: reference 2.10 — scoped through the item's invoice; a filter is required.
 * create is ITFlow v26.08's invoice_items/create (delta 3.3) with exact amounts (billing.c). */
#include <string.h>

#include "engine/hook.h"
#include "modules/billing.h"

static const struct filter filters[] = {
    {"item_id", FK_ID, "item_id", NULL, FS_FIRST, 0, NULL},
    {"invoice_id", FK_ID, "item_invoice_id", NULL, FS_LIST, 0, NULL},
};

static const struct join invoice = {"invoices",
                                    "invoices.invoice_id = invoice_items.item_invoice_id"};

/* v26.08's names; read by billing.c (invoice_add_item) */
static const struct field fields[] = {
    {"name", NULL, CV_TEXT, FF_REQUIRED, NULL}, {"description", NULL, CV_TEXT, 0, NULL},
    {"qty", NULL, CV_MONEY, FF_REQUIRED, NULL}, {"price", NULL, CV_MONEY, 0, NULL},
    {"tax_id", NULL, CV_INT, 0, NULL},          {"item_order", NULL, CV_INT, 0, NULL},
    {"product_id", NULL, CV_INT, 0, NULL},
};

/* The item is added to an invoice that is not Paid, in scope; the invoice total follows. */
static enum eng_rc create_item(struct op_ctx *ctx)
{
    struct invoice_row inv;
    enum eng_rc rc = invoice_load(ctx, ctx->id, &inv);
    if (rc != ENG_OK)
        return rc;
    if (strcmp(inv.status, "Paid") == 0)
        return ENG_NOT_DONE;
    int64_t item = 0;
    if ((rc = invoice_add_item(ctx, &inv, ctx->r->body, ITEM_ALONE, 0, &item)) != ENG_OK)
        return rc;
    if (item == 0)
        return ENG_OK; /* refused with a kept log row (stock): the insert-failed answer */
    if ((rc = invoice_recompute(ctx, &inv, NULL)) != ENG_OK)
        return rc;
    ctx->new_id = item;
    return ENG_OK;
}

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create",
     .op = OP_CUSTOM,
     .id_param = "invoice_id",
     .flags = EP_CREATES,
     .before = create_item},
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
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
    .scope_join = &invoice,
    .order_by = "invoice_items.item_order ASC, invoice_items.item_id ASC",
    .filter_required = "A filter is required. Please supply either invoice_id or item_id.",
};

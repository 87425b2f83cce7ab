/* quotes: reference 2.15 with F7 (the by-id read works with every key), plus create (with an
 * optional items array), update, delete, archive and unarchive (COMPAT A3) as the web UI's
 * add_quote and add_quote_item do them (agent/post/quote.php): a Draft numbered from the settings
 * counter in its own transaction, items with exact amounts, a history row (billing.c, the path
 * invoices take too). */

#include "engine/hook.h"
#include "modules/billing.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"quote_id", FK_ID, "quote_id", NULL, FS_ONE, 0, NULL},
};

static const struct field fields[] = {
    {"quote_scope", "quote_scope", CV_TEXT, FF_NAME, NULL},
    {"quote_date", "quote_date", CV_DATE, 0, NULL},
    {"quote_expire", "quote_expire", CV_DATE, 0, NULL},
    {"quote_discount_amount", "quote_discount_amount", CV_MONEY, 0, NULL},
    {"quote_currency_code", "quote_currency_code", CV_TEXT, 0, NULL},
    {"quote_category_id", "quote_category_id", CV_INT, 0, NULL},
    {"quote_note", "quote_note", CV_TEXT, 0, NULL},
    {"quote_status", "quote_status", CV_TEXT, FF_CONST | FF_NO_UPDATE, "Draft"},
    {"quote_amount", "quote_amount", CV_MONEY, FF_CONST | FF_NO_UPDATE, NULL},
    {"quote_prefix", "quote_prefix", CV_TEXT, FF_CONST | FF_NO_UPDATE, NULL},
    {"quote_number", "quote_number", CV_INT, FF_CONST | FF_NO_UPDATE, NULL},
    {"quote_url_key", "quote_url_key", CV_TEXT, FF_CONST | FF_NO_UPDATE, NULL},
};

/* The create, update and delete paths are billing.c's, driven by BILL_QUOTE. */
static enum eng_rc number_quote(struct op_ctx *ctx)
{
    return bill_create_before(ctx, &BILL_QUOTE);
}

static enum eng_rc add_items(struct op_ctx *ctx)
{
    return bill_create_after(ctx, &BILL_QUOTE);
}

static enum eng_rc recompute_after_update(struct op_ctx *ctx)
{
    return bill_update_after(ctx, &BILL_QUOTE);
}

static enum eng_rc delete_children(struct op_ctx *ctx)
{
    return bill_delete_children(ctx, &BILL_QUOTE);
}

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    BILL_CREATE("Quote", "quote", number_quote, add_items),
    BILL_UPDATE("Quote", "quote", NULL, recompute_after_update),
    CRUD_DELETE("Quote", "quote", "quote_id", delete_children),
    CRUD_ARCHIVE("Quote", "quote", "quote_id"),
};

static struct module_resolved resolved;

const struct module module_quotes = {
    .res = &resolved,
    .name = "quotes",
    .rbac_module = "module_sales",
    .table = "quotes",
    .client_col = "quote_client_id",
    .archived_col = "quote_archived_at",
    .flags = 0,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

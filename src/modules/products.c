/* products: reference 2.14 with F8 (all-clients keys only), and the writes of COMPAT A3 (crud.h);
 * the price is an exact decimal, the type one of the column's values. */
#include <string.h>

#include "engine/hook.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"product_id", FK_ID, "product_id", NULL, FS_ONE, 0, NULL},
};

static const struct field fields[] = {
    {"product_name", "product_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"product_type", "product_type", CV_TEXT, 0, "service"},
    {"product_description", "product_description", CV_TEXT, 0, NULL},
    {"product_code", "product_code", CV_TEXT, 0, NULL},
    {"product_location", "product_location", CV_TEXT, 0, NULL},
    {"product_price", "product_price", CV_MONEY, 0, NULL},
    {"product_currency_code", "product_currency_code", CV_TEXT, 0, "USD"},
    {"product_tax_id", "product_tax_id", CV_INT, 0, NULL},
    {"product_category_id", "product_category_id", CV_INT, 0, NULL},
};

/* product_type is service (the default) or product (tangible: stock is kept). */
static enum eng_rc check_type(struct op_ctx *ctx)
{
    const struct value *t = ctx_val(ctx, "product_type");
    if (t->p && ((t->n == 7 && memcmp(t->p, "service", 7) == 0) ||
                 (t->n == 7 && memcmp(t->p, "product", 7) == 0)))
        return ENG_OK;
    return reply_bad(ctx->r, "product_type must be service or product");
}

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    CRUD_CREATE("Product", "product", SR_ANY, check_type, NULL),
    CRUD_UPDATE("Product", "product", "product_id", check_type, NULL),
    CRUD_DELETE("Product", "product", "product_id", NULL),
    CRUD_ARCHIVE("Product", "product", "product_id"),
};

static struct module_resolved resolved;

const struct module module_products = {
    .res = &resolved,
    .name = "products",
    .rbac_module = "module_sales",
    .table = "products",
    .client_col = NULL,
    .archived_col = "product_archived_at",
    .flags = MOD_ALL_CLIENTS_ONLY,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

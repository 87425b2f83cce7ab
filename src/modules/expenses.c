/* expenses: reference 2.8 with F8 (all-clients keys only), and the writes of COMPAT A3 (crud.h);
 * the amount is an exact decimal. */
#include "engine/hook.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"expense_id", FK_ID, "expense_id", NULL, FS_ONE, 0, NULL},
};

static const struct field fields[] = {
    {"expense_description", "expense_description", CV_TEXT, FF_NAME, NULL},
    {"expense_amount", "expense_amount", CV_MONEY, FF_REQUIRED, NULL},
    {"expense_currency_code", "expense_currency_code", CV_TEXT, 0, "USD"},
    {"expense_date", "expense_date", CV_DATE, FF_REQUIRED, NULL},
    {"expense_reference", "expense_reference", CV_TEXT, 0, NULL},
    {"expense_payment_method", "expense_payment_method", CV_TEXT, 0, NULL},
    {"expense_vendor_id", "expense_vendor_id", CV_INT, 0, NULL},
    {"expense_client_id", "expense_client_id", CV_INT, 0, NULL},
    {"expense_category_id", "expense_category_id", CV_INT, 0, NULL},
    {"expense_account_id", "expense_account_id", CV_INT, 0, NULL},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    CRUD_WRITES("Expense", "expense", "expense_id", SR_ANY),
};

static struct module_resolved resolved;

const struct module module_expenses = {
    .res = &resolved,
    .name = "expenses",
    .rbac_module = "module_financial",
    .table = "expenses",
    .client_col = "expense_client_id", /* v26.08 reads are scoped (F23); v26.07: F8 */
    .archived_col = "expense_archived_at",
    .flags = MOD_ALL_CLIENTS_ONLY,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

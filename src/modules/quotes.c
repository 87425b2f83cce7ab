/* quotes: reference 2.15 with F7 (the by-id read works with every key), plus create (with an
 * optional items array), update, delete, archive and unarchive (COMPAT A3) as the web UI's
 * add_quote and add_quote_item do them (agent/post/quote.php): a Draft numbered from the settings
 * counter in its own transaction, items with exact amounts (billing.c), a history row. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/hook.h"
#include "modules/counter.h"
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

static void set_text(struct op_ctx *ctx, struct value *v, const char *s)
{
    value_from_text(v, ctx_strdup(ctx, s, strlen(s)), strlen(s));
}

/* Before the INSERT: the client exists, the date (today), the currency (the company's), the
 * number from the settings counter (the write transaction holds the settings row), the URL key. */
static enum eng_rc number_quote(struct op_ctx *ctx)
{
    static const char client_sql[] = "SELECT COUNT(*) FROM clients WHERE client_id = ?";
    static const char currency_sql[] =
        "SELECT COALESCE(company_currency, 'USD') FROM companies WHERE company_id = 1";
    static const char take_sql[] =
        "UPDATE settings SET config_quote_next_number = COALESCE(config_quote_next_number, 1) + 1 "
        "WHERE company_id = 1";
    static const char taken_sql[] =
        "SELECT COALESCE(config_quote_prefix, ''), config_quote_next_number - 1 FROM settings "
        "WHERE company_id = 1";
    struct db_stmt *st;
    int64_t n = 0;
    if (db_stmt(ctx->db, client_sql, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, ctx->S);
    if (db_query_int(st, &n) != DB_ROW)
        return ENG_DB;
    if (n == 0)
        return reply_bad(ctx->r, "client_id names no client");
    struct value *date = ctx_val(ctx, "quote_date");
    if (date->is_null) {
        char day[11];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        set_text(ctx, date, day);
    }
    struct value *cur = ctx_val(ctx, "quote_currency_code");
    if (cur->n == 0) {
        if (db_stmt(ctx->db, currency_sql, &st) != DB_OK)
            return ENG_DB;
        enum db_rc rc = db_step(st);
        size_t len = 0;
        const char *p = rc == DB_ROW ? db_column_text(st, 0, &len) : NULL;
        value_from_text(cur, ctx_strdup(ctx, p ? p : "USD", p ? len : 3), p ? len : 3);
        db_reset(st);
        if (rc != DB_ROW && rc != DB_DONE)
            return ENG_DB;
    }
    int64_t discount = 0;
    const struct value *dv = ctx_val(ctx, "quote_discount_amount");
    if (dv->p)
        dec_parse(dv->p, dv->n, 2, &discount);
    const char *amount = cents_text(ctx, -discount);
    if (!amount)
        return ENG_DB;
    set_text(ctx, ctx_val(ctx, "quote_amount"), amount);
    return counter_take(ctx, take_sql, taken_sql, "quote");
}

/* After the INSERT: the history row, the items (a bad element refuses the quote), the total. */
static enum eng_rc add_items(struct op_ctx *ctx)
{
    char desc[1100];
    snprintf(desc, sizeof(desc), "Quote created via API (%s)", ctx->r->key.name_html);
    enum eng_rc rc = bill_history(ctx, &BILL_QUOTE, ctx->new_id, "Draft", desc);
    if (rc != ENG_OK)
        return rc;
    json_t *items = ctx->r->body ? json_object_get(ctx->r->body, "items") : NULL;
    if (!items || json_is_null(items))
        return ENG_OK;
    if (!json_is_array(items))
        return reply_bad(ctx->r, "items must be an array of line items");
    struct invoice_row q;
    int64_t saved_id = ctx->id, saved_aux = ctx->aux;
    if ((rc = bill_load(ctx, &BILL_QUOTE, ctx->new_id, &q)) != ENG_OK)
        return rc == ENG_NOT_DONE ? ENG_DB : rc;
    for (size_t i = 0; i < json_array_size(items); i++) {
        int64_t item = 0;
        rc = invoice_add_item(ctx, &q, json_array_get(items, i), ITEM_IN_CREATE, i, &item);
        if (rc != ENG_OK)
            return rc;
    }
    ctx->id = saved_id;
    ctx->aux = saved_aux;
    return json_array_size(items) ? invoice_recompute(ctx, &q, NULL) : ENG_OK;
}

/* After the UPDATE: a new discount changes the amount. */
static enum eng_rc recompute_after_update(struct op_ctx *ctx)
{
    if (!ctx_val(ctx, "quote_discount_amount")->set)
        return ENG_OK;
    struct invoice_row q;
    enum eng_rc rc = bill_load(ctx, &BILL_QUOTE, ctx->id, &q);
    if (rc != ENG_OK)
        return rc == ENG_NOT_DONE ? ENG_DB : rc;
    int64_t after = 0;
    if ((rc = invoice_recompute(ctx, &q, &after)) != ENG_OK)
        return rc;
    if (after != q.amount && ctx->count == 0)
        ctx->count = 1;
    return ENG_OK;
}

/* Deleting a quote deletes its items and history, as the UI does. */
static enum eng_rc delete_children(struct op_ctx *ctx)
{
    if (ctx_exec_ints(ctx, "DELETE FROM quote_items WHERE item_quote_id = ?", 1, &ctx->id) !=
        ENG_OK)
        return ENG_DB;
    return ctx_exec_ints(ctx, "DELETE FROM history WHERE history_quote_id = ?", 1, &ctx->id);
}

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create",
     .op = OP_CREATE,
     .scope_rule = SR_NONZERO,
     .before = number_quote,
     .after = add_items,
     .array = &line_items,
     .logs = {{"Quote", "Create",
               "Created quote {quote_prefix}{quote_number} - {name} via API ({key})", LR_SCOPE,
               LR_NEW_ID},
              {"API", "Success", "Created quote {quote_prefix}{quote_number} via API ({key})",
               LR_SCOPE, LR_ZERO}}},
    {.function = "update",
     .op = OP_UPDATE,
     .id_param = "quote_id",
     .after = recompute_after_update,
     .logs = {{"Quote", "Edit", "Edited quote {quote_prefix}{quote_number} via API ({key})",
               LR_SCOPE, LR_ID},
              {"API", "Success", "Edited quote {quote_prefix}{quote_number} via API ({key})",
               LR_SCOPE, LR_ZERO}}},
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

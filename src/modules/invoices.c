/* invoices: reference 2.9 (read) plus create, update, delete, archive and unarchive (COMPAT A3),
 * as the web UI's handlers do them (agent/post/invoice.php): a new invoice is a Draft numbered
 * from the settings counter in its own transaction, due after the client's net terms, with an
 * optional items array (billing.c) and a history row; status moves are the UI's (Draft -> Sent,
 * Cancelled, Non-Billable; Partial and Paid come from payments). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/hook.h"
#include "modules/counter.h"
#include "modules/billing.h"

static const struct filter filters[] = {
    {"invoice_id", FK_ID, "invoice_id", NULL, FS_ONE, 0, NULL},
};

static const struct field fields[] = {
    {"invoice_scope", "invoice_scope", CV_TEXT, FF_NAME, NULL},
    {"invoice_date", "invoice_date", CV_DATE, 0, NULL},
    {"invoice_due", "invoice_due", CV_DATE, 0, NULL},
    {"invoice_discount_amount", "invoice_discount_amount", CV_MONEY, 0, NULL},
    {"invoice_currency_code", "invoice_currency_code", CV_TEXT, 0, NULL},
    {"invoice_category_id", "invoice_category_id", CV_INT, 0, NULL},
    {"invoice_note", "invoice_note", CV_TEXT, 0, NULL},
    {"invoice_status", "invoice_status", CV_TEXT, 0, "Draft"},
    {"invoice_amount", "invoice_amount", CV_MONEY, FF_CONST | FF_NO_UPDATE, NULL},
    {"invoice_prefix", "invoice_prefix", CV_TEXT, FF_CONST | FF_NO_UPDATE, NULL},
    {"invoice_number", "invoice_number", CV_INT, FF_CONST | FF_NO_UPDATE, NULL},
    {"invoice_url_key", "invoice_url_key", CV_TEXT, FF_CONST | FF_NO_UPDATE, NULL},
};

static const char SQL_CLIENT[] = "SELECT client_net_terms FROM clients WHERE client_id = ?";
static const char SQL_CURRENCY[] =
    "SELECT COALESCE(company_currency, 'USD') FROM companies WHERE company_id = 1";
static const char SQL_TAKE_NUMBER[] =
    "UPDATE settings SET config_invoice_next_number = COALESCE(config_invoice_next_number, 1) + 1 "
    "WHERE company_id = 1";
static const char SQL_TAKEN_NUMBER[] =
    "SELECT COALESCE(config_invoice_prefix, ''), config_invoice_next_number - 1 FROM settings "
    "WHERE company_id = 1";

static void set_text(struct op_ctx *ctx, struct value *v, const char *s)
{
    value_from_text(v, ctx_strdup(ctx, s, strlen(s)), strlen(s));
}

/* "YYYY-MM-DD" plus days. */
static void add_days(const char *date, int64_t days, char out[11])
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(date, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) {
        snprintf(out, 11, "%.10s", date);
        return;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_mday += (int)(days > 36500 ? 36500 : days < -36500 ? -36500 : days);
    tm.tm_hour = 12;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Before the INSERT: the client's net terms, the dates, the currency, the number from the
 * settings counter (the write transaction holds the settings row) and the URL key. */
static enum eng_rc number_invoice(struct op_ctx *ctx)
{
    struct db_stmt *st;
    if (db_stmt(ctx->db, SQL_CLIENT, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, ctx->S);
    int64_t terms = 0;
    enum db_rc rc = db_query_int(st, &terms);
    if (rc == DB_DONE)
        return reply_bad(ctx->r, "client_id names no client");
    if (rc != DB_ROW)
        return ENG_DB;
    struct value *date = ctx_val(ctx, "invoice_date");
    struct value *due = ctx_val(ctx, "invoice_due");
    char day[11];
    if (date->is_null) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        set_text(ctx, date, day);
    }
    if (due->is_null && date->p) {
        add_days(date->p, terms, day);
        set_text(ctx, due, day);
    }
    struct value *cur = ctx_val(ctx, "invoice_currency_code");
    if (cur->n == 0) {
        if (db_stmt(ctx->db, SQL_CURRENCY, &st) != DB_OK)
            return ENG_DB;
        rc = db_step(st);
        size_t n = 0;
        const char *p = rc == DB_ROW ? db_column_text(st, 0, &n) : NULL;
        value_from_text(cur, ctx_strdup(ctx, p ? p : "USD", p ? n : 3), p ? n : 3);
        db_reset(st);
        if (rc != DB_ROW && rc != DB_DONE)
            return ENG_DB;
    }
    set_text(ctx, ctx_val(ctx, "invoice_status"), "Draft");
    /* the UI's amount of an invoice without items: 0 less the discount */
    int64_t discount = 0;
    const struct value *dv = ctx_val(ctx, "invoice_discount_amount");
    if (dv->p)
        dec_parse(dv->p, dv->n, 2, &discount);
    const char *amount = cents_text(ctx, -discount);
    if (!amount)
        return ENG_DB;
    set_text(ctx, ctx_val(ctx, "invoice_amount"), amount);
    return counter_take(ctx, SQL_TAKE_NUMBER, SQL_TAKEN_NUMBER, "invoice");
}

/* After the INSERT: the history row, then the items array (each element as invoice_items/create
 * takes it; a bad element refuses the whole invoice) and the total. */
static enum eng_rc add_items(struct op_ctx *ctx)
{
    char desc[1100];
    snprintf(desc, sizeof(desc), "Invoice created via API (%s)", ctx->r->key.name_html);
    enum eng_rc rc = invoice_history(ctx, ctx->new_id, "Draft", desc);
    if (rc != ENG_OK)
        return rc;
    json_t *items = ctx->r->body ? json_object_get(ctx->r->body, "items") : NULL;
    if (!items || json_is_null(items))
        return ENG_OK;
    if (!json_is_array(items))
        return reply_bad(ctx->r, "items must be an array of line items");
    struct invoice_row inv;
    int64_t saved_id = ctx->id, saved_aux = ctx->aux;
    if ((rc = invoice_load(ctx, ctx->new_id, &inv)) != ENG_OK)
        return rc == ENG_NOT_DONE ? ENG_DB : rc;
    for (size_t i = 0; i < json_array_size(items); i++) {
        int64_t item = 0;
        rc = invoice_add_item(ctx, &inv, json_array_get(items, i), ITEM_IN_CREATE, i, &item);
        if (rc != ENG_OK)
            return rc;
    }
    ctx->id = saved_id;
    ctx->aux = saved_aux;
    return json_array_size(items) ? invoice_recompute(ctx, &inv, NULL) : ENG_OK;
}

/* The UI's status moves; Partial and Paid are set by payments. */
static int status_move_ok(const char *from, const char *to, size_t n)
{
#define IS(s, lit) (strlen(lit) == strlen(s) && strcmp((s), (lit)) == 0)
    char want[32];
    if (n >= sizeof(want))
        return 0;
    memcpy(want, to, n);
    want[n] = 0;
    if (strcmp(from, want) == 0)
        return 1;
    if (IS(want, "Sent"))
        return IS(from, "Draft");
    if (IS(want, "Cancelled") || IS(want, "Non-Billable"))
        return !IS(from, "Paid") && !IS(from, "Cancelled");
    if (IS(want, "Draft"))
        return IS(from, "Cancelled");
    return 0;
#undef IS
}

static const struct log_spec status_log = {
    "Invoice", "Edit", "Marked invoice {invoice_prefix}{invoice_number} {status} via API ({key})",
    LR_SCOPE, LR_ID};

/* Before the UPDATE: a status the UI could move to (with its history row). */
static enum eng_rc check_update(struct op_ctx *ctx)
{
    struct value *st = ctx_val(ctx, "invoice_status");
    size_t n;
    const char *from = ctx_cur(ctx, "invoice_status", &n);
    from = ctx_strdup(ctx, from ? from : "", from ? n : 0);
    if (!from)
        return ENG_DB;
    if (st->set && !status_move_ok(from, st->p, st->n))
        return reply_bad(ctx->r,
                         "invoice_status cannot move from %s to %.*s (Sent from Draft; "
                         "Cancelled or Non-Billable unless Paid; Draft from Cancelled; "
                         "Partial and Paid come from payments)",
                         from, (int)(st->n > 40 ? 40 : st->n), st->p);
    if (st->set && (st->n != strlen(from) || memcmp(st->p, from, st->n) != 0)) {
        ctx_set_var(ctx, "status", ctx_strdup(ctx, st->p, st->n));
        char desc[1100];
        snprintf(desc, sizeof(desc), "Invoice marked %.*s via API (%s)", (int)st->n, st->p,
                 ctx->r->key.name_html);
        enum eng_rc rc = invoice_history(ctx, ctx->id, ctx_strdup(ctx, st->p, st->n), desc);
        if (rc == ENG_OK)
            rc = ctx_log(ctx, &status_log);
        if (rc != ENG_OK)
            return rc;
    }
    return ENG_OK;
}

/* After the UPDATE: a new discount changes the amount. */
static enum eng_rc recompute_after_update(struct op_ctx *ctx)
{
    if (!ctx_val(ctx, "invoice_discount_amount")->set)
        return ENG_OK;
    struct invoice_row inv;
    enum eng_rc rc = invoice_load(ctx, ctx->id, &inv);
    if (rc != ENG_OK)
        return rc == ENG_NOT_DONE ? ENG_DB : rc;
    int64_t before = inv.amount, after = 0;
    if ((rc = invoice_recompute(ctx, &inv, &after)) != ENG_OK)
        return rc;
    if (after != before && ctx->count == 0)
        ctx->count = 1;
    return ENG_OK;
}

/* Deleting an invoice deletes its items, payments and history, as the UI does. */
static enum eng_rc delete_children(struct op_ctx *ctx)
{
    static const char *const sql[] = {
        "DELETE FROM invoice_items WHERE item_invoice_id = ?",
        "DELETE FROM payments WHERE payment_invoice_id = ?",
        "DELETE FROM history WHERE history_invoice_id = ?",
    };
    for (size_t i = 0; i < COUNT_OF(sql); i++)
        if (ctx_exec_ints(ctx, sql[i], 1, &ctx->id) != ENG_OK)
            return ENG_DB;
    return ENG_OK;
}

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create",
     .op = OP_CREATE,
     .scope_rule = SR_NONZERO,
     .before = number_invoice,
     .after = add_items,
     .array = &line_items,
     .logs = {{"Invoice", "Create",
               "Created invoice {invoice_prefix}{invoice_number} - {name} via API ({key})",
               LR_SCOPE, LR_NEW_ID},
              {"API", "Success", "Created invoice {invoice_prefix}{invoice_number} via API ({key})",
               LR_SCOPE, LR_ZERO}}},
    {.function = "update",
     .op = OP_UPDATE,
     .id_param = "invoice_id",
     .before = check_update,
     .after = recompute_after_update,
     .logs = {{"Invoice", "Edit", "Edited invoice {invoice_prefix}{invoice_number} via API ({key})",
               LR_SCOPE, LR_ID},
              {"API", "Success", "Edited invoice {invoice_prefix}{invoice_number} via API ({key})",
               LR_SCOPE, LR_ZERO}}},
    {.function = "delete",
     .op = OP_DELETE,
     .id_param = "invoice_id",
     .before = delete_children,
     .logs = {{"Invoice", "Delete",
               "Deleted invoice {invoice_prefix}{invoice_number} via API ({key})", LR_SCOPE,
               LR_ZERO}}},
    {.function = "archive",
     .op = OP_ARCHIVE,
     .id_param = "invoice_id",
     .logs = {{"Invoice", "Archive",
               "Archived invoice {invoice_prefix}{invoice_number} via API ({key})", LR_SCOPE,
               LR_ID}}},
    {.function = "unarchive",
     .op = OP_UNARCHIVE,
     .id_param = "invoice_id",
     .logs = {{"Invoice", "Unarchive",
               "Unarchived invoice {invoice_prefix}{invoice_number} via API ({key})", LR_SCOPE,
               LR_ID}}},
};

static struct module_resolved resolved;

const struct module module_invoices = {
    .res = &resolved,
    .name = "invoices",
    .rbac_module = "module_sales",
    .table = "invoices",
    .client_col = "invoice_client_id",
    .archived_col = "invoice_archived_at",
    .flags = 0,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

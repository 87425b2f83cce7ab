/* payments: reference 2.13, F16 (restored) and F8 (v26.07: all-clients keys only; v26.08: F23,
 * scoped by the user's client lists through the invoice's client), plus create against an
 * invoice as the web UI's add_payment does it (agent/post/payment.php): the payment may not exceed
 * the invoice's balance; the invoice becomes Paid when nothing is left, else Partial, with a
 * history row. Amounts are exact (engine/decimal.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/php.h"
#include "engine/hook.h"
#include "modules/billing.h"

static const struct filter filters[] = {
    {"payment_id", FK_ID, "payment_id", NULL, FS_ONE, 0, NULL},
    {"payment_invoice_id", FK_ID, "payment_invoice_id", NULL, FS_LIST, 0, NULL},
};

static const struct field fields[] = {
    {"payment_invoice_id", "payment_invoice_id", CV_INT, FF_REQUIRED, NULL},
    {"payment_amount", "payment_amount", CV_MONEY, FF_REQUIRED | FF_NAME, NULL},
    {"payment_date", "payment_date", CV_DATE, 0, NULL},
    {"payment_currency_code", "payment_currency_code", CV_TEXT, 0, NULL},
    {"payment_method", "payment_method", CV_TEXT, 0, NULL},
    {"payment_reference", "payment_reference", CV_TEXT, 0, NULL},
    {"payment_account_id", "payment_account_id", CV_INT, 0, NULL},
};

/* The sum of the invoice's payments in cents, exactly (SQLite: each rounded to cents first). */
static enum eng_rc paid_cents(struct op_ctx *ctx, int64_t invoice, int64_t *cents)
{
    static const char sqlite[] = "SELECT CAST(COALESCE(SUM(ROUND(payment_amount * 100)), 0) AS "
                                 "INTEGER) FROM payments WHERE payment_invoice_id = ?";
    static const char mariadb[] = "SELECT CAST(COALESCE(SUM(payment_amount), 0) * 100 AS SIGNED) "
                                  "FROM payments WHERE payment_invoice_id = ?";
    struct db_stmt *st;
    if (db_stmt(ctx->db, db_dialect(ctx->db) == DB_MARIADB ? mariadb : sqlite, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, invoice);
    return db_query_int(st, cents) == DB_ROW ? ENG_OK : ENG_DB;
}

/* Before the INSERT: the invoice (in the named client, payable), the balance, the defaults. */
static enum eng_rc check_payment(struct op_ctx *ctx)
{
    struct invoice_row inv;
    int64_t id = ctx_val(ctx, "payment_invoice_id")->i;
    enum eng_rc rc = invoice_load(ctx, id, &inv);
    if (rc != ENG_OK)
        return rc;
    if (strcmp(inv.status, "Draft") == 0 || strcmp(inv.status, "Cancelled") == 0 ||
        strcmp(inv.status, "Non-Billable") == 0 || strcmp(inv.status, "Paid") == 0)
        return reply_bad(ctx->r, "payment_invoice_id names a %s invoice: it takes no payment",
                         inv.status);
    int64_t paid, amount = 0;
    if ((rc = paid_cents(ctx, id, &paid)) != ENG_OK)
        return rc;
    const struct value *av = ctx_val(ctx, "payment_amount");
    dec_parse(av->p, av->n, 2, &amount);
    if (amount <= 0)
        return reply_bad(ctx->r, "payment_amount must be more than 0");
    if (amount > inv.amount - paid)
        return reply_bad(ctx->r, "payment_amount is more than the invoice's balance (%s)",
                         cents_text(ctx, inv.amount - paid));
    struct value *date = ctx_val(ctx, "payment_date");
    if (date->is_null) {
        char day[11];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        value_from_text(date, ctx_strdup(ctx, day, 10), 10);
    }
    struct value *cur = ctx_val(ctx, "payment_currency_code");
    if (cur->n == 0)
        value_from_text(cur, inv.currency, strlen(inv.currency));
    ctx->S = inv.client; /* the log rows name the invoice's client */
    ctx->aux = id;
    char num[24];
    snprintf(num, sizeof(num), "%lld", (long long)inv.number);
    ctx_set_var(ctx, "prefix", inv.prefix);
    ctx_set_var(ctx, "number", ctx_strdup(ctx, num, strlen(num)));
    ctx_set_var(ctx, "currency", inv.currency);
    return ENG_OK;
}

/* the invoice's number and the new status are the hook's variables */
static const struct log_spec payment_logs[2] = {
    {"Invoice", "Payment",
     "Payment amount of {name} {currency} added to invoice {prefix}{number} via API ({key})",
     LR_SCOPE, LR_AUX},
    {"API", "Success",
     "Created payment of {name} {currency} on invoice {prefix}{number} ({status}) via API ({key})",
     LR_SCOPE, LR_ZERO},
};

/* The invoice's status from its payments, as the UI's updateInvoiceStatusFromPayments decides it:
 * a Draft or Cancelled invoice keeps its status; nothing paid is Sent, the whole amount Paid,
 * anything between Partial. */
static enum eng_rc status_from_payments(struct op_ctx *ctx, const struct invoice_row *inv,
                                        const char **status)
{
    static const char set_sql[] = "UPDATE invoices SET invoice_status = ? WHERE invoice_id = ?";
    *status = inv->status;
    if (strcmp(inv->status, "Draft") == 0 || strcmp(inv->status, "Cancelled") == 0)
        return ENG_OK;
    int64_t paid;
    enum eng_rc rc = paid_cents(ctx, inv->id, &paid);
    if (rc != ENG_OK)
        return rc;
    *status = paid <= 0 ? "Sent" : paid >= inv->amount ? "Paid" : "Partial";
    struct db_stmt *st;
    if (db_stmt(ctx->db, set_sql, &st) != DB_OK)
        return ENG_DB;
    db_bind_text(st, 1, *status, strlen(*status));
    db_bind_int(st, 2, inv->id);
    enum db_rc drc = db_step(st);
    db_reset(st);
    return drc == DB_DONE ? ENG_OK : ENG_DB;
}

/* After the INSERT: Paid when the payments cover the amount, else Partial, with history. */
static enum eng_rc settle_invoice(struct op_ctx *ctx)
{
    struct invoice_row inv;
    enum eng_rc rc = invoice_load(ctx, ctx->aux, &inv);
    if (rc != ENG_OK)
        return rc == ENG_NOT_DONE ? ENG_DB : rc;
    const char *status;
    if ((rc = status_from_payments(ctx, &inv, &status)) != ENG_OK)
        return rc;
    ctx_set_var(ctx, "status", status);
    if ((rc = invoice_history(ctx, inv.id, status, "Payment added")) != ENG_OK)
        return rc;
    for (size_t i = 0; i < COUNT_OF(payment_logs); i++)
        if ((rc = ctx_log(ctx, &payment_logs[i])) != ENG_OK)
            return rc;
    return ENG_OK;
}

/* delete: the payment's invoice (locked; in the named client when one is named). */
static enum eng_rc payment_invoice(struct op_ctx *ctx)
{
    size_t n;
    const char *inv_id = ctx_cur(ctx, "payment_invoice_id", &n);
    struct invoice_row inv;
    enum eng_rc rc = invoice_load(ctx, inv_id ? php_intval_str(inv_id, n) : 0, &inv);
    if (rc == ENG_NOT_DONE && inv_id && php_intval_str(inv_id, n) == 0 && ctx->S == 0 &&
        ctx_row_client(ctx, 0) == ENG_OK)
        return ENG_OK; /* a payment on no invoice (not for a user limited to some clients) */
    if (rc != ENG_OK)
        return rc;
    ctx->aux = inv.id;
    ctx->S = inv.client; /* the log rows name the invoice's client */
    const char *amount = ctx_cur(ctx, "payment_amount", &n);
    int64_t cents = 0;
    if (amount)
        dec_parse(amount, n, 2, &cents);
    ctx_set_var(ctx, "amount", cents_text(ctx, cents));
    char num[24];
    snprintf(num, sizeof(num), "%lld", (long long)inv.number);
    ctx_set_var(ctx, "prefix", inv.prefix);
    ctx_set_var(ctx, "number", ctx_strdup(ctx, num, strlen(num)));
    return ENG_OK;
}

static const struct log_spec delete_logs[2] = {
    {"Invoice", "Edit", "Deleted payment of {amount} on invoice {prefix}{number} via API ({key})",
     LR_SCOPE, LR_AUX},
    {"API", "Success",
     "Deleted payment of {amount} on invoice {prefix}{number} ({status}) via API "
     "({key})",
     LR_SCOPE, LR_ZERO},
};

/* After the DELETE: the invoice's status from what is left, a history row, the log rows. */
static enum eng_rc unsettle_invoice(struct op_ctx *ctx)
{
    if (ctx->aux == 0)
        return ENG_OK;
    struct invoice_row inv;
    enum eng_rc rc = invoice_load(ctx, ctx->aux, &inv);
    if (rc != ENG_OK)
        return rc == ENG_NOT_DONE ? ENG_DB : rc;
    const char *status;
    if ((rc = status_from_payments(ctx, &inv, &status)) != ENG_OK ||
        (rc = invoice_history(ctx, inv.id, status, "Payment deleted")) != ENG_OK)
        return rc;
    ctx_set_var(ctx, "status", status);
    for (size_t i = 0; i < COUNT_OF(delete_logs); i++)
        if ((rc = ctx_log(ctx, &delete_logs[i])) != ENG_OK)
            return rc;
    return ENG_OK;
}

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create", .op = OP_CREATE, .before = check_payment, .after = settle_invoice},
    {.function = "delete",
     .op = OP_DELETE,
     .id_param = "payment_id",
     .before = payment_invoice,
     .after = unsettle_invoice},
};

static struct module_resolved resolved;

const struct module module_payments = {
    .res = &resolved,
    .name = "payments",
    .rbac_module = "module_financial",
    .table = "payments",
    /* F8 for v26.07 keys; F23: v26.08 users' client lists through the invoice's client */
    .client_col = "invoice_client_id",
    .scope_join =
        &(const struct join){"invoices", "invoices.invoice_id = payments.payment_invoice_id"},
    .archived_col = "payment_archived_at",
    .flags = MOD_ALL_CLIENTS_ONLY,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};

/* invoices: reference 2.9 (read) plus create, update, delete, archive and unarchive (COMPAT A3),
 * as the web UI's handlers do them (agent/post/invoice.php): a new invoice is a Draft numbered
 * from the settings counter in its own transaction, due after the client's net terms, with an
 * optional items array and a history row (billing.c, the path quotes take too); status moves are
 * the UI's (Draft -> Sent, Cancelled, Non-Billable; Partial and Paid come from payments). */
#include <stdio.h>
#include <string.h>

#include "engine/hook.h"
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

/* The create, the amount after an update and the delete's rows are billing.c's, driven by
 * BILL_INVOICE; the status moves below are the invoice's own. */
static enum eng_rc number_invoice(struct op_ctx *ctx)
{
    return bill_create_before(ctx, &BILL_INVOICE);
}

static enum eng_rc add_items(struct op_ctx *ctx)
{
    return bill_create_after(ctx, &BILL_INVOICE);
}

static enum eng_rc recompute_after_update(struct op_ctx *ctx)
{
    return bill_update_after(ctx, &BILL_INVOICE);
}

static enum eng_rc delete_children(struct op_ctx *ctx)
{
    return bill_delete_children(ctx, &BILL_INVOICE);
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

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    BILL_CREATE("Invoice", "invoice", number_invoice, add_items),
    BILL_UPDATE("Invoice", "invoice", check_update, recompute_after_update),
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

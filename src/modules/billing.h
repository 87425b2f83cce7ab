/* billing: what invoices, quotes, invoice_items and payments share: line items with exact amounts
 * (engine/decimal.h), the total recomputed from the items, the history rows, and the create,
 * update and delete hooks of invoices and quotes, driven by a struct bill_kind. */
#ifndef ITFLOWD_MODULES_BILLING_H
#define ITFLOWD_MODULES_BILLING_H

#include "engine/hook.h"

/* An invoice or a quote: the SQL of its row (by dialect: MariaDB locks it), its items, its total
 * and its history, and what its create and delete do that the other's do not. */
struct bill_kind {
    const char *load[2];
    const char *insert_item;
    const char *sum_items[2];
    const char *set_amount;
    const char *history;
    int stock;               /* tangible products take stock (invoices) */
    const char *noun;        /* "invoice": the fields <noun>_date, _currency_code, _status, ... */
    const char *title;       /* "Invoice": the history row "<title> created via API (<key>)" */
    const char *take_sql;    /* the settings counter (counter_take): moved on, */
    const char *taken_sql;   /* then the prefix and number taken read back */
    int due_after_terms;     /* <noun>_due, when not sent: the date plus the client's net terms */
    const char *children[4]; /* a delete's statements (bound with the id), NULL after the last */
};
extern const struct bill_kind BILL_INVOICE, BILL_QUOTE;

/* The invoice (or quote) a write names, as loaded in the write's transaction. */
struct invoice_row {
    const struct bill_kind *kind;
    int64_t id;
    int64_t client;
    int64_t discount; /* cents */
    int64_t amount;   /* cents */
    const char *prefix;
    int64_t number;
    const char *status;
    const char *currency;
};

/* Loads invoice id. ENG_OK (found), ENG_NOT_DONE (no such invoice, or another client's when
 * ctx->S is not 0) or ENG_DB. */
enum eng_rc invoice_load(struct op_ctx *ctx, int64_t id, struct invoice_row *inv);
enum eng_rc bill_load(struct op_ctx *ctx, const struct bill_kind *kind, int64_t id,
                      struct invoice_row *inv);

/* How a line item that cannot be added is answered. */
enum item_mode {
    ITEM_ALONE,     /* invoice_items/create: the reference's answers (insert failed, stock log) */
    ITEM_IN_CREATE, /* an element of invoices/create's items: a 400 naming the element */
};

/* Adds the line item described by the body object `item` (invoice_items/create's fields: name,
 * description, qty, price, tax_id, item_order, product_id) to the invoice: stock row for a
 * tangible product, tax from the taxes table, subtotal/tax/total to the cent. *item_id gets the
 * new id, or 0 when the item was refused with the reference's answer (ITEM_ALONE). */
enum eng_rc invoice_add_item(struct op_ctx *ctx, const struct invoice_row *inv, json_t *item,
                             enum item_mode mode, size_t index, int64_t *item_id);

/* invoice_amount = SUM(item_total) - invoice_discount_amount, summed exactly. *amount (cents) gets
 * the new amount when not NULL. */
enum eng_rc invoice_recompute(struct op_ctx *ctx, const struct invoice_row *inv, int64_t *amount);

/* A history row of the invoice (status, description). */
enum eng_rc invoice_history(struct op_ctx *ctx, int64_t invoice_id, const char *status,
                            const char *desc);
enum eng_rc bill_history(struct op_ctx *ctx, const struct bill_kind *kind, int64_t id,
                         const char *status, const char *desc);

/* The hooks of <noun>s/create, /update and /delete (each module's hook is one call of these).
 * Before the INSERT: the client exists (400 if not), the date (today, UTC) and due date, the
 * currency (the company's), the status Draft, the amount (0 less the discount), the number from
 * the settings counter (the write transaction holds the settings row) and the URL key. After
 * it: the history row, then the items array (each element as invoice_items/create takes it; a
 * bad element refuses the whole create) and the total. */
enum eng_rc bill_create_before(struct op_ctx *ctx, const struct bill_kind *kind);
enum eng_rc bill_create_after(struct op_ctx *ctx, const struct bill_kind *kind);
/* After an UPDATE: a new discount changes the amount (counted as a change when it moved). */
enum eng_rc bill_update_after(struct op_ctx *ctx, const struct bill_kind *kind);
/* Before a DELETE: the rows that belong to it (kind->children), as the UI deletes them. */
enum eng_rc bill_delete_children(struct op_ctx *ctx, const struct bill_kind *kind);

/* The create and update endpoints of invoices and quotes: TYPE the log type ("Invoice"), NOUN
 * the record ("invoice": the texts name {invoice_prefix}{invoice_number}), the hooks. */
#define BILL_CREATE(TYPE, NOUN, BEFORE, AFTER)                                                     \
    {                                                                                              \
        .function = "create", .op = OP_CREATE, .scope_rule = SR_NONZERO, .before = BEFORE,         \
        .after = AFTER, .array = &line_items, .logs = {                                            \
            {TYPE, "Create",                                                                       \
             "Created " NOUN " {" NOUN "_prefix}{" NOUN "_number} - {name} via API ({key})",       \
             LR_SCOPE, LR_NEW_ID},                                                                 \
            {"API", "Success",                                                                     \
             "Created " NOUN " {" NOUN "_prefix}{" NOUN "_number} via API ({key})", LR_SCOPE,      \
             LR_ZERO}                                                                              \
        }                                                                                          \
    }
#define BILL_UPDATE(TYPE, NOUN, BEFORE, AFTER)                                                     \
    {                                                                                              \
        .function = "update", .op = OP_UPDATE, .id_param = NOUN "_id", .before = BEFORE,           \
        .after = AFTER, .logs = {                                                                  \
            {TYPE, "Edit", "Edited " NOUN " {" NOUN "_prefix}{" NOUN "_number} via API ({key})",   \
             LR_SCOPE, LR_ID},                                                                     \
            {"API", "Success",                                                                     \
             "Edited " NOUN " {" NOUN "_prefix}{" NOUN "_number} via API ({key})", LR_SCOPE,       \
             LR_ZERO}                                                                              \
        }                                                                                          \
    }

/* The members of a line item (invoice_items/create's body, an element of an items array). */
extern const struct body_array line_items;

/* Cents as "1234.50". */
const char *cents_text(struct op_ctx *ctx, int64_t cents);

#endif

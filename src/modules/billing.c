/* billing: line items and invoice totals with exact amounts (billing.h). Amounts follow the web
 * UI's handler (agent/post/invoice.php, add_invoice_item): subtotal = price x qty, tax = subtotal
 * x tax_percent / 100, total = subtotal + tax, each stored rounded to the cent (half away from
 * zero, as MariaDB rounds a decimal); the invoice amount is the exact sum of its stored item
 * totals less its discount. No floating point anywhere, so both stores agree to the cent. The
 * create, update and delete hooks of invoices and quotes (agent/post/invoice.php add_invoice,
 * agent/post/quote.php add_quote) are here too, one path for both: what differs between an
 * invoice and a quote is data in its struct bill_kind. */
#include "modules/billing.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/php.h"
#include "modules/counter.h"

#define QTY_SCALE                                                                                  \
    4 /* quantities, prices and tax rates are taken to 4 decimals, then multiplied                 \
       * exactly (128-bit) */

#define LOAD(T, P)                                                                                 \
    "SELECT " P "_client_id, " P "_discount_amount, " P "_amount, COALESCE(" P "_prefix, ''), " P  \
    "_number, " P "_status, " P "_currency_code FROM " T " WHERE " P "_id = ?"
#define INSERT_ITEM(T, FK)                                                                         \
    "INSERT INTO " T " (item_name, item_description, item_quantity, item_price, item_subtotal, "   \
    "item_tax, item_total, item_order, item_tax_id, item_product_id, " FK                          \
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
/* the sum in cents: MariaDB adds decimals exactly; SQLite's NUMERIC values are doubles, so each is
 * rounded to whole cents first (exact integers in a double up to 2^53) */
#define SUM_SQLITE(T, FK)                                                                          \
    "SELECT CAST(COALESCE(SUM(ROUND(item_total * 100)), 0) AS INTEGER) FROM " T " WHERE " FK " = " \
    "?"
#define SUM_MARIADB(T, FK)                                                                         \
    "SELECT CAST(COALESCE(SUM(item_total), 0) * 100 AS SIGNED) FROM " T " WHERE " FK " = ?"

#define TAKE_NUMBER(N)                                                                             \
    "UPDATE settings SET config_" N "_next_number = COALESCE(config_" N "_next_number, 1) + 1 "    \
    "WHERE company_id = 1"
#define TAKEN_NUMBER(N)                                                                            \
    "SELECT COALESCE(config_" N "_prefix, ''), config_" N "_next_number - 1 FROM settings WHERE "  \
    "company_id = 1"

/* MariaDB: the invoice (quote) row is locked for the rest of the write, so that concurrent item and
 * payment writes of one invoice run one after the other; the locking read comes before the
 * write's first plain read, so the transaction's snapshot is taken after the lock is granted and
 * its sums see what the previous holder committed (SQLite's write transactions are exclusive) */
const struct bill_kind BILL_INVOICE = {
    .load = {LOAD("invoices", "invoice"), LOAD("invoices", "invoice") " FOR UPDATE"},
    .insert_item = INSERT_ITEM("invoice_items", "item_invoice_id"),
    .sum_items = {SUM_SQLITE("invoice_items", "item_invoice_id"),
                  SUM_MARIADB("invoice_items", "item_invoice_id")},
    .set_amount = "UPDATE invoices SET invoice_amount = ? WHERE invoice_id = ?",
    .history = "INSERT INTO history (history_status, history_description, history_invoice_id) "
               "VALUES (?, ?, ?)",
    .stock = 1,
    .noun = "invoice",
    .title = "Invoice",
    .take_sql = TAKE_NUMBER("invoice"),
    .taken_sql = TAKEN_NUMBER("invoice"),
    .due_after_terms = 1,
    .children = {"DELETE FROM invoice_items WHERE item_invoice_id = ?",
                 "DELETE FROM payments WHERE payment_invoice_id = ?",
                 "DELETE FROM history WHERE history_invoice_id = ?"},
};

const struct bill_kind BILL_QUOTE = {
    .load = {LOAD("quotes", "quote"), LOAD("quotes", "quote") " FOR UPDATE"},
    .insert_item = INSERT_ITEM("quote_items", "item_quote_id"),
    .sum_items = {SUM_SQLITE("quote_items", "item_quote_id"),
                  SUM_MARIADB("quote_items", "item_quote_id")},
    .set_amount = "UPDATE quotes SET quote_amount = ? WHERE quote_id = ?",
    .history = "INSERT INTO history (history_status, history_description, history_quote_id) "
               "VALUES (?, ?, ?)",
    .stock = 0,
    .noun = "quote",
    .title = "Quote",
    .take_sql = TAKE_NUMBER("quote"),
    .taken_sql = TAKEN_NUMBER("quote"),
    .due_after_terms = 0,
    .children = {"DELETE FROM quote_items WHERE item_quote_id = ?",
                 "DELETE FROM history WHERE history_quote_id = ?"},
};

static const char *col_dup(struct op_ctx *ctx, struct db_stmt *st, int i)
{
    size_t n;
    const char *p = db_column_text(st, i, &n);
    return ctx_strdup(ctx, p ? p : "", p ? n : 0);
}

static int64_t col_cents(struct db_stmt *st, int i)
{
    size_t n;
    const char *p = db_column_text(st, i, &n);
    int64_t v = 0;
    if (p)
        dec_parse(p, n, 2, &v);
    return v;
}

enum eng_rc bill_load(struct op_ctx *ctx, const struct bill_kind *kind, int64_t id,
                      struct invoice_row *inv)
{
    struct db_stmt *st;
    memset(inv, 0, sizeof(*inv));
    inv->kind = kind;
    if (db_stmt(ctx->db, kind->load[db_dialect(ctx->db) == DB_MARIADB], &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, id);
    enum db_rc rc = db_step(st);
    if (rc == DB_ROW) {
        inv->id = id;
        inv->client = db_column_int(st, 0);
        inv->discount = col_cents(st, 1);
        inv->amount = col_cents(st, 2);
        inv->prefix = col_dup(ctx, st, 3);
        inv->number = db_column_int(st, 4);
        inv->status = col_dup(ctx, st, 5);
        inv->currency = col_dup(ctx, st, 6);
    }
    db_reset(st);
    if (rc == DB_DONE)
        return ENG_NOT_DONE;
    if (rc != DB_ROW || !inv->prefix || !inv->status || !inv->currency)
        return ENG_DB;
    return ctx_row_client(ctx, inv->client);
}

enum eng_rc invoice_load(struct op_ctx *ctx, int64_t id, struct invoice_row *inv)
{
    return bill_load(ctx, &BILL_INVOICE, id, inv);
}

static const struct field item_fields[] = {
    {"name", NULL, CV_TEXT, FF_REQUIRED, NULL}, {"description", NULL, CV_TEXT, 0, NULL},
    {"qty", NULL, CV_MONEY, FF_REQUIRED, NULL}, {"price", NULL, CV_MONEY, 0, NULL},
    {"tax_id", NULL, CV_INT, 0, NULL},          {"item_order", NULL, CV_INT, 0, NULL},
    {"product_id", NULL, CV_INT, 0, NULL},
};
const struct body_array line_items = {"items", item_fields, COUNT_OF(item_fields)};

const char *cents_text(struct op_ctx *ctx, int64_t cents)
{
    char tmp[32];
    dec_format(cents, 2, tmp);
    return ctx_strdup(ctx, tmp, strlen(tmp));
}

/* A quantity as PHP prints a float: no trailing zeros ("2", "2.5"). */
static void qty_text(int64_t q, char *out)
{
    dec_format(q, QTY_SCALE, out);
    char *dot = strchr(out, '.');
    if (!dot)
        return;
    char *end = out + strlen(out) - 1;
    while (end > dot && *end == '0')
        *end-- = 0;
    if (end == dot)
        *end = 0;
}

enum eng_rc bill_history(struct op_ctx *ctx, const struct bill_kind *kind, int64_t id,
                         const char *status, const char *desc)
{
    struct db_stmt *st;
    int64_t invoice_id = id;
    if (db_stmt(ctx->db, kind->history, &st) != DB_OK)
        return ENG_DB;
    size_t dn = strlen(desc);
    db_bind_text(st, 1, status, strlen(status));
    db_bind_text(st, 2, desc, utf8_valid(desc, dn) ? utf8_prefix(desc, dn, 200) : dn);
    db_bind_int(st, 3, invoice_id);
    enum db_rc rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? ENG_OK : ENG_DB;
}

enum eng_rc invoice_history(struct op_ctx *ctx, int64_t invoice_id, const char *status,
                            const char *desc)
{
    return bill_history(ctx, &BILL_INVOICE, invoice_id, status, desc);
}

/* The item's name: cut at 200 characters (F25: never inside a character), then cleaned. */
static enum eng_rc item_name(struct op_ctx *ctx, struct buf *out)
{
    const char *s;
    size_t n;
    enum eng_rc rc = body_string(ctx, "name", &s, &n);
    if (rc != ENG_OK || !s)
        return rc;
    php_sanitize(out, s, utf8_valid(s, n) ? utf8_prefix(s, n, 200) : (n < 200 ? n : 200));
    return out->failed ? ENG_DB : ENG_OK;
}

static enum eng_rc item_refused(struct op_ctx *ctx, enum item_mode mode, size_t index,
                                const char *why)
{
    if (mode == ITEM_ALONE)
        return ENG_NOT_DONE;
    return reply_bad(ctx->r, "items[%zu]: %s", index, why);
}

/* Tangible products need the stock: a row taking qty out, or the refusal. 1 when refused. */
static enum eng_rc take_stock(struct op_ctx *ctx, const struct invoice_row *inv, int64_t product,
                              int64_t qty, int *refused)
{
    static const char type_sql[] = "SELECT product_type FROM products WHERE product_id = ?";
    static const char stock_sql[] =
        "SELECT COALESCE(SUM(stock_qty), 0) FROM product_stock WHERE stock_product_id = ?";
    static const char take_sql[] =
        "INSERT INTO product_stock (stock_qty, stock_note, stock_product_id) VALUES (?, ?, ?)";
    struct db_stmt *st;
    *refused = 0;
    if (db_stmt(ctx->db, type_sql, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, product);
    enum db_rc rc = db_step(st);
    size_t n = 0;
    const char *type = rc == DB_ROW ? db_column_text(st, 0, &n) : NULL;
    int tangible = type && n == 7 && memcmp(type, "product", 7) == 0;
    db_reset(st);
    if (rc != DB_ROW && rc != DB_DONE)
        return ENG_DB;
    if (!tangible)
        return ENG_OK;
    if (db_stmt(ctx->db, stock_sql, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, product);
    int64_t available = 0;
    if (db_query_int(st, &available) != DB_ROW)
        return ENG_DB;
    if (dec_rescale(available, 0, QTY_SCALE) < qty) {
        *refused = 1;
        return ENG_OK;
    }
    char q[32], note[96];
    qty_text(qty, q);
    snprintf(note, sizeof(note), "QTY %s - Invoice %lld", q, (long long)inv->id);
    if (db_stmt(ctx->db, take_sql, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, -dec_rescale(qty, QTY_SCALE, 0)); /* stock_qty is an integer column */
    db_bind_text(st, 2, note, strlen(note));
    db_bind_int(st, 3, product);
    rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? ENG_OK : ENG_DB;
}

/* tax_percent of the tax (scale 6); 0 when the tax does not exist. */
static enum eng_rc tax_percent(struct op_ctx *ctx, int64_t tax_id, int64_t *pct)
{
    static const char sql[] = "SELECT tax_percent FROM taxes WHERE tax_id = ?";
    struct db_stmt *st;
    *pct = 0;
    if (tax_id <= 0)
        return ENG_OK;
    if (db_stmt(ctx->db, sql, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, tax_id);
    enum db_rc rc = db_step(st);
    if (rc == DB_ROW) {
        size_t n;
        const char *p = db_column_text(st, 0, &n);
        if (p)
            dec_parse(p, n, QTY_SCALE, pct);
    }
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? ENG_OK : ENG_DB;
}

/* v / d rounded half away from zero */
static __int128 round_to(__int128 v, __int128 d)
{
    __int128 q = v / d, r = v % d;
    if (2 * (r < 0 ? -r : r) >= d)
        q += v < 0 ? -1 : 1;
    return q;
}

static const struct log_spec item_logs[2] = {
    {"Invoice", "Edit", "Added item {item} to invoice {prefix}{number} via API ({key})", LR_AUX,
     LR_ID},
    {"API", "Success", "Added item {item} to invoice {prefix}{number} via API ({key})", LR_AUX,
     LR_ZERO},
};
static const struct log_spec stock_log = {
    "API", "Failure",
    "Failed adding item {item} to invoice {prefix}{number} via API ({key}) due to insufficient "
    "stock",
    LR_AUX, LR_ZERO};

static enum eng_rc add_item(struct op_ctx *ctx, const struct invoice_row *inv, enum item_mode mode,
                            size_t index, int64_t *item_id)
{
    struct buf name, desc;
    buf_init(&name, 0);
    buf_init(&desc, 0);
    const char *ds;
    size_t dn;
    int64_t qty, price, tax_id, order, product, pct;
    int64_t subtotal, tax, total;
    int refused = 0;
    *item_id = 0;
    enum eng_rc rc = item_name(ctx, &name);
    if (rc == ENG_OK)
        rc = body_string(ctx, "description", &ds, &dn);
    if (rc == ENG_OK && ds)
        php_sanitize(&desc, ds, dn);
    if (rc == ENG_OK)
        rc = body_decimal(ctx, "qty", QTY_SCALE, &qty, NULL);
    if (rc == ENG_OK)
        rc = body_decimal(ctx, "price", QTY_SCALE, &price, NULL);
    if (rc == ENG_OK)
        rc = body_int(ctx, "tax_id", &tax_id, NULL);
    if (rc == ENG_OK)
        rc = body_int(ctx, "item_order", &order, NULL);
    if (rc == ENG_OK)
        rc = body_int(ctx, "product_id", &product, NULL);
    if (rc != ENG_OK)
        goto out;
    if (name.failed || desc.failed) {
        rc = ENG_DB;
        goto out;
    }
    if (name.len == 0 || (name.len == 1 && name.p[0] == '0')) {
        rc = item_refused(ctx, mode, index, "name is required");
        goto out;
    }
    if (qty <= 0) {
        rc = item_refused(ctx, mode, index, "qty must be more than 0");
        goto out;
    }
    if (utf8_length(desc.p ? desc.p : "", desc.len) > 65535) {
        rc = reply_bad(ctx->r, "description is longer than 65535 bytes");
        goto out;
    }
    /* exact: qty and price at scale 4, their product at scale 8, the tax (x rate / 100, the rate
     * at scale 4) at scale 12 */
    const __int128 unit8 = 100000000, unit12 = (__int128)unit8 * 10000;
    const __int128 lim8 = (__int128)10000000000000LL * unit8;
    __int128 sub8 = (__int128)qty * price;
    if (sub8 >= lim8 || sub8 <= -lim8) {
        rc = reply_bad(ctx->r, "price x qty is out of range (at most 13 digits before the point)");
        goto out;
    }
    if ((rc = tax_percent(ctx, tax_id, &pct)) != ENG_OK)
        goto out;
    __int128 tax12 = sub8 * pct / 100; /* what is cut is below 10^-12: it never moves a cent */
    __int128 tot12 = sub8 * 10000 + tax12;
    subtotal = (int64_t)round_to(sub8, unit8 / 100);
    tax = (int64_t)round_to(tax12, unit12 / 100);
    total = (int64_t)round_to(tot12, unit12 / 100);
    if (inv->prefix) {
        char num[24];
        snprintf(num, sizeof(num), "%lld", (long long)inv->number);
        ctx_set_var(ctx, "prefix", inv->prefix);
        ctx_set_var(ctx, "number", ctx_strdup(ctx, num, strlen(num)));
        ctx_set_var(ctx, "item", ctx_strdup(ctx, name.p, name.len));
    }
    ctx->aux = inv->client;
    ctx->id = inv->id;
    if (product > 0 && inv->kind->stock &&
        (rc = take_stock(ctx, inv, product, qty, &refused)) != ENG_OK)
        goto out;
    if (refused) {
        if (mode == ITEM_ALONE)
            rc = ctx_log(ctx, &stock_log); /* kept: the reference logs the refusal */
        else
            rc = reply_bad(ctx->r, "items[%zu]: product %lld has not enough stock", index,
                           (long long)product);
        goto out;
    }
    struct db_stmt *st;
    if (db_stmt(ctx->db, inv->kind->insert_item, &st) != DB_OK) {
        rc = ENG_DB;
        goto out;
    }
    char q[32], pr[32], s[32], tx[32], to[32];
    dec_format(dec_rescale(qty, QTY_SCALE, 2), 2, q);
    dec_format(dec_rescale(price, QTY_SCALE, 2), 2, pr);
    dec_format(subtotal, 2, s);
    dec_format(tax, 2, tx);
    dec_format(total, 2, to);
    db_bind_text(st, 1, name.p, name.len);
    db_bind_text(st, 2, desc.p ? desc.p : "", desc.len);
    db_bind_text(st, 3, q, strlen(q));
    db_bind_text(st, 4, pr, strlen(pr));
    db_bind_text(st, 5, s, strlen(s));
    db_bind_text(st, 6, tx, strlen(tx));
    db_bind_text(st, 7, to, strlen(to));
    db_bind_int(st, 8, order);
    db_bind_int(st, 9, tax_id);
    db_bind_int(st, 10, product);
    db_bind_int(st, 11, inv->id);
    enum db_rc drc = db_step(st);
    db_reset(st);
    if (drc != DB_DONE) {
        rc = ENG_DB;
        goto out;
    }
    *item_id = db_last_insert_id(ctx->db);
    if (mode == ITEM_ALONE)
        for (size_t i = 0; rc == ENG_OK && i < COUNT_OF(item_logs); i++)
            rc = ctx_log(ctx, &item_logs[i]);
out:
    buf_free(&name);
    buf_free(&desc);
    return rc;
}

enum eng_rc invoice_add_item(struct op_ctx *ctx, const struct invoice_row *inv, json_t *item,
                             enum item_mode mode, size_t index, int64_t *item_id)
{
    json_t *body = ctx->r->body;
    if (item != body && !json_is_object(item))
        return reply_bad(ctx->r, "items[%zu] must be an object", index);
    ctx->r->body = item; /* the element's fields are read like a body's */
    enum eng_rc rc = add_item(ctx, inv, mode, index, item_id);
    ctx->r->body = body;
    return rc;
}

enum eng_rc invoice_recompute(struct op_ctx *ctx, const struct invoice_row *inv, int64_t *amount)
{
    struct db_stmt *st;
    if (db_stmt(ctx->db, inv->kind->sum_items[db_dialect(ctx->db) == DB_MARIADB], &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, inv->id);
    int64_t sum = 0;
    if (db_query_int(st, &sum) != DB_ROW)
        return ENG_DB;
    int64_t cents = sum - inv->discount;
    if (amount)
        *amount = cents;
    const char *text = cents_text(ctx, cents);
    if (!text || db_stmt(ctx->db, inv->kind->set_amount, &st) != DB_OK)
        return ENG_DB;
    db_bind_text(st, 1, text, strlen(text));
    db_bind_int(st, 2, inv->id);
    enum db_rc rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? ENG_OK : ENG_DB;
}

/* The value of the field <noun>_<suffix> (every field named here is in both descriptors). */
static struct value *kind_val(struct op_ctx *ctx, const struct bill_kind *kind, const char *suffix)
{
    char name[64];
    snprintf(name, sizeof(name), "%s_%s", kind->noun, suffix);
    return ctx_val(ctx, name);
}

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

enum eng_rc bill_create_before(struct op_ctx *ctx, const struct bill_kind *kind)
{
    static const char client_sql[] = "SELECT client_net_terms FROM clients WHERE client_id = ?";
    static const char currency_sql[] =
        "SELECT COALESCE(company_currency, 'USD') FROM companies WHERE company_id = 1";
    struct value *date = kind_val(ctx, kind, "date"), *cur = kind_val(ctx, kind, "currency_code");
    struct value *status = kind_val(ctx, kind, "status"), *amount = kind_val(ctx, kind, "amount");
    const struct value *dv = kind_val(ctx, kind, "discount_amount");
    struct value *due = kind->due_after_terms ? kind_val(ctx, kind, "due") : NULL;
    if (!date || !cur || !status || !amount || !dv || (kind->due_after_terms && !due))
        return ENG_DB; /* a descriptor without the fields of a bill */
    struct db_stmt *st;
    if (db_stmt(ctx->db, client_sql, &st) != DB_OK)
        return ENG_DB;
    db_bind_int(st, 1, ctx->S);
    int64_t terms = 0;
    enum db_rc rc = db_query_int(st, &terms);
    if (rc == DB_DONE)
        return reply_bad(ctx->r, "client_id names no client");
    if (rc != DB_ROW)
        return ENG_DB;
    char day[11];
    if (date->is_null) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        set_text(ctx, date, day);
    }
    if (due && due->is_null && date->p) {
        add_days(date->p, terms, day);
        set_text(ctx, due, day);
    }
    if (cur->n == 0) {
        if (db_stmt(ctx->db, currency_sql, &st) != DB_OK)
            return ENG_DB;
        rc = db_step(st);
        size_t n = 0;
        const char *p = rc == DB_ROW ? db_column_text(st, 0, &n) : NULL;
        value_from_text(cur, ctx_strdup(ctx, p ? p : "USD", p ? n : 3), p ? n : 3);
        db_reset(st);
        if (rc != DB_ROW && rc != DB_DONE)
            return ENG_DB;
    }
    set_text(ctx, status, "Draft");
    /* the UI's amount without items: 0 less the discount */
    int64_t discount = 0;
    if (dv->p)
        dec_parse(dv->p, dv->n, 2, &discount);
    const char *text = cents_text(ctx, -discount);
    if (!text)
        return ENG_DB;
    set_text(ctx, amount, text);
    return counter_take(ctx, kind->take_sql, kind->taken_sql, kind->noun);
}

enum eng_rc bill_create_after(struct op_ctx *ctx, const struct bill_kind *kind)
{
    char desc[1100];
    snprintf(desc, sizeof(desc), "%s created via API (%s)", kind->title, ctx->r->key.name_html);
    enum eng_rc rc = bill_history(ctx, kind, ctx->new_id, "Draft", desc);
    if (rc != ENG_OK)
        return rc;
    json_t *items = ctx->r->body ? json_object_get(ctx->r->body, "items") : NULL;
    if (!items || json_is_null(items))
        return ENG_OK;
    if (!json_is_array(items))
        return reply_bad(ctx->r, "items must be an array of line items");
    struct invoice_row row;
    int64_t saved_id = ctx->id, saved_aux = ctx->aux;
    if ((rc = bill_load(ctx, kind, ctx->new_id, &row)) != ENG_OK)
        return rc == ENG_NOT_DONE ? ENG_DB : rc;
    for (size_t i = 0; i < json_array_size(items); i++) {
        int64_t item = 0;
        rc = invoice_add_item(ctx, &row, json_array_get(items, i), ITEM_IN_CREATE, i, &item);
        if (rc != ENG_OK)
            return rc;
    }
    ctx->id = saved_id;
    ctx->aux = saved_aux;
    return json_array_size(items) ? invoice_recompute(ctx, &row, NULL) : ENG_OK;
}

enum eng_rc bill_update_after(struct op_ctx *ctx, const struct bill_kind *kind)
{
    const struct value *discount = kind_val(ctx, kind, "discount_amount");
    if (!discount || !discount->set)
        return ENG_OK;
    struct invoice_row row;
    enum eng_rc rc = bill_load(ctx, kind, ctx->id, &row);
    if (rc != ENG_OK)
        return rc == ENG_NOT_DONE ? ENG_DB : rc;
    int64_t after = 0;
    if ((rc = invoice_recompute(ctx, &row, &after)) != ENG_OK)
        return rc;
    if (after != row.amount && ctx->count == 0)
        ctx->count = 1;
    return ENG_OK;
}

enum eng_rc bill_delete_children(struct op_ctx *ctx, const struct bill_kind *kind)
{
    for (size_t i = 0; i < COUNT_OF(kind->children) && kind->children[i]; i++)
        if (ctx_exec_ints(ctx, kind->children[i], 1, &ctx->id) != ENG_OK)
            return ENG_DB;
    return ENG_OK;
}

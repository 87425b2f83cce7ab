/* values: request values converted the way the reference converts them (1.9, K11), then checked
 * against the column they are written to (F2) so that nothing invalid reaches the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/php.h"
#include "engine/engine_int.h"

/* The body's JSON value for name, NULL when absent or null. */
static json_t *body_get(struct req *r, const char *name)
{
    if (!r->body)
        return NULL;
    json_t *v = json_object_get(r->body, name);
    return json_is_null(v) ? NULL : v;
}

/* A scalar JSON value as PHP's (string) cast sees it, in the arena. */
static enum eng_rc scalar_text(struct op_ctx *ctx, const char *name, json_t *j, const char **ret,
                               size_t *ret_len)
{
    struct req *r = ctx->r;
    char tmp[64];
    switch (json_typeof(j)) {
    case JSON_STRING:
        *ret = json_string_value(j);
        *ret_len = json_string_length(j);
        return ENG_OK;
    case JSON_INTEGER:
        snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(j));
        break;
    case JSON_REAL: {
        struct buf b;
        buf_init(&b, 64);
        php_float_to_string(json_real_value(j), &b);
        snprintf(tmp, sizeof(tmp), "%s", b.p ? b.p : "0");
        buf_free(&b);
        break;
    }
    case JSON_TRUE:
        tmp[0] = '1', tmp[1] = 0;
        break;
    case JSON_FALSE:
        tmp[0] = 0;
        break;
    default:
        return reply_bad(r, "%s must be a string or a number, not %s", name,
                         json_is_array(j) ? "an array" : "an object");
    }
    *ret_len = strlen(tmp);
    *ret = ctx_strdup(ctx, tmp, *ret_len);
    return *ret ? ENG_OK : ENG_DB;
}

enum eng_rc body_string(struct op_ctx *ctx, const char *name, const char **ret, size_t *ret_len)
{
    json_t *j = body_get(ctx->r, name);
    *ret = NULL;
    *ret_len = 0;
    if (!j)
        return ENG_OK;
    return scalar_text(ctx, name, j, ret, ret_len);
}

static int64_t json_intval(json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_STRING:
        return php_intval_str(json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        return (int64_t)json_integer_value(j);
    case JSON_REAL:
        return php_intval_double(json_real_value(j));
    case JSON_TRUE:
        return 1;
    default:
        return 0;
    }
}

enum eng_rc body_int(struct op_ctx *ctx, const char *name, int64_t *ret, int *ret_set)
{
    json_t *j = body_get(ctx->r, name);
    *ret = 0;
    if (ret_set)
        *ret_set = j != NULL;
    if (!j)
        return ENG_OK;
    if (json_is_array(j) || json_is_object(j))
        return reply_bad(ctx->r, "%s must be a number, not %s", name,
                         json_is_array(j) ? "an array" : "an object");
    *ret = json_intval(j);
    return ENG_OK;
}

/* The decimal text of a JSON number or string (reals: the shortest text that reads back as the
 * same double, so 12.5 stays "12.5"). NULL when it is neither. */
static const char *number_text(json_t *j, char tmp[40], size_t *n)
{
    if (json_is_string(j)) {
        *n = json_string_length(j);
        return json_string_value(j);
    }
    if (json_is_integer(j)) {
        snprintf(tmp, 40, "%lld", (long long)json_integer_value(j));
    } else if (json_is_real(j)) {
        double d = json_real_value(j);
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, 40, "%.*g", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
    } else {
        return NULL;
    }
    *n = strlen(tmp);
    return tmp;
}

enum eng_rc body_decimal(struct op_ctx *ctx, const char *name, int scale, int64_t *ret,
                         int *ret_set)
{
    json_t *j = body_get(ctx->r, name);
    *ret = 0;
    if (ret_set)
        *ret_set = j != NULL;
    if (!j)
        return ENG_OK;
    char tmp[40];
    size_t n = 0;
    const char *s = number_text(j, tmp, &n);
    int rc = s ? dec_parse(s, n, scale, ret) : -1;
    if (rc == -2)
        return reply_bad(ctx->r, "%s is out of range (at most 13 digits before the point)", name);
    if (rc != 0)
        return reply_bad(ctx->r, "%s must be a decimal number", name);
    return ENG_OK;
}

void value_int(struct value *v, int64_t i)
{
    memset(v, 0, sizeof(*v));
    v->i = i;
    v->is_int = 1;
}

void value_from_text(struct value *v, const char *p, size_t n)
{
    memset(v, 0, sizeof(*v));
    v->p = p;
    v->n = n;
    v->is_null = p == NULL;
}

static enum eng_rc set_text(struct op_ctx *ctx, struct value *v, struct buf *b)
{
    if (b->failed)
        return ENG_DB;
    v->p = ctx_strdup(ctx, b->p ? b->p : "", b->len);
    v->n = b->len;
    return v->p ? ENG_OK : ENG_DB;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads 1..maxd digits at *i. */
static int read_num(const char *s, size_t n, size_t *i, int maxd, int *ret)
{
    int v = 0, d = 0;
    while (*i < n && is_digit(s[*i]) && d < maxd) {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        d++;
    }
    *ret = v;
    return d;
}

/* A date as MariaDB accepts it for a DATE or DATETIME column ('2024-06-12', '2024/6/1',
 * '20240612', with an optional time part), normalised to YYYY-MM-DD, and with with_time to
 * YYYY-MM-DD HH:MM:SS; -1 if it is not a real calendar date. The zero date ('0000-00-00', time
 * 00:00:00) is a value of its own: ITFlow's sql_mode has no NO_ZERO_DATE, so the reference stores
 * it and reads it back as sent (the official PowerShell examples send it). */
static int parse_date(const char *s, size_t n, int with_time, char out[20])
{
    int y, m, d, hh = 0, mm = 0, ss = 0;
    size_t i = 0;
    if (n >= 8 && read_num(s, n, &i, 8, &y) == 8 && (i == n || s[i] == ' ' || s[i] == 'T')) {
        d = y % 100, m = (y / 100) % 100, y /= 10000;
    } else {
        i = 0;
        if (read_num(s, n, &i, 4, &y) != 4 || i >= n || is_digit(s[i]) || s[i] == ' ')
            return -1;
        char sep = s[i++];
        if (read_num(s, n, &i, 2, &m) < 1 || i >= n || s[i] != sep)
            return -1;
        i++;
        if (read_num(s, n, &i, 2, &d) < 1)
            return -1;
    }
    if (i < n) { /* a time part: "HH:MM[:SS]" after a space or T */
        if (s[i] != ' ' && s[i] != 'T')
            return -1;
        i++;
        if (read_num(s, n, &i, 2, &hh) < 1 || i >= n || s[i++] != ':' ||
            read_num(s, n, &i, 2, &mm) < 1)
            return -1;
        if (i < n && s[i] == ':') {
            i++;
            if (read_num(s, n, &i, 2, &ss) < 1)
                return -1;
        }
        if (i != n || hh > 23 || mm > 59 || ss > 59)
            return -1;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int zero = y == 0 && m == 0 && d == 0;
    if (!zero && (y < 1000 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]))
        return -1;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    char tmp[64];
    if (with_time)
        snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, hh, mm, ss);
    else
        snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
    memcpy(out, tmp, 20);
    out[19] = 0;
    return 0;
}

size_t value_secret_max(const struct schema_column *c)
{
    /* stored: iv(16) + base64(AES-128-CBC with PKCS#7 padding) = 16 + 4 * ceil(16 * (n / 16 + 1)
     * / 3) characters; the largest n whose ciphertext fits the column */
    if (!c || c->max_len < 16 + 24)
        return 0;
    size_t ct = (c->max_len - 16) / 4 * 3; /* the longest AES output whose base64 fits */
    ct -= ct % 16;
    return ct ? ct - 1 : 0;
}

static enum eng_rc convert(struct op_ctx *ctx, const struct field *f, json_t *j, struct value *v)
{
    struct req *r = ctx->r;
    const char *s = NULL;
    size_t n = 0;
    enum eng_rc rc;
    if (f->conv == CV_INT || f->conv == CV_INT_TEXT) {
        if (json_is_array(j) || json_is_object(j))
            return reply_bad(r, "%s must be a number, not %s", f->name,
                             json_is_array(j) ? "an array" : "an object");
        int64_t i = json_intval(j);
        if (f->conv == CV_INT) {
            value_int(v, i);
            return ENG_OK;
        }
        char tmp[24];
        snprintf(tmp, sizeof(tmp), "%lld", (long long)i);
        v->n = strlen(tmp);
        v->p = ctx_strdup(ctx, tmp, v->n);
        return v->p ? ENG_OK : ENG_DB;
    }
    if (f->conv == CV_MONEY) {
        const struct schema_column *c = field_column(ctx->mod, f);
        int scale = c && c->type == COL_DECIMAL ? c->scale : 2;
        int64_t d;
        if ((rc = body_decimal(ctx, f->name, scale, &d, NULL)) != ENG_OK)
            return rc;
        char tmp[32];
        dec_format(d, scale, tmp);
        v->n = strlen(tmp);
        v->p = ctx_strdup(ctx, tmp, v->n);
        return v->p ? ENG_OK : ENG_DB;
    }
    if ((rc = scalar_text(ctx, f->name, j, &s, &n)) != ENG_OK)
        return rc;
    struct buf b;
    buf_init(&b, 0);
    switch (f->conv) {
    case CV_TEXT:
        php_sanitize(&b, s, n);
        break;
    case CV_WEBSITE: {
        php_sanitize(&b, s, n);
        size_t cut = 0;
        if (b.len >= 7 && strncmp(b.p, "http://", 7) == 0)
            cut = 7;
        else if (b.len >= 8 && strncmp(b.p, "https://", 8) == 0)
            cut = 8;
        if (cut) {
            memmove(b.p, b.p + cut, b.len - cut + 1);
            b.len -= cut;
        }
        break;
    }
    case CV_ABBREV6:
        php_sanitize(&b, s, utf8_valid(s, n) ? utf8_prefix(s, n, 6) : (n < 6 ? n : 6));
        break;
    case CV_DIGITS:
        php_digits_only(&b, s, n);
        break;
    case CV_HTML_BR:
        buf_append(&b, s, n);
        buf_puts(&b, "<br>");
        break;
    case CV_DECIMAL: {
        double d = json_is_number(j) ? json_number_value(j) : php_floatval_str(s, n);
        if (!(d > -1e13 && d < 1e13)) {
            buf_free(&b);
            return reply_bad(r, "%s is out of range", f->name);
        }
        struct buf t;
        buf_init(&t, 64);
        php_float_to_string(d, &t);
        render_canonical(&b, field_column(ctx->mod, f), t.p ? t.p : "0", t.len);
        buf_free(&t);
        break;
    }
    case CV_DATE: {
        php_sanitize(&b, s, n);
        if (b.len == 0) {
            buf_free(&b);
            v->is_null = 1;
            return ENG_OK;
        }
        const struct schema_column *c = field_column(ctx->mod, f);
        int with_time = c && c->type == COL_DATETIME;
        char date[20];
        if (parse_date(b.p, b.len, with_time, date) != 0) {
            buf_free(&b);
            return reply_bad(r, "%s is not a valid date (expected %s)", f->name,
                             with_time ? "YYYY-MM-DD HH:MM:SS" : "YYYY-MM-DD");
        }
        buf_reset(&b);
        buf_puts(&b, date);
        break;
    }
    default: /* CV_RAW, CV_SECRET */
        buf_append(&b, s, n);
        break;
    }
    rc = set_text(ctx, v, &b);
    buf_free(&b);
    return rc;
}

enum eng_rc value_from_body(struct op_ctx *ctx, const struct field *f, struct value *v)
{
    memset(v, 0, sizeof(*v));
    json_t *j = body_get(ctx->r, f->name);
    if (!j)
        return ENG_OK;
    enum eng_rc rc = convert(ctx, f, j, v);
    if (rc == ENG_OK)
        v->set = 1;
    return rc;
}

void value_default(struct op_ctx *ctx, const struct field *f, struct value *v)
{
    memset(v, 0, sizeof(*v));
    if (f->dflt) {
        if (f->conv == CV_INT) {
            value_int(v, php_intval_str(f->dflt, strlen(f->dflt)));
            return;
        }
        v->p = f->dflt;
        v->n = strlen(f->dflt);
        return;
    }
    switch (f->conv) {
    case CV_INT:
        value_int(v, 0);
        break;
    case CV_DECIMAL:
    case CV_MONEY:
        v->p = "0.00", v->n = 4;
        break;
    case CV_INT_TEXT:
        v->p = "0", v->n = 1;
        break;
    case CV_DATE:
        v->is_null = 1;
        break;
    default:
        v->p = "", v->n = 0;
        break;
    }
}

int value_empty(const struct value *v)
{
    if (v->is_null)
        return 1;
    if (v->is_int)
        return v->i == 0;
    return v->n == 0 || (v->n == 1 && v->p[0] == '0');
}

static void int_range(const struct schema_column *c, int64_t *lo, int64_t *hi)
{
    if (strncmp(c->mariadb, "tinyint", 7) == 0)
        *lo = -128, *hi = 127;
    else
        *lo = -2147483648LL, *hi = 2147483647LL;
}

int field_local(const struct field *f)
{
    return f->column && !strchr(f->column, '.');
}

const struct schema_column *field_column(const struct module *m, const struct field *f)
{
    if (!f->column)
        return NULL;
    const char *dot = strchr(f->column, '.');
    if (!dot)
        return schema_column(m->res->t, f->column);
    char table[64];
    size_t n = (size_t)(dot - f->column);
    if (n >= sizeof(table))
        return NULL;
    memcpy(table, f->column, n);
    table[n] = 0;
    const struct schema_table *t = schema_table(table);
    return t ? schema_column(t, dot + 1) : NULL;
}

enum eng_rc value_check_column(struct op_ctx *ctx, const struct field *f, const struct value *v)
{
    if (!f->column || v->is_null)
        return ENG_OK;
    const struct schema_column *c = field_column(ctx->mod, f);
    if (!c)
        return ENG_OK;
    struct req *r = ctx->r;
    if (v->is_int) {
        int64_t lo, hi;
        int_range(c, &lo, &hi);
        if (c->type == COL_INT && (v->i < lo || v->i > hi))
            return reply_bad(r, "%s is out of range (%lld to %lld)", f->name, (long long)lo,
                             (long long)hi);
        return ENG_OK;
    }
    if (!utf8_valid(v->p, v->n))
        return reply_bad(r, "%s is not valid UTF-8", f->name);
    if (c->type == COL_VARCHAR && utf8_length(v->p, v->n) > c->max_len)
        return reply_bad(r, "%s is longer than %u characters", f->name, (unsigned)c->max_len);
    if ((c->type == COL_TEXT || c->type == COL_VARBINARY) && v->n > c->max_len)
        return reply_bad(r, "%s is longer than %u bytes", f->name, (unsigned)c->max_len);
    return ENG_OK;
}

enum db_rc value_bind(struct db_stmt *st, int idx, const struct value *v)
{
    if (v->is_null)
        return db_bind_null(st, idx);
    if (v->is_int)
        return db_bind_int(st, idx, v->i);
    return db_bind_text(st, idx, v->p, v->n);
}

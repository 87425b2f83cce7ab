/* fuzz_body: the JSON body reader and every field conversion of every module (intval, floatval,
 * strip_tags/sanitizeInput, dates, digits, websites, ...) with the column checks, plus the PHP
 * conversions of src/core/php.h on the raw bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "modules/registry.h"
#include "core/php.h"
#include "engine/engine_int.h"
#include "fuzz.h"
#include "json/json_write.h"

static void registry_once(void)
{
    static int done;
    char err[256];
    if (done)
        return;
    FUZZ_CHECK(module_registry_init(err, sizeof(err)) == 0);
    done = 1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A converted value that claims to be text is NUL-terminated arena text. */
static void check_value(const struct field *f, const struct value *v)
{
    if (!v->set)
        return;
    if (f->conv == CV_INT) {
        FUZZ_CHECK(v->is_int && !v->is_null);
        return;
    }
    if (v->is_null) {
        FUZZ_CHECK(f->conv == CV_DATE); /* only an empty date becomes NULL */
        return;
    }
    FUZZ_CHECK(!v->is_int && v->p != NULL && v->p[v->n] == 0);
    switch (f->conv) {
    case CV_DATE: /* normalised to YYYY-MM-DD */
        FUZZ_CHECK(v->n == 10 && v->p[4] == '-' && v->p[7] == '-');
        for (size_t i = 0; i < 10; i++)
            FUZZ_CHECK(i == 4 || i == 7 || is_digit(v->p[i]));
        break;
    case CV_DIGITS:
        for (size_t i = 0; i < v->n; i++)
            FUZZ_CHECK(is_digit(v->p[i]));
        break;
    case CV_INT_TEXT: /* the decimal text of an intval */
        FUZZ_CHECK(v->n > 0 && v->n <= 20);
        for (size_t i = 0; i < v->n; i++)
            FUZZ_CHECK(is_digit(v->p[i]) || (i == 0 && v->p[i] == '-'));
        break;
    /* sanitizeInput's output: valid UTF-8 (cp1252 fallback), no NUL (strip_tags) */
    case CV_TEXT:
    case CV_WEBSITE:
    case CV_ABBREV6:
        FUZZ_CHECK(utf8_valid(v->p, v->n));
        FUZZ_CHECK(memchr(v->p, 0, v->n) == NULL);
        break;
    default:
        break;
    }
}

/* Every field of every module converted from the body and checked against its column. */
static void run_fields(struct req *r)
{
    for (size_t m = 0; m < module_count; m++) {
        struct op_ctx ctx;
        memset(&ctx, 0, sizeof(ctx));
        ctx.r = r;
        ctx.mod = module_registry[m];
        for (size_t i = 0; i < ctx.mod->nfields; i++) {
            const struct field *f = &ctx.mod->fields[i];
            struct value v;
            enum eng_rc rc = value_from_body(&ctx, f, &v);
            FUZZ_CHECK(rc == ENG_OK || rc == ENG_REPLIED || rc == ENG_DB);
            if (rc == ENG_REPLIED)
                FUZZ_CHECK(r->out.len > 0 && utf8_valid(r->out.p, r->out.len));
            if (rc != ENG_OK)
                continue;
            check_value(f, &v);
            if (!v.set)
                value_default(&ctx, f, &v);
            rc = value_check_column(&ctx, f, &v);
            FUZZ_CHECK(rc == ENG_OK || rc == ENG_REPLIED);
            (void)value_empty(&v);
        }
    }
}

/* The hooks' accessors, on every name the body has and a few it may not. */
static void run_accessors(struct req *r)
{
    static const char *const names[] = {"client_id", "contact_name", "ticket_subject",
                                        "limit",     "asset_id",     ""};
    struct op_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.r = r;
    ctx.mod = module_registry[0];

    const char *key;
    json_t *val;
    size_t nkeys = 0;
    json_object_foreach(r->body, key, val)
    {
        if (nkeys++ == 64)
            break;
        const char *s;
        size_t n;
        int64_t i;
        int set;
        enum eng_rc rc = body_string(&ctx, key, &s, &n);
        FUZZ_CHECK(rc == ENG_OK || rc == ENG_REPLIED || rc == ENG_DB);
        if (rc == ENG_OK)
            FUZZ_CHECK(json_is_null(val) ? s == NULL : s != NULL && s[n] == 0);
        rc = body_int(&ctx, key, &i, &set);
        FUZZ_CHECK(rc == ENG_OK || rc == ENG_REPLIED);
        FUZZ_CHECK(set == !json_is_null(val));
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        const char *s;
        size_t n;
        int64_t i;
        (void)body_string(&ctx, names[k], &s, &n);
        (void)body_int(&ctx, names[k], &i, NULL);
    }
}

/* The PHP conversions of src/core/php.h on the raw bytes. */
static void run_php(const char *s, size_t n)
{
    (void)php_intval_str(s, n);
    double d = php_floatval_str(s, n);
    FUZZ_CHECK(!isnan(d)); /* a leading-numeric parse never yields NaN */

    /* intval of plain digits is the number itself */
    if (n > 0 && n <= 18) {
        size_t i = 0;
        int64_t want = 0;
        while (i < n && is_digit(s[i]))
            want = want * 10 + (s[i++] - '0');
        if (i == n)
            FUZZ_CHECK(php_intval_str(s, n) == want);
    }

    char *copy = malloc(n ? n : 1);
    if (copy) {
        if (n)
            memcpy(copy, s, n);
        size_t len = php_strip_tags(copy, n);
        FUZZ_CHECK(len <= n);
        FUZZ_CHECK(memchr(copy, 0, len) == NULL); /* NUL bytes are removed */
        free(copy);
    }

    int valid = utf8_valid(s, n);
    struct buf b;
    buf_init(&b, 0);
    php_sanitize(&b, s, n);
    FUZZ_CHECK(!b.failed);
    FUZZ_CHECK(utf8_valid(b.p ? b.p : "", b.len));
    if (b.len) { /* trimmed */
        FUZZ_CHECK(!strchr(" \t\n\r\v", b.p[0]) && b.p[0] != 0);
        FUZZ_CHECK(!strchr(" \t\n\r\v", b.p[b.len - 1]) && b.p[b.len - 1] != 0);
    }
    buf_free(&b);

    buf_init(&b, 0);
    php_htmlentities(&b, s, n);
    FUZZ_CHECK(!b.failed);
    FUZZ_CHECK(utf8_valid(b.p ? b.p : "", b.len)); /* invalid sequences become U+FFFD */
    for (size_t i = 0; i < b.len; i++)
        FUZZ_CHECK(b.p[i] != '<' && b.p[i] != '>' && b.p[i] != '"' && b.p[i] != '\'');
    buf_free(&b);

    /* utf8_next walks the bytes; it fails somewhere exactly when utf8_valid says no */
    size_t pos = 0, chars = 0;
    int bad = 0;
    while (pos < n) {
        size_t before = pos;
        int32_t c = utf8_next(s, n, &pos);
        FUZZ_CHECK(pos > before && pos <= n && pos - before <= 4);
        FUZZ_CHECK(c >= -1 && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF));
        bad |= c < 0;
        chars++;
    }
    FUZZ_CHECK(bad == !valid);
    if (valid) {
        FUZZ_CHECK(utf8_length(s, n) == chars);
        FUZZ_CHECK(utf8_prefix(s, n, chars) == n);
        if (chars)
            FUZZ_CHECK(utf8_valid(s, utf8_prefix(s, n, chars / 2)));
    }

    /* json_write_string accepts exactly valid UTF-8 and writes ASCII */
    buf_init(&b, 0);
    int rc = json_write_string(&b, s, n);
    FUZZ_CHECK(rc == (valid ? 0 : -1));
    if (rc == 0) {
        FUZZ_CHECK(b.len >= 2 && b.p[0] == '"' && b.p[b.len - 1] == '"');
        for (size_t i = 0; i < b.len; i++)
            FUZZ_CHECK((unsigned char)b.p[i] >= 0x20 && (unsigned char)b.p[i] < 0x80);
    } else {
        FUZZ_CHECK(b.len == 0);
    }
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    registry_once();
    char *s = malloc(size ? size : 1); /* exact size: an over-read is an ASan report */
    if (!s)
        return 0;
    if (size)
        memcpy(s, data, size);

    struct req r;
    memset(&r, 0, sizeof(r));
    arena_init(&r.arena, 64u << 20); /* as the http layer does */
    buf_init(&r.out, 0);
    req_parse_body(&r, s, size);
    FUZZ_CHECK(r.body_state == BODY_NONE || r.body_state == BODY_OBJECT ||
               r.body_state == BODY_INVALID);
    FUZZ_CHECK((r.body_state == BODY_OBJECT) == (r.body != NULL));
    FUZZ_CHECK(r.body_state != BODY_INVALID || r.body_error[0] != 0);
    if (r.body_state == BODY_OBJECT) {
        FUZZ_CHECK(json_is_object(r.body));
        run_fields(&r);
        run_accessors(&r);
    }
    req_free(&r);
    arena_free(&r.arena);

    run_php(s, size);
    free(s);
    return 0;
}

/* php: PHP 8.2's input conversions (intval, floatval, float to string, strip_tags, trim,
 * sanitizeInput, htmlentities, ...) reproduced byte for byte (reference 1.9). */
#include "core/php.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* C-locale isspace(): PHP's numeric-string whitespace and strip_tags' "< followed by space". */
static int is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- numeric strings (is_numeric_string with errors allowed, zend_strtod) ---- */

/* The leading numeric part of a string, as PHP's is_numeric_string() delimits it. */
struct num_prefix {
    size_t start;  /* first byte after leading whitespace (a sign, if any) */
    size_t end;    /* one past the numeric part; == start when there is none */
    int is_double; /* a fraction or an exponent was seen: the value comes from strtod */
};

static size_t skip_digits(const char *s, size_t n, size_t i)
{
    while (i < n && is_digit(s[i]))
        i++;
    return i;
}

/* An exponent counts only when "e", an optional sign and at least one digit follow. */
static size_t scan_exponent(const char *s, size_t n, size_t i, int *is_double)
{
    size_t j = i + 1, k;

    if (i >= n || (s[i] != 'e' && s[i] != 'E'))
        return i;
    if (j < n && (s[j] == '+' || s[j] == '-'))
        j++;
    k = skip_digits(s, n, j);
    if (k == j)
        return i;
    *is_double = 1;
    return k;
}

static void num_scan(const char *s, size_t n, struct num_prefix *np)
{
    size_t i = 0, digits_at;

    while (i < n && is_space((unsigned char)s[i]))
        i++;
    np->start = np->end = i;
    np->is_double = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    digits_at = i;
    i = skip_digits(s, n, i);
    if (i < n && s[i] == '.') {
        size_t j = skip_digits(s, n, i + 1);
        if (i == digits_at && j == i + 1)
            return; /* "." without digits on either side */
        np->is_double = 1;
        i = j;
    } else if (i == digits_at) {
        return; /* no leading digit */
    }
    np->end = scan_exponent(s, n, i, &np->is_double);
}

/* strtod() of the prefix; it is copied because s is not NUL-terminated at n. */
static double num_double(const char *s, const struct num_prefix *np)
{
    char small[128];
    size_t len = np->end - np->start;
    char *tmp = len < sizeof(small) ? small : malloc(len + 1);
    double d;

    if (!tmp)
        return 0.0;
    memcpy(tmp, s + np->start, len);
    tmp[len] = 0;
    d = strtod(tmp, NULL);
    if (tmp != small)
        free(tmp);
    return d;
}

/* Integer prefix, saturating like PHP (which re-parses overflowing integers as doubles). */
static int64_t num_integer(const char *s, const struct num_prefix *np)
{
    size_t i = np->start;
    int neg = 0;
    uint64_t v = 0;

    if (s[i] == '+' || s[i] == '-')
        neg = s[i++] == '-';
    for (; i < np->end; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            v = UINT64_MAX;
            break;
        }
        v = v * 10 + d;
    }
    if (neg)
        return v > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)v;
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* zend_dval_to_lval_cap(): what intval() does with a numeric string that parsed as a double. */
static int64_t dval_to_lval_cap(double d)
{
    if (!isfinite(d))
        return 0;
    if (d >= 9223372036854775808.0)
        return INT64_MAX;
    if (d < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

int64_t php_intval_str(const char *s, size_t n)
{
    struct num_prefix np;

    num_scan(s, n, &np);
    if (np.end == np.start)
        return 0;
    if (np.is_double)
        return dval_to_lval_cap(num_double(s, &np));
    return num_integer(s, &np);
}

int64_t php_intval_double(double d)
{
    const double two64 = 18446744073709551616.0;
    double dmod;

    if (!isfinite(d))
        return 0;
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return (int64_t)d;
    /* zend_dval_to_lval(): |d| >= 2^63 is an integer, so fmod and the additions are exact. */
    dmod = fmod(d, two64);
    if (dmod < 0)
        dmod += two64;
    return (int64_t)(uint64_t)dmod;
}

double php_floatval_str(const char *s, size_t n)
{
    struct num_prefix np;

    num_scan(s, n, &np);
    if (np.end == np.start)
        return 0.0;
    return num_double(s, &np);
}

/* ---- (string)$float: zend_gcvt(value, 14, '.', 'E') ---- */

/* Up to 14 significant digits of d > 0, correctly rounded (half-even on exact ties, like
 * zend_dtoa mode 2), trailing zeros removed; *decpt is the decimal exponent + 1. */
static size_t dtoa14(double d, char digits[16], int *decpt)
{
    char tmp[40];
    size_t nd = 0;
    int i;

    snprintf(tmp, sizeof(tmp), "%.13e", d); /* "d.ddddddddddddde+XX" */
    digits[nd++] = tmp[0];
    for (i = 2; i < 15; i++)
        digits[nd++] = tmp[i];
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = 0;
    *decpt = (int)strtol(tmp + 16, NULL, 10) + 1;
    return nd;
}

static void put_exponent_form(struct buf *out, const char *digits, size_t nd, int decpt)
{
    int e = decpt - 1;

    buf_putc(out, digits[0]);
    buf_putc(out, '.');
    if (nd == 1)
        buf_putc(out, '0');
    else
        buf_append(out, digits + 1, nd - 1);
    buf_putc(out, 'E');
    buf_putc(out, e < 0 ? '-' : '+');
    buf_printf(out, "%d", e < 0 ? -e : e);
}

static void put_fixed_form(struct buf *out, const char *digits, size_t nd, int decpt)
{
    size_t i;

    if (decpt <= 0) {
        buf_puts(out, "0.");
        for (; decpt < 0; decpt++)
            buf_putc(out, '0');
        buf_append(out, digits, nd);
        return;
    }
    for (i = 0; i < (size_t)decpt; i++)
        buf_putc(out, i < nd ? digits[i] : '0');
    if (nd > (size_t)decpt) {
        buf_putc(out, '.');
        buf_append(out, digits + decpt, nd - (size_t)decpt);
    }
}

void php_float_to_string(double d, struct buf *out)
{
    char digits[16];
    size_t nd;
    int decpt;

    if (isnan(d)) {
        buf_puts(out, "NAN");
        return;
    }
    if (isinf(d)) {
        buf_puts(out, d < 0 ? "-INF" : "INF");
        return;
    }
    if (signbit(d))
        buf_putc(out, '-');
    if (d == 0) {
        buf_putc(out, '0');
        return;
    }
    nd = dtoa14(fabs(d), digits, &decpt);
    if (decpt < -3 || decpt > 14)
        put_exponent_form(out, digits, nd, decpt);
    else
        put_fixed_form(out, digits, nd, decpt);
}

/* ---- strip_tags(): php_strip_tags_ex() without allowed tags ---- */

/* State of PHP's strip_tags machine. It runs in place; since output overwrites bytes already
 * read, the look-behind checks use hist, the last 8 input bytes (bits 0-7 = the previous one). */
struct strip {
    const char *s;
    size_t n, i; /* input, and the position of the byte being processed */
    size_t out;  /* write position (out <= i) */
    uint64_t hist;
    int state; /* 0 text, 1 tag, 2 PHP code, 3 <! declaration, 4 comment */
    int depth; /* '<' nested inside a tag */
    int br;    /* parenthesis depth in PHP code */
    char in_q; /* open quote inside a tag, or 0 */
    char lc;   /* last significant character (PHP's "lc") */
    int is_xml;
};

/* The input byte k positions back (1 = previous); 0 before the start. */
static char back(const struct strip *st, unsigned k)
{
    return k > st->i ? 0 : (char)(st->hist >> (8 * (k - 1)));
}

static int next_is_space(const struct strip *st)
{
    return st->i + 1 < st->n && is_space((unsigned char)st->s[st->i + 1]);
}

/* Toggles the open quote the way PHP does for tags and declarations. */
static void toggle_quote(struct strip *st, char c)
{
    if (st->i != 0 && (!st->in_q || c == st->in_q))
        st->in_q = st->in_q ? 0 : c;
}

static void strip_text(struct strip *st, char *w, char c)
{
    switch (c) {
    case '\0':
        return;
    case '<':
        if (st->in_q)
            return;
        if (next_is_space(st)) {
            w[st->out++] = c;
            return;
        }
        st->lc = '<';
        st->state = 1;
        return;
    case '>':
        if (st->depth) {
            st->depth--;
            return;
        }
        if (st->in_q)
            return;
        w[st->out++] = c;
        return;
    default:
        w[st->out++] = c;
    }
}

static void strip_tag_close(struct strip *st)
{
    if (st->depth) {
        st->depth--;
        return;
    }
    if (st->in_q)
        return;
    st->lc = '>';
    if (st->is_xml && back(st, 1) == '-')
        return;
    st->in_q = 0;
    st->state = 0;
    st->is_xml = 0;
}

static void strip_tag(struct strip *st, char c)
{
    switch (c) {
    case '<':
        if (!st->in_q && !next_is_space(st))
            st->depth++;
        return;
    case '>':
        strip_tag_close(st);
        return;
    case '"':
    case '\'':
        toggle_quote(st, c);
        return;
    case '!':
        if (back(st, 1) == '<') {
            st->state = 3;
            st->lc = c;
        }
        return;
    case '?':
        if (back(st, 1) == '<') {
            st->br = 0;
            st->state = 2;
        }
        return;
    default:
        return;
    }
}

static int is_xml_open(const struct strip *st)
{
    char m = back(st, 1), x = back(st, 2);
    return st->i > 4 && (m == 'm' || m == 'M') && (x == 'x' || x == 'X') && back(st, 3) == '?' &&
           back(st, 4) == '<';
}

static void strip_php_quote(struct strip *st, char c)
{
    if (st->i < 1 || back(st, 1) == '\\')
        return;
    if (st->lc == c)
        st->lc = '\0';
    else if (st->lc != '\\')
        st->lc = c;
    toggle_quote(st, c);
}

static void strip_php(struct strip *st, char c)
{
    switch (c) {
    case '(':
    case ')':
        if (st->lc != '"' && st->lc != '\'') {
            st->lc = c;
            st->br += c == '(' ? 1 : -1;
        }
        return;
    case '>':
        if (st->depth) {
            st->depth--;
            return;
        }
        if (!st->in_q && !st->br && st->lc != '"' && back(st, 1) == '?') {
            st->in_q = 0;
            st->state = 0;
        }
        return;
    case '"':
    case '\'':
        strip_php_quote(st, c);
        return;
    case 'l':
    case 'L':
        if (is_xml_open(st)) {
            st->state = 1;
            st->is_xml = 1;
        }
        return;
    default:
        return;
    }
}

static int is_doctype(const struct strip *st)
{
    static const char word[] = "doctyp"; /* the letters before the final 'e', read backwards */
    unsigned k;

    if (st->i <= 6)
        return 0;
    for (k = 1; k <= 6; k++) {
        char c = back(st, k);
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != word[6 - k])
            return 0;
    }
    return 1;
}

static void strip_decl(struct strip *st, char c)
{
    switch (c) {
    case '>':
        if (st->depth) {
            st->depth--;
            return;
        }
        if (!st->in_q) {
            st->in_q = 0;
            st->state = 0;
        }
        return;
    case '"':
    case '\'':
        if (back(st, 1) != '\\')
            toggle_quote(st, c);
        return;
    case '-':
        if (st->i >= 2 && back(st, 1) == '-' && back(st, 2) == '!')
            st->state = 4;
        return;
    case 'E':
    case 'e':
        if (is_doctype(st))
            st->state = 1;
        return;
    default:
        return;
    }
}

static void strip_comment(struct strip *st, char c)
{
    if (c == '>' && !st->in_q && st->i >= 2 && back(st, 1) == '-' && back(st, 2) == '-') {
        st->in_q = 0;
        st->state = 0;
    }
}

size_t php_strip_tags(char *s, size_t n)
{
    struct strip st;

    memset(&st, 0, sizeof(st));
    st.s = s;
    st.n = n;
    for (st.i = 0; st.i < n; st.i++) {
        char c = s[st.i];
        switch (st.state) {
        case 0:
            strip_text(&st, s, c);
            break;
        case 1:
            strip_tag(&st, c);
            break;
        case 2:
            strip_php(&st, c);
            break;
        case 3:
            strip_decl(&st, c);
            break;
        default:
            strip_comment(&st, c);
            break;
        }
        st.hist = (st.hist << 8) | (unsigned char)c;
    }
    return st.out;
}

/* ---- trim(), sanitizeInput() ---- */

static int is_trim_char(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0' || c == '\x0B';
}

void php_trim(const char **s, size_t *n)
{
    const char *p = *s;
    size_t len = *n;

    while (len && is_trim_char(p[0])) {
        p++;
        len--;
    }
    while (len && is_trim_char(p[len - 1]))
        len--;
    *s = p;
    *n = len;
}

void php_sanitize(struct buf *out, const char *s, size_t n)
{
    size_t start = out->len, len;
    const char *t;

    if (n && !utf8_valid(s, n))
        php_cp1252_to_utf8(out, s, n);
    else
        buf_append(out, s, n);
    if (out->failed || !out->p)
        return;
    len = php_strip_tags(out->p + start, out->len - start);
    t = out->p + start;
    php_trim(&t, &len);
    memmove(out->p + start, t, len);
    out->len = start + len;
    out->p[out->len] = 0;
}

/* ---- UTF-8 ---- */

static int utf8_trail(unsigned char c)
{
    return c >= 0x80 && c <= 0xBF;
}

static int utf8_lead(unsigned char c)
{
    return c < 0x80 || (c >= 0xC2 && c <= 0xF4);
}

/* Length of the invalid sequence starting a need-byte character whose tail is bad. */
static size_t bad_len(const unsigned char *u, size_t avail, size_t need)
{
    size_t k;

    for (k = 1; k < need; k++) {
        if (avail <= k || utf8_lead(u[k]))
            return k;
    }
    return need;
}

static int32_t utf8_fail(size_t *pos, size_t len)
{
    *pos += len;
    return -1;
}

int32_t utf8_next(const char *s, size_t n, size_t *pos)
{
    const unsigned char *u = (const unsigned char *)s + *pos;
    size_t avail = n - *pos, need, k;
    uint32_t c = u[0];
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};

    if (c < 0x80) {
        *pos += 1;
        return (int32_t)c;
    }
    if (c < 0xC2 || c > 0xF4)
        return utf8_fail(pos, 1);
    need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (need == 2 && avail < 2)
        return utf8_fail(pos, 1);
    for (k = 1; k < need; k++) {
        if (avail <= k || !utf8_trail(u[k]))
            return utf8_fail(pos, need == 2 ? (utf8_lead(u[1]) ? 1 : 2) : bad_len(u, avail, need));
    }
    c &= 0x7F >> need;
    for (k = 1; k < need; k++)
        c = (c << 6) | (u[k] & 0x3F);
    if (c < min_cp[need] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
        return utf8_fail(pos, need);
    *pos += need;
    return (int32_t)c;
}

int utf8_valid(const char *s, size_t n)
{
    size_t pos = 0;

    while (pos < n) {
        if ((unsigned char)s[pos] < 0x80) {
            pos++;
            continue;
        }
        if (utf8_next(s, n, &pos) < 0)
            return 0;
    }
    return 1;
}

size_t utf8_length(const char *s, size_t n)
{
    size_t i, count = 0;

    for (i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

size_t utf8_prefix(const char *s, size_t n, size_t max_chars)
{
    size_t i, chars = 0;

    for (i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && chars++ == max_chars)
            return i;
    }
    return n;
}

static void utf8_put(struct buf *out, uint32_t c)
{
    char b[4];
    size_t len;

    if (c < 0x80) {
        b[0] = (char)c;
        len = 1;
    } else if (c < 0x800) {
        b[0] = (char)(0xC0 | (c >> 6));
        b[1] = (char)(0x80 | (c & 0x3F));
        len = 2;
    } else {
        b[0] = (char)(0xE0 | (c >> 12));
        b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        b[2] = (char)(0x80 | (c & 0x3F));
        len = 3;
    }
    buf_append(out, b, len);
}

/* mbstring's CP1252 table for 0x80-0x9F. PHP 8.2 passes the five undefined bytes (0x81, 0x8D,
 * 0x8F, 0x90, 0x9D) through as U+0081.. (verified against PHP 8.2.36). */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

void php_cp1252_to_utf8(struct buf *out, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80)
            buf_putc(out, (char)c);
        else if (c < 0xA0)
            utf8_put(out, cp1252_high[c - 0x80]);
        else
            utf8_put(out, c);
    }
}

/* ---- htmlentities() ---- */

static const char *basic_entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#039;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    default:
        return NULL;
    }
}

/* Appends the non-ASCII character at s[*pos], as an entity, raw, or U+FFFD when invalid. */
static void html_put_char(struct buf *out, const char *s, size_t n, size_t *pos)
{
    size_t at = *pos;
    int32_t c = utf8_next(s, n, pos);
    const char *name;

    if (c < 0) {
        buf_append(out, "\xEF\xBF\xBD", 3);
        return;
    }
    name = php_html401_entity((uint32_t)c);
    if (!name) {
        buf_append(out, s + at, *pos - at);
        return;
    }
    buf_putc(out, '&');
    buf_puts(out, name);
    buf_putc(out, ';');
}

void php_htmlentities(struct buf *out, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t run = i;
        const char *ent = NULL;
        while (run < n && (unsigned char)s[run] < 0x80 && !(ent = basic_entity(s[run])))
            run++;
        buf_append(out, s + i, run - i);
        i = run;
        if (i >= n)
            break;
        if (ent) {
            buf_puts(out, ent);
            i++;
        } else {
            html_put_char(out, s, n, &i);
        }
    }
}

/* ---- small helpers ---- */

void php_digits_only(struct buf *out, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (is_digit(s[i]))
            buf_putc(out, s[i]);
    }
}

void php_ucfirst(struct buf *out, const char *s, size_t n)
{
    if (!n) {
        buf_append(out, s, 0);
        return;
    }
    buf_putc(out, s[0] >= 'a' && s[0] <= 'z' ? (char)(s[0] - 32) : s[0]);
    buf_append(out, s + 1, n - 1);
}

int digits_value(const char *s, size_t n, int64_t *ret)
{
    if (n == 0 || n > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return 0;
}

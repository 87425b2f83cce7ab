/* json_write: JSON string literals byte-identical to PHP json_encode() with default flags (K4). */
#include "json/json_write.h"

#include <stdint.h>
#include <string.h>

#include "core/php.h"

/* Bytes that end a plain run: control characters, '"', '\\', '/', and every non-ASCII byte. */
static int is_special(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\' || c == '/' || c >= 0x80;
}

/* Appends \uXXXX with lowercase hex digits. */
static void put_u16(struct buf *out, uint32_t u)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\',       'u', hex[(u >> 12) & 15], hex[(u >> 8) & 15], hex[(u >> 4) & 15],
                 hex[u & 15]};

    buf_append(out, e, sizeof(e));
}

static void put_ascii_escape(struct buf *out, unsigned char c)
{
    const char *e;

    switch (c) {
    case '"':
        e = "\\\"";
        break;
    case '\\':
        e = "\\\\";
        break;
    case '/':
        e = "\\/";
        break;
    case '\b':
        e = "\\b";
        break;
    case '\f':
        e = "\\f";
        break;
    case '\n':
        e = "\\n";
        break;
    case '\r':
        e = "\\r";
        break;
    case '\t':
        e = "\\t";
        break;
    default:
        put_u16(out, c);
        return;
    }
    buf_append(out, e, 2);
}

/* Non-ASCII code point as \uXXXX, or as a UTF-16 surrogate pair above U+FFFF. */
static void put_codepoint(struct buf *out, uint32_t cp)
{
    if (cp >= 0x10000) {
        cp -= 0x10000;
        put_u16(out, 0xD800 | (cp >> 10));
        cp = 0xDC00 | (cp & 0x3FF);
    }
    put_u16(out, cp);
}

int json_write_string(struct buf *out, const char *s, size_t n)
{
    size_t start_len = out->len, i = 0;
    int start_failed = out->failed;

    buf_reserve(out, n + 2);
    buf_putc(out, '"');
    while (i < n) {
        size_t run = i;
        while (run < n && !is_special((unsigned char)s[run]))
            run++;
        buf_append(out, s + i, run - i);
        i = run;
        if (i >= n)
            break;
        if ((unsigned char)s[i] < 0x80) {
            put_ascii_escape(out, (unsigned char)s[i++]);
            continue;
        }
        int32_t cp = utf8_next(s, n, &i);
        if (cp < 0)
            goto invalid;
        put_codepoint(out, (uint32_t)cp);
    }
    buf_putc(out, '"');
    return 0;

invalid:
    /* json_encode() fails as a whole on invalid UTF-8: drop what was written. */
    out->len = start_len;
    out->failed = start_failed;
    if (out->p)
        out->p[start_len] = 0;
    return -1;
}

void json_write_key(struct buf *out, const char *key)
{
    json_write_string(out, key, strlen(key));
    buf_putc(out, ':');
}

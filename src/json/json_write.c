/* json_write: JSON string literals byte-identical to PHP json_encode() with default flags (K4). */
#include "json/json_write.h"

#include <stdint.h>
#include <string.h>

#include "core/php.h"

/* Bytes that end a plain run: control characters, '"', '\\', '/', and every non-ASCII byte. */
#define ONES16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char special[256] = {
    ONES16, ONES16, /* control characters */
    0,      0,      1,      0,      0,      0,      0,      0,
    0,      0,      0,      0,      0,      0,      0,      1, /* 0x20 */
    0,      0,      0,      0,      0,      0,      0,      0,
    0,      0,      0,      0,      0,      0,      0,      0, /* 0x30 */
    0,      0,      0,      0,      0,      0,      0,      0,
    0,      0,      0,      0,      0,      0,      0,      0, /* 0x40 */
    0,      0,      0,      0,      0,      0,      0,      0,
    0,      0,      0,      0,      1,      0,      0,      0, /* 0x50 */
    0,      0,      0,      0,      0,      0,      0,      0,
    0,      0,      0,      0,      0,      0,      0,      0, /* 0x60 */
    0,      0,      0,      0,      0,      0,      0,      0,
    0,      0,      0,      0,      0,      0,      0,      0,      /* 0x70 */
    ONES16, ONES16, ONES16, ONES16, ONES16, ONES16, ONES16, ONES16, /* non-ASCII */
};
#undef ONES16

static inline int is_special(unsigned char c)
{
    return special[c];
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Nonzero when one of the 8 bytes of w is special (SWAR: control, non-ASCII, '"', '\\', '/'). */
static inline uint64_t word_special(uint64_t w)
{
    uint64_t ctrl = (w - ONES * 0x20) & ~w; /* bytes < 0x20 (and >= 0x80) set their high bit */
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\'), sl = w ^ (ONES * '/');
    uint64_t eq = ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((sl - ONES) & ~sl);
    return (ctrl | eq | w) & HIGHS;
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

    /* Fast path: room for the plain case is reserved once (usually there is room already);
     * plain bytes are copied directly. */
    if ((!out->failed && out->len + n + 3 <= out->cap) || buf_reserve(out, n + 2) == 0) {
        char *p = out->p + out->len;
        *p++ = '"';
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (word_special(w))
                break;
            memcpy(p, &w, 8);
            p += 8;
            i += 8;
        }
        while (i < n && !is_special((unsigned char)s[i]))
            *p++ = s[i++];
        out->len = (size_t)(p - out->p);
        out->p[out->len] = 0;
    } else {
        buf_putc(out, '"');
    }
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

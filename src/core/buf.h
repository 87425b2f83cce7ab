/* buf: a growable byte buffer with a hard maximum; the one output type of every writer. */
#ifndef ITFLOWD_CORE_BUF_H
#define ITFLOWD_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

/* Invariant: p is NUL-terminated when non-NULL (p[len] == 0), len < cap.
 * A failed growth (allocation or max exceeded) sets failed and leaves the content as it was;
 * later appends are ignored, so writers check failed once at the end. */
struct buf {
    char *p;
    size_t len;
    size_t cap;
    size_t max; /* 0 = no limit beyond SIZE_MAX/2 */
    int failed;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);                 /* accepts a zeroed or freed buf */
void buf_reset(struct buf *b);                /* len = 0, keeps the allocation */
int buf_reserve(struct buf *b, size_t extra); /* 0 on success, -1 and failed=1 otherwise */
void buf_append_slow(struct buf *b, const void *data, size_t n);

/* Appends n bytes; the common case (room left) is inline. */
static inline void buf_append(struct buf *b, const void *data, size_t n)
{
    if (!b->failed && b->len + n < b->cap) {
        memcpy(b->p + b->len, data, n);
        b->len += n;
        b->p[b->len] = 0;
        return;
    }
    buf_append_slow(b, data, n);
}
void buf_puts(struct buf *b, const char *s);
void buf_putc_slow(struct buf *b, char c);

/* Appends one byte; the common case (room left) is inline. */
static inline void buf_putc(struct buf *b, char c)
{
    if (b->len + 1 < b->cap && !b->failed) {
        b->p[b->len++] = c;
        b->p[b->len] = 0;
        return;
    }
    buf_putc_slow(b, c);
}
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the bytes to the caller (free() them); the buf is left empty. */
char *buf_steal(struct buf *b, size_t *ret_len);

#endif

/* render: stored values as MariaDB renders them (K3): decimals with their scale, NULL as null. */
#include <string.h>

#include "engine/engine_int.h"
#include "json/json_write.h"

/* "125.5" -> "125.50", "100" -> "100.00", "12.345" -> "12.35" (half away from zero). Non-numeric
 * text is copied unchanged. */
static void decimal_canonical(struct buf *out, const char *p, size_t n, unsigned scale)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    size_t int_start = i;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    size_t int_end = i, frac_start = i, frac_end = i;
    if (i < n && p[i] == '.') {
        frac_start = ++i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        frac_end = i;
    }
    if (i != n || (int_end == int_start && frac_end == frac_start) || scale > 30) {
        buf_append(out, p, n);
        return;
    }
    char digits[80];
    size_t nd = 0;
    for (size_t k = int_start; k < int_end && nd < 40; k++)
        digits[nd++] = p[k];
    if (nd == 0)
        digits[nd++] = '0';
    size_t int_len = nd;
    size_t flen = frac_end - frac_start;
    for (unsigned k = 0; k < scale; k++)
        digits[nd++] = k < flen ? p[frac_start + k] : '0';
    if (flen > scale && p[frac_start + scale] >= '5') {
        size_t k = nd;
        while (k > 0) {
            k--;
            if (digits[k] == '9') {
                digits[k] = '0';
                continue;
            }
            digits[k]++;
            break;
        }
        if (k == 0 && digits[0] == '0') {
            memmove(digits + 1, digits, nd);
            digits[0] = '1';
            nd++;
            int_len++;
        }
    }
    /* strip leading zeros of the integer part (keep one) */
    size_t lead = 0;
    while (lead + 1 < int_len && digits[lead] == '0')
        lead++;
    int all_zero = 1;
    for (size_t k = lead; k < nd; k++)
        if (digits[k] != '0')
            all_zero = 0;
    if (neg && !all_zero)
        buf_putc(out, '-');
    buf_append(out, digits + lead, int_len - lead);
    if (scale) {
        buf_putc(out, '.');
        buf_append(out, digits + int_len, scale);
    }
}

void render_canonical(struct buf *out, const struct schema_column *c, const char *p, size_t n)
{
    if (c && c->type == COL_DECIMAL)
        decimal_canonical(out, p, n, c->scale);
    else
        buf_append(out, p, n);
}

/* 1 when p is already what decimal_canonical() makes of it: -?(0|[1-9][0-9]*)\.[0-9]{scale}
 * (the store's own formatting of DECIMAL values, so the common case skips the rewrite). */
static int decimal_is_canonical(const char *p, size_t n, unsigned scale)
{
    size_t i = n && p[0] == '-' ? 1 : 0, dot = n - scale - 1;
    if (scale == 0 || n < scale + 2 + i || p[dot] != '.' || (p[i] == '0' && dot != i + 1))
        return 0;
    int nonzero = 0;
    for (size_t k = i; k < n; k++) {
        if (k == dot)
            continue;
        if (p[k] < '0' || p[k] > '9')
            return 0;
        nonzero |= p[k] != '0';
    }
    return nonzero || i == 0; /* "-0.00" is written "0.00" */
}

int render_column(struct buf *out, const struct schema_column *c, const char *p, size_t n)
{
    if (!p) {
        buf_append(out, "null", 4);
        return 0;
    }
    if (c && c->type == COL_DECIMAL && !decimal_is_canonical(p, n, c->scale)) {
        char tmp[96];
        struct buf b = {tmp, 0, sizeof(tmp), sizeof(tmp) - 1, 0};
        decimal_canonical(&b, p, n, c->scale);
        if (!b.failed)
            return json_write_string(out, b.p, b.len);
    }
    return json_write_string(out, p, n);
}

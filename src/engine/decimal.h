/* decimal: exact decimal amounts (money, quantities, percentages) as 64-bit integers scaled by
 * 10^scale. No floating point: totals are the same to the cent on every store. */
#ifndef ITFLOWD_ENGINE_DECIMAL_H
#define ITFLOWD_ENGINE_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#define DEC_MAX_SCALE 5 /* 10^13 at scale 5 still fits 64 bits */

/* Parses a decimal number ("12", "-0.5", "1.25e2", surrounding blanks allowed) into *out scaled
 * by 10^scale, rounding half away from zero beyond the scale (as MariaDB stores a decimal).
 * 0 on success, -1 when the text is not a number, -2 when the value is beyond 10^13. */
int dec_parse(const char *s, size_t n, int scale, int64_t *out);
/* v (scale from) at scale to, rounding half away from zero. */
int64_t dec_rescale(int64_t v, int from, int to);
/* a (scale sa) times b (scale sb), at scale to, rounded half away from zero; -2 when the result is
 * beyond 10^13, else 0. */
int dec_mul(int64_t a, int sa, int64_t b, int sb, int to, int64_t *out);
/* v at scale as text with exactly scale decimals ("-1.50"); out holds at least 32 bytes. */
void dec_format(int64_t v, int scale, char *out);

#endif

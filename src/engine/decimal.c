/* decimal: exact scaled-integer arithmetic for amounts (decimal.h). */
#include "engine/decimal.h"

#include <stdio.h>
#include <string.h>

#define DEC_LIMIT 10000000000000LL /* 10^13: decimal(15,2)'s integer digits */

static const int64_t pow10[] = {
    1LL,        10LL,        100LL,        1000LL,        10000LL,        100000LL,       1000000LL,
    10000000LL, 100000000LL, 1000000000LL, 10000000000LL, 100000000000LL, 1000000000000LL};

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int in_range(__int128 v, int scale)
{
    __int128 lim = (__int128)DEC_LIMIT * pow10[scale];
    return v < lim && v > -lim;
}

int dec_parse(const char *s, size_t n, int scale, int64_t *out)
{
    size_t i = 0;
    *out = 0;
    if (scale < 0 || scale > DEC_MAX_SCALE)
        return -1;
    while (i < n && is_blank(s[i]))
        i++;
    while (n > i && is_blank(s[n - 1]))
        n--;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    /* the digits as a mantissa (at most 30 significant ones kept exactly) and a power of ten */
    __int128 mant = 0;
    int exp10 = 0, digits = 0, any = 0, dropped_nonzero = 0, first_dropped = -1;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, any = 1) {
        if (digits < 30) {
            mant = mant * 10 + (s[i] - '0');
            digits += mant != 0;
        } else {
            exp10++;
            if (first_dropped < 0)
                first_dropped = s[i] - '0';
            dropped_nonzero |= s[i] != '0';
        }
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, any = 1) {
            if (digits < 30) {
                mant = mant * 10 + (s[i] - '0');
                digits += mant != 0;
                exp10--;
            } else if (first_dropped < 0) {
                first_dropped = s[i] - '0';
            } else {
                dropped_nonzero |= s[i] != '0';
            }
        }
    }
    if (!any)
        return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0, e = 0, edig = 0;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, edig = 1)
            if (e < 1000)
                e = e * 10 + (s[i] - '0');
        if (!edig)
            return -1;
        exp10 += eneg ? -e : e;
    }
    if (i != n)
        return -1;
    (void)dropped_nonzero;
    /* value = mant * 10^exp10; wanted: round(value * 10^scale) */
    int shift = exp10 + scale;
    __int128 v = mant;
    if (mant == 0) {
        v = 0;
    } else if (shift >= 0) {
        for (int k = 0; k < shift; k++) {
            if (v > (__int128)DEC_LIMIT * pow10[DEC_MAX_SCALE])
                return -2;
            v *= 10;
        }
    } else {
        int rnd = 0;
        for (int k = 0; k < -shift && v != 0; k++) {
            rnd = (int)(v % 10);
            v /= 10;
        }
        if (-shift > 40)
            rnd = 0, v = 0;
        if (rnd >= 5)
            v += 1;
    }
    if (!in_range(v, scale))
        return -2;
    *out = (int64_t)(neg ? -v : v);
    return 0;
}

static __int128 div_round(__int128 v, __int128 d)
{
    __int128 q = v / d, r = v % d;
    if (r < 0)
        r = -r;
    if (2 * r >= d)
        q += v < 0 ? -1 : 1;
    return q;
}

int64_t dec_rescale(int64_t v, int from, int to)
{
    if (to >= from)
        return v * pow10[to - from];
    return (int64_t)div_round(v, pow10[from - to]);
}

int dec_mul(int64_t a, int sa, int64_t b, int sb, int to, int64_t *out)
{
    __int128 p = (__int128)a * b;
    int s = sa + sb;
    __int128 v = s >= to ? div_round(p, (__int128)pow10[s - to > 12 ? 12 : s - to] *
                                            (s - to > 12 ? pow10[s - to - 12] : 1))
                         : p * pow10[to - s];
    if (!in_range(v, to))
        return -2;
    *out = (int64_t)v;
    return 0;
}

void dec_format(int64_t v, int scale, char *out)
{
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t p = (uint64_t)pow10[scale];
    if (scale == 0)
        snprintf(out, 32, "%s%llu", v < 0 ? "-" : "", (unsigned long long)u);
    else
        snprintf(out, 32, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(u / p), scale,
                 (unsigned long long)(u % p));
}

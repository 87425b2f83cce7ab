/* netaddr: address parsing, CIDR matching, the forwarded client address. */
#include "http/netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int netaddr_parse(const char *s, unsigned char out[16])
{
    struct in_addr a4;
    if (!s || !*s)
        return -1;
    if (inet_pton(AF_INET, s, &a4) == 1) {
        memcpy(out, mapped_prefix, 12);
        memcpy(out + 12, &a4, 4);
        return 0;
    }
    return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
}

int cidr_parse(const char *s, struct cidr *out)
{
    char text[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof(text))
        return -1;
    memcpy(text, s, n);
    text[n] = 0;
    struct in_addr a4;
    int v4 = inet_pton(AF_INET, text, &a4) == 1;
    if (netaddr_parse(text, out->addr) != 0)
        return -1;
    unsigned max = v4 ? 32 : 128;
    unsigned long bits = max;
    if (slash) {
        char *end = NULL;
        if (slash[1] < '0' || slash[1] > '9')
            return -1;
        bits = strtoul(slash + 1, &end, 10);
        if (*end || bits > max)
            return -1;
    }
    out->bits = (unsigned)bits + (v4 ? 96 : 0);
    for (unsigned i = out->bits; i < 128; i++) /* host bits must be zero: 10.0.0.1/8 is a typo */
        if (out->addr[i / 8] & (0x80u >> (i % 8)))
            return -1;
    return 0;
}

int cidr_list_add(struct cidr_list *l, const char *s)
{
    if (l->n >= CIDR_LIST_MAX || cidr_parse(s, &l->v[l->n]) != 0)
        return -1;
    l->n++;
    return 0;
}

void cidr_list_loopback(struct cidr_list *l)
{
    cidr_list_add(l, "127.0.0.0/8");
    cidr_list_add(l, "::1/128");
}

static int cidr_match(const struct cidr *c, const unsigned char a[16])
{
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, a, full) != 0)
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff00u >> rest);
    return (c->addr[full] & mask) == (a[full] & mask);
}

int cidr_list_match(const struct cidr_list *l, const unsigned char addr[16])
{
    for (size_t i = 0; l && i < l->n; i++)
        if (cidr_match(&l->v[i], addr))
            return 1;
    return 0;
}

int cidr_list_match_text(const struct cidr_list *l, const char *ip)
{
    unsigned char a[16];
    return netaddr_parse(ip, a) == 0 && cidr_list_match(l, a);
}

/* One forwarded address as sent: optional quotes, "[v6]" or "[v6]:port", "v4:port", or a plain
 * literal. Writes the bare address to out; -1 when it is none ("unknown", "_hidden", garbage). */
static int forwarded_value(const char *p, size_t n, char *out, size_t outlen, unsigned char a[16])
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"')
        p++, n -= 2;
    if (n && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close)
            return -1;
        size_t after = n - (size_t)(close - p) - 1;
        if (after && close[1] != ':')
            return -1;
        n = (size_t)(close - p) - 1;
        p++;
    } else {
        const char *colon = memchr(p, ':', n);
        if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - p) - 1))
            n = (size_t)(colon - p); /* v4:port */
    }
    if (n == 0 || n >= outlen)
        return -1;
    memcpy(out, p, n);
    out[n] = 0;
    return netaddr_parse(out, a);
}

/* The addresses of X-Forwarded-For (every comma-separated entry) or of Forwarded (the for=
 * parameter of every element), as spans in order. Returns how many, or max + 1 when there are
 * more than max. */
static size_t split_entries(const char *h, int is_forwarded, const char **start, size_t *len,
                            size_t max)
{
    size_t n = 0;
    const char *p = h;
    while (n < max) {
        const char *end = strchr(p, ',');
        size_t elen = end ? (size_t)(end - p) : strlen(p);
        if (!is_forwarded) {
            start[n] = p;
            len[n++] = elen;
        } else {
            /* pairs separated by ';': take for=... (a quoted value holds no ';' or ',' in the
             * forms accepted here) */
            const char *q = p, *elem_end = p + elen;
            int found = 0;
            while (q < elem_end) {
                while (q < elem_end && (*q == ' ' || *q == '\t' || *q == ';'))
                    q++;
                const char *semi = memchr(q, ';', (size_t)(elem_end - q));
                const char *pair_end = semi ? semi : elem_end;
                if (pair_end - q > 4 && strncasecmp(q, "for=", 4) == 0 && !found) {
                    start[n] = q + 4;
                    len[n++] = (size_t)(pair_end - q - 4);
                    found = 1;
                }
                q = pair_end;
            }
            if (!found) { /* an element without for=: nothing known about that hop */
                start[n] = p;
                len[n++] = 0;
            }
        }
        if (!end)
            return n;
        p = end + 1;
    }
    return max + 1;
}

void netaddr_client(const struct cidr_list *trusted, const char *peer, const char *xff,
                    const char *forwarded, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", peer);
    const char *h = xff ? xff : forwarded;
    if (!h || !trusted || !trusted->n || !cidr_list_match_text(trusted, peer))
        return;
    enum { MAX_HOPS = 64 };
    const char *start[MAX_HOPS];
    size_t len[MAX_HOPS];
    size_t n = split_entries(h, !xff, start, len, MAX_HOPS);
    if (n > MAX_HOPS)
        return; /* a chain that long is no proxy chain of ours: keep the peer */
    for (size_t i = n; i-- > 0;) {
        char text[64];
        unsigned char a[16];
        if (forwarded_value(start[i], len[i], text, sizeof(text), a) != 0)
            return; /* not an address: keep the peer */
        if (i > 0 && cidr_list_match(trusted, a))
            continue;
        if (memcmp(a, mapped_prefix, 12) == 0)
            inet_ntop(AF_INET, a + 12, text, sizeof(text));
        else
            inet_ntop(AF_INET6, a, text, sizeof(text));
        snprintf(out, outlen, "%s", text);
        return;
    }
}

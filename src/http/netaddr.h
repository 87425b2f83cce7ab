/* netaddr: IP addresses and CIDR lists (--metrics-from, --trusted-proxy) and the client address
 * behind trusted reverse proxies (X-Forwarded-For, Forwarded). */
#ifndef ITFLOWD_HTTP_NETADDR_H
#define ITFLOWD_HTTP_NETADDR_H

#include <stddef.h>

/* An address as 16 bytes: IPv4 as the IPv4-mapped IPv6 address ::ffff:a.b.c.d, so that one
 * comparison serves both families (an IPv4 prefix /n is /96+n). */
struct cidr {
    unsigned char addr[16];
    unsigned bits;
};

#define CIDR_LIST_MAX 64

struct cidr_list {
    struct cidr v[CIDR_LIST_MAX];
    size_t n;
};

/* An IP literal (IPv4 dotted quad or IPv6, no brackets, no port); 0, or -1 when not one. */
int netaddr_parse(const char *s, unsigned char out[16]);
/* "ADDR" or "ADDR/BITS" (0-32 for IPv4, 0-128 for IPv6; host bits beyond the prefix must be
 * zero); 0, or -1 when malformed. */
int cidr_parse(const char *s, struct cidr *out);
/* Appends s (cidr_parse); -1 when malformed or the list is full. */
int cidr_list_add(struct cidr_list *l, const char *s);
/* The loopback networks: 127.0.0.0/8 and ::1/128. */
void cidr_list_loopback(struct cidr_list *l);
/* 1 when the address (netaddr_parse form) is inside one of the list's networks. */
int cidr_list_match(const struct cidr_list *l, const unsigned char addr[16]);
/* The same for an address in text; an unparseable text matches nothing. */
int cidr_list_match_text(const struct cidr_list *l, const char *ip);

/* The client's address for a request from peer (text) carrying these forwarded headers (every
 * occurrence joined with ',', or NULL): only when peer is in trusted are they believed, then the
 * right-most address of X-Forwarded-For (or, without that header, of the for= parameters of
 * Forwarded) that is not itself a trusted proxy is the client (the left-most when all are).
 * An entry that is not an IP literal (ports and IPv6 brackets are removed first) there, or no
 * header at all, keeps the peer. Writes the address (IPv4 in dotted form) to out. */
void netaddr_client(const struct cidr_list *trusted, const char *peer, const char *xff,
                    const char *forwarded, char *out, size_t outlen);

#endif

/* rawreq: finds the NUL bytes libmicrohttpd 0.9.75 cuts strings at. The request line and the
 * header lines stay, one after the other, in the connection's read buffer, from the method to
 * MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE bytes on; libmicrohttpd only overwrites separators
 * there (line ends, the ':' and the spaces of the request line) with NUL bytes. So a value that
 * was cut shows as bytes other than NUL left between where the value ends and where the next
 * header's name begins (or the block ends), and a target that was cut as a target shorter than
 * the room between its start and the HTTP version. Addresses are compared as integers; nothing
 * outside the block is read. */
#include "http/rawreq.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

const char RAWREQ_TARGET[] = "request target";

static const char *const CHECKED[] = {"X-API-Key", "Authorization", "X-API-Key-Decrypt-Password",
                                      "User-Agent"};

struct scan {
    uintptr_t lo, hi; /* the header block */
    const char *name; /* the previous header, if it is one of CHECKED, else NULL */
    uintptr_t end;    /* where its value ends */
    const char *cut;  /* the first header found cut */
};

static int inside(const struct scan *s, uintptr_t p)
{
    return p >= s->lo && p <= s->hi;
}

/* Whether the bytes [from, to) of the block hold anything but NUL. */
static int leftover(uintptr_t from, uintptr_t to)
{
    for (const char *p = (const char *)from; (uintptr_t)p < to; p++)
        if (*p)
            return 1;
    return 0;
}

/* The previous checked header's line ends where the next line begins, at `next`. */
static void close_previous(struct scan *s, uintptr_t next)
{
    if (s->name && !s->cut && inside(s, s->end) && inside(s, next) && s->end <= next &&
        leftover(s->end, next))
        s->cut = s->name;
    s->name = NULL;
}

static enum MHD_Result each_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    struct scan *s = cls;
    (void)kind, (void)key_size;
    close_previous(s, (uintptr_t)key);
    for (size_t i = 0; value && i < sizeof(CHECKED) / sizeof(CHECKED[0]); i++)
        if (strcasecmp(key, CHECKED[i]) == 0) {
            s->name = CHECKED[i];
            s->end = (uintptr_t)value + value_size;
        }
    return MHD_YES;
}

const char *rawreq_cut(struct MHD_Connection *con, const char *method, const char *url,
                       const char *version, const char *raw_uri)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (!ci || !method || ci->header_size == 0)
        return NULL;
    struct scan s = {(uintptr_t)method, (uintptr_t)method + ci->header_size, NULL, 0, NULL};
    /* The target runs from its start up to the space before the version (which is now a NUL). */
    if (url && version && raw_uri) {
        uintptr_t u = (uintptr_t)url, v = (uintptr_t)version;
        if (inside(&s, u) && inside(&s, v) && v > u && v - u - 1 != strlen(raw_uri))
            return RAWREQ_TARGET;
    }
    MHD_get_connection_values_n(con, MHD_HEADER_KIND, each_header, &s);
    close_previous(&s, s.hi);
    return s.cut;
}

/* framing: every header of the request, not only the first of a name (see framing.h). */
#include "http/framing.h"

#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct scan {
    size_t bytes; /* the header block's size as sent: name, ": ", value, CRLF */
    int te, cl;
    const char *cl_value;
    const char *error;
};

static int tchar(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct scan *s = cls;
    (void)kind;
    s->bytes += (key ? strlen(key) : 0) + (value ? strlen(value) : 0) + 4;
    if (s->error) /* the first error stands; the rest is only counted */
        return MHD_YES;
    if (!key || !key[0]) {
        s->error = "A request header has an empty name.";
        return MHD_YES;
    }
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (!tchar(*p)) {
            s->error = "A request header name is malformed (whitespace before the colon or a "
                       "folded header line).";
            return MHD_YES;
        }
    const char *v = value ? value : "";
    if (!strcasecmp(key, "Transfer-Encoding")) {
        if (++s->te > 1 || strcasecmp(v, "chunked") != 0) {
            s->error = "Only a single Transfer-Encoding: chunked is supported.";
            return MHD_YES;
        }
    } else if (!strcasecmp(key, "Content-Length")) {
        if (s->cl++ && strcmp(s->cl_value, v) != 0) {
            s->error = "The request has two different Content-Length headers.";
            return MHD_YES;
        }
        s->cl_value = v;
    } else if (starts_with_ci(key, "Transfer-Encoding") || starts_with_ci(key, "Content-Length")) {
        /* libmicrohttpd appends a folded continuation line to the header's name */
        s->error = "A request header name is malformed (whitespace before the colon or a "
                   "folded header line).";
        return MHD_YES;
    }
    return MHD_YES;
}

const char *framing_scan(struct MHD_Connection *con, size_t *header_bytes)
{
    struct scan s = {0};
    MHD_get_connection_values(con, MHD_HEADER_KIND, scan_header, &s);
    if (!s.error && s.te && s.cl)
        s.error = "The request has both Transfer-Encoding and Content-Length.";
    *header_bytes = s.bytes;
    return s.error;
}

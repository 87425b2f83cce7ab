/* framing: RFC 9112 message framing checks on the headers libmicrohttpd 0.9.75 hands over. */
#ifndef ITFLOWD_HTTP_FRAMING_H
#define ITFLOWD_HTTP_FRAMING_H

#include <stddef.h>

struct MHD_Connection;

/* One pass over every header: *header_bytes gets the header block's size (each line's name,
 * ": ", value and CRLF), and the answer is NULL when the request's framing headers are sound, else
 * the 400 message: two different Content-Length values, Transfer-Encoding with Content-Length, a
 * Transfer-Encoding other than a single "chunked", a header name that is not a token (whitespace
 * before the colon, or an obs-folded line, which the library appends to the name). */
const char *framing_scan(struct MHD_Connection *con, size_t *header_bytes);

#endif

/* framing: RFC 9112 message framing checks on the headers libmicrohttpd 0.9.75 hands over. */
#ifndef ITFLOWD_HTTP_FRAMING_H
#define ITFLOWD_HTTP_FRAMING_H

struct MHD_Connection;

/* NULL when the request's framing headers are sound, else the 400 message: two different
 * Content-Length values, Transfer-Encoding with Content-Length, a Transfer-Encoding other than a
 * single "chunked", a header name that is not a token (whitespace before the colon, or an
 * obs-folded line, which the library appends to the name). */
const char *framing_error(struct MHD_Connection *con);

#endif

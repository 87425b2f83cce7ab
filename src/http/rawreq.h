/* rawreq: NUL bytes that libmicrohttpd 0.9.75 hides. It hands over the request target and header
 * values as C strings: a NUL byte inside ends them, and the rest of the line is dropped without a
 * word (the reported lengths agree). `X-API-Key: <key>\0junk` would authenticate as <key>. */
#ifndef ITFLOWD_HTTP_RAWREQ_H
#define ITFLOWD_HTTP_RAWREQ_H

#include <microhttpd.h>

/* The label rawreq_cut() gives a request target that held a NUL byte. */
extern const char RAWREQ_TARGET[];

/* NULL, or what was cut at a NUL byte: RAWREQ_TARGET, or the name of the first of the headers
 * the server reads (X-API-Key, Authorization, X-API-Key-Decrypt-Password, User-Agent).
 * method, url, version: as the access handler received them; raw_uri: the target as the URI log
 * callback received it. */
const char *rawreq_cut(struct MHD_Connection *con, const char *method, const char *url,
                       const char *version, const char *raw_uri);

#endif

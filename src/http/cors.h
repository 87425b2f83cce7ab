/* cors: browser clients (--cors-origin, repeatable, off by default). A preflight OPTIONS from an
 * allowed origin for a v1 path is answered 204 with the methods and the key headers allowed;
 * every answer to an allowed origin names it in Access-Control-Allow-Origin. Credentials are
 * never allowed (the key travels in a header, not a cookie). Anyone else gets today's answers,
 * without CORS headers. */
#ifndef ITFLOWD_HTTP_CORS_H
#define ITFLOWD_HTTP_CORS_H

#include <microhttpd.h>
#include <stddef.h>

#include "core/textlist.h"

/* origin (the Origin header) when it is one of the allowed origins, as given
 * ("https://app.example.com"; "*" allows any origin), else NULL. */
const char *cors_allowed(const struct text_list *allowed, const char *origin);
/* 1 when method/request_method (Access-Control-Request-Method) make a preflight we answer. */
int cors_is_preflight(const char *method, const char *request_method);
/* The headers of an answer to an allowed origin (preflight: also the methods, headers, max age). */
void cors_add_headers(struct MHD_Response *resp, const char *origin, int preflight);

#endif

/* cors: browser clients (see cors.h). */
#include "http/cors.h"

#include <string.h>
#include <strings.h>

const char *cors_allowed(const struct text_list *allowed, const char *origin)
{
    if (!allowed || !origin || !origin[0])
        return NULL;
    for (size_t i = 0; i < allowed->n; i++)
        /* scheme and host are case-insensitive; browsers send them in lower case */
        if (!strcmp(allowed->v[i], "*") || !strcasecmp(allowed->v[i], origin))
            return origin;
    return NULL;
}

int cors_is_preflight(const char *method, const char *request_method)
{
    return method && !strcmp(method, "OPTIONS") && request_method &&
           (!strcmp(request_method, "GET") || !strcmp(request_method, "POST"));
}

void cors_add_headers(struct MHD_Response *resp, const char *origin, int preflight)
{
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(resp, "Vary", "Origin");
    if (!preflight) {
        MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                                "X-Total-Count, Link, Retry-After, Idempotent-Replayed");
        return;
    }
    MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST");
    MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                            "X-API-Key, X-API-Key-Decrypt-Password, Authorization, Content-Type, "
                            "Idempotency-Key");
    MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
}

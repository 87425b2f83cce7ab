/* metrics: request counters by endpoint and status, a latency histogram and store errors, in the
 * Prometheus text format (A7). Thread-safe. */
#ifndef ITFLOWD_HTTP_METRICS_H
#define ITFLOWD_HTTP_METRICS_H

#include "core/buf.h"

/* mod/fn are static strings (descriptor names) or NULL for non-API routes named by other; result
 * is a static string: the v1 answer's "True" / "False", or "-" (no v1 answer: no result label). */
void metrics_observe(const char *mod, const char *fn, const char *other, int status,
                     const char *result, double seconds);
void metrics_store_error(void);
void metrics_render(struct buf *out);

#endif

/* metrics: request counters by endpoint and status, a latency histogram and store errors, in the
 * Prometheus text format (A7). Thread-safe. */
#ifndef ITFLOWD_HTTP_METRICS_H
#define ITFLOWD_HTTP_METRICS_H

#include "core/buf.h"

/* mod/fn are static strings (descriptor names) or NULL for non-API routes named by other. */
void metrics_observe(const char *mod, const char *fn, const char *other, int status,
                     double seconds);
void metrics_store_error(void);
void metrics_render(struct buf *out);

#endif

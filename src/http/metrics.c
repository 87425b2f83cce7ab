/* metrics: fixed-size tables under one mutex; labels point at descriptor strings. */
#include "http/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "webhook/webhook.h"

#define METRIC_SLOTS 512

struct counter {
    const char *mod, *fn, *other, *result;
    int status;
    unsigned long long n;
};

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,  5};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct counter counters[METRIC_SLOTS];
static size_t ncounters;
static unsigned long long buckets[NBOUNDS + 1];
static double latency_sum;
static unsigned long long latency_count, store_errors;

void metrics_observe(const char *mod, const char *fn, const char *other, int status,
                     const char *result, double seconds)
{
    pthread_mutex_lock(&mu);
    size_t i;
    for (i = 0; i < ncounters; i++)
        if (counters[i].mod == mod && counters[i].fn == fn && counters[i].other == other &&
            counters[i].status == status && counters[i].result == result)
            break;
    if (i == ncounters && ncounters < METRIC_SLOTS)
        counters[ncounters++] = (struct counter){mod, fn, other, result, status, 0};
    if (i < ncounters)
        counters[i].n++;
    size_t b = 0;
    while (b < NBOUNDS && seconds > bounds[b])
        b++;
    buckets[b]++;
    latency_sum += seconds;
    latency_count++;
    pthread_mutex_unlock(&mu);
}

void metrics_store_error(void)
{
    pthread_mutex_lock(&mu);
    store_errors++;
    pthread_mutex_unlock(&mu);
}

void metrics_render(struct buf *out)
{
    pthread_mutex_lock(&mu);
    buf_puts(out, "# HELP itflowd_requests_total Requests by endpoint, status and v1 result.\n"
                  "# TYPE itflowd_requests_total counter\n");
    for (size_t i = 0; i < ncounters; i++) {
        const struct counter *c = &counters[i];
        char result[32] = "";
        if (c->result && c->result[0] != '-')
            snprintf(result, sizeof(result), ",result=\"%s\"", c->result);
        if (c->mod)
            buf_printf(out, "itflowd_requests_total{endpoint=\"%s/%s\",status=\"%d\"%s} %llu\n",
                       c->mod, c->fn, c->status, result, c->n);
        else
            buf_printf(out, "itflowd_requests_total{endpoint=\"%s\",status=\"%d\"%s} %llu\n",
                       c->other, c->status, result, c->n);
    }
    buf_puts(out, "# HELP itflowd_request_duration_seconds Request latency.\n"
                  "# TYPE itflowd_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (size_t b = 0; b < NBOUNDS; b++) {
        cum += buckets[b];
        buf_printf(out, "itflowd_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bounds[b],
                   cum);
    }
    cum += buckets[NBOUNDS];
    buf_printf(out, "itflowd_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    buf_printf(out, "itflowd_request_duration_seconds_sum %.6f\n", latency_sum);
    buf_printf(out, "itflowd_request_duration_seconds_count %llu\n", latency_count);
    buf_printf(out,
               "# HELP itflowd_store_errors_total Store faults answered with 500/503.\n"
               "# TYPE itflowd_store_errors_total counter\nitflowd_store_errors_total %llu\n",
               store_errors);
    pthread_mutex_unlock(&mu);
    webhook_metrics_render(out); /* per subscription, as the delivery thread last saw them */
}

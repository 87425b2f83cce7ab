/* workers: a small pool of threads for requests that wait on the store (writes), so that
 * libmicrohttpd's event threads never block on them. Jobs run in submission order. */
#ifndef ITFLOWD_HTTP_WORKERS_H
#define ITFLOWD_HTTP_WORKERS_H

/* Embed this in the job's own struct; the pool owns no memory of the job. */
struct work {
    struct work *next;
};

typedef void (*work_fn)(struct work *w, void *cls);

struct workers;

/* Starts n threads calling fn(job, cls) for each submitted job. NULL on failure. */
struct workers *workers_start(unsigned n, work_fn fn, void *cls);
/* Queues w (some worker calls fn on it soon): 1. Once workers_stop() has begun: 0, nothing queued
 * (the caller runs the job itself). Safe from any thread until workers_free(). */
int workers_submit(struct workers *ws, struct work *w);
/* Runs every job already queued, then joins the threads (accepts NULL). */
void workers_stop(struct workers *ws);
/* Frees the pool after workers_stop(), once no thread can call workers_submit() (accepts NULL). */
void workers_free(struct workers *ws);

#endif

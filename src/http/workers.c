/* workers: a FIFO of jobs and the threads that run them (see workers.h). */
#include "http/workers.h"

#include <pthread.h>
#include <stdlib.h>

struct workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct work *head, **tail;
    int stopping;
    work_fn fn;
    void *cls;
    unsigned n;
    pthread_t threads[];
};

static void *worker_main(void *arg)
{
    struct workers *ws = arg;
    pthread_mutex_lock(&ws->mu);
    for (;;) {
        struct work *w = ws->head;
        if (!w) {
            if (ws->stopping)
                break;
            pthread_cond_wait(&ws->cv, &ws->mu);
            continue;
        }
        ws->head = w->next;
        if (!ws->head)
            ws->tail = &ws->head;
        pthread_mutex_unlock(&ws->mu);
        w->next = NULL;
        ws->fn(w, ws->cls);
        pthread_mutex_lock(&ws->mu);
    }
    pthread_mutex_unlock(&ws->mu);
    return NULL;
}

struct workers *workers_start(unsigned n, work_fn fn, void *cls)
{
    if (n == 0)
        return NULL;
    struct workers *ws = calloc(1, sizeof(*ws) + n * sizeof(pthread_t));
    if (!ws)
        return NULL;
    pthread_mutex_init(&ws->mu, NULL);
    pthread_cond_init(&ws->cv, NULL);
    ws->tail = &ws->head;
    ws->fn = fn;
    ws->cls = cls;
    for (; ws->n < n; ws->n++)
        if (pthread_create(&ws->threads[ws->n], NULL, worker_main, ws) != 0)
            break;
    if (ws->n == 0) {
        workers_stop(ws);
        return NULL;
    }
    return ws;
}

int workers_submit(struct workers *ws, struct work *w)
{
    w->next = NULL;
    pthread_mutex_lock(&ws->mu);
    int queued = !ws->stopping;
    if (queued) {
        *ws->tail = w;
        ws->tail = &w->next;
        pthread_cond_signal(&ws->cv);
    }
    pthread_mutex_unlock(&ws->mu);
    return queued;
}

void workers_stop(struct workers *ws)
{
    if (!ws)
        return;
    pthread_mutex_lock(&ws->mu);
    int joined = ws->stopping;
    ws->stopping = 1;
    pthread_cond_broadcast(&ws->cv);
    pthread_mutex_unlock(&ws->mu);
    for (unsigned i = 0; i < ws->n && !joined; i++)
        pthread_join(ws->threads[i], NULL);
}

void workers_free(struct workers *ws)
{
    if (!ws)
        return;
    workers_stop(ws);
    pthread_mutex_destroy(&ws->mu);
    pthread_cond_destroy(&ws->cv);
    free(ws);
}

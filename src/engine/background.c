/* background: the engine's work off the request path, on a thread and a store connection of its
 * own: every second, the keys' last use noted in memory is written (keyperm.c); at the stop, a
 * last time. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/engine_int.h"

struct engine_bg {
    const char *target;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

static void turn(struct engine_bg *bg, struct db **db)
{
    if (!*db && db_open(bg->target, db) != DB_OK)
        *db = NULL;
    if (*db && keyperm_flush(*db) == DB_UNAVAILABLE) {
        db_close(*db);
        *db = NULL; /* opened again at the next turn */
    }
}

static void *run(void *arg)
{
    struct engine_bg *bg = arg;
    struct db *db = NULL;
    pthread_mutex_lock(&bg->mu);
    while (!bg->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        while (!bg->stop && pthread_cond_timedwait(&bg->cv, &bg->mu, &until) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&bg->mu);
        turn(bg, &db);
        pthread_mutex_lock(&bg->mu);
    }
    pthread_mutex_unlock(&bg->mu);
    turn(bg, &db); /* what the last requests noted */
    db_close(db);
    return NULL;
}

struct engine_bg *engine_bg_start(const char *db_target)
{
    struct engine_bg *bg = calloc(1, sizeof(*bg));
    if (!bg)
        return NULL;
    bg->target = db_target;
    pthread_mutex_init(&bg->mu, NULL);
    pthread_cond_init(&bg->cv, NULL);
    if (pthread_create(&bg->thread, NULL, run, bg) != 0) {
        pthread_mutex_destroy(&bg->mu);
        pthread_cond_destroy(&bg->cv);
        free(bg);
        return NULL;
    }
    return bg;
}

void engine_bg_stop(struct engine_bg *bg)
{
    if (!bg)
        return;
    pthread_mutex_lock(&bg->mu);
    bg->stop = 1;
    pthread_cond_signal(&bg->cv);
    pthread_mutex_unlock(&bg->mu);
    pthread_join(bg->thread, NULL);
    pthread_mutex_destroy(&bg->mu);
    pthread_cond_destroy(&bg->cv);
    free(bg);
}

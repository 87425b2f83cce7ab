/* test_workers: the write workers' job queue (src/http/workers.c) — every job queued before
 * workers_stop() runs exactly once; a job submitted once the stop has begun is refused (the caller
 * then runs it itself: the server's shutdown relies on that, since a request on a kept-alive
 * connection can arrive after the workers stopped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/workers.h"

#define JOBS 64

struct job {
    struct work work; /* first: the job is found from its work */
    atomic_int runs;
};

static atomic_int total;

static void run(struct work *w, void *cls)
{
    (void)cls;
    struct job *j = (struct job *)(void *)w;
    usleep(200); /* long enough that the queue still holds jobs when the stop begins */
    atomic_fetch_add(&j->runs, 1);
    atomic_fetch_add(&total, 1);
}

static void test_stop_runs_queued_jobs_then_refuses(void **state)
{
    (void)state;
    static struct job jobs[JOBS + 1];
    atomic_store(&total, 0);
    struct workers *ws = workers_start(3, run, NULL);
    assert_non_null(ws);
    for (int i = 0; i < JOBS; i++)
        assert_int_equal(workers_submit(ws, &jobs[i].work), 1);
    workers_stop(ws); /* returns once every queued job has run */
    assert_int_equal(atomic_load(&total), JOBS);
    for (int i = 0; i < JOBS; i++)
        assert_int_equal(atomic_load(&jobs[i].runs), 1);
    /* after the stop (still before workers_free): refused, and never run */
    assert_int_equal(workers_submit(ws, &jobs[JOBS].work), 0);
    workers_stop(ws); /* a second stop is harmless */
    workers_free(ws);
    assert_int_equal(atomic_load(&jobs[JOBS].runs), 0);
    assert_int_equal(atomic_load(&total), JOBS);
    workers_free(NULL);
    workers_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_runs_queued_jobs_then_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

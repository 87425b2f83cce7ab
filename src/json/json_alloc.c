/* json_alloc: see json_alloc.h. */
#include "json/json_alloc.h"

#include <jansson.h>
#include <pthread.h>

#include "core/membudget.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void install(void)
{
    json_set_alloc_funcs(membudget_malloc, membudget_free);
}

void json_alloc_install(void)
{
    pthread_once(&once, install);
}

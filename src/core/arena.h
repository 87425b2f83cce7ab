/* arena: a per-request bump allocator, freed in one go (h2o-style memory pool). */
#ifndef ITFLOWD_CORE_ARENA_H
#define ITFLOWD_CORE_ARENA_H

#include <stddef.h>

struct arena_chunk;

/* Invariant: every pointer handed out stays valid until arena_free/arena_reset. */
struct arena {
    struct arena_chunk *head;
    size_t used_total;
    size_t max; /* 0 = no limit */
    int failed; /* an allocation failed (sticky until arena_free): the work using it is void */
};

void arena_init(struct arena *a, size_t max);
void *arena_alloc(struct arena *a,
                  size_t n); /* 16-byte aligned; NULL when over max/out of memory */
char *arena_strndup(struct arena *a, const char *s, size_t n); /* NUL-terminated copy */
void arena_free(struct arena *a);                              /* accepts a zeroed arena */

#endif

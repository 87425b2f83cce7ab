/* membudget: bounds the memory that request bodies take before anyone is authenticated.
 *
 * One global budget counts the bytes of every body being received and of every parsed body
 * still alive, across all requests: the body buffer's growth on append, and each allocation of
 * the JSON parser while a parse scope is open on the calling thread. A request records what it
 * holds (a size_t it owns) and gives it back in one go when it ends.
 *
 * A parse scope (thread-local, opened around one json_loadb call) has its own limit as well; an
 * allocation beyond either limit fails, so the parse fails and the request is answered with an
 * error instead of growing. Blocks carry a small header (their size and the scope that charged
 * them), so they can be freed from any thread at any time without disturbing the accounting. */
#ifndef ITFLOWD_CORE_MEMBUDGET_H
#define ITFLOWD_CORE_MEMBUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* The global budget in bytes (0 = unlimited). Also makes glibc serve allocations of 1 MiB and
 * more with mmap (so freed bodies go back to the system at once). */
void membudget_configure(size_t limit);
size_t membudget_limit(void);
size_t membudget_used(void); /* bytes currently charged by all requests */

/* Charges n bytes to the global budget and to *held: 0, or -1 (nothing charged) when that
 * would go beyond the limit. */
int membudget_charge(size_t *held, size_t n);
/* Gives back everything *held (then 0). Releasing 1 MiB or more returns freed heap memory to
 * the system (malloc_trim) once the budget is almost idle, or at most every 250 ms otherwise. */
void membudget_release(size_t *held);

/* Appends n bytes to b, charging the growth of b's allocation: 0, -1 over the global budget,
 * -2 over b's max (b unchanged in both cases). */
int membudget_buf_append(struct buf *b, size_t *held, const void *data, size_t n);
/* The same for a body of expected bytes in all (its declared length; 0 = unknown): the buffer
 * grows as the bytes arrive, doubling, but never past expected while the data stays within it. */
int membudget_buf_append_sized(struct buf *b, size_t *held, const void *data, size_t n,
                               size_t expected);
/* Makes room for exactly n more bytes in b at once, charged likewise. */
int membudget_buf_reserve(struct buf *b, size_t *held, size_t n);
/* Frees b and gives back what *held charged for it. */
void membudget_buf_free(struct buf *b, size_t *held);

/* A parse scope: allocations through membudget_malloc on this thread while it is open are
 * charged to it (used), to *held (required: the owner gives it back with membudget_release)
 * and to the global budget. */
struct mem_scope {
    size_t limit; /* 0 = no limit of its own */
    size_t used;  /* bytes charged and not freed again */
    size_t peak;
    size_t *held;
    uint64_t tag;
    int over_limit;    /* an allocation failed: beyond limit */
    int over_global;   /* an allocation failed: beyond the global budget */
    int out_of_memory; /* an allocation failed: the system refused it */
    struct mem_scope *prev;
};

void mem_scope_open(struct mem_scope *s, size_t limit, size_t *held);
void mem_scope_close(struct mem_scope *s);

/* Allocation functions for the parser (json_set_alloc_funcs): every block has a header. */
void *membudget_malloc(size_t n);
void membudget_free(void *p);

/* What one block of n bytes is charged (header and the allocator's own overhead included). */
size_t membudget_block_cost(size_t n);

#endif

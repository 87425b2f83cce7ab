/* membudget: the global budget for request bodies and the parser's per-scope budget (see
 * membudget.h). */
#include "core/membudget.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every parser block starts with this header; 16 bytes keep the block 16-byte aligned. */
struct block_hdr {
    size_t size;
    uint64_t tag; /* the scope that charged it, 0 = none */
};

#define HDR_SIZE sizeof(struct block_hdr)
#define MALLOC_OVERHEAD 16 /* glibc's chunk header and rounding, about */
#define TRIM_FROM ((size_t)1 << 20)
#define TRIM_IDLE ((size_t)1 << 20)
#define TRIM_EVERY_MS 250

static atomic_size_t g_limit;
static atomic_size_t g_used;
static atomic_uint_fast64_t g_next_tag = 1;
static atomic_llong g_last_trim_ms;
static _Thread_local struct mem_scope *t_scope;

void membudget_configure(size_t limit)
{
    atomic_store(&g_limit, limit);
    /* A fixed threshold also stops glibc from raising it after each freed big block, which
     * would keep later bodies in the heap (and in RSS) after they are freed. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

size_t membudget_limit(void)
{
    return atomic_load(&g_limit);
}

size_t membudget_used(void)
{
    return atomic_load(&g_used);
}

static int global_charge(size_t n)
{
    size_t limit = atomic_load(&g_limit);
    size_t cur = atomic_load(&g_used);
    do {
        if (limit && (n > limit || cur > limit - n))
            return -1;
    } while (!atomic_compare_exchange_weak(&g_used, &cur, cur + n));
    return 0;
}

static void global_release(size_t n)
{
    atomic_fetch_sub(&g_used, n);
}

int membudget_charge(size_t *held, size_t n)
{
    if (global_charge(n))
        return -1;
    *held += n;
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void membudget_release(size_t *held)
{
    size_t n = *held;
    if (!n)
        return;
    *held = 0;
    global_release(n);
    if (n < TRIM_FROM)
        return;
    /* freed heap memory stays with the process until trimmed; the last big request to end
     * (the budget almost idle) always trims, others at most every TRIM_EVERY_MS */
    long long t = now_ms();
    long long last = atomic_load(&g_last_trim_ms);
    if (atomic_load(&g_used) >= TRIM_IDLE && t - last < TRIM_EVERY_MS)
        return;
    atomic_store(&g_last_trim_ms, t);
    malloc_trim(0);
}

/* The capacity a buf grows to for need bytes: doubling, as buf_reserve does, up to max + 1. */
static size_t grown_cap(const struct buf *b, size_t need, size_t limit)
{
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    return ncap > limit + 1 ? limit + 1 : ncap;
}

/* Reallocates b to exactly ncap bytes, charging the growth. */
static int grow_to(struct buf *b, size_t *held, size_t ncap)
{
    if (membudget_charge(held, ncap - b->cap))
        return -1;
    char *np = realloc(b->p, ncap);
    if (!np) {
        global_release(ncap - b->cap);
        *held -= ncap - b->cap;
        return -1;
    }
    if (!b->p)
        np[0] = 0;
    b->p = np;
    b->cap = ncap;
    return 0;
}

/* Room for n more bytes: exactly, or doubling up to the limit — or up to expected when the
 * data stays within it (a declared length: the last growth stops there, not at twice as much). */
static int room_for(struct buf *b, size_t *held, size_t n, int exact, size_t expected)
{
    size_t limit = b->max ? b->max : SIZE_MAX / 2;
    if (b->failed || n > limit || b->len + n > limit)
        return -2;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t upto = expected && b->len + n <= expected && expected < limit ? expected : limit;
    return grow_to(b, held, exact ? need : grown_cap(b, need, upto));
}

int membudget_buf_append(struct buf *b, size_t *held, const void *data, size_t n)
{
    return membudget_buf_append_sized(b, held, data, n, 0);
}

int membudget_buf_append_sized(struct buf *b, size_t *held, const void *data, size_t n,
                               size_t expected)
{
    int rc = room_for(b, held, n, 0, expected);
    if (rc)
        return rc;
    buf_append(b, data, n);
    return 0;
}

int membudget_buf_reserve(struct buf *b, size_t *held, size_t n)
{
    return room_for(b, held, n, 1, 0);
}

void membudget_buf_free(struct buf *b, size_t *held)
{
    buf_free(b);
    membudget_release(held);
}

size_t membudget_block_cost(size_t n)
{
    return n + HDR_SIZE + MALLOC_OVERHEAD;
}

void mem_scope_open(struct mem_scope *s, size_t limit, size_t *held)
{
    memset(s, 0, sizeof(*s));
    s->limit = limit;
    s->held = held;
    s->tag = atomic_fetch_add(&g_next_tag, 1);
    s->prev = t_scope;
    t_scope = s;
}

void mem_scope_close(struct mem_scope *s)
{
    if (t_scope == s)
        t_scope = s->prev;
}

void *membudget_malloc(size_t n)
{
    struct mem_scope *s = t_scope;
    if (n > SIZE_MAX / 2)
        return NULL;
    size_t cost = membudget_block_cost(n);
    if (s) {
        if (s->limit && cost > s->limit - (s->used < s->limit ? s->used : s->limit)) {
            s->over_limit = 1;
            return NULL;
        }
        if (global_charge(cost)) {
            s->over_global = 1;
            return NULL;
        }
    }
    struct block_hdr *h = malloc(HDR_SIZE + n);
    if (!h) {
        if (s) {
            global_release(cost);
            s->out_of_memory = 1;
        }
        return NULL;
    }
    h->size = n;
    h->tag = s ? s->tag : 0;
    if (s) {
        s->used += cost;
        if (s->used > s->peak)
            s->peak = s->used;
        if (s->held)
            *s->held += cost;
    }
    return h + 1;
}

void membudget_free(void *p)
{
    if (!p)
        return;
    struct block_hdr *h = (struct block_hdr *)p - 1;
    struct mem_scope *s = t_scope;
    if (h->tag && s && s->tag == h->tag) {
        /* freed while its own scope is open (the parser's scratch space): uncharged at once;
         * blocks freed later stay in the owner's held bytes until it releases them */
        size_t cost = membudget_block_cost(h->size);
        s->used -= cost;
        if (s->held)
            *s->held -= cost;
        global_release(cost);
    }
    free(h);
}

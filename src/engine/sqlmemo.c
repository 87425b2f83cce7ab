/* sqlmemo: an append-only open-addressing table of published entries (acquire/release). */
#include "engine/sqlmemo.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "db/db.h"

#define MEMO_SLOTS 2048

struct memo_entry {
    const void *a, *b;
    unsigned variant;
    const char *sql; /* interned */
};

static struct memo_entry *_Atomic table[MEMO_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const void *a, const void *b, unsigned variant)
{
    uint64_t h = (uint64_t)(uintptr_t)a * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)(uintptr_t)b * 0xC2B2AE3D27D4EB4Full;
    h ^= (uint64_t)variant * 0x165667B19E3779F9ull;
    return (size_t)(h >> 40) % MEMO_SLOTS;
}

const char *sqlmemo_find(const void *a, const void *b, unsigned variant)
{
    size_t k = slot_of(a, b, variant);
    for (size_t i = 0; i < MEMO_SLOTS; i++) {
        struct memo_entry *e =
            atomic_load_explicit(&table[(k + i) % MEMO_SLOTS], memory_order_acquire);
        if (!e)
            return NULL;
        if (e->a == a && e->b == b && e->variant == variant)
            return e->sql;
    }
    return NULL;
}

const char *sqlmemo_add(const void *a, const void *b, unsigned variant, const char *sql)
{
    const char *s = sql_intern(sql);
    if (!s)
        return NULL;
    pthread_mutex_lock(&mu);
    size_t k = slot_of(a, b, variant);
    const char *ret = NULL;
    for (size_t i = 0; i < MEMO_SLOTS; i++) {
        struct memo_entry *_Atomic *slot = &table[(k + i) % MEMO_SLOTS];
        struct memo_entry *e = atomic_load_explicit(slot, memory_order_acquire);
        if (e && e->a == a && e->b == b && e->variant == variant) {
            ret = e->sql;
            break;
        }
        if (!e) {
            e = malloc(sizeof(*e));
            if (e) {
                *e = (struct memo_entry){a, b, variant, s};
                atomic_store_explicit(slot, e, memory_order_release);
                ret = s;
            }
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return ret;
}

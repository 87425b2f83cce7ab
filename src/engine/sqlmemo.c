/* sqlmemo: an append-only open-addressing table of published entries (acquire/release). */
#include "engine/sqlmemo.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "db/db.h"

#define MEMO_SLOTS 2048

struct memo_entry {
    struct sql_key key;
    const char *sql; /* interned */
};

static struct memo_entry *_Atomic table[MEMO_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const struct sql_key *k)
{
    uint64_t h = (uint64_t)(uintptr_t)k->mod * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)(uintptr_t)k->which * 0xC2B2AE3D27D4EB4Full;
    h ^= (uint64_t)k->shape * 0x165667B19E3779F9ull;
    h ^= (uint64_t)k->bits * 0x27D4EB2F165667C5ull;
    h ^= (uint64_t)k->dialect * 0x85EBCA77C2B2AE63ull;
    return (size_t)(h >> 40) % MEMO_SLOTS;
}

/* Field by field: a key is never packed into one number. */
static int key_eq(const struct sql_key *x, const struct sql_key *y)
{
    return x->mod == y->mod && x->which == y->which && x->shape == y->shape && x->bits == y->bits &&
           x->dialect == y->dialect;
}

const char *sqlmemo_find(const struct sql_key *key)
{
    size_t k = slot_of(key);
    for (size_t i = 0; i < MEMO_SLOTS; i++) {
        struct memo_entry *e =
            atomic_load_explicit(&table[(k + i) % MEMO_SLOTS], memory_order_acquire);
        if (!e)
            return NULL;
        if (key_eq(&e->key, key))
            return e->sql;
    }
    return NULL;
}

const char *sqlmemo_add(const struct sql_key *key, const char *sql)
{
    const char *s = sql_intern(sql);
    if (!s)
        return NULL;
    pthread_mutex_lock(&mu);
    size_t k = slot_of(key);
    const char *ret = NULL;
    for (size_t i = 0; i < MEMO_SLOTS; i++) {
        struct memo_entry *_Atomic *slot = &table[(k + i) % MEMO_SLOTS];
        struct memo_entry *e = atomic_load_explicit(slot, memory_order_acquire);
        if (e && key_eq(&e->key, key)) {
            ret = e->sql;
            break;
        }
        if (!e) {
            e = malloc(sizeof(*e));
            if (e) {
                *e = (struct memo_entry){*key, s};
                atomic_store_explicit(slot, e, memory_order_release);
                ret = s;
            }
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return ret;
}

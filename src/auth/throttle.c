/* throttle: a fixed table of address slots (hash of the address or /64 prefix, linear probing over
 * a few slots, the stalest slot replaced), one mutex. An attacker spraying addresses can evict
 * entries, but memory stays bounded and real clients are never blocked by someone else.
 *
 * The window slides: each slot counts its failures in BUCKETS buckets of window/BUCKETS each, and
 * the failures of the last BUCKETS buckets (the current one included) are the count. A failure
 * thus counts for the window, less at most one bucket; failures just before and just after any
 * point in time add up (a fixed window would start again from 0 at its boundary). */
#include "auth/throttle.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define THROTTLE_SLOTS 4096
#define THROTTLE_PROBE 8
#define BUCKETS 16

/* What is counted: an IPv4 address, an IPv6 /64 prefix, or (anything else) the text itself. */
struct addr_key {
    unsigned char kind; /* 0 = unused slot, 4, 6, 1 = text */
    unsigned char len;
    unsigned char b[62];
};

struct slot {
    struct addr_key key;
    int64_t newest; /* index of the newest bucket, counts[newest % BUCKETS] */
    unsigned count[BUCKETS];
};

static struct slot slots[THROTTLE_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned cfg_limit = 30;
static int64_t cfg_bucket_ms = 60000 / BUCKETS;
/* No address is blocked at or after this time (ms; the latest moment at which an address that
 * reached the limit has all its failures expired): until someone fails that often, a request is
 * checked without the mutex. */
static atomic_llong blocked_until;

void throttle_configure(unsigned limit, unsigned window_sec)
{
    pthread_mutex_lock(&mu);
    cfg_limit = limit;
    cfg_bucket_ms = (int64_t)(window_sec ? window_sec : 1) * 1000 / BUCKETS;
    memset(slots, 0, sizeof(slots));
    atomic_store(&blocked_until, 0);
    pthread_mutex_unlock(&mu);
}

static void make_key(const char *ip, struct addr_key *k)
{
    unsigned char a[16];
    memset(k, 0, sizeof(*k));
    if (inet_pton(AF_INET, ip, a) == 1) {
        k->kind = 4, k->len = 4;
        memcpy(k->b, a, 4);
    } else if (inet_pton(AF_INET6, ip, a) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, sizeof(mapped)) == 0) {
            k->kind = 4, k->len = 4;
            memcpy(k->b, a + 12, 4);
        } else {
            k->kind = 6, k->len = 8; /* the /64 prefix */
            memcpy(k->b, a, 8);
        }
    } else {
        size_t n = strlen(ip);
        k->kind = 1;
        k->len = (unsigned char)(n < sizeof(k->b) ? n : sizeof(k->b));
        memcpy(k->b, ip, k->len);
    }
}

static int same_key(const struct addr_key *a, const struct addr_key *b)
{
    return a->kind == b->kind && a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

static uint32_t hash(const struct addr_key *k)
{
    uint32_t h = 2166136261u ^ k->kind;
    for (unsigned i = 0; i < k->len; i++)
        h = (h ^ k->b[i]) * 16777619u;
    return h;
}

/* Drops the buckets that left the window by bucket index `now`. */
static void advance(struct slot *s, int64_t now)
{
    if (now <= s->newest)
        return;
    if (now - s->newest >= BUCKETS)
        memset(s->count, 0, sizeof(s->count));
    else
        for (int64_t b = s->newest + 1; b <= now; b++)
            s->count[b % BUCKETS] = 0;
    s->newest = now;
}

static unsigned total(const struct slot *s)
{
    unsigned n = 0;
    for (int i = 0; i < BUCKETS; i++)
        n += s->count[i];
    return n;
}

/* The address's slot, or (create = 1) a fresh or the stalest one; NULL when absent. */
static struct slot *find(const struct addr_key *k, int create, int64_t now)
{
    uint32_t h = hash(k);
    struct slot *stalest = NULL;
    for (unsigned i = 0; i < THROTTLE_PROBE; i++) {
        struct slot *s = &slots[(h + i) % THROTTLE_SLOTS];
        if (s->key.kind && same_key(&s->key, k)) {
            advance(s, now);
            return s;
        }
        if (!stalest || s->newest < stalest->newest)
            stalest = s;
    }
    if (!create)
        return NULL;
    memset(stalest, 0, sizeof(*stalest));
    stalest->key = *k;
    stalest->newest = now;
    return stalest;
}

/* Milliseconds until fewer than limit failures remain in the window (0 = not blocked). */
static int64_t wait_ms(const struct slot *s, int64_t now_ms)
{
    unsigned n = total(s);
    if (n < cfg_limit)
        return 0;
    /* oldest bucket first: it leaves the window when the bucket index reaches its own + BUCKETS */
    for (int64_t b = s->newest - BUCKETS + 1; b <= s->newest; b++) {
        n -= s->count[((b % BUCKETS) + BUCKETS) % BUCKETS];
        if (n < cfg_limit)
            return (b + BUCKETS) * cfg_bucket_ms - now_ms;
    }
    return 0;
}

unsigned throttle_blocked_at(const char *ip, int64_t now_ms)
{
    if ((long long)now_ms >= atomic_load_explicit(&blocked_until, memory_order_acquire))
        return 0;
    struct addr_key k;
    make_key(ip, &k);
    int64_t w = 0;
    pthread_mutex_lock(&mu);
    struct slot *s = cfg_limit ? find(&k, 0, now_ms / cfg_bucket_ms) : NULL;
    if (s)
        w = wait_ms(s, now_ms);
    pthread_mutex_unlock(&mu);
    return w > 0 ? (unsigned)((w + 999) / 1000) : 0; /* whole seconds, rounded up */
}

int throttle_failure_at(const char *ip, int64_t now_ms)
{
    struct addr_key k;
    make_key(ip, &k);
    int blocked = 0;
    pthread_mutex_lock(&mu);
    if (cfg_limit) {
        int64_t now = now_ms / cfg_bucket_ms;
        struct slot *s = find(&k, 1, now);
        unsigned before = total(s);
        s->count[now % BUCKETS]++;
        blocked = before < cfg_limit && before + 1 >= cfg_limit;
        /* every failure counted now has left the window by then */
        long long until = (long long)((now + BUCKETS) * cfg_bucket_ms);
        if (before + 1 >= cfg_limit && until > atomic_load(&blocked_until))
            atomic_store_explicit(&blocked_until, until, memory_order_release);
    }
    pthread_mutex_unlock(&mu);
    return blocked;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

unsigned throttle_blocked(const char *ip)
{
    return throttle_blocked_at(ip, now_ms());
}

int throttle_failure(const char *ip)
{
    return throttle_failure_at(ip, now_ms());
}

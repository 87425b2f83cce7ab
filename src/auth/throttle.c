/* throttle: a fixed table of address slots (hash of the address, linear probing over a few
 * slots, the stalest slot replaced), one mutex. An attacker spraying addresses can evict
 * entries, but memory stays bounded and real clients are never blocked by someone else. */
#include "auth/throttle.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define THROTTLE_SLOTS 4096
#define THROTTLE_PROBE 8

struct slot {
    char ip[64];
    time_t window_start;
    unsigned failures;
};

static struct slot slots[THROTTLE_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned cfg_limit = 30, cfg_window = 60;
/* No address is blocked at or after this time (the latest end of a window in which an address
 * reached the limit): until someone fails that often, a request is checked without the mutex. */
static atomic_llong blocked_until;

void throttle_configure(unsigned limit, unsigned window_sec)
{
    pthread_mutex_lock(&mu);
    cfg_limit = limit;
    cfg_window = window_sec ? window_sec : 1;
    memset(slots, 0, sizeof(slots));
    atomic_store(&blocked_until, 0);
    pthread_mutex_unlock(&mu);
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The address's slot, or (create = 1) a fresh or the stalest one; NULL when absent. */
static struct slot *find(const char *ip, int create, time_t now)
{
    uint32_t h = hash(ip);
    struct slot *stalest = NULL;
    for (unsigned i = 0; i < THROTTLE_PROBE; i++) {
        struct slot *s = &slots[(h + i) % THROTTLE_SLOTS];
        if (s->ip[0] && strcmp(s->ip, ip) == 0)
            return s;
        if (!stalest || s->window_start < stalest->window_start)
            stalest = s;
    }
    if (!create)
        return NULL;
    memset(stalest, 0, sizeof(*stalest));
    size_t n = strlen(ip);
    if (n >= sizeof(stalest->ip))
        n = sizeof(stalest->ip) - 1;
    memcpy(stalest->ip, ip, n);
    stalest->window_start = now;
    return stalest;
}

unsigned throttle_blocked(const char *ip)
{
    time_t now = time(NULL);
    unsigned wait = 0;
    if ((long long)now >= atomic_load_explicit(&blocked_until, memory_order_acquire))
        return 0;
    pthread_mutex_lock(&mu);
    struct slot *s = cfg_limit ? find(ip, 0, now) : NULL;
    if (s && s->failures >= cfg_limit && now < s->window_start + (time_t)cfg_window)
        wait = (unsigned)(s->window_start + (time_t)cfg_window - now);
    pthread_mutex_unlock(&mu);
    return wait;
}

int throttle_failure(const char *ip)
{
    time_t now = time(NULL);
    int blocked = 0;
    pthread_mutex_lock(&mu);
    if (cfg_limit) {
        struct slot *s = find(ip, 1, now);
        if (now >= s->window_start + (time_t)cfg_window) {
            s->window_start = now;
            s->failures = 0;
        }
        blocked = ++s->failures == cfg_limit;
        long long until = (long long)s->window_start + (long long)cfg_window;
        if (s->failures >= cfg_limit && until > atomic_load(&blocked_until))
            atomic_store_explicit(&blocked_until, until, memory_order_release);
    }
    pthread_mutex_unlock(&mu);
    return blocked;
}

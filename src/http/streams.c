/* streams: answer buffering up to a bound, streaming slots per client address. */
#include "http/streams.h"

#include <pthread.h>
#include <string.h>

#include "core/buf.h"
#include "req/req.h"

void stream_end(struct req *r)
{
    if (r->stream_free)
        r->stream_free(r);
    r->stream_next = NULL;
    r->stream_free = NULL;
}

int answer_buffer(struct req *r, size_t bound)
{
    struct buf chunk;
    buf_init(&chunk, 0);
    struct buf all = r->out;
    r->out = chunk;
    int more = 1;
    while (all.len < bound) {
        more = r->stream_next(r); /* refills r->out with the next part */
        if (more >= 0)
            buf_append(&all, r->out.p ? r->out.p : "", r->out.len);
        if (more < 0 || all.failed) {
            more = -1;
            break;
        }
        if (more == 0)
            break;
    }
    buf_free(&r->out);
    r->out = all;
    if (more <= 0)
        stream_end(r);
    return more;
}

#define SLOT_ADDRS 1024

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char ip[64];
    unsigned n;
} slots[SLOT_ADDRS];
static unsigned used;

int stream_slot_take(const char *ip, unsigned per_ip, unsigned total)
{
    pthread_mutex_lock(&mu);
    int free_at = -1, at = -1;
    for (int i = 0; i < SLOT_ADDRS; i++) {
        if (slots[i].n && strcmp(slots[i].ip, ip) == 0) {
            at = i;
            break;
        }
        if (!slots[i].n && free_at < 0)
            free_at = i;
    }
    int ok = used < total && (at >= 0 ? slots[at].n < per_ip : free_at >= 0 && per_ip > 0);
    if (ok) {
        if (at < 0) {
            at = free_at;
            size_t n = strlen(ip);
            if (n >= sizeof(slots[at].ip))
                n = sizeof(slots[at].ip) - 1;
            memcpy(slots[at].ip, ip, n);
            slots[at].ip[n] = 0;
        }
        slots[at].n++;
        used++;
    }
    pthread_mutex_unlock(&mu);
    return ok;
}

void stream_slot_give(const char *ip)
{
    pthread_mutex_lock(&mu);
    for (int i = 0; i < SLOT_ADDRS; i++) {
        if (slots[i].n && strcmp(slots[i].ip, ip) == 0) {
            slots[i].n--;
            used--;
            break;
        }
    }
    pthread_mutex_unlock(&mu);
}

unsigned stream_slots_used(void)
{
    pthread_mutex_lock(&mu);
    unsigned n = used;
    pthread_mutex_unlock(&mu);
    return n;
}

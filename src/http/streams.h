/* streams: an answer is built in memory up to a bound, so that its store connection (and read
 * snapshot) is released before a slow client reads it; only longer answers stream from the live
 * statement, and those are counted per client address. */
#ifndef ITFLOWD_HTTP_STREAMS_H
#define ITFLOWD_HTTP_STREAMS_H

#include <stddef.h>

struct req;

/* r->stream_next is set and r->out holds the answer's first part: keeps calling stream_next,
 * collecting into r->out, until the answer ends or r->out holds bound bytes or more. Returns 0
 * when the answer is complete in r->out (stream_free has run, stream_next/stream_free are
 * cleared: the store connection can go), 1 when more is to be streamed (r->out holds the part
 * so far, to be sent first), -1 on a store error (stream_free has run, r->out is undefined). */
int answer_buffer(struct req *r, size_t bound);
/* Ends a streamed answer without sending the rest: stream_free runs, the callbacks are cleared. */
void stream_end(struct req *r);

/* A streaming slot for this client address: 1 when taken (at most per_ip for one address and
 * total for all), 0 when refused. Every taken slot is given back with stream_slot_give. */
int stream_slot_take(const char *ip, unsigned per_ip, unsigned total);
void stream_slot_give(const char *ip);
/* Streams in progress (all addresses). */
unsigned stream_slots_used(void);

#endif

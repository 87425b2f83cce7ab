/* events (http): GET /api/v1/events — the writes' events after a sequence number, scoped by the
 * key exactly like reads (engine/events.c), as a JSON page (optionally long-polled: ?wait=N) or as
 * a text/event-stream. A request with nothing to answer yet waits without a thread: its connection
 * is suspended and queued on the hub, whose thread resumes it when a newer event is committed (this
 * process: at once, told by the engine; another process on the same database: within the poll
 * interval), when its deadline passes, or when the server stops. */
#ifndef ITFLOWD_HTTP_EVENTS_H
#define ITFLOWD_HTTP_EVENTS_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "req/req.h"

#define EVENTS_WAIT_MAX 300       /* seconds a long-poll may ask for */
#define EVENTS_HEARTBEAT_MS 15000 /* an event stream's comment line when quiet */

/* ---- the hub: the waiting requests and the thread that wakes them ---- */

/* Starts the hub's thread (its own store connection on db_target for polling); 0 or -1. */
int events_hub_start(const char *db_target);
/* Resumes every waiting request and refuses new waits (they answer at once); joins the thread. */
void events_hub_stop(void);
/* 1 when requests may not wait: the hub is stopping or not running. */
int events_hub_stopping(void);
/* The waiting requests and streams, for /metrics. */
void events_metrics(struct buf *out);

/* ---- one request ---- */

struct events_req;

/* Reads the request's parameters (after, limit, wait, types, client_id; Accept:
 * text/event-stream; Last-Event-ID) into a state allocated in r's arena. NULL when one is bad:
 * r holds the 400 naming it (or a 500 when out of memory). */
struct events_req *events_req_new(struct req *r, struct MHD_Connection *con, const char *accept,
                                  const char *last_event_id);
int events_req_is_stream(const struct events_req *ev);

enum events_step {
    EVENTS_ANSWERED, /* r holds the answer (JSON page or an error) */
    EVENTS_WAIT,     /* nothing to send yet: suspend the connection and call events_req_wait */
    EVENTS_STREAM,   /* the stream has bytes to send (events_stream_take) */
    EVENTS_FAILED,   /* a store error (r->error); a stream ends */
};

/* Runs the read on r->db (authenticated, in its read transaction): a JSON request gets its page
 * in r (or EVENTS_WAIT while a long-poll has found nothing and has time left); a stream gets its
 * frames queued (EVENTS_STREAM) or EVENTS_WAIT. */
enum events_step events_req_fetch(struct events_req *ev, struct req *r);
/* Queues the request on the hub after its connection was suspended; resumed later by the hub.
 * -1 when the hub is stopping: the caller resumes the connection itself. */
int events_req_wait(struct events_req *ev);
/* Removes the request from the hub if it is still queued and frees what it holds (the request is
 * being freed). Accepts NULL. */
void events_req_cancel(struct events_req *ev);
/* A stream: copies up to max queued bytes into out; 0 when none are queued. */
size_t events_stream_take(struct events_req *ev, char *out, size_t max);
/* A stream: 1 when the hub woke it (or it never waited) and it should read again. */
int events_stream_due(const struct events_req *ev);
/* A stream: queues a comment line when the heartbeat is due; 1 when it did. */
int events_stream_heartbeat(struct events_req *ev);

#endif

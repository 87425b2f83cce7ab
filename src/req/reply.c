/* reply: the v1 envelopes and message texts (COMPAT K2, K5) and our error answers (F2). */
#include "req/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json/json_write.h"

const char MSG_NO_RESOURCE[] =
    "No resource (for this client and company) with the specified parameter(s).";
const char MSG_INSERT_FAILED[] =
    "Auth success but insert query failed, ensure ALL required variables are provided (and "
    "aren't duplicates where applicable) and database schema is up-to-date. Turn on error "
    "logging and look for 'undefined index'.";
const char MSG_UPDATE_FAILED[] =
    "Auth success but update query failed/returned no results. Ensure ALL required variables "
    "are provided and database schema is up-to-date. Most likely cause: non-existent module ID "
    "(i.e. bad contact ID/ticket ID/etc) or no rows changed.";
const char MSG_DELETE_FAILED[] =
    "Auth success but delete query failed. Ensure ALL required variables are provided and "
    "database schema is up-to-date. Most likely cause: asset/client/company ID mismatch.";

void reply_message(struct req *r, int status, const char *msg)
{
    r->status = status;
    buf_reset(&r->out);
    buf_puts(&r->out, "{\"success\":\"False\",\"message\":");
    if (json_write_string(&r->out, msg, strlen(msg)) != 0)
        buf_puts(&r->out, "\"\"");
    buf_putc(&r->out, '}');
}

void reply_badf(struct req *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    reply_message(r, 400, msg);
}

void reply_server_error(struct req *r, enum db_rc rc)
{
    if (rc == DB_BUSY || rc == DB_UNAVAILABLE) {
        reply_message(r, 503, "The database is busy or unavailable. Try again.");
    } else if (rc == DB_FULL) {
        reply_message(r, 503, "The database is out of disk space. Nothing was written.");
        snprintf(r->retry_after, sizeof(r->retry_after), "60");
    } else {
        reply_message(r, 500, "Internal server error.");
    }
}

void reply_why(struct req *r, const char *fmt, ...)
{
    if (r->why[0])
        return; /* the first reason is the real one */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
}

void reply_count(struct req *r, int64_t count)
{
    r->status = 200;
    buf_reset(&r->out);
    buf_printf(&r->out, "{\"success\":\"True\",\"count\":%lld}", (long long)count);
}

void reply_created(struct req *r, int64_t id)
{
    r->status = 200;
    buf_reset(&r->out);
    buf_printf(&r->out, "{\"success\":\"True\",\"count\":\"1\",\"data\":[{\"insert_id\":%lld}]}",
               (long long)id);
}

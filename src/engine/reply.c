/* reply: the "not done" answer of an operation (COMPAT K5) and the envelope of a read's rows. */
#include "engine/engine_int.h"

void reply_not_done(struct req *r, enum op op)
{
    switch (op) {
    case OP_CREATE:
        reply_message(r, 200, MSG_INSERT_FAILED);
        break;
    case OP_DELETE:
        reply_message(r, 200, MSG_DELETE_FAILED);
        break;
    case OP_READ:
        reply_message(r, 200, MSG_NO_RESOURCE);
        break;
    default:
        reply_message(r, 200, MSG_UPDATE_FAILED);
        break;
    }
}

enum eng_rc reply_rows(struct req *r, const char *rows, size_t len, int64_t count)
{
    if (count == 0) {
        reply_not_done(r, OP_READ);
        return ENG_OK;
    }
    r->status = 200;
    buf_reset(&r->out);
    buf_printf(&r->out, "{\"success\":\"True\",\"count\":%lld,\"data\":[", (long long)count);
    buf_append(&r->out, rows, len);
    buf_puts(&r->out, "]}");
    return r->out.failed ? ENG_DB : ENG_OK;
}

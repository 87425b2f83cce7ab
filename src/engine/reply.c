/* reply: the "not done" answer of an operation (COMPAT K5). */
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

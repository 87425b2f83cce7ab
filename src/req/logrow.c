/* logrow: one row of the `logs` table for a request. */
#include "req/logrow.h"

#include <string.h>

static const char SQL_LOG_INSERT[] =
    "INSERT INTO logs (log_type, log_action, log_description, log_ip, log_user_agent, "
    "log_client_id, log_user_id, log_entity_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

/* At most max bytes, not splitting a UTF-8 character. */
static size_t cut_at_char(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

enum db_rc logs_insert(struct db *db, struct req *r, const char *type, const char *action,
                       const char *desc, int64_t client_id, int64_t entity_id)
{
    struct db_stmt *st;
    enum db_rc rc = db_stmt_static(db, SQL_LOG_INSERT, &st);
    if (rc)
        return rc;
    size_t dlen = cut_at_char(desc, strlen(desc), 1000);
    size_t ualen = r->user_agent ? cut_at_char(r->user_agent, r->user_agent_len, 250) : 0;
    db_bind_text(st, 1, type, strlen(type));
    db_bind_text(st, 2, action, strlen(action));
    db_bind_text(st, 3, desc, dlen);
    db_bind_text(st, 4, r->ip, strlen(r->ip));
    if (r->user_agent)
        db_bind_text(st, 5, r->user_agent, ualen);
    else
        db_bind_null(st, 5);
    db_bind_int(st, 6, client_id);
    db_bind_int(st, 7, r->key.user_id); /* v26.08: the key's user; 0 before (and on a failed key) */
    db_bind_int(st, 8, entity_id);
    rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? DB_OK : rc;
}

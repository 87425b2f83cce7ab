/* access: a key's client scope as SQL, and its checks (req/access.h). */
#include "req/access.h"

#include <string.h>

#include "core/php.h"

/* The lists are read by the statement itself, in its snapshot: a change to them is seen by the
 * next request (2.3), and the text does not depend on how long they are. */
static const char SQL_ALLOW[] = "SELECT ucp_a.client_id FROM user_client_permissions ucp_a "
                                "WHERE ucp_a.user_id = ? AND ucp_a.permission_type <> 'deny'";
static const char SQL_DENY[] = "SELECT ucp_d.client_id FROM user_client_permissions ucp_d "
                               "WHERE ucp_d.user_id = ? AND ucp_d.permission_type = 'deny'";
static const char SQL_RULE[] = "SELECT permission_type FROM user_client_permissions "
                               "WHERE user_id = ? AND client_id = ?";

unsigned access_read_scope(const struct req *r)
{
    if (!r->key.rbac)
        return r->scope_all ? SCOPE_NONE : SCOPE_CLIENT;
    const struct key_access *a = &r->key.access;
    if (a->is_admin)
        return SCOPE_NONE;
    /* one allowed client and nothing denied: col IN (x) is col = x, the shape (and the index
     * path, rows in id order without a sort) of a v26.07 single-client key */
    if (a->nallow == 1 && a->ndeny == 0)
        return SCOPE_CLIENT;
    return (a->nallow > 0 ? SCOPE_ALLOW : 0u) | (a->ndeny > 0 ? SCOPE_DENY : 0u);
}

void access_scope_sql(struct buf *sql, unsigned scope, const char *col)
{
    const char *and = "";
    if (scope & SCOPE_CLIENT) {
        buf_printf(sql, "%s = ?", col);
        return;
    }
    if (scope & SCOPE_ALLOW) {
        buf_printf(sql, "%s IN (%s)", col, SQL_ALLOW);
        and = " AND ";
    }
    if (scope & SCOPE_DENY)
        buf_printf(sql, "%s%s NOT IN (%s)", and, col, SQL_DENY);
}

int access_scope_bind(struct db_stmt *st, int idx, const struct req *r, unsigned scope)
{
    if (scope & SCOPE_CLIENT)
        db_bind_int(st, idx++, r->key.rbac ? r->key.access.allow_one : r->scope);
    if (scope & SCOPE_ALLOW)
        db_bind_int(st, idx++, r->key.user_id);
    if (scope & SCOPE_DENY)
        db_bind_int(st, idx++, r->key.user_id);
    return idx;
}

int access_may_act(struct db *db, const struct req *r, int64_t client)
{
    const struct key_access *a = &r->key.access;
    if (!r->key.rbac || a->is_admin)
        return 1;
    if (a->nallow == 0 && a->ndeny == 0)
        return 1;
    struct db_stmt *st;
    if (db_stmt_static(db, SQL_RULE, &st) != DB_OK)
        return -1;
    db_bind_int(st, 1, r->key.user_id);
    db_bind_int(st, 2, client);
    enum db_rc rc = db_step(st);
    int deny = 0, allow = 0;
    if (rc == DB_ROW) {
        size_t n;
        const char *t = db_column_text(st, 0, &n);
        deny = t && n == 4 && memcmp(t, "deny", 4) == 0;
        allow = !deny;
    }
    db_reset(st);
    if (rc != DB_ROW && rc != DB_DONE)
        return -1;
    if (deny)
        return 0;
    return a->nallow == 0 || allow;
}

int access_level(const struct key_access *a, const char *module)
{
    if (a->is_admin)
        return 3;
    for (int i = 0; i < a->nperm; i++)
        if (strcmp(a->perm_name[i], module) == 0)
            return a->perm_level[i];
    return 0;
}

int64_t access_target_client(const struct req *r)
{
    json_t *j = r->body ? json_object_get(r->body, "client_id") : NULL;
    if (j && !json_is_null(j)) {
        if (json_is_string(j))
            return php_intval_str(json_string_value(j), json_string_length(j));
        if (json_is_integer(j))
            return json_integer_value(j);
        if (json_is_real(j))
            return php_intval_double(json_real_value(j));
        if (json_is_array(j))
            return json_array_size(j) > 0;
        if (json_is_object(j))
            return json_object_size(j) > 0;
        return json_is_true(j);
    }
    const struct param *p = req_param(r, "client_id");
    if (p)
        return p->is_array ? 1 : php_intval_str(p->val, p->len);
    return 0;
}

/* scope: the key's scope over a client column, for key.scope() of custom scripts. */
#include "custom/scope.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "db/schema.h"
#include "req/access.h"

/* Length of the identifier at s (letters, digits, '_', not starting with a digit), or 0. */
static size_t ident_len(const char *s)
{
    size_t n = 0;
    while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || s[n] == '_' ||
           (n > 0 && s[n] >= '0' && s[n] <= '9'))
        n++;
    return n <= 64 ? n : 0;
}

static int schema_has_column(const char *name)
{
    const struct schema_set *set = schema_active();
    for (size_t i = 0; i < set->ntables; i++)
        if (schema_column_index(&set->tables[i], name) >= 0)
            return 1;
    return 0;
}

int custom_scope_column_ok(const char *column)
{
    size_t n = ident_len(column);
    if (!n)
        return 0;
    const char *name = column;
    if (column[n] == '.') {
        name = column + n + 1;
        n = ident_len(name);
        if (!n)
            return 0;
    }
    return name[n] == 0 && schema_has_column(name);
}

int custom_key_scope(const struct api_key *key, const char *column, char *cond, size_t condlen,
                     int64_t binds[CUSTOM_SCOPE_MAX_BINDS], size_t *ret_nbinds)
{
    *ret_nbinds = 0;
    if (!custom_scope_column_ok(column))
        return -1;
    int n;
    if (key->rbac) { /* v26.08: the user's client lists, exactly as the module reads see them */
        struct req r;
        memset(&r, 0, sizeof(r));
        r.key = *key;
        unsigned scope = access_read_scope(&r);
        if (scope == SCOPE_NONE)
            return snprintf(cond, condlen, "1=1") < (int)condlen ? 0 : -1;
        struct buf b;
        buf_init(&b, condlen - 1);
        access_scope_sql(&b, scope, column);
        if (b.failed || !b.p) {
            buf_free(&b);
            return -1;
        }
        memcpy(cond, b.p, b.len + 1);
        buf_free(&b);
        if (scope & SCOPE_CLIENT)
            binds[(*ret_nbinds)++] = key->access.allow_one;
        if (scope & SCOPE_ALLOW)
            binds[(*ret_nbinds)++] = key->user_id;
        if (scope & SCOPE_DENY)
            binds[(*ret_nbinds)++] = key->user_id;
        return 0;
    }
    if (key->client_id == 0) {
        n = snprintf(cond, condlen, "1=1");
    } else {
        n = snprintf(cond, condlen, "%s = ?", column);
        binds[(*ret_nbinds)++] = key->client_id;
    }
    return n < 0 || (size_t)n >= condlen ? -1 : 0;
}

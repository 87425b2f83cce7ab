/* sync: the incremental-sync parameters of list reads — updated_since (rows created or updated
 * at or after a time), after_id (keyset paging: rows with a greater id, in id order, at a cost
 * independent of the depth) and sort ([-]id, [-]created_at, [-]updated_at: columns with an
 * index). A request that uses none of them reads exactly as before; read.c asks sync_parse() and
 * builds the SQL with the bits it sets. */
#include <stdio.h>
#include <string.h>

#include "core/php.h"
#include "engine/engine_int.h"

/* The module's <prefix>_created_at / <prefix>_updated_at columns, the prefix being its primary
 * key's without "_id" (ticket_id: ticket_created_at), or NULL where the table has none. */
void sync_time_cols(const struct module *m, const char **created, const char **updated)
{
    *created = *updated = NULL;
    const char *pk = m->res->pk;
    size_t n = strlen(pk);
    if (n < 4 || strcmp(pk + n - 3, "_id") != 0 || n > 100)
        return;
    char name[128];
    const struct schema_column *c;
    snprintf(name, sizeof(name), "%.*s_created_at", (int)(n - 3), pk);
    if ((c = schema_column(m->res->t, name)) != NULL && c->type == COL_DATETIME)
        *created = c->name;
    snprintf(name, sizeof(name), "%.*s_updated_at", (int)(n - 3), pk);
    if ((c = schema_column(m->res->t, name)) != NULL && c->type == COL_DATETIME)
        *updated = c->name;
}

static int digits(const char *s, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return 0;
}

/* YYYY-MM-DD, optionally followed by 'T' or ' ' and HH:MM[:SS[.fraction]], optionally 'Z';
 * written into out as YYYY-MM-DD HH:MM:SS (the stored form). 0, or -1 when not such a time. */
static int parse_time(const char *s, size_t len, char out[20])
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (len > 0 && s[len - 1] == 'Z')
        len--;
    if (len < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    size_t i = 10;
    if (len > i) {
        if ((s[i] != 'T' && s[i] != ' ') || len < i + 6 || digits(s + i + 1, 2, &h) ||
            s[i + 3] != ':' || digits(s + i + 4, 2, &mi))
            return -1;
        i += 6;
        if (len > i) {
            if (s[i] != ':' || len < i + 3 || digits(s + i + 1, 2, &se))
                return -1;
            i += 3;
            if (len > i) { /* a fraction of a second: the stored times have none */
                if (s[i] != '.' || len == i + 1)
                    return -1;
                for (i++; i < len; i++)
                    if (s[i] < '0' || s[i] > '9')
                        return -1;
            }
        }
    }
    if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
        return -1;
    char t[64]; /* 19 characters: every field was checked above */
    snprintf(t, sizeof(t), "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, se);
    memcpy(out, t, 19);
    out[19] = 0;
    return 0;
}

static int name_is(const char *v, const char *generic, const char *column)
{
    return !strcmp(v, generic) || (column && !strcmp(v, column));
}

enum eng_rc sync_parse(struct op_ctx *ctx, struct sync_req *s)
{
    struct req *r = ctx->r;
    const struct param *since = req_param(r, "updated_since");
    const struct param *after = req_param(r, "after_id");
    const struct param *sort = req_param(r, "sort");
    memset(s, 0, sizeof(*s));
    if (!since && !after && !sort)
        return ENG_OK;
    s->active = 1;
    const struct module *m = ctx->mod;
    sync_time_cols(m, &s->created_col, &s->updated_col);
    if (since) {
        if (since->is_array)
            return reply_bad(r, "updated_since must be a single value, not an array");
        if (!s->created_col && !s->updated_col)
            return reply_bad(r, "updated_since: %s rows have no creation or update time", m->table);
        if (parse_time(since->val, since->len, s->since) != 0)
            return reply_bad(r, "updated_since must be a date and time as YYYY-MM-DD HH:MM:SS "
                                "(or YYYY-MM-DDTHH:MM:SS, or a date)");
        s->bits |= SQL_SINCE;
    }
    if (sort) {
        if (sort->is_array)
            return reply_bad(r, "sort must be a single value, not an array");
        const char *v = sort->val;
        if (*v == '-') {
            s->bits |= SQL_SORT_DESC;
            v++;
        }
        if (name_is(v, "id", m->res->pk)) {
            s->sort_col = m->res->pk;
        } else if (s->created_col && name_is(v, "created_at", s->created_col)) {
            s->sort_col = s->created_col;
            s->bits |= SQL_SORT_CREATED;
        } else if (s->updated_col && name_is(v, "updated_at", s->updated_col)) {
            s->sort_col = s->updated_col;
            s->bits |= SQL_SORT_UPDATED;
        } else {
            return reply_bad(r, "sort must be one of %s%s%s%s%s (a leading - sorts descending)",
                             m->res->pk, s->created_col ? ", " : "",
                             s->created_col ? s->created_col : "", s->updated_col ? ", " : "",
                             s->updated_col ? s->updated_col : "");
        }
        s->bits |= SQL_SORTED;
    }
    if (after) {
        if (after->is_array)
            return reply_bad(r, "after_id must be a single value, not an array");
        int64_t v = 0;
        if (digits_value(after->val, after->len, &v) != 0)
            return reply_bad(r, "after_id must be a whole number (the last id already read)");
        if ((s->bits & SQL_SORTED) &&
            (strcmp(s->sort_col, m->res->pk) || (s->bits & SQL_SORT_DESC)))
            return reply_bad(r, "after_id pages in %s order; it cannot be combined with sort=%s",
                             m->res->pk, sort->val);
        if (r->offset != 0)
            return reply_bad(r, "after_id cannot be combined with offset: the page starts after "
                                "the id given");
        s->after_id = v;
        s->bits |= SQL_AFTER;
    }
    return ENG_OK;
}

void sync_append_where(struct buf *sql, const struct op_ctx *ctx, const struct sync_req *s,
                       int *first)
{
    const char *t = ctx->mod->table;
    if (s->bits & SQL_SINCE) {
        buf_puts(sql, *first ? " WHERE " : " AND ");
        *first = 0;
        if (s->created_col && s->updated_col)
            buf_printf(sql, "(%s.%s >= ? OR %s.%s >= ?)", t, s->updated_col, t, s->created_col);
        else
            buf_printf(sql, "%s.%s >= ?", t, s->updated_col ? s->updated_col : s->created_col);
    }
    if (s->bits & SQL_AFTER) {
        buf_puts(sql, *first ? " WHERE " : " AND ");
        *first = 0;
        buf_printf(sql, "%s.%s > ?", t, ctx->mod->res->pk);
    }
}

int sync_bind(struct db_stmt *st, int idx, const struct sync_req *s)
{
    if (s->bits & SQL_SINCE) {
        size_t n = strlen(s->since);
        db_bind_text(st, idx++, s->since, n);
        if (s->created_col && s->updated_col)
            db_bind_text(st, idx++, s->since, n);
    }
    if (s->bits & SQL_AFTER)
        db_bind_int(st, idx++, s->after_id);
    return idx;
}

void sync_append_order(struct buf *sql, const struct op_ctx *ctx, const struct sync_req *s)
{
    const char *t = ctx->mod->table, *pk = ctx->mod->res->pk;
    const char *dir = (s->bits & SQL_SORT_DESC) ? " DESC" : "";
    if (!(s->bits & SQL_SORTED) || s->sort_col == pk)
        buf_printf(sql, " ORDER BY %s.%s%s", t, pk, dir);
    else /* ties in id order, so that pages never overlap */
        buf_printf(sql, " ORDER BY %s.%s%s, %s.%s%s", t, s->sort_col, dir, t, pk, dir);
}

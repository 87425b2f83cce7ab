/* logs: the `logs` rows write endpoints leave behind (reference 1.12), from the templates in the
 * endpoint descriptors. */
#include <stdio.h>
#include <string.h>

#include "core/php.h"
#include "engine/engine_int.h"

static const char *lookup_var(struct op_ctx *ctx, const char *name, size_t n)
{
    for (int i = 0; i < ctx->nvars; i++)
        if (strlen(ctx->var_name[i]) == n && memcmp(ctx->var_name[i], name, n) == 0)
            return ctx->var_val[i];
    if (n == 3 && memcmp(name, "key", 3) == 0)
        return ctx->r->key.name_html;
    /* a column name: the operation's value for it, else the target row's */
    char col[64];
    if (n >= sizeof(col))
        return NULL;
    memcpy(col, name, n);
    col[n] = 0;
    for (size_t i = 0; ctx->vals && i < ctx->mod->nfields; i++) {
        const struct field *f = &ctx->mod->fields[i];
        const struct value *v = &ctx->vals[i];
        if (!f->column || strcmp(f->column, col) != 0 || v->is_null || (!v->p && !v->is_int))
            continue;
        if (!v->is_int)
            return ctx_strdup(ctx, v->p, v->n);
        char tmp[24];
        snprintf(tmp, sizeof(tmp), "%lld", (long long)v->i);
        return ctx_strdup(ctx, tmp, strlen(tmp));
    }
    size_t len;
    const char *cur = ctx_cur(ctx, col, &len);
    return cur ? ctx_strdup(ctx, cur, len) : NULL;
}

static void expand(struct op_ctx *ctx, const char *tpl, struct buf *out)
{
    const char *p = tpl;
    while (*p) {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            buf_puts(out, p);
            return;
        }
        buf_append(out, p, (size_t)(open - p));
        const char *v = lookup_var(ctx, open + 1, (size_t)(close - open - 1));
        if (v)
            buf_puts(out, v);
        else
            buf_append(out, open, (size_t)(close - open + 1));
        p = close + 1;
    }
}

static int64_t ref_value(struct op_ctx *ctx, enum log_ref ref)
{
    switch (ref) {
    case LR_SCOPE:
        return ctx->S;
    case LR_ID:
        return ctx->id;
    case LR_NEW_ID:
        return ctx->new_id;
    case LR_AUX:
        return ctx->aux;
    default:
        return 0;
    }
}

enum eng_rc logs_write_endpoint(struct op_ctx *ctx)
{
    struct buf desc;
    buf_init(&desc, 0);
    enum db_rc rc = DB_OK;
    for (int i = 0; i < EP_MAX_LOGS && ctx->ep->logs[i].type; i++) {
        const struct log_spec *l = &ctx->ep->logs[i];
        buf_reset(&desc);
        expand(ctx, l->text, &desc);
        if (desc.failed) {
            rc = DB_ERROR;
            break;
        }
        rc = logs_insert(ctx->db, ctx->r, l->type, l->action, desc.p ? desc.p : "",
                         ref_value(ctx, l->client), ref_value(ctx, l->entity));
        if (rc)
            break;
    }
    buf_free(&desc);
    return eng_from_db(rc);
}

enum eng_rc ctx_log(struct op_ctx *ctx, const struct log_spec *l)
{
    struct buf desc;
    buf_init(&desc, 0);
    expand(ctx, l->text, &desc);
    enum db_rc rc = desc.failed
                        ? DB_ERROR
                        : logs_insert(ctx->db, ctx->r, l->type, l->action, desc.p ? desc.p : "",
                                      ref_value(ctx, l->client), ref_value(ctx, l->entity));
    buf_free(&desc);
    return eng_from_db(rc);
}

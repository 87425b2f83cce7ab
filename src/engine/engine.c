/* engine: the dispatch of one request — scope (K9), paging (K8), the master key where the
 * endpoint needs it (master.c), then the read or the write. The helpers every part uses are in
 * ctx.c. */
#include <openssl/crypto.h>
#include <string.h>

#include "core/php.h"
#include "engine/engine.h"
#include "engine/engine_int.h"

/* limit/offset (reference 1.7): the query wins over the body; intval; negative -> 400. */
static enum eng_rc paging_param(struct req *r, const char *name, int64_t dflt, int64_t *ret)
{
    const struct param *p = req_param(r, name);
    if (p) {
        *ret = p->is_array ? 1 : php_intval_str(p->val, p->len); /* intval(non-empty array) */
    } else {
        json_t *j = r->body ? json_object_get(r->body, name) : NULL;
        if (j && !json_is_null(j)) {
            if (json_is_string(j))
                *ret = php_intval_str(json_string_value(j), json_string_length(j));
            else if (json_is_integer(j))
                *ret = json_integer_value(j);
            else if (json_is_real(j))
                *ret = php_intval_double(json_real_value(j));
            else
                *ret = json_is_true(j) || (json_is_array(j) && json_array_size(j)) ||
                       (json_is_object(j) && json_object_size(j));
        } else {
            *ret = dflt;
        }
    }
    if (*ret < 0 && !r->bad_paging)
        r->bad_paging = name; /* an error only where paging applies (lists) */
    return ENG_OK;
}

unsigned engine_scope_bits(unsigned scope)
{
    if (scope == SCOPE_NONE)
        return SQL_SCOPE_ALL;
    return ((scope & SCOPE_ALLOW) ? (unsigned)SQL_SCOPE_ALLOW : 0u) |
           ((scope & SCOPE_DENY) ? (unsigned)SQL_SCOPE_DENY : 0u);
}

/* The client scope S (reference 1.8; v26.08: delta 2.3 and 2.5). */
static enum eng_rc derive_scope(struct req *r, int is_read)
{
    r->scope_all = 0;
    if (r->key.rbac && is_read) {
        /* reads ignore client_id: the user's lists scope them (access_read_scope); S is the
         * one allowed client when that is the whole scope, else 0 */
        unsigned scope = access_read_scope(r);
        r->scope = scope == SCOPE_CLIENT ? r->key.access.allow_one : 0;
        r->scope_all = scope == SCOPE_NONE;
        return ENG_OK;
    }
    if (r->key.client_id != 0) {
        r->scope = r->key.client_id;
        return ENG_OK;
    }
    if (is_read) {
        const struct param *p = req_param(r, "client_id");
        if (!p) {
            r->scope_all = 1;
            return ENG_OK;
        }
        if (p->is_array)
            return reply_bad(r, "client_id must be a single value, not an array");
        r->scope = php_intval_str(p->val, p->len);
        return ENG_OK;
    }
    r->scope = 0;
    json_t *j = r->body ? json_object_get(r->body, "client_id") : NULL;
    if ((!j || json_is_null(j)) && r->key.rbac) {
        /* v26.08: the query string names the client when the body does not */
        const struct param *p = req_param(r, "client_id");
        if (p && p->is_array)
            return reply_bad(r, "client_id must be a single value, not an array");
        r->scope = p ? php_intval_str(p->val, p->len) : 0;
        goto range;
    }
    if (!j || json_is_null(j))
        return ENG_OK;
    if (json_is_array(j) || json_is_object(j))
        return reply_bad(r, "client_id must be a number");
    if (json_is_string(j))
        r->scope = php_intval_str(json_string_value(j), json_string_length(j));
    else if (json_is_integer(j))
        r->scope = json_integer_value(j);
    else if (json_is_real(j))
        r->scope = php_intval_double(json_real_value(j));
    else
        r->scope = json_is_true(j);
range:
    if (r->scope < 0 || r->scope > 2147483647) /* client ids are int(11) */
        return reply_bad(r, "client_id is out of range (0 to 2147483647)");
    return ENG_OK;
}

void engine_handle(struct req *r)
{
    const struct module *m = r->mod;
    const struct endpoint *ep = r->ep;
    int is_read = ep->op == OP_READ;
    struct op_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.r = r;
    ctx.mod = m;
    ctx.ep = ep;
    ctx.db = r->db;
    if (paging_param(r, "limit", 50, &r->limit) != ENG_OK ||
        paging_param(r, "offset", 0, &r->offset) != ENG_OK)
        return;
    if (derive_scope(r, is_read) != ENG_OK)
        return;
    if ((m->flags & MOD_ALL_CLIENTS_ONLY) && r->key.client_id != 0) {
        reply_message(r, 403, "This endpoint requires an API key with access to all clients.");
        return;
    }
    if ((m->flags & MOD_ALL_CLIENTS_ONLY) && !r->key.rbac)
        r->scope_all = 1;
    ctx.S = r->scope;
    enum eng_rc rc = keyperm_check(&ctx); /* read-only, no delete, allowed networks */
    if (rc != ENG_OK)
        goto out;
    if (is_read && (ep->flags & EP_DECRYPT)) {
        const char *pwv = NULL;
        size_t pwlen = 0;
        if (r->key.rbac) {
            /* v26.08: the body only (then our header, A1); the query string is ignored */
            json_t *j = r->body ? json_object_get(r->body, "api_key_decrypt_password") : NULL;
            if (j && json_is_string(j))
                pwv = json_string_value(j), pwlen = json_string_length(j);
            else if (r->hdr_decrypt)
                pwv = r->hdr_decrypt, pwlen = strlen(pwv);
        } else {
            const struct param *pw = req_param(r, "api_key_decrypt_password");
            pwv = pw && !pw->is_array ? pw->val : r->hdr_decrypt;
            pwlen = pw && !pw->is_array ? pw->len : pwv ? strlen(pwv) : 0;
        }
        rc = engine_unwrap_master(&ctx, pwv, pwlen);
        if (rc != ENG_OK)
            goto out;
    }
    if (is_read)
        rc = ep->aggregate ? engine_aggregate(&ctx) : engine_read(&ctx);
    else
        rc = engine_write(&ctx);
out:
    OPENSSL_cleanse(ctx.master, sizeof(ctx.master));
    if (rc == ENG_OK && engine_oom(&ctx))
        rc = ENG_DB; /* an answer built with something missing is no answer */
    if (rc == ENG_NOT_DONE)
        reply_not_done(r, (ep->flags & EP_CREATES) ? OP_CREATE : ep->op);
    else if (rc == ENG_DB)
        engine_fault(&ctx);
}

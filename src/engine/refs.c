/* refs: fields that name another module's row (F27). A write may not point a row of one client at a
 * contact, location, asset, vendor or network of another client: a nonzero id that exists must
 * belong to the written row's client or to no client (a global row); an id that does not exist is
 * stored as the reference stores it. Checked inside the write's transaction, from the module's
 * refs table, with the identifiers of the named module's own descriptor. */
#include "engine/engine_int.h"

static void build_ref(struct op_ctx *ctx, struct buf *sql, const void *arg)
{
    const struct module *to = arg;
    (void)ctx;
    buf_printf(sql, "SELECT %s FROM %s WHERE %s = ?", to->client_col, to->table, to->res->pk);
}

enum eng_rc refs_check(struct op_ctx *ctx)
{
    const struct module *m = ctx->mod;
    for (size_t i = 0; i < m->nrefs; i++) {
        const struct field_ref *ref = &m->refs[i];
        const struct ref_resolved *rr = &m->res->refs[i]; /* resolved at start-up */
        const struct value *v = &ctx->vals[rr->field];
        /* only what this write sends: a stored value is the row's already */
        if (!v->set || !v->is_int || v->i == 0)
            continue;
        const struct module *to = rr->to;
        struct db_stmt *st;
        if (engine_stmt(ctx, to, ref, SHAPE_REF_OWNER, 0, build_ref, to, &st) != ENG_OK)
            return ENG_DB;
        db_bind_int(st, 1, v->i);
        int64_t owner = 0;
        enum db_rc rc = db_query_int(st, &owner);
        if (rc != DB_ROW && rc != DB_DONE)
            return ENG_DB;
        if (rc == DB_ROW && owner != 0 && owner != ctx->S)
            return reply_bad(ctx->r, "%s names %s of another client.", ref->field, ref->noun);
    }
    return ENG_OK;
}

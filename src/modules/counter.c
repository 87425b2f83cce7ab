/* counter: the next number of a settings counter (counter.h). */
#include "modules/counter.h"

#include <stdio.h>

#include "crypto/crypto.h"

enum eng_rc counter_take(struct op_ctx *ctx, const char *take_sql, const char *taken_sql,
                         const char *noun)
{
    char field[64];
    struct db_stmt *st;
    if (ctx_exec_ints(ctx, take_sql, 0, NULL) != ENG_OK || db_changes(ctx->db) != 1)
        return ENG_DB;
    if (db_stmt(ctx->db, taken_sql, &st) != DB_OK || db_step(st) != DB_ROW)
        return ENG_DB;
    size_t n;
    const char *prefix = db_column_text(st, 0, &n);
    snprintf(field, sizeof(field), "%s_prefix", noun);
    struct value *pv = ctx_val(ctx, field);
    value_from_text(pv, ctx_strdup(ctx, prefix ? prefix : "", prefix ? n : 0), prefix ? n : 0);
    snprintf(field, sizeof(field), "%s_number", noun);
    value_int(ctx_val(ctx, field), db_column_int(st, 1));
    db_reset(st);
    char key[33];
    if (!pv->p || crypto_random_string(key, 32) != 0)
        return ENG_DB;
    snprintf(field, sizeof(field), "%s_url_key", noun);
    struct value *url_key = ctx_val(ctx, field);
    value_from_text(url_key, ctx_strdup(ctx, key, 32), 32);
    return url_key->p ? ENG_OK : ENG_DB; /* NULL: out of memory, not SQL NULL */
}

/* enum_mix: a DB_* code where an ENG_* one belongs (or the reverse) must not compile. ctest
 * compiles this file with the project's warning flags once per MIX case, expecting each to fail,
 * and once without MIX (the same code, correctly typed), expecting that to compile: the typing of
 * the codes (enum db_rc, enum eng_rc) and -Wenum-conversion / -Wenum-compare together make a
 * mix-up an error (CMakeLists.txt, tests compile_fail_*). */
#include "db/db.h"
#include "engine/engine_int.h"

enum eng_rc step_as_eng(struct db_stmt *st);
enum eng_rc hook_rc(struct op_ctx *ctx);
void answer(struct req *r, struct db_stmt *st, struct op_ctx *ctx);

/* A store step's outcome returned as an engine step's. */
enum eng_rc step_as_eng(struct db_stmt *st)
{
#if MIX == 1
    return db_step(st); /* error: enum db_rc converted to enum eng_rc */
#else
    return eng_from_db(db_step(st));
#endif
}

enum eng_rc hook_rc(struct op_ctx *ctx)
{
#if MIX == 2
    enum eng_rc rc = db_step((struct db_stmt *)ctx); /* error: a DB code in an ENG variable */
#else
    enum eng_rc rc = eng_from_db(db_step((struct db_stmt *)ctx));
#endif
    return rc;
}

void answer(struct req *r, struct db_stmt *st, struct op_ctx *ctx)
{
    enum eng_rc rc = hook_rc(ctx);
#if MIX == 3
    reply_server_error(r, rc); /* error: an ENG code where the store's code belongs */
    db_reset(st);
#elif MIX == 4
    if (rc == db_step(st)) /* error: ENG code compared with a DB code */
        reply_server_error(r, DB_ERROR);
#else
    if (rc == ENG_DB)
        reply_server_error(r, db_step(st));
#endif
}

/* rc: the return codes of engine steps and module hooks. */
#ifndef ITFLOWD_ENGINE_RC_H
#define ITFLOWD_ENGINE_RC_H

/* Return codes of engine steps and hooks. Their values are disjoint from enum db_rc's but for
 * ENG_OK = DB_OK = 0, so that a DB_* code where an ENG_* one belongs is never quietly one of
 * these (the compiler's -Wenum-conversion catches it first). */
enum eng_rc {
    ENG_OK = 0,
    ENG_NOT_DONE = 100, /* the operation's ordinary "False" answer (insert/update/delete failed) */
    ENG_REPLIED,        /* r->out already holds the answer (a 4xx) */
    ENG_DB,             /* a store fault: 500 (or 503 when busy/unavailable) */
};

#endif

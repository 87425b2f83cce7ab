/* sqlmemo: SQL built from a descriptor once per shape and reused by every later request; the
 * statement is then found by address (db_stmt_static). A shape is named by a struct sql_key:
 * the module, the filter or endpoint (or field, or reference) the text depends on, the kind of
 * statement, its flags and the store's dialect. */
#ifndef ITFLOWD_ENGINE_SQLMEMO_H
#define ITFLOWD_ENGINE_SQLMEMO_H

#include "core/buf.h"
#include "db/db.h"

struct module;

/* The kinds of statement the engine builds from a descriptor. */
enum sql_shape {
    SHAPE_LOAD_ROW = 1,  /* write.c: the target row of an update or row operation (per endpoint) */
    SHAPE_UNIQUE,        /* write.c: COUNT of rows holding an FF_UNIQUE field's value (per field) */
    SHAPE_INSERT,        /* write.c: a create's INSERT */
    SHAPE_UPDATE,        /* write.c: an update's UPDATE */
    SHAPE_ROW_OP,        /* write.c: delete, archive, unarchive or set (per endpoint) */
    SHAPE_CLEAR_PRIMARY, /* write.c: an FF_PRIMARY field cleared on the client's other rows */
    SHAPE_REF_OWNER,     /* refs.c: the client of a referenced row (per reference) */
    SHAPE_READ_ROWS,     /* read.c: a read's rows (per filter; NULL: the list) */
    SHAPE_READ_COUNT,    /* read.c: a read's COUNT(*) (per filter; NULL: the list) */
    SHAPE_AGGREGATE,     /* aggregate.c: an aggregate read's grouped rows (per endpoint) */
    SHAPE_READ_PAGE,     /* read.c: an after_id page's row count and last id (sync.c) */
    SHAPE_ROW_CLIENT,    /* events.c: a row's client as reads see it (a custom script's event) */
};

/* Facts besides the kind that change a statement's text; one bit each, or'ed into key.bits. */
enum sql_bits {
    SQL_JOIN = 1u << 0,      /* reads: the module's joined table too */
    SQL_SCOPE_ALL = 1u << 1, /* reads: no client scope (the key sees every client) */
    SQL_INDEXED = 1u << 2,   /* reads, unique: the text comparison's indexed form */
    SQL_DEEP_PAGE = 1u << 3, /* reads: a deep page read ids first */
    /* aggregates: optional filter i present, as SQL_FILTER0 << i; reads: the FLT_ALSO filter i
     * present (at most 12: bits 4 to 15) */
    SQL_FILTER0 = 1u << 4,
    SQL_SCOPE_ALLOW = 1u << 16, /* reads: the v26.08 user's allow list (access_scope_sql) */
    SQL_SCOPE_DENY = 1u << 17,  /* reads: the v26.08 user's deny list */
    SQL_UNARCHIVED = 1u << 18,  /* reads: archived rows left out (the module's archived_param) */
    /* reads with the incremental-sync parameters (sync.c); above the aggregates' filter bits */
    SQL_SINCE = 1u << 24,        /* updated_since */
    SQL_AFTER = 1u << 25,        /* after_id */
    SQL_SORTED = 1u << 26,       /* sort= given */
    SQL_SORT_CREATED = 1u << 27, /* sort by the creation time */
    SQL_SORT_UPDATED = 1u << 28, /* sort by the update time */
    SQL_SORT_DESC = 1u << 29,    /* descending */
};

struct sql_key {
    const struct module *mod; /* the module whose table the statement names */
    const void *which; /* the filter, endpoint, field or reference; NULL when the module is all */
    enum sql_shape shape;
    unsigned bits; /* enum sql_bits */
    enum db_dialect dialect;
};

/* The memoised SQL for this shape, or NULL (not built yet). Lock-free, no allocation. */
const char *sqlmemo_find(const struct sql_key *key);
/* Stores sql for the shape (first writer wins) and returns the immortal copy, or NULL when the
 * table is full or memory ran out (the caller then uses its own text with db_stmt). */
const char *sqlmemo_add(const struct sql_key *key, const char *sql);

#endif

/* sqlmemo: SQL built from a descriptor once per shape (module, filter or endpoint, variant bits)
 * and reused by every later request; the statement is then found by address (db_stmt_static). */
#ifndef ITFLOWD_ENGINE_SQLMEMO_H
#define ITFLOWD_ENGINE_SQLMEMO_H

#include "core/buf.h"

/* The memoised SQL for this shape, or NULL (not built yet). Lock-free. */
const char *sqlmemo_find(const void *a, const void *b, unsigned variant);
/* Stores sql for the shape (first writer wins) and returns the immortal copy, or NULL when the
 * table is full or memory ran out (the caller then uses its own text with db_stmt). */
const char *sqlmemo_add(const void *a, const void *b, unsigned variant, const char *sql);

#endif

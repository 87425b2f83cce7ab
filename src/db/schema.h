/* schema: the ITFlow tables as data (names, types, lengths, defaults) and the SQLite DDL made
 * from them. The one source of truth for column order (K3), value rendering and length checks (F2).
 */
#ifndef ITFLOWD_DB_SCHEMA_H
#define ITFLOWD_DB_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum col_type {
    COL_INT,       /* int(n), tinyint(n): rendered as decimal text */
    COL_DECIMAL,   /* decimal(p,s): rendered with exactly s decimals ("100.00") */
    COL_VARCHAR,   /* varchar(n): at most n characters */
    COL_VARBINARY, /* varbinary(n): at most n bytes */
    COL_TEXT,      /* text/mediumtext/longtext: at most max_len bytes */
    COL_DATE,      /* YYYY-MM-DD */
    COL_DATETIME,  /* YYYY-MM-DD HH:MM:SS */
    COL_TIME,      /* HH:MM:SS */
    COL_ENUM,      /* enum('a','b'): one of the listed values */
};

#define COL_NOT_NULL 1u
#define COL_AUTO_INC 2u
#define COL_ON_UPDATE_NOW 4u /* MariaDB: ON UPDATE current_timestamp() */
#define COL_DEFAULT_NOW 8u   /* DEFAULT current_timestamp() */

struct schema_column {
    const char *name;
    const char *mariadb; /* the definition as in ITFlow's db.sql */
    enum col_type type;
    unsigned flags;
    uint32_t max_len; /* characters (varchar), bytes (varbinary, text); 0 = not a string */
    uint8_t scale;    /* decimals of COL_DECIMAL */
    const char *dflt; /* SQL literal of the default, "NULL", or NULL for none */
};

struct schema_table {
    const char *name;
    const struct schema_column *cols;
    size_t ncols;
    const char *keys; /* MariaDB key and constraint clauses, as in db.sql */
};

extern const struct schema_table schema_tables[];
extern const size_t schema_ntables;

const struct schema_table *schema_table(const char *name);
/* Index of column name in t, or -1. */
int schema_column_index(const struct schema_table *t, const char *name);
const struct schema_column *schema_column(const struct schema_table *t, const char *name);

/* The whole SQLite schema: tables (same names, columns, order, defaults; AUTOINCREMENT keys so
 * ids are never reused, as in InnoDB), the two cascading foreign keys, triggers that emulate
 * ON UPDATE current_timestamp() (only when a row really changes), and the read indexes. */
void schema_sqlite_ddl(struct buf *out);

#endif

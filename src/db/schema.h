/* schema: the ITFlow tables as data (names, types, lengths, defaults) and the SQLite DDL made
 * from them. The one source of truth for column order (K3), value rendering and length checks (F2).
 * Two sets are known (ITFlow v26.07 and v26.08); one is active, chosen once at start-up before any
 * thread runs, and may be replaced by the tables as the database really has them (schema drift:
 * db_learn_schema() in db.h). */
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
    COL_FLOAT,     /* float/double: rendered as the store gives it */
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

/* The ITFlow releases whose schema itflowd knows. */
enum itflow_version { ITFLOW_V2607, ITFLOW_V2608 };

struct schema_set {
    enum itflow_version version;
    const char *itflow;     /* "26.07" */
    const char *db_version; /* settings.config_current_database_version of a fresh install */
    const struct schema_table *tables;
    size_t ntables;
};

/* The generated sets (schema_tables.c). */
extern const struct schema_set schema_set_v2607, schema_set_v2608;

/* The built-in set of a release. */
const struct schema_set *schema_set_of(enum itflow_version v);
/* "26.07" / "26.08" → *ret; -1 for any other text. */
int schema_parse_version(const char *text, enum itflow_version *ret);
/* Makes the built-in set of v the active one (the default is v26.07). Start-up only: before any
 * thread, and before module_registry_init() resolves the descriptors against it. */
void schema_select(enum itflow_version v);
/* Makes set the active one (the tables learned from a database); set must live as long as the
 * process. Start-up only, like schema_select. */
void schema_use(const struct schema_set *set);
/* The active set: what schema_table() looks in and what the DDL creates. */
const struct schema_set *schema_active(void);

/* The table of the active set named name, or NULL. */
const struct schema_table *schema_table(const char *name);
/* The table name of set s, or NULL. */
const struct schema_table *schema_set_table(const struct schema_set *s, const char *name);
/* Index of column name in t, or -1. */
int schema_column_index(const struct schema_table *t, const char *name);
const struct schema_column *schema_column(const struct schema_table *t, const char *name);

/* A column the descriptors do not know, described from the store's catalogue (schema drift): type
 * is the catalogue's ("varchar(50)", "decimal(15,2)", "int(11)", SQLite's declared type), typed
 * as the generated columns are (an unknown type is text). name, type and dflt must outlive out. */
void schema_column_from_catalogue(const char *name, const char *type, int not_null,
                                  const char *dflt, struct schema_column *out);

/* The whole SQLite schema of the active set: tables (same names, columns, order, defaults;
 * AUTOINCREMENT keys so ids are never reused, as in InnoDB), the two cascading foreign keys,
 * triggers that emulate ON UPDATE current_timestamp() (only when a row really changes), and the
 * read indexes. */
void schema_sqlite_ddl(struct buf *out);

#endif

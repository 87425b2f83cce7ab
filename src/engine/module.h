/* module: the descriptor that says, as data, everything one API module is (ENGINE.md). The
 * engine implements each operation once; a module is a table plus, at most, a few named hooks. */
#ifndef ITFLOWD_ENGINE_MODULE_H
#define ITFLOWD_ENGINE_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "db/schema.h"
#include "engine/rc.h"

struct op_ctx;

/* How a request value becomes a column value (reference 1.9, COMPAT K11). */
enum conv {
    CV_TEXT,     /* sanitizeInput: strip_tags + trim; default '' */
    CV_INT,      /* intval; default 0 */
    CV_DECIMAL,  /* floatval, rounded to the column's scale; default 0 */
    CV_DATE,     /* sanitized; empty -> NULL; else a date MariaDB accepts (normalised) */
    CV_DIGITS,   /* every character but 0-9 removed; default '' */
    CV_WEBSITE,  /* sanitized, one leading http:// or https:// removed */
    CV_ABBREV6,  /* the first 6 characters, then sanitized */
    CV_HTML_BR,  /* raw HTML kept, "<br>" appended */
    CV_RAW,      /* the raw string, untouched */
    CV_SECRET,   /* the raw string, encrypted with the site master key (credentials) */
    CV_INT_TEXT, /* intval, stored as its decimal text */
    CV_MONEY,    /* an exact decimal number (engine/decimal.h) rounded to the column's scale;
                    anything else is a 400; default 0 */
};

#define FF_REQUIRED 1u  /* create: PHP empty() after conversion -> the insert-failed answer */
#define FF_NO_UPDATE 2u /* update leaves the column alone */
#define FF_NO_CREATE 4u /* create leaves the column to its default */
#define FF_UNIQUE 8u    /* create: no row of the same client has this value (K12 comparison) */
#define FF_NAME 16u     /* the record's name in log texts */
#define FF_CONST 32u    /* never read from the body: always dflt on create */
#define FF_PRIMARY 64u  /* value 1 clears this flag on the client's other rows (K14) */

/* dflt value meaning "the current UTC date and time" (NOW()). */
#define DFLT_NOW "@now"

struct field {
    const char *name; /* JSON body name */
    /* column of the module's table; "table.column" = another table's column, written by a hook
     * (checked against that column, never part of the module's own INSERT/UPDATE); NULL = a
     * value for hooks only */
    const char *column;
    enum conv conv;
    unsigned flags;
    const char *dflt; /* create value when absent; NULL = the conversion's default */
};

enum filter_kind {
    FK_ID,       /* intval, compared with = */
    FK_TEXT,     /* raw string, case-insensitive = (K12) */
    FK_UCFIRST,  /* ucfirst(raw), case-insensitive = */
    FK_INT_TEXT, /* intval, compared as its text with a text column */
    FK_ONE_OF,   /* one of the filter's values, matched in any (ASCII) case; the listed spelling
                    is compared with = (exact); another value, or an array, is ignored as if the
                    parameter were absent (the reference's in_array check) */
};

enum filter_shape {
    FS_ONE,   /* every match, no ORDER BY / LIMIT */
    FS_LIST,  /* ORDER BY, LIMIT, OFFSET */
    FS_FIRST, /* the first match (LIMIT 1) */
};

#define FLT_JOIN 1u /* rows carry the module's joined columns */
/* applies beside whichever filter is chosen (never chosen itself): each one present adds its
 * condition (AND); exact comparisons only (FK_ID, FK_ONE_OF), among the first FLT_ALSO_MAX
 * filters (its bit in the SQL shape) */
#define FLT_ALSO 2u
#define FLT_ALSO_MAX 12

struct filter {
    const char *param;
    enum filter_kind kind;
    const char *column;
    const char *column2; /* when set: column = v OR column2 = v */
    enum filter_shape shape;
    unsigned flags;
    const char *const *values; /* FK_ONE_OF: the accepted values, NULL-terminated */
};

/* A LEFT JOIN whose columns follow the table's columns in a row. */
struct join {
    const char *table;
    const char *on;
};

/* A column a read's rows carry after the table's (and the join's) columns: a column of a table
 * the read joins (the scope join, the join or a read join), rendered as that column's type, or an
 * SQL expression over those tables, rendered as text. */
struct read_col {
    const char *key;    /* JSON key */
    const char *column; /* "table.column"; NULL: expr */
    const char *expr;
};

enum op {
    OP_READ,
    OP_CREATE,
    OP_UPDATE,
    OP_DELETE,
    OP_ARCHIVE,
    OP_UNARCHIVE,
    OP_SET,    /* a row operation: UPDATE ... SET <sets> on the row found with <cond> (resolve) */
    OP_CUSTOM, /* the hook does the whole operation */
};

/* Which client scope S a write may run with (reference 1.8, section 7). */
enum scope_rule { SR_ANY, SR_NONZERO, SR_ZERO };

/* Where a log row's client or entity id comes from. */
enum log_ref { LR_ZERO, LR_SCOPE, LR_ID, LR_NEW_ID, LR_AUX };

/* A logs row: description is a template with {name}, {key} and hook variables ({prefix}...). */
struct log_spec {
    const char *type;
    const char *action;
    const char *text;
    enum log_ref client;
    enum log_ref entity;
};

#define EP_MAX_LOGS 3
#define EP_DECRYPT 1u /* needs the key's decrypt password: unwraps the master key (K16) */
/* OP_CUSTOM: answered as a create (insert_id = new_id; new_id 0 = the insert-failed answer) */
#define EP_CREATES 4u

/* ENG_OK, or an enum eng_rc that ends the operation (engine/engine_int.h). */
typedef enum eng_rc (*op_hook)(struct op_ctx *ctx);

/* An SQL text per store dialect, in enum db_dialect's order (SQLite, MariaDB). */
struct dialect_text {
    const char *sqlite;
    const char *mariadb;
};

/* How one result column of an aggregate read becomes a JSON value (always a string or null). */
enum agg_out {
    AO_TEXT,   /* the value's text; null when SQL NULL */
    AO_CONCAT, /* expr's text then expr2's (SQL NULL as empty): "TCK-" "12" -> "TCK-12" */
    AO_HMS,    /* integer seconds as HH:MM:SS, capped at 838:59:59 (MariaDB's TIME range) */
};

struct agg_col {
    const char *key;           /* JSON key */
    const char *expr;          /* select-list SQL; NULL = dexpr */
    struct dialect_text dexpr; /* when the expression differs between the dialects */
    const char *expr2;         /* AO_CONCAT: the second part */
    enum agg_out out;
};

/* An INNER JOIN of an aggregate read. */
struct agg_join {
    const char *table;
    const char *alias;
    const char *on;
};

#define AGG_MAX_FILTERS 8

/* An optional equality on a request parameter (intval), bound when the parameter is present. */
struct agg_filter {
    const char *param;
    const char *column;
};

/* A read whose rows are an aggregate over joined tables (a report, e.g. technicians/time): SQL
 * built once per shape from this data (engine/aggregate.c), rows limited to one year (or one
 * month of it) of period_col, to the client scope on scope_col and to the filters present;
 * grouped, ordered, paged. Answered through the engine's read envelope. */
struct aggregate {
    const char *alias; /* of the module's table */
    const struct agg_join *joins;
    size_t njoins;
    const struct agg_col *cols;
    size_t ncols;
    const char *where; /* fixed conditions */
    const char *period_col;
    const char *year_param;           /* default: the current UTC year; outside 1..9998: not done */
    const char *month_param;          /* optional; outside 1..12: month_error */
    const char *month_error;          /* answered with status 200 and success "False" (reference) */
    const struct agg_filter *filters; /* at most AGG_MAX_FILTERS */
    size_t nfilters;
    const char *scope_col; /* compared with the client scope S (reads, K9) */
    const char *group_by;
    struct dialect_text order_by;
};

/* A length a body field may have (v26.08 credentials, delta 4): checked when the field is sent,
 * before anything else; the first one over its limit answers 200 "<field> is too long to
 * store.". */
struct length_guard {
    const char *field;
    size_t max;
    int chars; /* 1: counted in UTF-8 characters; 0: in bytes */
};

/* A body member that is an array of objects a hook reads (e.g. invoices/create's items), for the
 * OpenAPI document. */
struct body_array {
    const char *name;
    const struct field *fields; /* each element's members */
    size_t nfields;
};

struct endpoint {
    const char *function; /* URL name: "read", "create", ... */
    enum op op;
    enum scope_rule scope_rule;
    const char *id_param; /* body parameter with the row id; NULL = the row is client S */
    unsigned flags;
    /* in the transaction, after conversion, before the main statement; OP_CUSTOM: the whole
     * operation; never on OP_READ (reads are the engine's, from the descriptor) */
    op_hook before;
    op_hook after;    /* after the main statement (new_id / count known) */
    const char *sets; /* archive/unarchive/set: extra "col = value" assignments */
    const char *cond; /* row operations: an extra condition the row must meet */
    struct log_spec logs[EP_MAX_LOGS];
    const struct log_spec *miss_log;   /* written (and kept) when the target row is not found */
    const struct aggregate *aggregate; /* OP_READ: the rows are this aggregate's (no table read) */
    const struct length_guard *guards; /* v26.08 keys only; ends with a NULL field */
    const struct body_array *array;    /* documented only: the hooks read it */
};

/* A field that names a row of another module by its id (F27): a nonzero id that exists must belong
 * to the written row's client or to no client (0, a global row); an id that does not exist is
 * stored as sent. Checked in the write's transaction (engine/refs.c). */
struct field_ref {
    const char *field;  /* the field's JSON name (a CV_INT field of this module) */
    const char *module; /* the module whose row it names, e.g. "contacts" */
    const char *noun;   /* that row in the message, e.g. "a contact" */
};

#define MOD_ALL_CLIENTS_ONLY 1u /* F8: client-scoped keys get 403 */
#define MOD_NO_CLIENT_SCOPE 2u  /* the table has no client column */

struct module {
    const char *name;  /* URL name */
    const char *table; /* schema table */
    const char *client_col;
    const char *archived_col;
    unsigned flags;
    const struct filter *filters; /* ordered: the first parameter present wins (K10) */
    size_t nfilters;
    const struct join *join;
    unsigned list_flags; /* FLT_JOIN: the unfiltered list carries the join */
    const struct field *fields;
    size_t nfields;
    const struct endpoint *endpoints;
    size_t nendpoints;
    /* reads scoped through another table: INNER JOIN scope_join, client_col is its column */
    const struct join *scope_join;
    const char *order_by;         /* list order; NULL = the primary key */
    const char *filter_required;  /* no filter given: 400 with this message (invoice_items) */
    const struct field_ref *refs; /* fields naming other clients' rows (F27) */
    size_t nrefs;
    /* v26.08 RBAC (delta 2.2): the ITFlow permission module the resource belongs to
     * ("module_support", ...); NULL = not mapped (a v26.08 key gets 403) */
    const char *rbac_module;
    /* reads: LEFT JOINs that only the read columns use (each table once, named by its name) */
    const struct join *read_joins;
    size_t nread_joins;
    const struct read_col *read_cols; /* reads: columns after the table's and the join's */
    size_t nread_cols;
    /* reads leave out rows whose archived_col is set unless this query parameter is given and
     * not 0, false, no, off or empty (F24); NULL: reads show archived rows */
    const char *archived_param;

    /* what start-up derives from this descriptor (tables, keys): kept beside it, filled by
     * module_registry_init() (modules/registry.c); the descriptor itself stays const */
    struct module_resolved *res;
};

struct module_resolved {
    const struct schema_table *t;
    const struct schema_table *jt;
    const char *pk;
    /* the JSON key of each row column after its separator ({"first": then ,"next":), the
     * table's, the join's, then the read columns', ready to copy */
    const char **row_keys;
    size_t *row_key_lens;
    struct ref_resolved *refs; /* refs[i] resolved at start-up (F27) */
    /* read_cols[i]'s schema column (rendering, OpenAPI); NULL for an expression */
    const struct schema_column **read_col_types;
};

struct ref_resolved {
    const struct module *to; /* the module the reference names */
    size_t field;            /* the index of its field in the referring module's fields */
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

const struct endpoint *module_endpoint(const struct module *m, const char *fn, size_t n);
const struct field *module_field(const struct module *m, const char *name);
/* 1 when reads of the module are limited to a client: a client column, or aggregate endpoints
 * with their own scope column. */
int module_client_scoped(const struct module *m);

#endif

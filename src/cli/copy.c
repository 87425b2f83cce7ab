/* copy: 'itflowd copy --from DB --to DB' — the rows of every table of the schema (db/schema.h, the
 * tables the API reads and writes) from one store into another, through the db layer, so that any
 * pair works: an ITFlow MariaDB into a new SQLite file and back. The source is read in one
 * snapshot, the target written in one transaction (foreign keys checked at its end); every value
 * is copied as the store gives it (NULL stays NULL), so the encrypted credentials, the wrapped
 * master keys and the key hashes keep decrypting and matching with the same passwords. The row
 * counts of both sides are compared before the commit. */
#include <openssl/crypto.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "db/schema.h"
#include "modules/registry.h"

struct progress {
    int tty;           /* stderr is a terminal: one line rewritten in place */
    time_t last;       /* when it was last written */
    long long total;   /* rows copied so far, every table */
    const char *table; /* the table being copied */
};

static void show(struct progress *p, long long rows, int force)
{
    if (!p->tty)
        return;
    time_t now = time(NULL);
    if (!force && now == p->last)
        return;
    p->last = now;
    fprintf(stderr, "\r\033[Kcopying %s: %lld rows (%lld in all)", p->table, rows, p->total + rows);
}

/* SELECT `a`,`b` FROM `t` and INSERT INTO `t` (`a`,`b`) VALUES (?,?) */
static void table_sql(const struct schema_table *t, struct buf *sel, struct buf *ins)
{
    buf_reset(sel);
    buf_reset(ins);
    buf_puts(sel, "SELECT ");
    buf_printf(ins, "INSERT INTO `%s` (", t->name);
    for (size_t i = 0; i < t->ncols; i++) {
        buf_printf(sel, "%s`%s`", i ? "," : "", t->cols[i].name);
        buf_printf(ins, "%s`%s`", i ? "," : "", t->cols[i].name);
    }
    buf_printf(sel, " FROM `%s`", t->name);
    buf_puts(ins, ") VALUES (");
    for (size_t i = 0; i < t->ncols; i++)
        buf_puts(ins, i ? ",?" : "?");
    buf_putc(ins, ')');
}

static enum db_rc count_rows(struct db *db, const struct schema_table *t, struct buf *sql,
                             int64_t *n)
{
    buf_reset(sql);
    buf_printf(sql, "SELECT COUNT(*) FROM `%s`", t->name);
    struct db_stmt *st;
    if (sql->failed || db_stmt(db, sql->p, &st) != DB_OK)
        return DB_ERROR;
    enum db_rc rc = db_query_int(st, n);
    db_reset(st);
    return rc == DB_ROW ? DB_OK : DB_ERROR;
}

/* Copies table t; *rows = the rows copied. */
static int copy_table(struct db *from, struct db *to, const struct schema_table *t,
                      struct progress *p, int64_t *rows, char *err, size_t errlen)
{
    struct buf sel, ins;
    buf_init(&sel, 0);
    buf_init(&ins, 0);
    table_sql(t, &sel, &ins);
    struct db_stmt *s = NULL, *w = NULL;
    int rc = -1;
    *rows = 0;
    p->table = t->name;
    if (sel.failed || ins.failed) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (db_stmt(from, sel.p, &s) != DB_OK) {
        snprintf(err, errlen, "cannot read %s: %s", t->name, db_errmsg(from));
        goto out;
    }
    if (db_stmt(to, ins.p, &w) != DB_OK) {
        snprintf(err, errlen, "cannot write %s: %s", t->name, db_errmsg(to));
        goto out;
    }
    enum db_rc step;
    while ((step = db_step(s)) == DB_ROW) {
        db_reset(w);
        for (size_t i = 0; i < t->ncols; i++) {
            size_t len = 0;
            const char *v = db_column_text(s, (int)i, &len);
            if (v)
                db_bind_text(w, (int)i + 1, v, len);
            else
                db_bind_null(w, (int)i + 1);
        }
        if (db_step(w) != DB_DONE) {
            snprintf(err, errlen, "cannot write row %lld of %s: %s", (long long)*rows + 1, t->name,
                     db_errmsg(to));
            goto out;
        }
        ++*rows;
        show(p, *rows, 0);
    }
    if (step != DB_DONE) {
        snprintf(err, errlen, "cannot read %s: %s", t->name, db_errmsg(from));
        goto out;
    }
    rc = 0;
out:
    if (s)
        db_reset(s);
    if (w)
        db_reset(w);
    buf_free(&sel);
    buf_free(&ins);
    return rc;
}

/* The target has no ITFlow tables (they are created), or has them all empty. */
static int prepare_target(struct db *to, const char *shown, struct buf *sql, char *err,
                          size_t errlen)
{
    struct db_stmt *st;
    if (db_stmt(to, "SELECT 1 FROM `api_keys` LIMIT 1", &st) != DB_OK) {
        db_rollback(to);
        if (db_create_schema(to) != DB_OK) {
            snprintf(err, errlen, "cannot create the schema in %s: %s", shown, db_errmsg(to));
            return -1;
        }
        if (db_dialect(to) == DB_SQLITE && cli_ensure_indexes(to) != DB_OK) {
            snprintf(err, errlen, "cannot create the read indexes in %s: %s", shown, db_errmsg(to));
            return -1;
        }
        return 0;
    }
    db_reset(st);
    const struct schema_set *set = schema_active();
    for (size_t k = 0; k < set->ntables; k++) {
        int64_t n = 0;
        if (count_rows(to, &set->tables[k], sql, &n) != DB_OK) {
            snprintf(err, errlen, "%s has tables but not those of this schema (%s: %s)", shown,
                     set->tables[k].name, db_errmsg(to));
            return -1;
        }
        if (n) {
            snprintf(err, errlen,
                     "%s already holds data (%lld rows in %s); copy writes only into a new "
                     "database or one whose tables are empty",
                     shown, (long long)n, set->tables[k].name);
            return -1;
        }
    }
    return 0;
}

int cmd_copy(const struct cli_opts *o)
{
    char from_shown[512], to_shown[512], err[1024] = "";
    db_target_display(o->from, from_shown, sizeof(from_shown));
    db_target_display(o->to, to_shown, sizeof(to_shown));
    if (!strcmp(o->from, o->to))
        return cli_fail("--from and --to are the same database."), 2;
    const char *to_path = !strncmp(o->to, "sqlite:", 7) ? o->to + 7 : o->to;
    int to_file = !strstr(o->to, "://");
    int existed = to_file && access(to_path, F_OK) == 0;
    umask(077); /* a new SQLite file holds every secret of the source: its owner's only */
    struct db *from = NULL, *to = NULL;
    if (db_open(o->from, &from) != DB_OK)
        return cli_fail("cannot open the database %s.", from_shown);
    /* the source's release decides the tables copied (and created in a new target) */
    struct db_identity id;
    if (db_identify(from, &id) != DB_OK) {
        cli_fail("%s is not an ITFlow database (no api_keys table of 26.07 or 26.08): %s",
                 from_shown, db_errmsg(from));
        db_close(from);
        return 1;
    }
    schema_select(id.dialect);
    char rerr[256];
    if (module_registry_init(rerr, sizeof(rerr)) != 0) {
        db_close(from);
        return cli_fail("%s", rerr);
    }
    const struct schema_set *set = schema_active();
    if (db_open_create(o->to, &to) != DB_OK) {
        db_close(from);
        return cli_fail("cannot open or create the database %s.", to_shown);
    }
    struct buf sql;
    buf_init(&sql, 0);
    struct progress p = {isatty(STDERR_FILENO), 0, 0, ""};
    int64_t counts[2][256];
    int rc = 1, began = 0;
    if (set->ntables > 256) {
        snprintf(err, sizeof(err), "too many tables");
        goto out;
    }
    if (prepare_target(to, to_shown, &sql, err, sizeof(err)) != 0)
        goto out;
    /* one snapshot of the source; one transaction on the target, foreign keys checked at its
     * end (a child table may come before its parent) */
    if (db_begin(from, 0) != DB_OK) {
        snprintf(err, sizeof(err), "cannot read %s: %s", from_shown, db_errmsg(from));
        goto out;
    }
    if (db_dialect(to) == DB_MARIADB && db_exec(to, "SET FOREIGN_KEY_CHECKS = 0") != DB_OK) {
        snprintf(err, sizeof(err), "cannot write %s: %s", to_shown, db_errmsg(to));
        goto out;
    }
    if (db_begin(to, 1) != DB_OK ||
        (db_dialect(to) == DB_SQLITE && db_exec(to, "PRAGMA defer_foreign_keys = ON") != DB_OK)) {
        snprintf(err, sizeof(err), "cannot write %s: %s", to_shown, db_errmsg(to));
        goto out;
    }
    began = 1;
    for (size_t k = 0; k < set->ntables; k++) {
        int64_t rows = 0;
        if (copy_table(from, to, &set->tables[k], &p, &rows, err, sizeof(err)) != 0)
            goto out;
        p.total += rows;
        counts[0][k] = rows;
    }
    /* the counts, both sides, before the commit: a row lost or added on the way is an error */
    for (size_t k = 0; k < set->ntables; k++) {
        int64_t src = 0, dst = 0;
        if (count_rows(from, &set->tables[k], &sql, &src) != DB_OK ||
            count_rows(to, &set->tables[k], &sql, &dst) != DB_OK) {
            snprintf(err, sizeof(err), "cannot count the rows of %s", set->tables[k].name);
            goto out;
        }
        counts[1][k] = dst;
        if (src != counts[0][k] || dst != src) {
            snprintf(err, sizeof(err),
                     "%s: %lld rows in the source, %lld copied, %lld in the "
                     "target",
                     set->tables[k].name, (long long)src, (long long)counts[0][k], (long long)dst);
            goto out;
        }
    }
    if (db_commit(to) != DB_OK) {
        snprintf(err, sizeof(err), "cannot commit to %s: %s", to_shown, db_errmsg(to));
        goto out;
    }
    began = 0;
    if (db_dialect(to) == DB_MARIADB)
        db_exec(to, "SET FOREIGN_KEY_CHECKS = 1");
    rc = 0;
out:
    if (p.tty)
        fputs("\r\033[K", stderr);
    if (began)
        db_rollback(to);
    db_rollback(from);
    db_close(from);
    db_close(to);
    buf_free(&sql);
    if (rc) {
        if (to_file && !existed) { /* nothing half-made is left behind */
            char tmp[4200];
            unlink(to_path);
            snprintf(tmp, sizeof(tmp), "%s-wal", to_path);
            unlink(tmp);
            snprintf(tmp, sizeof(tmp), "%s-shm", to_path);
            unlink(tmp);
        }
        return cli_fail("copy failed: %s.", err);
    }
    int nonempty = 0;
    for (size_t k = 0; k < set->ntables; k++)
        nonempty += counts[1][k] > 0;
    printf("Copied %s to %s: %lld rows in %zu tables (%d not empty); the row counts match.\n",
           from_shown, to_shown, p.total, set->ntables, nonempty);
    for (size_t k = 0; k < set->ntables; k++)
        if (counts[1][k])
            printf("  %-32s %lld\n", set->tables[k].name, (long long)counts[1][k]);
    return 0;
}

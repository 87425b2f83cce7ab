/* backup: 'itflowd backup --db SRC --to FILE' — SQLite's online backup API copies the database
 * while a server may be writing to it: one read transaction (a WAL snapshot, which never blocks
 * the writers) from the first page to the last, so the copy is the database as of one commit.
 * The copy is then checked with PRAGMA integrity_check; a failed backup leaves no file behind. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static void remove_files(const char *path)
{
    char tmp[4200];
    unlink(path);
    snprintf(tmp, sizeof(tmp), "%s-wal", path);
    unlink(tmp);
    snprintf(tmp, sizeof(tmp), "%s-shm", path);
    unlink(tmp);
    snprintf(tmp, sizeof(tmp), "%s-journal", path);
    unlink(tmp);
}

/* "ok", or the first problem integrity_check reports (into msg). */
static int integrity_ok(sqlite3 *db, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    snprintf(msg, msglen, "%s", "cannot run PRAGMA integrity_check");
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        ok = v && !strcmp(v, "ok");
        snprintf(msg, msglen, "%s", v ? v : "no answer");
    }
    sqlite3_finalize(st);
    return ok;
}

int cmd_backup(const struct cli_opts *o)
{
    const char *src = o->db;
    if (strstr(src, "://"))
        return cli_fail("backup copies SQLite databases; for MariaDB use mariadb-dump "
                        "--single-transaction (a logical dump) or mariabackup (a physical copy), "
                        "which know its storage."),
               2;
    if (!strncmp(src, "sqlite:", 7))
        src += 7;
    const char *dst = o->to;
    if (!strncmp(dst, "sqlite:", 7))
        dst += 7;
    if (access(src, R_OK) != 0)
        return cli_fail("cannot read %s: %s.", src, strerror(errno));
    umask(077); /* the copy holds the same secrets as the database: its owner's only */
    int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return cli_fail("cannot create %s: %s%s.", dst, strerror(errno),
                        errno == EEXIST ? " (backup does not overwrite a file)" : "");
    close(fd);
    sqlite3 *from = NULL, *to = NULL;
    char msg[512] = "";
    int rc = 1;
    /* read-write without create: a WAL database needs its -shm to be read consistently */
    if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(msg, sizeof(msg), "cannot open %s: %s", src, sqlite3_errmsg(from));
        goto out;
    }
    sqlite3_busy_timeout(from, 10000);
    if (sqlite3_open_v2(dst, &to, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(msg, sizeof(msg), "cannot open %s: %s", dst, sqlite3_errmsg(to));
        goto out;
    }
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (!b) {
        snprintf(msg, sizeof(msg), "cannot start the backup: %s", sqlite3_errmsg(to));
        goto out;
    }
    int step;
    /* all pages in one step: one snapshot; a writer holding the lock only makes it wait */
    for (int tries = 0; (step = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
                        (step == SQLITE_LOCKED && tries < 600);
         tries++)
        usleep(50000);
    int pages = sqlite3_backup_pagecount(b);
    if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE) {
        snprintf(msg, sizeof(msg), "the backup failed: %s", sqlite3_errmsg(to));
        goto out;
    }
    if (!integrity_ok(to, msg, sizeof(msg))) {
        char why[sizeof(msg)];
        memcpy(why, msg, sizeof(why));
        snprintf(msg, sizeof(msg), "the copy fails PRAGMA integrity_check: %.400s", why);
        goto out;
    }
    rc = 0;
out:
    sqlite3_close(from);
    if (sqlite3_close(to) != SQLITE_OK && rc == 0) {
        snprintf(msg, sizeof(msg), "cannot close %s", dst);
        rc = 1;
    }
    if (rc) {
        remove_files(dst);
        return cli_fail("%s.", msg);
    }
    struct stat sb;
    long long size = stat(dst, &sb) == 0 ? (long long)sb.st_size : -1;
    printf("Backed up %s to %s: %d pages, %lld bytes, integrity_check ok.\n", src, dst, pages,
           size);
    return 0;
}

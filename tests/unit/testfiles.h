/* testfiles: file helpers shared by the unit tests that work on database files. */
#ifndef ITFLOWD_TESTS_TESTFILES_H
#define ITFLOWD_TESTS_TESTFILES_H

#include <stdio.h>
#include <unistd.h>

#include "core/buf.h"

/* The whole file (NUL-terminated, malloc'd; *ret_len its size when not NULL), or NULL. */
static inline char *test_read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    if (b.failed) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b, ret_len);
}

/* Removes a SQLite database and its -wal, -shm and -journal files. */
static inline void test_remove_db_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[512];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

#endif

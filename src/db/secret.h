/* secret: a password read strictly from an environment variable or the first line of a file — the
 * MariaDB password (ITFLOWD_DB_PASSWORD[_FILE]) and the admin password of init and key create
 * (--admin-password-file, ITFLOWD_ADMIN_PASSWORD[_FILE]). Too long is an error, never a silent
 * cut; every copy made while reading is wiped. */
#ifndef ITFLOWD_DB_SECRET_H
#define ITFLOWD_DB_SECRET_H

#include <stddef.h>

/* The first line of the file at path (without its "\n" or "\r\n") into out (outlen > max). 0, or
 * -1 with a message in err (never the secret) when the file cannot be read, its first line is
 * longer than max bytes or holds a NUL byte, or it is empty and allow_empty is 0. out is wiped on
 * failure. */
int secret_read_file(const char *path, char *out, size_t outlen, size_t max, int allow_empty,
                     char *err, size_t errlen);

/* The value of the variable name into out (outlen > max): 1 when set and not empty, 0 when not
 * (out ""), -1 with a message in err when longer than max bytes. */
int secret_from_env(const char *name, char *out, size_t outlen, size_t max, char *err,
                    size_t errlen);

#endif

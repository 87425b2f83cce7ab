/* secret: strict password sources (see secret.h). */
#include "db/secret.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int secret_read_file(const char *path, char *out, size_t outlen, size_t max, int allow_empty,
                     char *err, size_t errlen)
{
    if (outlen <= max)
        max = outlen - 1;
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read the password file %s", path);
        return -1;
    }
    setvbuf(f, NULL, _IONBF, 0); /* no stdio buffer holding a copy of the secret */
    size_t n = 0;
    int c, too_long = 0;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (n < max)
            out[n++] = (char)c;
        else
            too_long = 1;
    }
    int err_read = ferror(f);
    fclose(f);
    if (n > 0 && out[n - 1] == '\r' && !too_long)
        n--;
    out[n] = 0;
    int rc = -1;
    if (err_read)
        snprintf(err, errlen, "cannot read the password file %s", path);
    else if (too_long)
        snprintf(err, errlen, "the first line of the password file %s is longer than %zu bytes",
                 path, max);
    else if (n == 0 && !allow_empty)
        snprintf(err, errlen, "the first line of the password file %s is empty", path);
    else if (memchr(out, 0, n))
        snprintf(err, errlen, "the password file %s holds a NUL byte", path);
    else
        rc = 0;
    if (rc != 0)
        OPENSSL_cleanse(out, outlen);
    c = 0;
    return rc;
}

int secret_from_env(const char *name, char *out, size_t outlen, size_t max, char *err,
                    size_t errlen)
{
    if (outlen <= max)
        max = outlen - 1;
    out[0] = 0;
    const char *v = getenv(name);
    if (!v || !v[0])
        return 0;
    size_t n = strlen(v);
    if (n > max) {
        snprintf(err, errlen, "%s is longer than %zu bytes", name, max);
        return -1;
    }
    memcpy(out, v, n + 1);
    return 1;
}

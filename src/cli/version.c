/* version: 'itflowd --version' — our version, the libraries' versions as loaded at run time (and
 * as built against where they differ) and the compiled-in backends. */
#include <jansson.h>
#include <microhttpd.h>
#include <mysql.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <string.h>

#include "cli/cli.h"

#ifndef ITFLOWD_VERSION
#define ITFLOWD_VERSION "unknown"
#endif

void cli_version(FILE *f)
{
    fprintf(f, "itflowd %s (ITFlow API v1)\n", ITFLOWD_VERSION);
    fprintf(f, "backends: sqlite, mariadb\n");
    fprintf(f, "libmicrohttpd %s\n", MHD_get_version());
    fprintf(f, "jansson %s\n", jansson_version_str());
    fprintf(f, "SQLite %s\n", sqlite3_libversion());
    fprintf(f, "MariaDB Connector/C %s\n", mysql_get_client_info());
    fprintf(f, "%s\n", OpenSSL_version(OPENSSL_VERSION));
#ifdef ITFLOWD_SYSTEMD
    fprintf(f, "systemd notify: yes (libsystemd)\n");
#else
    fprintf(f, "systemd notify: no\n");
#endif
}

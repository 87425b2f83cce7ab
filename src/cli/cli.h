/* cli: the commands of itflowd (init, key create/list/revoke, serve). Errors are one sentence on
 * stderr (cli_fail) and a non-zero exit code. */
#ifndef ITFLOWD_CLI_CLI_H
#define ITFLOWD_CLI_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "cli/opts.h"
#include "db/db.h"

/* The options of init and key (each command checks the ones it needs). */
struct cli_opts {
    const char *db, *name, *expires, *client, *secret, *decrypt, *admin_pw_file, *admin_email;
    const char *itflow_version, *user;
    int schema_only;
    const char *positional;
    char db_shown[512]; /* db for messages: a URL's password replaced by *** */
};

extern const struct opt cli_opt_table[];
extern const size_t cli_opt_count;

/* The general usage (every command, serve's flags from its table). */
void cli_usage(FILE *f);

int cmd_init(const struct cli_opts *o);
int cmd_key_create(const struct cli_opts *o);
int cmd_key_list(const struct cli_opts *o);
int cmd_key_revoke(const struct cli_opts *o);
struct serve_opts;
int cmd_serve(const struct cli_opts *o, struct serve_opts *so, const struct opt_set *set);

/* Opens the database of a command other than init, reads what it is (db_identify) and makes its
 * schema set the active one; 0, or 1 after saying why on stderr (*db closed). */
int cli_open_identified(const struct cli_opts *o, struct db **db, struct db_identity *id);

/* The read indexes of every module filter (CREATE INDEX IF NOT EXISTS: cheap when present). */
enum db_rc cli_ensure_indexes(struct db *db);

/* Reads the first line of a file (the admin password), without its line end. */
int cli_read_secret_file(const char *path, char *out, size_t outlen);

#endif

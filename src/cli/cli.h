/* cli: the commands of itflowd (init, key create/list/revoke, webhook
 * add/list/remove, serve, backup, copy, help). Each
 * command has its own option table (usage.c; serve's is serve_opts.c) and accepts only those.
 * Errors are one sentence on stderr (cli_fail); exit codes: 0 done, 1 a run-time failure, 2 a
 * usage error (an unknown command or argument, a bad value). */
#ifndef ITFLOWD_CLI_CLI_H
#define ITFLOWD_CLI_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "cli/keyperm.h"
#include "cli/opts.h"
#include "db/db.h"

/* The options of every command but serve (each command's table names the ones it takes). */
struct cli_opts {
    const char *db, *name, *expires, *client, *secret, *decrypt, *admin_pw_file, *admin_email;
    const char *itflow_version, *user;
    const char *from, *to;
    const char *secret_file; /* webhook add */
    struct text_list events; /* webhook add --events (repeatable) */
    int schema_only, force;
    struct keyperm_opts kp; /* key create / key update: the least-privilege options */
    const char *positional;
    char db_shown[512]; /* db for messages: a URL's password replaced by *** */
};

/* One command: its words, what it does, its options and how it runs. */
struct cli_command {
    const char *name;        /* "init", "key create", ... */
    const char *operand;     /* a positional argument's name in the synopsis, or NULL */
    const char *summary;     /* one line */
    const char *description; /* a paragraph (lines of at most 96 columns) */
    const struct opt *opts;
    size_t nopts;
    unsigned env;                         /* CLI_ENV_* the command reads */
    int (*run)(const struct cli_opts *o); /* NULL: serve (main.c runs it) */
};
#define CLI_ENV_ADMIN 1 /* ITFLOWD_ADMIN_PASSWORD[_FILE] */
#define CLI_ENV_DB 2    /* ITFLOWD_DB_PASSWORD[_FILE], the mariadb:// forms */

extern const struct cli_command cli_commands[];
extern const size_t cli_command_count;

/* The command argv[1] (and argv[2] for "key") names, or NULL; *words = how many argv it took. */
const struct cli_command *cli_find(int argc, char **argv, int *words);

/* The general help (every command with its summary), one command's help, the manual page in
 * roff (docs/itflowd.1 is this output), the version. */
void cli_usage(FILE *f);
void cli_command_help(FILE *f, const struct cli_command *c);
void cli_man(FILE *f);
void cli_version(FILE *f);

int cmd_init(const struct cli_opts *o);
int cmd_key_create(const struct cli_opts *o);
int cmd_key_list(const struct cli_opts *o);
int cmd_key_revoke(const struct cli_opts *o);
int cmd_webhook_add(const struct cli_opts *o);
int cmd_webhook_list(const struct cli_opts *o);
int cmd_webhook_remove(const struct cli_opts *o);
int cmd_backup(const struct cli_opts *o);
int cmd_copy(const struct cli_opts *o);
struct serve_opts;
int cmd_serve(struct serve_opts *so, const struct opt_set *set);

/* Opens the database of a command other than init, reads what it is (db_identify) and makes its
 * schema set the active one; 0, or 1 after saying why on stderr (*db closed). */
int cli_open_identified(const struct cli_opts *o, struct db **db, struct db_identity *id);

/* The read indexes of every module filter (CREATE INDEX IF NOT EXISTS: cheap when present). */
enum db_rc cli_ensure_indexes(struct db *db);

/* The longest admin password accepted (bytes). */
#define CLI_PASSWORD_MAX 1023

/* The admin password from the file path (its first line, without its line end) into out (at least
 * CLI_PASSWORD_MAX + 1 bytes): 0, or 1 after printing why not (unreadable, empty, too long). */
int cli_read_secret_file(const char *path, char *out, size_t outlen);
/* The admin password: --admin-password-file, else $ITFLOWD_ADMIN_PASSWORD, else the first line of
 * $ITFLOWD_ADMIN_PASSWORD_FILE. 0 found, 1 after printing why it cannot be read, -1 none given. */
int cli_admin_password(const struct cli_opts *o, char *out, size_t outlen);

#endif

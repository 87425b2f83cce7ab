/* usage: the command table (each command's own options), the help texts and the manual page, all
 * printed from the same tables so that they cannot disagree. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/serve_opts.h"

#define S(flag, field, arg, flags, dflt, help)                                                     \
    {                                                                                              \
        flag, OPT_STRING, offsetof(struct cli_opts, field), sizeof(const char *), 0, 0, 0, flags,  \
            arg, dflt, NULL, help                                                                  \
    }
#define FLAG(flag, field, help)                                                                    \
    {                                                                                              \
        flag, OPT_FLAG, offsetof(struct cli_opts, field), sizeof(int), 0, 0, 0, 0, NULL, NULL,     \
            NULL, help                                                                             \
    }
#define DB_OPT(help) S("--db", db, "TARGET", OPT_REQUIRED, NULL, help)
#define ADMIN_PW_OPT                                                                               \
    S("--admin-password-file", admin_pw_file, "FILE", 0, NULL,                                     \
      "the admin password: the file's first line (else $ITFLOWD_ADMIN_PASSWORD[_FILE])")
#define N(t) (sizeof(t) / sizeof((t)[0]))

static const struct opt init_opts[] = {
    DB_OPT("the database to create: an SQLite file or a mariadb:// target"),
    S("--itflow-version", itflow_version, "VERSION", 0, "26.07",
      "the ITFlow release whose schema to create: 26.07 or 26.08"),
    FLAG("--schema-only", schema_only, "the tables only: no company, no admin (for an import)"),
    S("--admin-email", admin_email, "EMAIL", 0, "admin@localhost", "the admin user's e-mail"),
    S("--admin-password-file", admin_pw_file, "FILE", 0, "a random one, printed once",
      "the admin password: the file's first line (else $ITFLOWD_ADMIN_PASSWORD[_FILE])"),
};
static const struct opt key_create_opts[] = {
    DB_OPT("the database: an SQLite file or a mariadb:// target"),
    S("--name", name, "NAME", OPT_REQUIRED, NULL, "the key's name (1 to 255 characters)"),
    S("--expires", expires, "YYYY-MM-DD", OPT_REQUIRED, NULL,
      "the first day the key is no longer valid (after today)"),
    S("--client", client, "ID", 0, "0",
      "ITFlow 26.07: the one client the key may see (0: all clients)"),
    S("--user", user, "ID", 0, NULL,
      "ITFlow 26.08: the user the key runs as (an active agent; its role decides)"),
    S("--secret", secret, "SECRET", 0, "32 random characters",
      "the key itself (16 to 200 characters)"),
    S("--decrypt-password", decrypt, "PASSWORD", 0, "32 random characters",
      "the key's decrypt password for credentials (16 to 200 characters)"),
    ADMIN_PW_OPT,
    FLAG("--read-only", kp.read_only, "the key may only read"),
    FLAG("--no-delete", kp.no_delete, "the key may not delete (nor archive)"),
    {"--allow-ip", OPT_LIST, offsetof(struct cli_opts, kp.allow_ip), sizeof(struct text_list), 0, 0,
     0, 0, "CIDR", "any address", NULL,
     "an address or network the key may be used from (repeatable)"},
};
static const struct opt key_update_opts[] = {
    DB_OPT("the database: an SQLite file or a mariadb:// target"),
    FLAG("--read-only", kp.read_only, "the key may only read from now on"),
    FLAG("--writable", kp.writable, "the key may write again"),
    FLAG("--no-delete", kp.no_delete, "the key may not delete (nor archive) from now on"),
    FLAG("--allow-delete", kp.allow_delete, "the key may delete again"),
    {"--allow-ip", OPT_LIST, offsetof(struct cli_opts, kp.allow_ip), sizeof(struct text_list), 0, 0,
     0, 0, "CIDR", NULL, NULL,
     "the addresses or networks the key may be used from (repeatable; replaces the list)"},
    FLAG("--any-ip", kp.any_ip, "the key may be used from any address again"),
};
static const struct opt key_list_opts[] = {
    DB_OPT("the database: an SQLite file or a mariadb:// target"),
};
static const struct opt key_revoke_opts[] = {
    DB_OPT("the database: an SQLite file or a mariadb:// target"),
};
static const struct opt webhook_add_opts[] = {
    DB_OPT("the database: an SQLite file or a mariadb:// target"),
    {"--events", OPT_LIST, offsetof(struct cli_opts, events), sizeof(struct text_list), 0, 0, 0,
     OPT_REQUIRED, "PATTERNS", NULL, NULL,
     "types to send: tickets.create, tickets.*, * (repeatable, or a comma list)"},
    S("--secret", secret, "SECRET", 0, "32 random bytes as hex, printed once",
      "the key of the HMAC-SHA256 signature (16 to 255 bytes)"),
    S("--secret-file", secret_file, "FILE", 0, NULL, "the secret: the file's first line"),
    S("--from", from, "now|start|SEQ", 0, "now",
      "the first events sent: after the newest now, all stored, or after SEQ"),
};
static const struct opt webhook_list_opts[] = {
    DB_OPT("the database: an SQLite file or a mariadb:// target"),
};
static const struct opt webhook_remove_opts[] = {
    DB_OPT("the database: an SQLite file or a mariadb:// target"),
};
static const struct opt backup_opts[] = {
    DB_OPT("the SQLite database to back up (it may be serving meanwhile)"),
    S("--to", to, "FILE", OPT_REQUIRED, NULL, "the backup file to write (must not exist)"),
};
static const struct opt copy_opts[] = {
    S("--from", from, "TARGET", OPT_REQUIRED, NULL,
      "the database to read: an SQLite file or a mariadb:// target"),
    S("--to", to, "TARGET", OPT_REQUIRED, NULL,
      "the database to write: a new SQLite file, or a mariadb:// database with no rows"),
};

const struct cli_command cli_commands[] = {
    {"init", NULL, "create the ITFlow schema and seed a new database",
     "Creates every table of the ITFlow schema and the read indexes, then company 1, the ticket\n"
     "statuses and the admin user, whose password wraps the site master key. An existing database\n"
     "with the tables is left untouched. A new SQLite file is created readable by its owner only.",
     init_opts, N(init_opts), CLI_ENV_ADMIN | CLI_ENV_DB, cmd_init},
    {"key create", NULL, "create an API key",
     "Creates an API key for all clients or for one. The key and its decrypt password are printed\n"
     "once; only a hash of the key is stored. The admin password unlocks the site master key,\n"
     "which the decrypt password then wraps.",
     key_create_opts, N(key_create_opts), CLI_ENV_ADMIN | CLI_ENV_DB, cmd_key_create},
    {"key list", NULL, "list the API keys",
     "Lists every API key: id, name, scope, expiry, status and the last four characters of the\n"
     "key.",
     key_list_opts, N(key_list_opts), CLI_ENV_DB, cmd_key_list},
    {"key update", "ID", "change an API key's permissions",
     "Changes what the key ID may do (read only, delete, the addresses it may come from) without\n"
     "issuing a new secret. The permissions are itflowd's own (table itflowd_key_perms).",
     key_update_opts, N(key_update_opts), CLI_ENV_DB, cmd_key_update},
    {"key revoke", "ID", "revoke an API key",
     "Revokes the key ID: it expires today and is refused from now on.", key_revoke_opts,
     N(key_revoke_opts), CLI_ENV_DB, cmd_key_revoke},
    {"webhook add", "URL", "subscribe a URL to the events",
     "Adds a webhook: serve POSTs every event whose type matches --events to URL, one at a time "
     "in\n"
     "the order of the writes, signed with the secret (X-Itflowd-Signature, docs/WEBHOOKS.md), "
     "and\n"
     "retries a failed delivery with backoff until it is accepted.",
     webhook_add_opts, N(webhook_add_opts), CLI_ENV_DB, cmd_webhook_add},
    {"webhook list", NULL, "list the webhooks and their delivery state",
     "Lists every webhook: id, URL, patterns, cursor (the last event passed), pending events,\n"
     "consecutive failures, the last answer or error, events delivered and the last success. The\n"
     "secret is never shown.",
     webhook_list_opts, N(webhook_list_opts), CLI_ENV_DB, cmd_webhook_list},
    {"webhook remove", "ID", "remove a webhook",
     "Removes the webhook ID and its secret; nothing more is sent to it.", webhook_remove_opts,
     N(webhook_remove_opts), CLI_ENV_DB, cmd_webhook_remove},
    {"serve", NULL, "serve the ITFlow API v1 over HTTP",
     "Serves /api/v1/MODULE/FUNCTION.php, /healthz, /metrics and /api/v1/openapi.json. SIGHUP\n"
     "reopens the log file; SIGTERM and SIGINT stop it after the requests in flight. Under\n"
     "systemd (Type=notify) it reports when it is ready, reloading and stopping.",
     NULL, 0, CLI_ENV_DB, NULL},
    {"backup", NULL, "copy a live SQLite database into a backup file",
     "Copies the SQLite database into a new file with SQLite's online backup, while itflowd may\n"
     "serve it and write to it, then checks the copy with PRAGMA integrity_check. The copy holds\n"
     "every write committed when the backup started. MariaDB is refused: use mariadb-dump or\n"
     "mariabackup, which know its storage.",
     backup_opts, N(backup_opts), 0, cmd_backup},
    {"copy", NULL, "copy the API's tables from one database into another",
     "Copies the rows of every table the API uses from one store into another (an ITFlow MariaDB\n"
     "into a new SQLite file, and back), read in one snapshot and written in one transaction.\n"
     "The target gets the schema when it has none; tables that hold rows are refused. The row\n"
     "counts of both sides are compared before the commit. The encrypted credentials, keys and\n"
     "wrapped master keys are copied as they are: they decrypt with the same passwords.",
     copy_opts, N(copy_opts), CLI_ENV_DB, cmd_copy},
};
const size_t cli_command_count = N(cli_commands);

const struct cli_command *cli_find(int argc, char **argv, int *words)
{
    for (size_t i = 0; i < cli_command_count; i++) {
        const char *name = cli_commands[i].name;
        const char *sp = strchr(name, ' ');
        if (!sp && argc >= 2 && !strcmp(argv[1], name)) {
            *words = 1;
            return &cli_commands[i];
        }
        if (sp && argc >= 3 && !strncmp(argv[1], name, (size_t)(sp - name)) &&
            argv[1][sp - name] == 0 && !strcmp(argv[2], sp + 1)) {
            *words = 2;
            return &cli_commands[i];
        }
    }
    return NULL;
}

static const struct opt *opts_of(const struct cli_command *c, size_t *n)
{
    if (!c->run) {
        *n = serve_opt_count;
        return serve_opt_table;
    }
    *n = c->nopts;
    return c->opts;
}

static const char ENV_ADMIN[] =
    "  ITFLOWD_ADMIN_PASSWORD       the admin password, when no --admin-password-file is given\n"
    "  ITFLOWD_ADMIN_PASSWORD_FILE  a file whose first line is the admin password\n";
static const char ENV_DB[] =
    "  ITFLOWD_DB_PASSWORD          the MariaDB password, when the target URL has none\n"
    "  ITFLOWD_DB_PASSWORD_FILE     a file whose first line is the MariaDB password\n";
static const char TARGETS[] =
    "  PATH (or sqlite:PATH)                            an SQLite file\n"
    "  mariadb://USER[:PASSWORD]@HOST[:PORT]/DATABASE   MariaDB over TCP (port 3306)\n"
    "  mariadb://USER[:PASSWORD]@[IPV6]:PORT/DATABASE   an IPv6 address\n"
    "  mariadb://USER[:PASSWORD]@/DATABASE?socket=PATH  a Unix socket\n"
    "  (parts percent-encoded as %XX; a password is at most 1023 bytes; shown as *** in "
    "messages)\n";
static const char EXIT_STATUS[] =
    "  0 done; 1 a run-time failure (database, file, network); 2 a usage error (an unknown\n"
    "  command or argument, a missing or bad value)\n";

static void print_synopsis(FILE *f, const char *lead, const struct cli_command *c, int width)
{
    size_t n;
    const struct opt *opts = opts_of(c, &n);
    char head[96];
    snprintf(head, sizeof(head), "%sitflowd %s%s%s ", lead, c->name, c->operand ? " " : "",
             c->operand ? c->operand : "");
    fputs(head, f);
    int start = (int)strlen(head);
    opts_synopsis(f, opts, n, start, start, width);
}

void cli_usage(FILE *f)
{
    fputs("usage: itflowd COMMAND [OPTIONS]   (itflowd COMMAND --help: its options)\n"
          "       itflowd help [COMMAND] | itflowd --version\n\ncommands:\n",
          f);
    for (size_t i = 0; i < cli_command_count; i++)
        fprintf(f, "  %-15s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fputs("\nenvironment:\n", f);
    fputs(ENV_ADMIN, f);
    fputs(ENV_DB, f);
    fputs("\ndatabase targets (--db, --from, --to):\n", f);
    fputs(TARGETS, f);
    fputs("\nexit status:\n", f);
    fputs(EXIT_STATUS, f);
}

void cli_command_help(FILE *f, const struct cli_command *c)
{
    size_t n;
    const struct opt *opts = opts_of(c, &n);
    print_synopsis(f, "usage: ", c, 100);
    fprintf(f, "\n%s\n\noptions (each with its default and range):\n", c->description);
    opts_help(f, opts, n);
    fputs("  --help                         this text\n", f);
    if (c->env) {
        fputs("\nenvironment:\n", f);
        if (c->env & CLI_ENV_ADMIN)
            fputs(ENV_ADMIN, f);
        if (c->env & CLI_ENV_DB)
            fputs(ENV_DB, f);
    }
    fputs("\ndatabase targets:\n", f);
    fputs(TARGETS, f);
    fputs("\nexit status:\n", f);
    fputs(EXIT_STATUS, f);
}

/* text with roff's special characters escaped ('\' and '-'; a leading '.' or '\'') */
static void roff(FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", f);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else if (*s == '\n') {
            fputc('\n', f);
            if (s[1] == '.' || s[1] == '\'')
                fputs("\\&", f);
        } else
            fputc(*s, f);
    }
}

/* lines of "  NAME  text" (environment, targets) as tagged paragraphs */
static void roff_table(FILE *f, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[256];
        snprintf(line, sizeof(line), "%.*s", (int)len, p);
        char *s = line;
        while (*s == ' ')
            s++;
        char *gap = strstr(s, "  ");
        if (*s == '(' || !gap) {
            fputs(".PP\n", f);
            roff(f, s);
            fputc('\n', f);
        } else {
            *gap = 0;
            char *t = gap + 2;
            while (*t == ' ')
                t++;
            fputs(".TP\n.B ", f);
            roff(f, s);
            fputc('\n', f);
            roff(f, t);
            fputc('\n', f);
        }
        p += len + (eol ? 1 : 0);
    }
}

void cli_man(FILE *f)
{
    fputs(".\\\" docs/itflowd.1: made by 'itflowd help --man' from the tables of src/cli/ (a test\n"
          ".\\\" checks that it is unchanged); edit those, not this file.\n"
          ".TH ITFLOWD 1 \"\" \"itflowd\" \"User Commands\"\n"
          ".SH NAME\nitflowd \\- ITFlow API v1 server\n.SH SYNOPSIS\n",
          f);
    for (size_t i = 0; i < cli_command_count; i++) {
        fputs(".PP\n", f);
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        if (!m)
            continue;
        print_synopsis(m, "", &cli_commands[i], 100000); /* roff fills the lines */
        fclose(m);
        roff(f, text);
        free(text);
    }
    fputs(".PP\nitflowd help [COMMAND]\n.br\nitflowd COMMAND \\-\\-help\n.br\n"
          "itflowd \\-\\-version\n.SH DESCRIPTION\n"
          "itflowd serves the ITFlow API v1 (/api/v1/MODULE/FUNCTION.php) from an SQLite file or\n"
          "an ITFlow MariaDB database. Each command accepts only its own options.\n"
          ".SH COMMANDS\n",
          f);
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_command *c = &cli_commands[i];
        size_t n;
        const struct opt *opts = opts_of(c, &n);
        fputs(".SS ", f);
        roff(f, c->name);
        fputs("\n", f);
        roff(f, c->description);
        fputs("\n", f);
        for (size_t k = 0; k < n; k++) {
            char *text = NULL;
            size_t len = 0;
            FILE *m = open_memstream(&text, &len);
            if (!m)
                continue;
            opts_help(m, &opts[k], 1);
            fclose(m);
            /* "  FLAG ARG   help\n  (default...)\n" */
            char *nl = strchr(text, '\n');
            if (nl) {
                *nl = 0;
                char *head = text + 2, *gap = strstr(head, "  ");
                if (gap) {
                    *gap = 0;
                    char *help = gap + 2;
                    while (*help == ' ')
                        help++;
                    char *dflt = nl + 1;
                    while (*dflt == ' ')
                        dflt++;
                    dflt[strcspn(dflt, "\n")] = 0;
                    fputs(".TP\n.B ", f);
                    roff(f, head);
                    fputc('\n', f);
                    roff(f, help);
                    fputc(' ', f);
                    roff(f, dflt);
                    fputc('\n', f);
                }
            }
            free(text);
        }
    }
    fputs(".SH ENVIRONMENT\n", f);
    roff_table(f, ENV_ADMIN);
    roff_table(f, ENV_DB);
    fputs(".SH DATABASE TARGETS\n", f);
    roff_table(f, TARGETS);
    fputs(".SH EXIT STATUS\n", f);
    roff(f, EXIT_STATUS + 2);
    fputs(".SH FILES\n.TP\n.B /lib/systemd/system/itflowd.service\n"
          "the systemd unit (installed by cmake \\-\\-install)\n"
          ".SH SEE ALSO\n.BR systemd.exec (5),\n.BR mariadb\\-dump (1),\n.BR sqlite3 (1)\n",
          f);
}

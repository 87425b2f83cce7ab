/* usage: the options of init and key, and the general usage text. */
#include "cli/cli.h"
#include "cli/serve_opts.h"

#define S(flag, field, arg, help)                                                                  \
    {                                                                                              \
        flag, OPT_STRING, offsetof(struct cli_opts, field), sizeof(const char *), 0, 0, 0, 0, arg, \
            NULL, NULL, help                                                                       \
    }

const struct opt cli_opt_table[] = {
    S("--db", db, "PATH", "the database"),
    S("--name", name, "NAME", "key create: the key's name"),
    S("--expires", expires, "YYYY-MM-DD", "key create: the first day the key is not valid"),
    S("--client", client, "ID", "key create: the one client the key may see (0: all)"),
    S("--secret", secret, "S", "key create: the key itself (default: random)"),
    S("--decrypt-password", decrypt, "P", "key create: its decrypt password (default: random)"),
    S("--admin-password-file", admin_pw_file, "F", "the admin password's file"),
    S("--admin-email", admin_email, "E", "init: the admin's e-mail"),
    {"--schema-only", OPT_FLAG, offsetof(struct cli_opts, schema_only), sizeof(int), 0, 0, 0, 0,
     NULL, NULL, NULL, "init: the tables only, no company and no admin"},
};
const size_t cli_opt_count = sizeof(cli_opt_table) / sizeof(cli_opt_table[0]);

void cli_usage(FILE *f)
{
    fputs(
        "usage:\n"
        "  itflowd init --db PATH [--schema-only] [--admin-email E] [--admin-password-file F]\n"
        "  itflowd key create --db PATH --name NAME --expires YYYY-MM-DD [--client ID]\n"
        "                     [--secret S] [--decrypt-password P] [--admin-password-file F]\n"
        "                     [--read-only] [--no-delete] [--allow-ip CIDR]...\n"
        "  itflowd key update --db PATH ID [--read-only|--writable] [--no-delete|--allow-delete]\n"
        "                     [--allow-ip CIDR...|--any-ip]   (the secret stays as it is)\n"
        "  itflowd key list --db PATH   (with each key's permissions and last use)\n"
        "  itflowd key revoke --db PATH ID\n"
        "  itflowd serve ",
        f);
    opts_synopsis(f, serve_opt_table, serve_opt_count, 16, 16, 100);
    fputs("  itflowd serve --help    (every serve option with its default and range)\n", f);
}

/* itflowd: command line — dispatches to init, key create/list/revoke, serve (src/cli/). */
#include <string.h>

#include "cli/cli.h"
#include "cli/keyperm.h"
#include "cli/serve_opts.h"
#include "modules/registry.h"
#include "json/json_alloc.h"

int main(int argc, char **argv)
{
    json_alloc_install(); /* before any JSON value exists */
    if (argc < 2) {
        cli_usage(stderr);
        return 2;
    }
    int serve_help = argc >= 3 && !strcmp(argv[1], "help") && !strcmp(argv[2], "serve");
    for (int i = 1; i < argc && !serve_help; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            if (strcmp(argv[1], "serve") != 0) {
                cli_usage(stdout);
                return 0;
            }
            serve_help = 1;
        }
    }
    if (serve_help) {
        serve_opts_help(stdout);
        return 0;
    }
    char err[256];
    if (module_registry_init(err, sizeof(err)) != 0)
        return cli_fail("%s", err);
    static struct cli_opts o;
    static struct serve_opts so;
    static const char *cli_given[32], *serve_given[64]; /* the raw values of numbers and enums */
    if (cli_opt_count > 32 || serve_opt_count > 64)
        return cli_fail("too many options.");
    struct opt_set sets[] = {{cli_opt_table, cli_opt_count, &o, cli_given},
                             serve_opt_set(&so, serve_given),
                             keyperm_opt_set()};
    const char *cmd = argv[1];
    int sub = !strcmp(cmd, "key") && argc >= 3;
    if (opts_parse(sets, 3, argc - 2 - sub, argv + 2 + sub, &o.positional))
        return 2;
    if (o.db)
        db_target_display(o.db, o.db_shown, sizeof(o.db_shown));
    if (!strcmp(cmd, "init"))
        return cmd_init(&o);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(&o, &so, &sets[1]);
    if (sub && !strcmp(argv[2], "create"))
        return cmd_key_create(&o);
    if (sub && !strcmp(argv[2], "list"))
        return cmd_key_list(&o);
    if (sub && !strcmp(argv[2], "revoke"))
        return cmd_key_revoke(&o);
    if (sub && !strcmp(argv[2], "update"))
        return cmd_key_update(&o);
    cli_usage(stderr);
    return 2;
}

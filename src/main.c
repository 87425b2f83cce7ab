/* itflowd: command line — finds the command (src/cli/usage.c's table), parses its own options,
 * and runs it; help, --help and --version are answered here. Exit codes: 0 done, 1 a run-time
 * failure, 2 a usage error. */
#include <string.h>

#include "cli/cli.h"
#include "cli/keyperm.h"
#include "cli/serve_opts.h"
#include "json/json_alloc.h"
#include "modules/registry.h"

static int is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* "itflowd: unknown command 'x y'": the words given, at most two */
static int unknown_command(int argc, char **argv)
{
    int two = argc > 1 && (!strcmp(argv[0], "key") || !strcmp(argv[0], "webhook"));
    fprintf(stderr, "itflowd: unknown command '%s%s%s' (see itflowd help).\n", argv[0],
            two ? " " : "", two ? argv[1] : "");
    return 2;
}

/* Every OPT_REQUIRED option of the table was given (its string field is set). */
static int check_required(const struct cli_command *c, const struct opt *opts, size_t n,
                          const void *base)
{
    for (size_t k = 0; k < n; k++) {
        const struct opt *o = &opts[k];
        if ((o->flags & OPT_REQUIRED) && o->kind == OPT_STRING &&
            !*(const char *const *)(const void *)((const char *)base + o->off)) {
            fprintf(stderr, "itflowd: %s needs %s %s (see itflowd %s --help).\n", c->name, o->flag,
                    o->arg ? o->arg : "", c->name);
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    json_alloc_install(); /* before any JSON value exists */
    if (argc < 2) {
        cli_usage(stderr);
        return 2;
    }
    const char *a1 = argv[1];
    if (!strcmp(a1, "--version") || !strcmp(a1, "version")) {
        cli_version(stdout);
        return 0;
    }
    if (is_help(a1) || !strcmp(a1, "help")) {
        if (argc == 2 || is_help(a1)) {
            cli_usage(stdout);
            return 0;
        }
        if (!strcmp(argv[2], "--man")) {
            cli_man(stdout);
            return 0;
        }
        int words = 0;
        const struct cli_command *c = cli_find(argc - 1, argv + 1, &words);
        if (!c)
            return unknown_command(argc - 2, argv + 2);
        cli_command_help(stdout, c);
        return 0;
    }
    int words = 0;
    const struct cli_command *c = cli_find(argc, argv, &words);
    if (!c)
        return unknown_command(argc - 1, argv + 1);
    int rest = argc - 1 - words;
    char **args = argv + 1 + words;
    for (int i = 0; i < rest; i++) {
        if (is_help(args[i])) {
            cli_command_help(stdout, c);
            return 0;
        }
    }
    char hint[64];
    snprintf(hint, sizeof(hint), "itflowd %s --help", c->name);
    opts_hint = hint;
    const char *positional = NULL;
    if (!c->run) { /* serve */
        static struct serve_opts so;
        static const char *given[64]; /* the raw values of numbers and enums */
        if (serve_opt_count > 64)
            return cli_fail("too many options.");
        struct opt_set set = serve_opt_set(&so, given);
        if (opts_parse(&set, 1, rest, args, &positional))
            return 2;
        if (positional)
            return cli_fail("unknown argument %s (see %s).", positional, hint), 2;
        if (check_required(c, serve_opt_table, serve_opt_count, &so))
            return 2;
        return cmd_serve(&so, &set);
    }
    static struct cli_opts o;
    static const char *given[32];
    if (c->nopts > 32)
        return cli_fail("too many options.");
    struct opt_set set = {c->opts, c->nopts, &o, given};
    if (opts_parse(&set, 1, rest, args, &positional))
        return 2;
    if (positional && !c->operand)
        return cli_fail("unknown argument %s (see %s).", positional, hint), 2;
    if (!positional && c->operand)
        return cli_fail("%s needs %s (see %s).", c->name, c->operand, hint), 2;
    o.positional = positional;
    keyperm_set(&o.kp);
    if (check_required(c, c->opts, c->nopts, &o))
        return 2;
    if (o.db)
        db_target_display(o.db, o.db_shown, sizeof(o.db_shown));
    return c->run(&o);
}

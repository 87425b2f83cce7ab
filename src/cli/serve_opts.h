/* serve_opts: the options of 'itflowd serve' — one table that parses, checks, prints the help
 * and documents the defaults. */
#ifndef ITFLOWD_CLI_SERVE_OPTS_H
#define ITFLOWD_CLI_SERVE_OPTS_H

#include <stdio.h>

#include "cli/opts.h"
#include "http/server.h"
#include "webhook/webhook.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8080"

/* Everything serve is configured with: most options land in cfg directly. */
struct serve_opts {
    struct server_config cfg;
    const char *listen;        /* HOST:PORT, split into host and cfg.port */
    unsigned auth_fail_limit;  /* failed authentications per address per window */
    unsigned auth_fail_window; /* seconds */
    size_t max_body_memory;    /* 0 until serve_opts_finish: 8 x max_body when not given */
    int sync;                  /* enum db_sync (the --sync choices are in its order) */
    struct cidr_opt metrics_from, trusted_proxies;
    struct cidr_list loopback; /* the default of --metrics-from */
    struct webhook_config wh;  /* the webhook deliveries (--webhook-*, --events-retention) */
    int webhooks;              /* --webhooks: 0 on, 1 off */
    char host[128];
};

extern const struct opt serve_opt_table[];
extern const size_t serve_opt_count;

/* A set (for opts_parse) writing into so; given holds serve_opt_count pointers. */
struct opt_set serve_opt_set(struct serve_opts *so, const char **given);

/* After parsing: the numbers and the enum (defaults included, the thread count from ncpu), the
 * listen address split, the derived defaults and the CIDR lists linked into cfg. Prints the error
 * and returns 2 (a usage error) on a bad value, 0 when all are valid. */
int serve_opts_finish(struct serve_opts *so, const struct opt_set *set, long ncpu);

/* The full help of serve: every flag with its default and range. */
void serve_opts_help(FILE *f);

#endif

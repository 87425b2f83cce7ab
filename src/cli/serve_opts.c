/* serve_opts: the table of 'itflowd serve' options. The numbers are checked in table order. */
#include "cli/serve_opts.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define F(field) offsetof(struct serve_opts, field), sizeof(((struct serve_opts *)0)->field)
#define NUM(flag, kind, field, dflt, lo, hi, arg, help)                                            \
    {                                                                                              \
        flag, kind, F(field), dflt, lo, hi, 0, arg, NULL, NULL, help                               \
    }

/* in the order of enum db_sync */
static const char *const sync_choices[] = {"full", "normal", NULL};
/* in the order of enum server_log_format */
static const char *const log_format_choices[] = {"text", "json", NULL};
static const char *const on_off_choices[] = {"on", "off", NULL};

const struct opt serve_opt_table[] = {
    {"--db", OPT_STRING, F(cfg.db_target), 0, 0, 0, OPT_REQUIRED, "PATH", NULL, NULL,
     "SQLite file or mariadb://user:password@host[:port]/database"},
    {"--listen", OPT_STRING, F(listen), 0, 0, 0, 0, "HOST:PORT", SERVE_DEFAULT_LISTEN, NULL,
     "address and port to listen on (IPv6 as [::1]:8080)"},
    {"--threads", OPT_NUMBER, F(cfg.threads), 0, 1, 256, OPT_DFLT_CPUS, "N", NULL, NULL,
     "event threads that answer requests"},
    NUM("--max-body", OPT_BYTES, cfg.max_body, 16L << 20, 1024, 1L << 30, "BYTES",
        "largest request body (larger: 413)"),
    NUM("--auth-fail-limit", OPT_NUMBER, auth_fail_limit, 30, 0, 1000000, "N",
        "failed logins from one address per window before 429 (0: none)"),
    NUM("--auth-fail-window", OPT_SECONDS, auth_fail_window, 60, 1, 86400, "SEC",
        "the window of --auth-fail-limit"),
    NUM("--max-connections", OPT_NUMBER, cfg.max_connections, 1000, 1, 100000, "N",
        "open connections (more: 503)"),
    NUM("--timeout", OPT_SECONDS, cfg.timeout_sec, 30, 1, 3600, "SEC",
        "an idle connection is closed after this"),
    NUM("--shutdown-timeout", OPT_SECONDS, cfg.shutdown_sec, 10, 0, 3600, "SEC",
        "SIGTERM: how long requests in flight may take to finish (0: none)"),
    NUM("--max-url", OPT_BYTES, cfg.max_url, 4096, 256, 1L << 20, "BYTES",
        "longest request target (longer: 414)"),
    NUM("--max-header", OPT_BYTES, cfg.max_header, 8192, 1024, 1L << 20, "BYTES",
        "all header lines of a request (more: 431)"),
    NUM("--write-workers", OPT_NUMBER, cfg.write_workers, 16, 1, 256, "N",
        "threads that run write requests"),
    {"--max-body-memory", OPT_BYTES, F(max_body_memory), 128L << 20, 1L << 20, 1L << 40,
     OPT_DFLT_DERIVED, "BYTES", "8 x --max-body", NULL,
     "bodies received or parsed, all requests together (more: 503)"},
    NUM("--max-connections-per-ip", OPT_NUMBER, cfg.max_conn_per_ip, 64, 1, 100000, "N",
        "connections from one address (more: 429)"),
    NUM("--header-timeout", OPT_SECONDS, cfg.header_timeout, 10, 1, 3600, "SEC",
        "how long a request's headers may take"),
    NUM("--body-min-rate", OPT_BYTES, cfg.body_min_rate, 1024, 0, 1L << 30, "BYTES",
        "bytes/s a body must average after --header-timeout (0: none)"),
    NUM("--buffer-answer", OPT_BYTES, cfg.buffer_answer, 4L << 20, 64L << 10, 1L << 30, "BYTES",
        "a read's answer up to this size is built first; longer ones stream"),
    NUM("--max-streams-per-ip", OPT_NUMBER, cfg.max_streams_per_ip, 4, 1, 10000, "N",
        "streaming answers to one address at once (more: 503)"),
    NUM("--send-timeout", OPT_SECONDS, cfg.send_timeout_sec, 10, 1, 3600, "SEC",
        "a streaming answer that makes no progress this long ends"),
    {"--log", OPT_STRING, F(cfg.log_path), 0, 0, 0, 0, "FILE", "stderr", NULL,
     "access and error log, reopened on SIGHUP"},
    {"--log-format", OPT_ENUM, F(cfg.log_format), 0, 0, 0, 0, "text|json", NULL, log_format_choices,
     "access log lines: text, or one JSON object each (for log shippers)"},
    {"--quiet", OPT_FLAG, F(cfg.quiet), 0, 0, 0, 0, NULL, NULL, NULL, "no access log"},
    {"--reuse-port", OPT_FLAG, F(cfg.reuse_port), 0, 0, 0, 0, NULL, NULL, NULL,
     "share the port with other processes (SO_REUSEPORT)"},
    {"--metrics-from", OPT_CIDR, F(metrics_from), 0, 0, 0, OPT_ALLOW_NONE, "CIDR|none",
     "127.0.0.0/8 and ::1", NULL, "who may read /metrics (repeatable; none: nobody)"},
    {"--trusted-proxy", OPT_CIDR, F(trusted_proxies), 0, 0, 0, 0, "CIDR", "none", NULL,
     "whose X-Forwarded-For / Forwarded is believed (repeatable)"},
    {"--custom-dir", OPT_STRING, F(cfg.custom_dir), 0, 0, 0, 0, "DIR", "none", NULL,
     "DIR/<name>.lua answers /api/v1/custom/<name>.php (reloaded on SIGHUP)"},
    NUM("--custom-instructions", OPT_NUMBER, cfg.custom_instructions, 10000000, 1000,
        1000000000000L, "N", "Lua instructions a custom script may run per request"),
    NUM("--custom-memory", OPT_BYTES, cfg.custom_memory, 32L << 20, 64L << 10, 1L << 32, "BYTES",
        "memory a custom script may allocate per request"),
    {"--custom-upstream", OPT_STRING, F(cfg.custom_upstream), 0, 0, 0, 0, "URL", "none", NULL,
     "ITFlow install (http://host:port) other /api/v1/custom/ paths go to"},
    NUM("--custom-connect-timeout", OPT_SECONDS, cfg.custom_connect_timeout, 5, 1, 300, "SEC",
        "connecting to --custom-upstream (then 504)"),
    NUM("--custom-upstream-timeout", OPT_SECONDS, cfg.custom_upstream_timeout, 30, 1, 3600, "SEC",
        "the upstream's whole answer (then 504)"),
    {"--cors-origin", OPT_LIST, F(cfg.cors_origins), 0, 0, 0, 0, "ORIGIN", "none", NULL,
     "browser origin allowed to call the API (repeatable; * for any)"},
    {"--webhooks", OPT_ENUM, F(webhooks), 0, 0, 0, 0, "on|off", NULL, on_off_choices,
     "deliver the events to the webhooks (off: none sent; events still pruned)"},
    NUM("--webhook-connect-timeout", OPT_SECONDS, wh.connect_timeout, 5, 1, 300, "SEC",
        "connecting to a webhook's receiver (then retried)"),
    NUM("--webhook-timeout", OPT_SECONDS, wh.timeout, 10, 1, 3600, "SEC",
        "a webhook delivery's whole exchange (then retried)"),
    NUM("--webhook-max-backoff", OPT_SECONDS, wh.max_backoff, 300, 1, 86400, "SEC",
        "the longest wait before a failed delivery is retried (1 s doubling)"),
    NUM("--events-retention", OPT_NUMBER, wh.retention_days, 7, 1, 36500, "DAYS",
        "events older than this are deleted once every webhook has passed them"),
    {"--sync", OPT_ENUM, F(sync), 0, 0, 0, 0, "full|normal", NULL, sync_choices,
     "SQLite's synchronous (normal: a power cut may lose last commits)"},
};
const size_t serve_opt_count = sizeof(serve_opt_table) / sizeof(serve_opt_table[0]);

struct opt_set serve_opt_set(struct serve_opts *so, const char **given)
{
    struct opt_set s = {serve_opt_table, serve_opt_count, so, given};
    return s;
}

/* HOST:PORT (a bracketed IPv6 host unbracketed) into host and cfg.port. */
static int split_listen(struct serve_opts *so)
{
    const char *listen = so->listen ? so->listen : SERVE_DEFAULT_LISTEN;
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof(so->host))
        return cli_fail("--listen must be HOST:PORT, not %s.", listen);
    char *host = so->host;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        return cli_fail("--listen has an invalid port: %s.", colon + 1);
    so->cfg.listen_host = host;
    so->cfg.port = (unsigned short)port;
    return 0;
}

int serve_opts_finish(struct serve_opts *so, const struct opt_set *set, long ncpu)
{
    if (split_listen(so))
        return 2;
    int rc = opts_apply(set, ncpu);
    if (rc)
        return rc;
    if (!so->max_body_memory) /* bodies being received or parsed: default 8 x --max-body */
        so->max_body_memory = 8 * so->cfg.max_body;
    const char *up = so->cfg.custom_upstream;
    if (up && strncmp(up, "http://", 7) != 0 && strncmp(up, "https://", 8) != 0)
        return cli_fail("--custom-upstream must be an http:// or https:// URL, not %s.", up);
    so->wh.off = so->webhooks == 1;
    so->wh.log_format = so->cfg.log_format;
    cidr_list_loopback(&so->loopback);
    so->cfg.metrics_from = so->metrics_from.given ? &so->metrics_from.list : &so->loopback;
    so->cfg.trusted_proxies = &so->trusted_proxies.list;
    return 0;
}

void serve_opts_help(FILE *f)
{
    fputs("usage: itflowd serve ", f);
    opts_synopsis(f, serve_opt_table, serve_opt_count, 21, 16, 100);
    fputs("\noptions (each with its default and range):\n", f);
    opts_help(f, serve_opt_table, serve_opt_count);
}

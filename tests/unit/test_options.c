/* test_options: the serve option table (src/cli/serve_opts.c, src/cli/opts.c) — every default
 * inside its range, each kind of option parsed (valid, out of range, not a number, missing value)
 * to the expected value or the exact one-line error, the help naming every flag with its default
 * and range, the thread default (the CPU count) clamped into its range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/db.h"
#include "cli/serve_opts.h"

static struct serve_opts so;
static const char *given[64];
static char err[1024]; /* what the last run wrote on stderr */

/* Parses and finishes argv (NULL-terminated) as serve would with ncpu CPUs; returns the exit code
 * (0: all valid) and leaves stderr's text in err. */
static int run_n(long ncpu, const char *const *argv)
{
    memset(&so, 0, sizeof(so));
    memset(given, 0, sizeof(given));
    int argc = 0;
    while (argv[argc])
        argc++;
    struct opt_set set = serve_opt_set(&so, given);
    const char *positional = NULL;
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    int rc = opts_parse(&set, 1, argc, (char **)(uintptr_t)argv, &positional);
    if (!rc)
        rc = serve_opts_finish(&so, &set, ncpu);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(err, 1, sizeof(err) - 1, tmp);
    err[n] = 0;
    fclose(tmp);
    return rc;
}

#define RUN(...) run_n(2, (const char *const[]){__VA_ARGS__, NULL})
#define RUN0() run_n(2, (const char *const[]){NULL})

static long field_value(const struct opt *o)
{
    const char *p = (const char *)&so + o->off;
    if (o->size == sizeof(size_t))
        return (long)*(const size_t *)(const void *)p;
    assert_int_equal(o->size, sizeof(unsigned));
    return (long)*(const unsigned *)(const void *)p;
}

static int is_number(const struct opt *o)
{
    return o->kind == OPT_NUMBER || o->kind == OPT_BYTES || o->kind == OPT_SECONDS;
}

static const struct opt *find(const char *flag)
{
    for (size_t k = 0; k < serve_opt_count; k++)
        if (!strcmp(serve_opt_table[k].flag, flag))
            return &serve_opt_table[k];
    fail_msg("no option %s", flag);
    return NULL;
}

static void test_every_default_is_in_range(void **state)
{
    (void)state;
    const long cpus[] = {-1, 0, 1, 2, 64, 256, 257, 1000};
    for (size_t k = 0; k < serve_opt_count; k++) {
        const struct opt *o = &serve_opt_table[k];
        assert_non_null(o->help);
        if (o->kind == OPT_ENUM)
            assert_non_null(o->choices[0]);
        if (!is_number(o))
            continue;
        assert_true(o->lo <= o->hi);
        assert_true(o->size == sizeof(unsigned) || o->size == sizeof(size_t));
        for (size_t c = 0; c < sizeof(cpus) / sizeof(cpus[0]); c++) {
            long d = opts_default(o, cpus[c]);
            if (d < o->lo || d > o->hi)
                fail_msg("%s: default %ld (%ld CPUs) outside %ld..%ld", o->flag, d, cpus[c], o->lo,
                         o->hi);
        }
        if (o->size == sizeof(unsigned)) /* the value fits its field */
            assert_true((unsigned long)o->hi <= UINT_MAX);
    }
    /* the derived default (8 x --max-body) at the default --max-body */
    const struct opt *mbm = find("--max-body-memory");
    long derived = 8 * find("--max-body")->dflt;
    assert_true(derived >= mbm->lo && derived <= mbm->hi);
    assert_int_equal(derived, mbm->dflt); /* what the help calls 8 x --max-body */
}

/* Nothing given: every number field holds its table default; the others their documented one. */
static void test_defaults_applied(void **state)
{
    (void)state;
    assert_int_equal(RUN0(), 0);
    assert_string_equal(err, "");
    for (size_t k = 0; k < serve_opt_count; k++) {
        const struct opt *o = &serve_opt_table[k];
        if (is_number(o))
            assert_int_equal(field_value(o), opts_default(o, 2));
    }
    assert_int_equal(so.cfg.threads, 2);
    assert_int_equal(so.cfg.timeout_sec, 30);
    assert_int_equal(so.cfg.shutdown_sec, 10);
    assert_int_equal(so.cfg.max_connections, 1000);
    assert_int_equal(so.cfg.write_workers, 16);
    assert_int_equal(so.cfg.max_conn_per_ip, 64);
    assert_int_equal(so.cfg.header_timeout, 10);
    assert_int_equal(so.cfg.max_body, 16 << 20);
    assert_int_equal(so.max_body_memory, 128 << 20);
    assert_int_equal(so.auth_fail_limit, 30);
    assert_int_equal(so.auth_fail_window, 60);
    assert_int_equal(so.sync, DB_SYNC_FULL);
    assert_string_equal(so.cfg.listen_host, "127.0.0.1");
    assert_int_equal(so.cfg.port, 8080);
    assert_int_equal(so.cfg.quiet, 0);
    assert_int_equal(so.cfg.reuse_port, 0);
    assert_null(so.cfg.log_path);
    assert_ptr_equal(so.cfg.metrics_from, &so.loopback);
    assert_true(cidr_list_match_text(so.cfg.metrics_from, "127.0.0.1"));
    assert_int_equal(so.cfg.trusted_proxies->n, 0);
}

static void test_threads_default_clamps(void **state)
{
    (void)state;
    assert_int_equal(run_n(1000, (const char *const[]){NULL}), 0);
    assert_int_equal(so.cfg.threads, 256);
    assert_int_equal(run_n(-1, (const char *const[]){NULL}), 0); /* sysconf failed */
    assert_int_equal(so.cfg.threads, 1);
    assert_int_equal(run_n(12, (const char *const[]){NULL}), 0);
    assert_int_equal(so.cfg.threads, 12);
    /* given, it is checked, not clamped */
    assert_int_equal(run_n(1000, (const char *const[]){"--threads", "300", NULL}), 2);
    assert_string_equal(err, "itflowd: --threads must be a number from 1 to 256.\n");
}

/* Every number option: its bounds are accepted and stored, a value past either bound, text, an
 * empty value and a missing value are refused with the exact line. */
static void test_each_number(void **state)
{
    (void)state;
    for (size_t k = 0; k < serve_opt_count; k++) {
        const struct opt *o = &serve_opt_table[k];
        if (!is_number(o))
            continue;
        char v[32], want[160];
        snprintf(want, sizeof(want), "itflowd: %s must be a number from %ld to %ld.\n", o->flag,
                 o->lo, o->hi);
        const long ok[] = {o->lo, o->hi, o->lo + (o->hi - o->lo) / 2};
        for (int i = 0; i < 3; i++) {
            snprintf(v, sizeof(v), "%ld", ok[i]);
            assert_int_equal(RUN(o->flag, v), 0);
            assert_int_equal(field_value(o), ok[i]);
        }
        const char *bad[] = {"abc", "", "12x", "1.5"};
        for (int i = 0; i < 4; i++) {
            assert_int_equal(RUN(o->flag, bad[i]), 2);
            assert_string_equal(err, want);
        }
        snprintf(v, sizeof(v), "%ld", o->hi + 1);
        assert_int_equal(RUN(o->flag, v), 2);
        assert_string_equal(err, want);
        snprintf(v, sizeof(v), "%ld", o->lo - 1);
        assert_int_equal(RUN(o->flag, v), 2);
        assert_string_equal(err, want);
        assert_int_equal(RUN("--quiet", o->flag), 2);
        snprintf(want, sizeof(want), "itflowd: %s needs a value.\n", o->flag);
        assert_string_equal(err, want);
    }
    /* 0 means none where the range allows it, it is not replaced by a default */
    assert_int_equal(RUN("--shutdown-timeout", "0", "--body-min-rate", "0"), 0);
    assert_int_equal(so.cfg.shutdown_sec, 0);
    assert_int_equal(so.cfg.body_min_rate, 0);
    /* the derived default follows --max-body; given, it is its own */
    assert_int_equal(RUN("--max-body", "1048576"), 0);
    assert_int_equal(so.max_body_memory, 8 << 20);
    assert_int_equal(RUN("--max-body", "1048576", "--max-body-memory", "2097152"), 0);
    assert_int_equal(so.max_body_memory, 2 << 20);
}

static void test_flags_strings_enum(void **state)
{
    (void)state;
    assert_int_equal(RUN("--quiet", "--reuse-port", "--log", "x.log", "--db", "a.db"), 0);
    assert_int_equal(so.cfg.quiet, 1);
    assert_int_equal(so.cfg.reuse_port, 1);
    assert_string_equal(so.cfg.log_path, "x.log");
    assert_string_equal(so.cfg.db_target, "a.db");
    assert_int_equal(RUN("--log"), 2);
    assert_string_equal(err, "itflowd: --log needs a value.\n");
    assert_int_equal(RUN("--sync", "normal"), 0);
    assert_int_equal(so.sync, DB_SYNC_NORMAL);
    assert_int_equal(RUN("--sync", "full"), 0);
    assert_int_equal(so.sync, DB_SYNC_FULL);
    assert_int_equal(RUN("--sync", "fast"), 2);
    assert_string_equal(err, "itflowd: --sync must be full or normal, not fast.\n");
    assert_int_equal(RUN("--sync"), 2);
    assert_string_equal(err, "itflowd: --sync needs a value.\n");
    assert_int_equal(RUN("--nope"), 2);
    assert_string_equal(err, "itflowd: unknown argument --nope (see itflowd --help).\n");
    assert_int_equal(RUN("--listen", "[::1]:9000"), 0);
    assert_string_equal(so.cfg.listen_host, "::1");
    assert_int_equal(so.cfg.port, 9000);
    assert_int_equal(RUN("--listen", "nohost"), 2);
    assert_string_equal(err, "itflowd: --listen must be HOST:PORT, not nohost.\n");
    assert_int_equal(RUN("--listen", "1.2.3.4:70000"), 2);
    assert_string_equal(err, "itflowd: --listen has an invalid port: 70000.\n");
}

static void test_cidr_lists(void **state)
{
    (void)state;
    assert_int_equal(RUN("--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "2001:db8::/32"), 0);
    assert_int_equal(so.cfg.trusted_proxies->n, 2);
    assert_true(cidr_list_match_text(so.cfg.trusted_proxies, "10.1.2.3"));
    assert_int_equal(RUN("--trusted-proxy", "10.0.0.1/8"), 2);
    assert_string_equal(err,
                        "itflowd: --trusted-proxy needs an IP address or network (e.g. "
                        "10.0.0.0/8 or 2001:db8::/32) with no host bits set, not 10.0.0.1/8.\n");
    assert_int_equal(RUN("--trusted-proxy", "none"), 2); /* none only for --metrics-from */
    assert_int_equal(RUN("--trusted-proxy"), 2);
    assert_string_equal(err, "itflowd: --trusted-proxy needs a value.\n");
    assert_int_equal(RUN("--metrics-from", "none"), 0);
    assert_ptr_equal(so.cfg.metrics_from, &so.metrics_from.list);
    assert_int_equal(so.cfg.metrics_from->n, 0);
    assert_false(cidr_list_match_text(so.cfg.metrics_from, "127.0.0.1"));
    assert_int_equal(RUN("--metrics-from", "none", "--metrics-from", "10.0.0.0/8"), 2);
    assert_string_equal(err, "itflowd: --metrics-from none excludes every other value.\n");
    assert_int_equal(RUN("--metrics-from", "10.0.0.0/8", "--metrics-from", "none"), 2);
    assert_string_equal(err, "itflowd: --metrics-from none excludes every other value.\n");
    assert_int_equal(RUN("--metrics-from", "192.0.2.0/24"), 0);
    assert_true(cidr_list_match_text(so.cfg.metrics_from, "192.0.2.7"));
    assert_false(cidr_list_match_text(so.cfg.metrics_from, "127.0.0.1"));
}

/* The help: every flag, its default and its range, from the table. */
static void test_help_names_every_flag_and_default(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    serve_opts_help(f);
    fclose(f);
    for (size_t k = 0; k < serve_opt_count; k++) {
        const struct opt *o = &serve_opt_table[k];
        char head[64], want[128];
        snprintf(head, sizeof(head), "\n  %s ", o->flag);
        const char *at = strstr(text, head);
        if (!at)
            fail_msg("the help does not list %s", o->flag);
        const char *next = strchr(strchr(at + 1, '\n') + 1, '\n'); /* the option's two lines */
        assert_non_null(next);
        size_t n = (size_t)(next - at);
        char lines[512];
        assert_true(n < sizeof(lines));
        memcpy(lines, at, n);
        lines[n] = 0;
        if (is_number(o)) {
            if (o->flags & OPT_DFLT_CPUS)
                snprintf(want, sizeof(want), "default: the number of CPUs; %ld to %ld", o->lo,
                         o->hi);
            else if (o->dflt_text)
                snprintf(want, sizeof(want), "default: %s; %ld", o->dflt_text, o->lo);
            else
                snprintf(want, sizeof(want), "default: %ld", o->dflt);
        } else if (o->kind == OPT_ENUM) {
            snprintf(want, sizeof(want), "default: %s; %s or %s", o->choices[0], o->choices[0],
                     o->choices[1]);
        } else if (o->flags & OPT_REQUIRED) {
            snprintf(want, sizeof(want), "(required)");
        } else {
            snprintf(want, sizeof(want), "default: %s",
                     o->kind == OPT_FLAG ? "off"
                     : o->dflt_text      ? o->dflt_text
                                         : "none");
        }
        if (!strstr(lines, want))
            fail_msg("%s: the help says\n%s\nwithout \"%s\"", o->flag, lines, want);
        if (is_number(o)) {
            snprintf(want, sizeof(want), "%ld", o->hi);
            assert_non_null(strstr(lines, want));
        }
        snprintf(want, sizeof(want), "[%s", o->flag); /* and the synopsis */
        if (!(o->flags & OPT_REQUIRED))
            assert_non_null(strstr(text, want));
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_default_is_in_range),
        cmocka_unit_test(test_defaults_applied),
        cmocka_unit_test(test_threads_default_clamps),
        cmocka_unit_test(test_each_number),
        cmocka_unit_test(test_flags_strings_enum),
        cmocka_unit_test(test_cidr_lists),
        cmocka_unit_test(test_help_names_every_flag_and_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_db_target: unit tests for src/db/backends/mariadb_target.c (the mariadb:// target,
 * the password from the environment or a file, db_target_display). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/backends/mariadb_target.h"
#include "db/db.h"

static char err[1024];

static struct mariadb_target ok(const char *target)
{
    struct mariadb_target t;
    int rc = mariadb_target_parse(target, &t, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s: %s", target, err);
    return t;
}

/* target is refused with a message that contains want (and never the password "sekret") */
static void bad(const char *target, const char *want)
{
    struct mariadb_target t;
    memset(&t, 0x5a, sizeof(t));
    if (mariadb_target_parse(target, &t, err, sizeof(err)) != -1)
        fail_msg("%s: accepted", target);
    if (!strstr(err, want))
        fail_msg("%s: message \"%s\" lacks \"%s\"", target, err, want);
    assert_null(strstr(err, "sekret"));
    /* nothing left behind */
    assert_null(t.user);
    assert_null(t.password);
    assert_null(t.host);
    assert_null(t.database);
    assert_null(t.socket);
    assert_int_equal(t.port, 0);
    assert_null(t.hosts);
    assert_int_equal(t.nhosts, 0);
}

static void test_accepted(void **state)
{
    (void)state;
    struct mariadb_target t = ok("mariadb://itflow:pw@db.example:3307/itflow");
    assert_string_equal(t.user, "itflow");
    assert_string_equal(t.password, "pw");
    assert_string_equal(t.host, "db.example");
    assert_int_equal(t.port, 3307);
    assert_string_equal(t.database, "itflow");
    assert_null(t.socket);
    mariadb_target_free(&t);
    assert_null(t.user); /* zeroed */

    t = ok("mariadb://u@h/db"); /* no password, no port */
    assert_string_equal(t.user, "u");
    assert_null(t.password);
    assert_string_equal(t.host, "h");
    assert_int_equal(t.port, 0);
    mariadb_target_free(&t);

    t = ok("mariadb://u@/db?socket=/run/mysqld/mysqld.sock");
    assert_null(t.host);
    assert_string_equal(t.socket, "/run/mysqld/mysqld.sock");
    assert_string_equal(t.database, "db");
    mariadb_target_free(&t);

    t = ok("mariadb://u:p@h/db?socket=/s"); /* both: the socket is used */
    assert_string_equal(t.host, "h");
    assert_string_equal(t.socket, "/s");
    mariadb_target_free(&t);

    t = ok("mariadb://u@/db?&socket=/a&&socket=/b&"); /* empty parameters; the last one counts */
    assert_string_equal(t.socket, "/b");
    mariadb_target_free(&t);

    t = ok("mariadb://u@[::1]:3306/db");
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 3306);
    mariadb_target_free(&t);
    t = ok("mariadb://u@[2001:db8::7]/db");
    assert_string_equal(t.host, "2001:db8::7");
    assert_int_equal(t.port, 0);
    mariadb_target_free(&t);

    t = ok("mariadb://u@h:1/db");
    assert_int_equal(t.port, 1);
    mariadb_target_free(&t);
    t = ok("mariadb://u@h:65535/db");
    assert_int_equal(t.port, 65535);
    mariadb_target_free(&t);

    /* percent-decoding of user, password, host, database, socket */
    t = ok("mariadb://us%40er:p%3Aw%2F%40d%25@h%2Dx/my%20db?socket=/tmp/a%26b");
    assert_string_equal(t.user, "us@er");
    assert_string_equal(t.password, "p:w/@d%");
    assert_string_equal(t.host, "h-x");
    assert_string_equal(t.database, "my db");
    assert_string_equal(t.socket, "/tmp/a&b");
    mariadb_target_free(&t);

    /* the password runs from the first ':' to the last '@' before any '?' */
    t = ok("mariadb://u:p@ss:w/rd@h/db");
    assert_string_equal(t.user, "u");
    assert_string_equal(t.password, "p@ss:w/rd");
    assert_string_equal(t.host, "h");
    mariadb_target_free(&t);

    t = ok("mariadb://u:@h/db"); /* an empty password is a password */
    assert_non_null(t.password);
    assert_string_equal(t.password, "");
    mariadb_target_free(&t);

    t = ok("mariadb://u@h/a/b"); /* the database is everything after the first '/' */
    assert_string_equal(t.database, "a/b");
    mariadb_target_free(&t);

    struct mariadb_target zero;
    memset(&zero, 0, sizeof(zero));
    mariadb_target_free(&zero); /* safe on a zeroed struct */
}

static void test_rejected(void **state)
{
    (void)state;
    bad("mysql://u@h/db", "starts with mariadb://");
    bad("", "starts with mariadb://");
    bad("mariadb://h/db", "the target needs a user");
    bad("mariadb://h/db?x=@", "the target needs a user"); /* an '@' after '?' is not the user's */
    bad("mariadb://@h/db", "bad target: expected");       /* empty user */
    bad("mariadb://:sekret@h/db", "bad target: expected");
    bad("mariadb://u:sekret@h", "bad target: expected"); /* no /DATABASE */
    bad("mariadb://u@h?socket=/s", "bad target: expected");
    bad("mariadb://u:sekret@h/", "the target names no database");
    bad("mariadb://u@h/?socket=/s", "the target names no database");
    bad("mariadb://u:sekret@h:0/db", "bad port in the target");
    bad("mariadb://u@h:65536/db", "bad port in the target");
    bad("mariadb://u@h:99999999999999999999/db", "bad port in the target");
    bad("mariadb://u@h:abc/db", "bad port in the target");
    bad("mariadb://u@h:33x/db", "bad port in the target");
    bad("mariadb://u@h:-1/db", "bad port in the target");
    bad("mariadb://u@h:/db", "bad port in the target");
    bad("mariadb://u@h:3306:1/db", "bad port in the target");
    bad("mariadb://u@[::1/db", "bad host in the target");
    bad("mariadb://u@[::1]x/db", "bad host in the target");
    bad("mariadb://u@[::1]:0/db", "bad port in the target");
    bad("mariadb://u:sekret@h/db?ssl=1",
        "unknown target parameter ssl=1 (only socket=PATH and sync_wait=N)");
    bad("mariadb://u@/db?socket=/s&Socket=/t", "unknown target parameter Socket=/t");
    bad("mariadb://u@/db?socket", "unknown target parameter socket");
    bad("mariadb://u@/db?socket=", "bad socket path in the target");
    bad("mariadb://u:sekret@/db", "the target needs a host or ?socket=PATH");

    /* % escapes: not two hex digits, cut short, or %00 */
    bad("mariadb://u%zz@h/db", "bad %-escape in the target's user");
    bad("mariadb://u%4@h/db", "bad %-escape in the target's user");
    bad("mariadb://u%@h/db", "bad %-escape in the target's user");
    bad("mariadb://u%00x@h/db", "bad %-escape in the target's user");
    bad("mariadb://u:sek%0ret@h/db", "bad %-escape in the target's password");
    bad("mariadb://u:sekret%00@h/db", "bad %-escape in the target's password");
    bad("mariadb://u@h%g1/db", "bad %-escape in the target's host");
    bad("mariadb://u@[%00]/db", "bad %-escape in the target's host");
    bad("mariadb://u@h/d%b", "bad %-escape in the target's database");
    bad("mariadb://u@/db?socket=/s%0", "bad %-escape in the target's socket path");
}

static void test_host_list(void **state)
{
    (void)state;
    /* one host: a list of one, the same as host/port */
    struct mariadb_target t = ok("mariadb://u@h:3307/db");
    assert_int_equal(t.nhosts, 1);
    assert_ptr_equal(t.hosts[0].host, t.host);
    assert_int_equal(t.hosts[0].port, 3307);
    assert_int_equal(t.sync_wait, -1);
    mariadb_target_free(&t);
    t = ok("mariadb://u@/db?socket=/s");
    assert_int_equal(t.nhosts, 0);
    assert_null(t.hosts);
    mariadb_target_free(&t);

    /* several: in the target's order (the preference), each with its own port or the default */
    t = ok("mariadb://u:p@h1:3306,h2,[::1]:3308,%68%34:1/db");
    assert_int_equal(t.nhosts, 4);
    assert_string_equal(t.hosts[0].host, "h1");
    assert_int_equal(t.hosts[0].port, 3306);
    assert_string_equal(t.hosts[1].host, "h2");
    assert_int_equal(t.hosts[1].port, 0);
    assert_string_equal(t.hosts[2].host, "::1");
    assert_int_equal(t.hosts[2].port, 3308);
    assert_string_equal(t.hosts[3].host, "h4");
    assert_int_equal(t.hosts[3].port, 1);
    assert_string_equal(t.host, "h1"); /* the preferred one */
    assert_int_equal(t.port, 3306);
    assert_string_equal(t.password, "p");
    assert_string_equal(t.database, "db");
    mariadb_target_free(&t);

    /* the same host twice is allowed (two ports of one machine) */
    t = ok("mariadb://u@127.0.0.1:3306,127.0.0.1:3307,127.0.0.1:3308/itflow?sync_wait=0");
    assert_int_equal(t.nhosts, 3);
    assert_int_equal(t.hosts[2].port, 3308);
    assert_int_equal(t.sync_wait, 0);
    mariadb_target_free(&t);
    t = ok("mariadb://u@h/db?sync_wait=15");
    assert_int_equal(t.sync_wait, 15);
    mariadb_target_free(&t);

    char target[2048];
    int n = snprintf(target, sizeof(target), "mariadb://u@h0");
    for (int i = 1; i < MARIADB_TARGET_HOSTS_MAX; i++)
        n += snprintf(target + n, sizeof(target) - (size_t)n, ",h%d:%d", i, 3300 + i);
    snprintf(target + n, sizeof(target) - (size_t)n, "/db");
    t = ok(target);
    assert_int_equal(t.nhosts, MARIADB_TARGET_HOSTS_MAX);
    assert_string_equal(t.hosts[15].host, "h15");
    assert_int_equal(t.hosts[15].port, 3315);
    mariadb_target_free(&t);
    snprintf(target + n, sizeof(target) - (size_t)n, ",h16/db");
    bad(target, "the target names more than 16 hosts");

    bad("mariadb://u:sekret@h1,,h2/db", "empty host in the target's host list");
    bad("mariadb://u@h1,/db", "empty host in the target's host list");
    bad("mariadb://u@,h2/db", "empty host in the target's host list");
    bad("mariadb://u@h1,:3306/db", "a host of the target has no name");
    bad("mariadb://u@h1,h2:0/db", "bad port in the target");
    bad("mariadb://u@h1:3306,h2:x/db", "bad port in the target");
    bad("mariadb://u@h1,[::1/db", "bad host in the target");
    bad("mariadb://u@h1,[]:3306/db", "bad host in the target");
    bad("mariadb://u@h1,h%zz/db", "bad %-escape in the target's host");
    bad("mariadb://u@h1,h2/db?socket=/s", "names one server, not a host list");
    bad("mariadb://u@h/db?sync_wait=16", "bad sync_wait in the target (0..15)");
    bad("mariadb://u@h/db?sync_wait=", "bad sync_wait in the target");
    bad("mariadb://u@h/db?sync_wait=1x", "bad sync_wait in the target");
    bad("mariadb://u@h/db?sync_wait=-1", "bad sync_wait in the target");
}

static void expect_order(size_t n, unsigned down, const char *want)
{
    unsigned char order[MARIADB_TARGET_HOSTS_MAX];
    char got[MARIADB_TARGET_HOSTS_MAX + 1];
    memset(order, 0xff, sizeof(order));
    mariadb_host_order(n, down, order);
    for (size_t i = 0; i < n; i++)
        got[i] = (char)(order[i] < 10 ? '0' + order[i] : 'a' + order[i] - 10);
    got[n] = 0;
    assert_string_equal(got, want);
}

/* The failover order: the list's order, hosts that failed recently last (still tried). */
static void test_failover_order(void **state)
{
    (void)state;
    expect_order(1, 0, "0");
    expect_order(1, 1, "0");
    expect_order(3, 0, "012");
    expect_order(3, 1u << 0, "120"); /* the preferred node is down: the next one first */
    expect_order(3, 1u << 1, "021");
    expect_order(3, 1u << 2, "012");
    expect_order(3, (1u << 0) | (1u << 1), "201");
    expect_order(3, 7, "012"); /* all down: every one tried, in the list's order */
    expect_order(16, 0x8001, "123456789abcde0f");
    expect_order(16, 0xffff, "0123456789abcdef");
}

/* a string of n copies of c */
static char *rep(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

static void test_lengths(void **state)
{
    (void)state;
    char target[4096];
    char *name = rep('n', MARIADB_TARGET_NAME_MAX), *longer = rep('n', MARIADB_TARGET_NAME_MAX + 1);
    char *pw = rep('p', MARIADB_TARGET_PASSWORD_MAX),
         *pwl = rep('p', MARIADB_TARGET_PASSWORD_MAX + 1);
    char *sock = rep('s', MARIADB_TARGET_SOCKET_MAX - 1),
         *sockl = rep('s', MARIADB_TARGET_SOCKET_MAX);

    /* at the limit: accepted */
    snprintf(target, sizeof(target), "mariadb://%s:%s@%s/%s", name, pw, name, name);
    struct mariadb_target t = ok(target);
    assert_int_equal(strlen(t.user), MARIADB_TARGET_NAME_MAX);
    assert_int_equal(strlen(t.password), MARIADB_TARGET_PASSWORD_MAX);
    assert_int_equal(strlen(t.host), MARIADB_TARGET_NAME_MAX);
    assert_int_equal(strlen(t.database), MARIADB_TARGET_NAME_MAX);
    mariadb_target_free(&t);
    snprintf(target, sizeof(target), "mariadb://u@/db?socket=/%s", sock);
    t = ok(target);
    assert_int_equal(strlen(t.socket), MARIADB_TARGET_SOCKET_MAX);
    mariadb_target_free(&t);
    /* the limits count decoded bytes: %41 is one */
    snprintf(target, sizeof(target), "mariadb://%%41%s@h/db", name + 1);
    t = ok(target);
    assert_int_equal(strlen(t.user), MARIADB_TARGET_NAME_MAX);
    assert_int_equal(t.user[0], 'A');
    mariadb_target_free(&t);

    /* one more: refused, naming the part */
    snprintf(target, sizeof(target), "mariadb://%s@h/db", longer);
    bad(target, "the target's user is longer than 256 bytes");
    snprintf(target, sizeof(target), "mariadb://u:%s@h/db", pwl);
    bad(target, "the target's password is longer than 1023 bytes");
    snprintf(target, sizeof(target), "mariadb://u@%s:3306/db", longer);
    bad(target, "the target's host is longer than 256 bytes");
    snprintf(target, sizeof(target), "mariadb://u@[%s]/db", longer);
    bad(target, "the target's host is longer than 256 bytes");
    snprintf(target, sizeof(target), "mariadb://u@h/%s", longer);
    bad(target, "the target's database is longer than 256 bytes");
    snprintf(target, sizeof(target), "mariadb://u@/db?socket=/%s", sockl);
    bad(target, "the target's socket path is longer than 107 bytes");
    free(name);
    free(longer);
    free(pw);
    free(pwl);
    free(sock);
    free(sockl);
}

static const char *shown(const char *target)
{
    static char out[512];
    db_target_display(target, out, sizeof(out));
    return out;
}

static void test_display(void **state)
{
    (void)state;
    assert_string_equal(shown("mariadb://itflow:secret@db:3306/itflow"),
                        "mariadb://itflow:***@db:3306/itflow");
    assert_string_equal(shown("mariadb://u:@h/db"), "mariadb://u:***@h/db");
    assert_string_equal(shown("mariadb://u@h/db"), "mariadb://u@h/db");
    assert_string_equal(shown("mariadb://u@/db?socket=/run/a:b@c"),
                        "mariadb://u@/db?socket=/run/a:b@c");
    assert_string_equal(shown("/var/lib/itflowd/itflow.db"), "/var/lib/itflowd/itflow.db");
    assert_string_equal(shown("itflow.db"), "itflow.db");
    /* an '@' in the password: all of it is hidden, as far as the parser reads it */
    assert_string_equal(shown("mariadb://u:p@ss@h/db"), "mariadb://u:***@h/db");
    assert_string_equal(shown("mariadb://u:a@b:c@[::1]:3306/db?socket=/x@y"),
                        "mariadb://u:***@[::1]:3306/db?socket=/x@y");
    assert_string_equal(shown("mariadb://u:p%40ss@h/db"), "mariadb://u:***@h/db");
    /* a target that does not parse (a '?' in the password): still hidden up to the first '@' */
    assert_string_equal(shown("mariadb://u:p?ss@h/db"), "mariadb://u:***@h/db");
    assert_string_equal(shown("mariadb://u:secret@h"), "mariadb://u:***@h");
    /* a short buffer: cut, still NUL-terminated, still without the password */
    char small[16];
    db_target_display("mariadb://u:secret@h/db", small, sizeof(small));
    assert_string_equal(small, "mariadb://u:***");
}

/* ---- the password from the environment ---- */

static char pwfile[64];

static void write_pwfile(const char *content, size_t n)
{
    FILE *f = fopen(pwfile, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The password the environment gives a target without one; NULL for none. Fails on an error. */
static char *env_password(void)
{
    struct mariadb_target t = ok("mariadb://u@h/db");
    if (mariadb_target_password_from_env(&t, err, sizeof(err)) != 0)
        fail_msg("password_from_env: %s", err);
    char *pw = t.password ? strdup(t.password) : NULL;
    mariadb_target_free(&t);
    return pw;
}

static void env_fails(const char *want)
{
    struct mariadb_target t = ok("mariadb://u@h/db");
    assert_int_equal(mariadb_target_password_from_env(&t, err, sizeof(err)), -1);
    if (!strstr(err, want))
        fail_msg("message \"%s\" lacks \"%s\"", err, want);
    assert_null(t.password);
    mariadb_target_free(&t);
}

static void expect_env_password(const char *want)
{
    char *pw = env_password();
    if (!want) {
        assert_null(pw);
        return;
    }
    assert_non_null(pw);
    assert_string_equal(pw, want);
    free(pw);
}

static int env_setup(void **state)
{
    (void)state;
    snprintf(pwfile, sizeof(pwfile), "/tmp/itflowd-test-pw-XXXXXX");
    int fd = mkstemp(pwfile);
    if (fd < 0)
        return -1;
    close(fd);
    unsetenv("ITFLOWD_DB_PASSWORD");
    unsetenv("ITFLOWD_DB_PASSWORD_FILE");
    return 0;
}

static int env_teardown(void **state)
{
    (void)state;
    unlink(pwfile);
    unsetenv("ITFLOWD_DB_PASSWORD");
    unsetenv("ITFLOWD_DB_PASSWORD_FILE");
    return 0;
}

static void test_password_env(void **state)
{
    (void)state;
    expect_env_password(NULL); /* neither set: no password, no error */
    setenv("ITFLOWD_DB_PASSWORD", "from-env", 1);
    expect_env_password("from-env");

    /* a password in the URL wins */
    struct mariadb_target t = ok("mariadb://u:in-url@h/db");
    assert_int_equal(mariadb_target_password_from_env(&t, err, sizeof(err)), 0);
    assert_string_equal(t.password, "in-url");
    mariadb_target_free(&t);

    /* the variable wins over the file */
    write_pwfile("from-file\n", 10);
    setenv("ITFLOWD_DB_PASSWORD_FILE", pwfile, 1);
    expect_env_password("from-env");
    setenv("ITFLOWD_DB_PASSWORD", "", 1); /* empty: as if unset */
    expect_env_password("from-file");

    char *long_pw = rep('x', MARIADB_TARGET_PASSWORD_MAX + 1);
    setenv("ITFLOWD_DB_PASSWORD", long_pw, 1);
    env_fails("ITFLOWD_DB_PASSWORD is longer than 1023 bytes");
    long_pw[MARIADB_TARGET_PASSWORD_MAX] = 0;
    setenv("ITFLOWD_DB_PASSWORD", long_pw, 1);
    expect_env_password(long_pw);
    free(long_pw);
}

static void test_password_file(void **state)
{
    (void)state;
    setenv("ITFLOWD_DB_PASSWORD_FILE", pwfile, 1);
    write_pwfile("secret\n", 7); /* the trailing newline is not part of it */
    expect_env_password("secret");
    write_pwfile("secret\r\n", 8);
    expect_env_password("secret");
    write_pwfile("secret", 6);
    expect_env_password("secret");
    write_pwfile("first line\nsecond\n", 18); /* only the first line */
    expect_env_password("first line");
    write_pwfile(" spaced \n", 9); /* spaces are kept */
    expect_env_password(" spaced ");
    write_pwfile("", 0); /* an empty file: an empty password */
    expect_env_password("");
    write_pwfile("\nsecond\n", 8);
    expect_env_password("");

    char *line = rep('y', MARIADB_TARGET_PASSWORD_MAX + 2);
    line[MARIADB_TARGET_PASSWORD_MAX] = '\n'; /* 1023 bytes + newline: fits */
    write_pwfile(line, MARIADB_TARGET_PASSWORD_MAX + 2);
    line[MARIADB_TARGET_PASSWORD_MAX] = 0;
    expect_env_password(line);
    line[MARIADB_TARGET_PASSWORD_MAX] = 'y'; /* 1024 bytes + 'y': too long, not cut */
    write_pwfile(line, MARIADB_TARGET_PASSWORD_MAX + 2);
    env_fails("is longer than 1023 bytes");
    free(line);

    setenv("ITFLOWD_DB_PASSWORD_FILE", "/nonexistent/itflowd-db-password", 1);
    env_fails("cannot read the password file /nonexistent/itflowd-db-password");
    setenv("ITFLOWD_DB_PASSWORD_FILE", "/tmp", 1); /* a directory */
    env_fails("cannot read the password file /tmp");
    setenv("ITFLOWD_DB_PASSWORD_FILE", "", 1); /* empty: as if unset */
    expect_env_password(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_host_list),
        cmocka_unit_test(test_failover_order),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_display),
        cmocka_unit_test_setup_teardown(test_password_env, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_password_file, env_setup, env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

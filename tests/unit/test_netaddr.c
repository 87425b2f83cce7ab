/* test_netaddr: unit tests for src/http/netaddr.c (CIDR lists, the forwarded client address). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/netaddr.h"

static int in(const char *cidr, const char *ip)
{
    struct cidr_list l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(cidr_list_add(&l, cidr), 0);
    return cidr_list_match_text(&l, ip);
}

static void test_cidr_parse(void **state)
{
    (void)state;
    struct cidr c;
    assert_int_equal(cidr_parse("10.0.0.0/8", &c), 0);
    assert_int_equal(c.bits, 104);
    assert_int_equal(cidr_parse("192.0.2.7", &c), 0);
    assert_int_equal(c.bits, 128);
    assert_int_equal(cidr_parse("2001:db8::/32", &c), 0);
    assert_int_equal(c.bits, 32);
    assert_int_equal(cidr_parse("::1", &c), 0);
    assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
    assert_int_equal(cidr_parse("::/0", &c), 0);
    /* malformed */
    assert_int_equal(cidr_parse("10.0.0.0/33", &c), -1);
    assert_int_equal(cidr_parse("2001:db8::/129", &c), -1);
    assert_int_equal(cidr_parse("10.0.0.1/8", &c), -1); /* host bits set */
    assert_int_equal(cidr_parse("10.0.0.0/", &c), -1);
    assert_int_equal(cidr_parse("10.0.0.0/-1", &c), -1);
    assert_int_equal(cidr_parse("10.0.0.0/8x", &c), -1);
    assert_int_equal(cidr_parse("10.0.0/8", &c), -1);
    assert_int_equal(cidr_parse("example.com", &c), -1);
    assert_int_equal(cidr_parse("", &c), -1);
    assert_int_equal(cidr_parse("/8", &c), -1);
}

static void test_cidr_match(void **state)
{
    (void)state;
    assert_true(in("10.0.0.0/8", "10.255.1.2"));
    assert_false(in("10.0.0.0/8", "11.0.0.1"));
    assert_true(in("192.168.1.0/25", "192.168.1.127"));
    assert_false(in("192.168.1.0/25", "192.168.1.128"));
    assert_true(in("127.0.0.2/32", "127.0.0.2"));
    assert_false(in("127.0.0.2/32", "127.0.0.1"));
    assert_true(in("0.0.0.0/0", "203.0.113.9"));
    assert_false(in("0.0.0.0/0", "2001:db8::1")); /* an IPv4 prefix holds no IPv6 address */
    assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(in("2001:db8::/32", "2001:db9::1"));
    assert_true(in("::1/128", "::1"));
    assert_true(in("10.0.0.0/8", "::ffff:10.1.2.3")); /* IPv4-mapped peers */
    assert_false(in("10.0.0.0/8", "not-an-ip"));
    assert_false(in("10.0.0.0/8", "-"));
    struct cidr_list lo;
    memset(&lo, 0, sizeof(lo));
    cidr_list_loopback(&lo);
    assert_true(cidr_list_match_text(&lo, "127.0.0.1"));
    assert_true(cidr_list_match_text(&lo, "127.10.0.1"));
    assert_true(cidr_list_match_text(&lo, "::1"));
    assert_false(cidr_list_match_text(&lo, "10.0.0.1"));
    assert_false(cidr_list_match_text(&lo, "::2"));
    struct cidr_list none;
    memset(&none, 0, sizeof(none));
    assert_false(cidr_list_match_text(&none, "127.0.0.1"));
}

static void test_list_is_bounded(void **state)
{
    (void)state;
    struct cidr_list l;
    memset(&l, 0, sizeof(l));
    for (int i = 0; i < CIDR_LIST_MAX; i++)
        assert_int_equal(cidr_list_add(&l, "10.0.0.0/8"), 0);
    assert_int_equal(cidr_list_add(&l, "10.0.0.0/8"), -1);
    assert_int_equal(cidr_list_add(&l, "bad"), -1);
}

static const char *client(const char *trusted, const char *peer, const char *xff, const char *fwd)
{
    static char out[64];
    struct cidr_list l;
    memset(&l, 0, sizeof(l));
    if (trusted)
        assert_int_equal(cidr_list_add(&l, trusted), 0);
    netaddr_client(&l, peer, xff, fwd, out, sizeof(out));
    return out;
}

static void test_forwarded_for(void **state)
{
    (void)state;
    /* not believed from an untrusted peer, nor without any trusted proxy */
    assert_string_equal(client("10.0.0.0/8", "192.0.2.1", "198.51.100.7", NULL), "192.0.2.1");
    assert_string_equal(client(NULL, "10.0.0.1", "198.51.100.7", NULL), "10.0.0.1");
    /* the right-most entry that is not a trusted proxy */
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "198.51.100.7", NULL), "198.51.100.7");
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "1.2.3.4, 198.51.100.7, 10.0.0.2", NULL),
                        "198.51.100.7");
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", " 1.2.3.4 ,198.51.100.7", NULL),
                        "198.51.100.7");
    /* all trusted: the left-most */
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "10.0.0.3, 10.0.0.2", NULL), "10.0.0.3");
    /* garbage where the client should be: the peer */
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "1.2.3.4, evil\nline", NULL), "10.0.0.1");
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "1.2.3.4, ", NULL), "10.0.0.1");
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "", NULL), "10.0.0.1");
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "unknown", NULL), "10.0.0.1");
    /* garbage to the left of the client does not matter */
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "garbage, 198.51.100.7", NULL),
                        "198.51.100.7");
    /* ports and brackets, IPv6, IPv4-mapped written back as IPv4 */
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "198.51.100.7:5555", NULL),
                        "198.51.100.7");
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "[2001:db8::1]:443", NULL), "2001:db8::1");
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "2001:db8::1", NULL), "2001:db8::1");
    assert_string_equal(client("10.0.0.0/8", "::ffff:10.0.0.1", "::ffff:198.51.100.7", NULL),
                        "198.51.100.7");
    assert_string_equal(client("::1/128", "::1", "198.51.100.7", NULL), "198.51.100.7");
}

static void test_forwarded_header(void **state)
{
    (void)state;
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", NULL, "for=198.51.100.7"), "198.51.100.7");
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", NULL,
                               "for=1.2.3.4;proto=https, For=\"[2001:db8:cafe::17]:4711\";by=x"),
                        "2001:db8:cafe::17");
    assert_string_equal(
        client("10.0.0.0/8", "10.0.0.1", NULL, "for=198.51.100.7;proto=http, for=10.0.0.5"),
        "198.51.100.7");
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", NULL, "for=_hidden"), "10.0.0.1");
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", NULL, "proto=http"), "10.0.0.1");
    /* X-Forwarded-For wins when both are present */
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", "203.0.113.5", "for=198.51.100.7"),
                        "203.0.113.5");
}

static void test_overlong_chain_keeps_the_peer(void **state)
{
    (void)state;
    char xff[2048] = "";
    for (int i = 0; i < 70; i++)
        snprintf(xff + strlen(xff), sizeof(xff) - strlen(xff), "%s",
                 i ? ",10.0.0.9" : "198.51.100.7");
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1", xff, NULL), "10.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test(test_cidr_match),
        cmocka_unit_test(test_list_is_bounded),
        cmocka_unit_test(test_forwarded_for),
        cmocka_unit_test(test_forwarded_header),
        cmocka_unit_test(test_overlong_chain_keeps_the_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

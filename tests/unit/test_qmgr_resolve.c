/* Unit tests of the queue manager's recipient resolution: mydestination
 * matching with case and trailing-dot folding, unqualified addresses,
 * relay_domains, relayhost, the default transport, and transport_maps
 * (search order, transport:nexthop forms, [host]:port, error:). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "match_list.h"
#include "qmgr/qmgr_resolve.h"
#include "table.h"
#include "vstr.h"

static void expect_route(const struct qmgr_resolver *res, const char *addr, const char *transport,
                         const char *nexthop)
{
    vstr *t = vstr_new(16), *n = vstr_new(16);

    if (qmgr_resolve(res, addr, t, n) != 1)
        fail_msg("%s: no route", addr);
    assert_string_equal(vstr_str(t), transport);
    assert_string_equal(vstr_str(n), nexthop);
    vstr_free(t);
    vstr_free(n);
}

static void expect_no_route(const struct qmgr_resolver *res, const char *addr)
{
    vstr *t = vstr_new(16), *n = vstr_new(16);

    if (qmgr_resolve(res, addr, t, n) != 0)
        fail_msg("%s: routed to %s", addr, vstr_str(t));
    vstr_free(t);
    vstr_free(n);
}

static void test_mydestination(void **state)
{
    vstr *err = vstr_new(16);
    match_list *l = match_list_domain("localhost, Example.COM", 0, err);
    struct qmgr_resolver res = {.mydestination = l, .myorigin = "host.example.net"};

    assert_non_null(l);
    expect_route(&res, "user@localhost", "local", "localhost");
    expect_route(&res, "User@LocalHost.", "local", "localhost");
    expect_route(&res, "user@example.com", "local", "example.com");
    expect_route(&res, "\"a@b\"@EXAMPLE.com", "local", "example.com");
    /* Everything else: the default transport to the recipient domain. */
    expect_route(&res, "user@example.org", "smtp", "example.org");
    expect_route(&res, "user@sub.example.com", "smtp", "sub.example.com");
    expect_route(&res, "user@localhost.example", "smtp", "localhost.example");
    expect_no_route(&res, "user@.");
    /* local_transport with a next hop (Postfix: local:$myhostname). */
    res.local_transport = "local:host.example.net";
    expect_route(&res, "user@localhost", "local", "host.example.net");
    res.local_transport = "mylocal";
    expect_route(&res, "user@localhost", "mylocal", "localhost");
    match_list_free(l);
    vstr_free(err);
}

static void test_unqualified(void **state)
{
    vstr *err = vstr_new(16);
    match_list *l = match_list_domain("localhost, host.example.net", 0, err);
    struct qmgr_resolver res = {.mydestination = l, .myorigin = "Host.Example.NET"};

    expect_route(&res, "postmaster", "local", "host.example.net");
    expect_route(&res, "user@", "local", "host.example.net");
    /* myorigin not local: unqualified mail goes out like any other. */
    res.myorigin = "example.org";
    expect_route(&res, "postmaster", "smtp", "example.org");
    match_list_free(l);
    vstr_free(err);
}

static void test_no_mydestination(void **state)
{
    struct qmgr_resolver res = {.mydestination = NULL, .myorigin = "localhost"};

    expect_route(&res, "user@localhost", "smtp", "localhost");
    expect_route(&res, "root", "smtp", "localhost");
}

static void test_relay_and_relayhost(void **state)
{
    vstr *err = vstr_new(16);
    match_list *mydest = match_list_domain("localhost", 0, err);
    match_list *relay = match_list_domain("relay.example, .sub.example", 1, err);
    struct qmgr_resolver res = {.mydestination = mydest, .myorigin = "localhost"};

    res.relay_domains = relay;
    expect_route(&res, "a@relay.example", "relay", "relay.example");
    expect_route(&res, "a@x.relay.example", "relay", "x.relay.example");
    expect_route(&res, "a@y.sub.example", "relay", "y.sub.example");
    expect_route(&res, "a@other.example", "smtp", "other.example");
    res.relay_transport = "myrelay:[10.0.0.1]";
    expect_route(&res, "a@relay.example", "myrelay", "[10.0.0.1]");
    res.relay_transport = NULL;
    res.default_transport = "smtp2";
    /* relayhost: the next hop of relay and default mail, never local. */
    res.relayhost = "[smarthost.example]:587";
    expect_route(&res, "a@relay.example", "relay", "[smarthost.example]:587");
    expect_route(&res, "a@other.example", "smtp2", "[smarthost.example]:587");
    expect_route(&res, "a@localhost", "local", "localhost");
    /* A default_transport with its own next hop wins over relayhost. */
    res.default_transport = "smtp:[gw.example]";
    expect_route(&res, "a@other.example", "smtp", "[gw.example]");
    match_list_free(mydest);
    match_list_free(relay);
    vstr_free(err);
}

static void test_transport_maps(void **state)
{
    vstr *err = vstr_new(16);
    match_list *mydest = match_list_domain("localhost", 0, err);
    table_list *maps = table_list_open(
        "inline:{ special@example.com=lmtp:unix:/run/lmtp, example.com=smtp:[mx.example.com]:2525, "
        ".example.com=relay:, user@localhost=smtp:[10.1.1.1], kept.example=:gw.example, "
        "bare.example=[192.0.2.7]:26, only.example=uucp, "
        "{bad.example=error:5.1.2 no such domain}, {tmp.example=error:4.7.1 try later}, "
        "plain-error.example=error:, gone.example=discard:, deep.a.example=smtp:deep }",
        0, err);
    struct qmgr_resolver res = {.mydestination = mydest, .myorigin = "localhost"};
    vstr *t = vstr_new(16), *n = vstr_new(16);

    if (maps == NULL)
        fail_msg("%s", vstr_str(err));
    res.transport_maps = maps;
    res.relayhost = "relayhost.example";
    /* The full address first, then the domain, then parents. */
    expect_route(&res, "Special@Example.COM", "lmtp", "unix:/run/lmtp");
    expect_route(&res, "other@example.com", "smtp", "[mx.example.com]:2525");
    /* ".example.com=relay:": transport only, the next hop is kept. */
    expect_route(&res, "x@a.b.example.com", "relay", "relayhost.example");
    /* transport_maps also overrides local domains. */
    expect_route(&res, "user@localhost", "smtp", "[10.1.1.1]");
    expect_route(&res, "other@localhost", "local", "localhost");
    /* ":nexthop": the class transport. */
    expect_route(&res, "x@kept.example", "smtp", "gw.example");
    expect_route(&res, "x@bare.example", "smtp", "[192.0.2.7]:26");
    expect_route(&res, "x@only.example", "uucp", "relayhost.example");
    expect_route(&res, "x@bad.example", "error", "5.1.2 no such domain");
    expect_route(&res, "x@tmp.example", "error", "4.7.1 try later");
    expect_route(&res, "x@gone.example", "discard", "relayhost.example");
    /* Parent entries need the leading dot: deep.a.example does not match
     * x.deep.a.example. */
    expect_route(&res, "x@x.deep.a.example", "smtp", "relayhost.example");
    expect_route(&res, "x@unlisted.example", "smtp", "relayhost.example");
    assert_int_equal(qmgr_resolve(&res, "x@plain-error.example", t, n), 1);
    assert_string_equal(vstr_str(t), "error");
    table_list_close(maps);
    match_list_free(mydest);
    vstr_free(t);
    vstr_free(n);
    vstr_free(err);
}

static void test_route_split(void **state)
{
    vstr *t = vstr_new(16), *n = vstr_new(16);

    vstr_set(t, "T");
    vstr_set(n, "N");
    qmgr_route_split("", t, n);
    assert_string_equal(vstr_str(t), "T");
    assert_string_equal(vstr_str(n), "N");
    qmgr_route_split(":", t, n);
    assert_string_equal(vstr_str(t), "T");
    assert_string_equal(vstr_str(n), "N");
    qmgr_route_split("smtp:[::1]:25", t, n);
    assert_string_equal(vstr_str(t), "smtp");
    assert_string_equal(vstr_str(n), "[::1]:25");
    qmgr_route_split("[h]", t, n);
    assert_string_equal(vstr_str(t), "smtp");
    assert_string_equal(vstr_str(n), "[h]");
    vstr_free(t);
    vstr_free(n);
}

static void test_address_domain(void **state)
{
    vstr *d = vstr_new(16);

    qmgr_address_domain(d, "a@B.Example.", "x");
    assert_string_equal(vstr_str(d), "b.example");
    qmgr_address_domain(d, "a", "Origin.");
    assert_string_equal(vstr_str(d), "origin");
    qmgr_address_domain(d, "a@", NULL);
    assert_string_equal(vstr_str(d), "");
    vstr_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mydestination),
        cmocka_unit_test(test_unqualified),
        cmocka_unit_test(test_no_mydestination),
        cmocka_unit_test(test_address_domain),
        cmocka_unit_test(test_relay_and_relayhost),
        cmocka_unit_test(test_transport_maps),
        cmocka_unit_test(test_route_split),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the queue manager's recipient resolution: mydestination
 * matching with case and trailing-dot folding, unqualified addresses, and
 * destinations without a route. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "match_list.h"
#include "qmgr/qmgr_resolve.h"
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
    struct qmgr_resolver res = {l, "host.example.net"};

    assert_non_null(l);
    expect_route(&res, "user@localhost", "local", "localhost");
    expect_route(&res, "User@LocalHost.", "local", "localhost");
    expect_route(&res, "user@example.com", "local", "example.com");
    expect_route(&res, "\"a@b\"@EXAMPLE.com", "local", "example.com");
    expect_no_route(&res, "user@example.org");
    expect_no_route(&res, "user@sub.example.com");
    expect_no_route(&res, "user@localhost.example");
    expect_no_route(&res, "user@.");
    match_list_free(l);
    vstr_free(err);
}

static void test_unqualified(void **state)
{
    vstr *err = vstr_new(16);
    match_list *l = match_list_domain("localhost", 0, err);
    struct qmgr_resolver res = {l, "Host.Example.NET"};

    expect_route(&res, "postmaster", "local", "host.example.net");
    expect_route(&res, "user@", "local", "host.example.net");
    match_list_free(l);
    vstr_free(err);
}

static void test_no_mydestination(void **state)
{
    struct qmgr_resolver res = {NULL, "localhost"};

    expect_no_route(&res, "user@localhost");
    expect_route(&res, "root", "local", "localhost");
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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

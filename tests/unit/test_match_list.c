/* Unit tests for address and domain match lists: CIDR matching for IPv4
 * and IPv6, negation, first match wins, file inclusion, table lookups,
 * and malformed patterns. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "match_list.h"
#include "vstr.h"

static match_list *addr_list(const char *spec)
{
    vstr *err = vstr_new(64);
    match_list *l = match_list_addr(spec, err);

    if (l == NULL)
        fail_msg("match_list_addr(\"%s\"): %s", spec, vstr_str(err));
    vstr_free(err);
    return l;
}


static void test_addr_match(void **state)
{
    match_list *l = addr_list("127.0.0.0/8 [::1]/128, 192.0.2.1 !10.1.0.0/16 10.0.0.0/8 "
                              "[2001:db8::/32] fe80::/10 172.16.0.0/12");

    assert_true(match_list_match_addr(l, "127.0.0.1"));
    assert_true(match_list_match_addr(l, "127.255.255.255"));
    assert_false(match_list_match_addr(l, "128.0.0.1"));
    assert_true(match_list_match_addr(l, "::1"));
    assert_true(match_list_match_addr(l, "[::1]"));
    assert_false(match_list_match_addr(l, "::2"));
    assert_true(match_list_match_addr(l, "192.0.2.1"));
    assert_false(match_list_match_addr(l, "192.0.2.2"));
    assert_false(match_list_match_addr(l, "10.1.2.3"));      /* negated first */
    assert_true(match_list_match_addr(l, "10.2.3.4"));
    assert_true(match_list_match_addr(l, "2001:db8:1::5"));
    assert_true(match_list_match_addr(l, "2001:DB8::5"));
    assert_false(match_list_match_addr(l, "2001:db9::5"));
    assert_true(match_list_match_addr(l, "fe80::1%eth0"));
    assert_true(match_list_match_addr(l, "::ffff:127.0.0.1"));   /* v4-mapped */
    assert_true(match_list_match_addr(l, "172.31.255.255"));
    assert_false(match_list_match_addr(l, "172.32.0.0"));
    assert_false(match_list_match_addr(l, "not-an-address"));
    assert_false(match_list_match_addr(l, ""));
    match_list_free(l);

    l = addr_list("");
    assert_false(match_list_match_addr(l, "127.0.0.1"));
    match_list_free(l);
    l = addr_list("0.0.0.0/0 ::/0");
    assert_true(match_list_match_addr(l, "203.0.113.9"));
    assert_true(match_list_match_addr(l, "2001:db8::1"));
    match_list_free(l);
    l = addr_list("inline:{ 192.0.2.7=ok } static:{whatever}");
    assert_true(match_list_match_addr(l, "192.0.2.7"));
    match_list_free(l);
    l = addr_list("!inline:{ 192.0.2.7=ok } 192.0.2.0/24");
    assert_false(match_list_match_addr(l, "192.0.2.7"));
    assert_true(match_list_match_addr(l, "192.0.2.8"));
    match_list_free(l);
}

static void expect_addr_error(const char *spec, const char *what)
{
    vstr *err = vstr_new(64);

    assert_null(match_list_addr(spec, err));
    if (strstr(vstr_str(err), what) == NULL)
        fail_msg("error for \"%s\" is \"%s\", want \"%s\"", spec, vstr_str(err), what);
    vstr_free(err);
}

static void test_addr_malformed(void **state)
{
    expect_addr_error("10.0.0.0/33", "bad network prefix");
    expect_addr_error("10.0.0.0/", "bad network prefix");
    expect_addr_error("10.0.0.0/x", "bad network prefix");
    expect_addr_error("10.0.0.0/-1", "bad network prefix");
    expect_addr_error("[::1]/129", "bad network prefix");
    expect_addr_error("10.1.2.3/8", "non-null host address bits");
    expect_addr_error("[2001:db8::1]/32", "non-null host address bits");
    expect_addr_error("[::1", "missing ']'");
    expect_addr_error("[::1]x", "text after ']'");
    expect_addr_error("[1.2.3.4]", "bad IPv6 address");
    expect_addr_error("[zz::1]", "bad IPv6 address");
    expect_addr_error("1.2.3", "not an IP address");
    expect_addr_error("256.1.1.1", "not an IP address");
    expect_addr_error("example.com", "not an IP address");
    expect_addr_error("!", "without a pattern");
    expect_addr_error("bogus:table", "unsupported table type");
    expect_addr_error("inline:{ a=b", "missing '}'");
    expect_addr_error("/nonexistent/file", "/nonexistent/file");
}

static match_list *domain_list(const char *spec, int parent)
{
    vstr *err = vstr_new(64);
    match_list *l = match_list_domain(spec, parent, err);

    if (l == NULL)
        fail_msg("match_list_domain(\"%s\"): %s", spec, vstr_str(err));
    vstr_free(err);
    return l;
}

static void test_domain(void **state)
{
    match_list *l = domain_list("Example.COM., .sub.example.net !bad.example.org .example.org", 0);

    assert_true(match_list_match_domain(l, "example.com"));
    assert_true(match_list_match_domain(l, "EXAMPLE.com."));
    assert_false(match_list_match_domain(l, "a.example.com"));
    assert_false(match_list_match_domain(l, "badexample.com"));
    assert_false(match_list_match_domain(l, "sub.example.net"));
    assert_true(match_list_match_domain(l, "a.sub.example.net"));
    assert_true(match_list_match_domain(l, "x.y.sub.example.net"));
    assert_false(match_list_match_domain(l, "bad.example.org"));
    assert_true(match_list_match_domain(l, "good.example.org"));
    assert_false(match_list_match_domain(l, "example.org"));
    match_list_free(l);

    l = domain_list("example.com", 1);
    assert_true(match_list_match_domain(l, "example.com"));
    assert_true(match_list_match_domain(l, "a.b.example.com"));
    assert_false(match_list_match_domain(l, "aexample.com"));
    match_list_free(l);

    l = domain_list("inline:{ example.com=1, .sub.example.net=1 }", 0);
    assert_true(match_list_match_domain(l, "Example.Com"));
    assert_false(match_list_match_domain(l, "a.example.com"));
    assert_true(match_list_match_domain(l, "a.b.sub.example.net"));
    assert_false(match_list_match_domain(l, "sub.example.net"));
    match_list_free(l);
    l = domain_list("inline:{ example.com=1 }", 1);
    assert_true(match_list_match_domain(l, "a.example.com"));
    match_list_free(l);

    vstr *err = vstr_new(64);
    assert_null(match_list_domain("a.example, !", 0, err));
    assert_null(match_list_domain(".", 0, err));
    assert_null(match_list_domain("[1.2.3.4]", 0, err));
    assert_null(match_list_domain("x:y", 0, err));
    vstr_free(err);
}

static void test_file_include(void **state)
{
    char dir[] = "/tmp/test_match.XXXXXX";
    vstr *p1 = vstr_new(64), *p2 = vstr_new(64), *spec = vstr_new(64);
    FILE *fp;

    assert_non_null(mkdtemp(dir));
    vstr_printf(p1, "%s/nets", dir);
    vstr_printf(p2, "%s/more", dir);
    fp = fopen(vstr_str(p1), "w");
    fprintf(fp, "# trusted networks\n192.0.2.0/24, 198.51.100.0/24\n  # comment\n%s\n",
            vstr_str(p2));
    fclose(fp);
    fp = fopen(vstr_str(p2), "w");
    fputs("203.0.113.5 [2001:db8::1]\n", fp);
    fclose(fp);
    vstr_printf(spec, "127.0.0.1 %s", vstr_str(p1));
    match_list *l = addr_list(vstr_str(spec));
    assert_true(match_list_match_addr(l, "192.0.2.77"));
    assert_true(match_list_match_addr(l, "198.51.100.1"));
    assert_true(match_list_match_addr(l, "203.0.113.5"));
    assert_true(match_list_match_addr(l, "2001:db8::1"));
    assert_false(match_list_match_addr(l, "203.0.113.6"));
    match_list_free(l);

    /* a file that includes itself is caught */
    fp = fopen(vstr_str(p2), "w");
    fprintf(fp, "%s\n", vstr_str(p2));
    fclose(fp);
    vstr *err = vstr_new(64);
    assert_null(match_list_addr(vstr_str(p2), err));
    assert_non_null(strstr(vstr_str(err), "levels deep"));
    /* bad pattern inside a file is reported with the file name */
    fp = fopen(vstr_str(p2), "w");
    fputs("10.0.0.1/8\n", fp);
    fclose(fp);
    vstr_reset(err);
    assert_null(match_list_addr(vstr_str(p2), err));
    assert_non_null(strstr(vstr_str(err), vstr_str(p2)));
    vstr_free(err);
    unlink(vstr_str(p1));
    unlink(vstr_str(p2));
    rmdir(dir);
    vstr_free(p1);
    vstr_free(p2);
    vstr_free(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_match),
        cmocka_unit_test(test_addr_malformed),
        cmocka_unit_test(test_domain),
        cmocka_unit_test(test_file_include),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

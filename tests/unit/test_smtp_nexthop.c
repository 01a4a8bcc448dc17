/* Unit tests for smtp/smtp_nexthop.c: the next-hop forms of SMTP and LMTP
 * mode, and garbage that must be refused. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "smtp.h"
#include "vstr.h"

struct smtp_config smtp_cfg;

static void expect_ok(const char *text, int lmtp, enum smtp_nexthop_kind kind,
                      const char *host, int port)
{
    struct smtp_nexthop nh;
    vstr *why = vstr_new(16);

    if (smtp_nexthop_parse(text, lmtp, lmtp ? 24 : 25, &nh, why) != 0)
        fail_msg("\"%s\" refused: %s", text, vstr_str(why));
    assert_int_equal(nh.kind, kind);
    assert_string_equal(nh.host, host);
    assert_int_equal(nh.port, port);
    smtp_nexthop_free(&nh);
    vstr_free(why);
}

static void expect_bad(const char *text, int lmtp)
{
    struct smtp_nexthop nh;
    vstr *why = vstr_new(16);

    if (smtp_nexthop_parse(text, lmtp, 25, &nh, why) == 0)
        fail_msg("\"%s\" accepted as host \"%s\"", text, nh.host);
    assert_true(vstr_len(why) > 0);
    vstr_free(why);
}

static void test_smtp_forms(void **state)
{
    expect_ok("example.com", 0, NEXTHOP_MX, "example.com", 25);
    expect_ok("example.com:2525", 0, NEXTHOP_MX, "example.com", 2525);
    expect_ok("[mail.example.com]", 0, NEXTHOP_HOST, "mail.example.com", 25);
    expect_ok("[192.0.2.1]:587", 0, NEXTHOP_HOST, "192.0.2.1", 587);
    expect_ok("[2001:db8::1]:26", 0, NEXTHOP_HOST, "2001:db8::1", 26);
    expect_ok("[ipv6:2001:db8::1]", 0, NEXTHOP_HOST, "2001:db8::1", 25);
    expect_ok("[127.0.0.1]", 0, NEXTHOP_HOST, "127.0.0.1", 25);
    (void) state;
}

static void test_lmtp_forms(void **state)
{
    expect_ok("unix:/var/run/lmtp", 1, NEXTHOP_UNIX, "/var/run/lmtp", 0);
    expect_ok("unix:private/dovecot-lmtp", 1, NEXTHOP_UNIX, "private/dovecot-lmtp", 0);
    expect_ok("inet:mail.example.com", 1, NEXTHOP_HOST, "mail.example.com", 24);
    expect_ok("inet:127.0.0.1:2400", 1, NEXTHOP_HOST, "127.0.0.1", 2400);
    expect_ok("inet:[::1]:2401", 1, NEXTHOP_HOST, "::1", 2401);
    expect_ok("mailstore:25", 1, NEXTHOP_HOST, "mailstore", 25);   /* no MX in LMTP */
    (void) state;
}

static void test_garbage(void **state)
{
    vstr *big = vstr_new(2000);
    int i;

    expect_bad("", 0);
    expect_bad("[", 0);
    expect_bad("[]", 0);
    expect_bad("[host", 0);
    expect_bad("[host]x", 0);
    expect_bad("[host]:", 0);
    expect_bad("[host]:0", 0);
    expect_bad("[host]:65536", 0);
    expect_bad("[host]:25x", 0);
    expect_bad("host:", 0);
    expect_bad("host:port", 0);
    expect_bad("host:-1", 0);
    expect_bad("a b", 0);
    expect_bad("host\r\n", 0);
    expect_bad("user@host", 0);
    expect_bad("unix:/path", 0);        /* not in SMTP mode */
    expect_bad("inet:host:25", 0);
    expect_bad("a:1:2", 0);
    expect_bad("unix:", 1);
    expect_bad("unix:/a\nb", 1);
    expect_bad("inet:", 1);
    expect_bad("inet:[x", 1);
    for (i = 0; i < 1100; i++)
        vstr_putc(big, 'a');
    expect_bad(vstr_str(big), 0);
    vstr_free(big);
    (void) state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smtp_forms),
        cmocka_unit_test(test_lmtp_forms),
        cmocka_unit_test(test_garbage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

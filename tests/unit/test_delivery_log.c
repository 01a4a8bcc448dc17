/* Unit tests for the shared per-recipient status line: the delay format,
 * orig_to, conn_use, and untrusted text in addresses and reasons. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "delivery_log.h"
#include "vstr.h"

static void expect_delay(double secs, const char *text)
{
    vstr *v = vstr_new(16);

    delay_format(v, secs);
    assert_string_equal(vstr_str(v), text);
    vstr_free(v);
}

static void test_delay_format(void **state)
{
    expect_delay(0, "0");
    expect_delay(0.004, "0");
    expect_delay(-3, "0");
    expect_delay(0.05, "0.05");
    expect_delay(0.1, "0.1");
    expect_delay(0.25, "0.25");
    expect_delay(0.456, "0.46");
    expect_delay(1.234, "1.2");
    expect_delay(2.0, "2");
    expect_delay(9.97, "10");
    expect_delay(12.7, "13");
    expect_delay(2282.2, "2282");
    expect_delay(86400.0, "86400");
    expect_delay(1e13, "999999999999");
}

static void test_orcpt_differs(void **state)
{
    assert_null(orcpt_differs(NULL, "a@b"));
    assert_null(orcpt_differs("", "a@b"));
    assert_null(orcpt_differs("rfc822;A@B", "a@b"));
    assert_string_equal(orcpt_differs("rfc822;x@y", "a@b"), "x@y");
    assert_string_equal(orcpt_differs("x400;foo", "a@b"), "foo");
}

static void test_line(void **state)
{
    vstr *v = vstr_new(128);
    struct delivery_log l = {
        .queue_id = "1ABC",
        .rcpt = "u@example.com",
        .orcpt = "rfc822;list@example.com",
        .relay = "mx.example.com[192.0.2.1]:25",
        .conn_use = 3,
        .delay = 1.5,
        .delays = {0.25, 1.2, 0, 0.05},
        .dsn = "2.0.0",
        .status = "sent",
        .reason = "250 2.0.0 Ok",
    };

    delivery_log_format(v, &l);
    assert_string_equal(vstr_str(v),
                        "1ABC: to=<u@example.com>, orig_to=<list@example.com>, "
                        "relay=mx.example.com[192.0.2.1]:25, conn_use=3, delay=1.5, "
                        "delays=0.25/1.2/0/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok)");
    /* A first use is not shown; hostile text is made printable; valid
     * UTF-8 addresses are kept as they are. */
    vstr_reset(v);
    l.conn_use = 1;
    l.orcpt = NULL;
    l.rcpt = "j\xc3\xb6rg@example.com";
    l.reason = "said: 550\r\nfake: line";
    delivery_log_format(v, &l);
    assert_non_null(strstr(vstr_str(v), "to=<j\xc3\xb6rg@example.com>, relay="));
    assert_null(strstr(vstr_str(v), "conn_use"));
    assert_null(strchr(vstr_str(v), '\n'));
    assert_null(strchr(vstr_str(v), '\r'));
    vstr_reset(v);
    l.rcpt = "bad\xff\x01@example.com";
    delivery_log_format(v, &l);
    assert_non_null(strstr(vstr_str(v), "to=<bad??@example.com>"));
    vstr_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_format),
        cmocka_unit_test(test_orcpt_differs),
        cmocka_unit_test(test_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

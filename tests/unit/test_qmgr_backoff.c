/* Unit tests of the queue manager's retry backoff (a message's age clamped
 * to [minimal_backoff_time, maximal_backoff_time]) and of the delay
 * figures in its log lines. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "qmgr/qmgr_backoff.h"
#include "vstr.h"

static void test_backoff(void **state)
{
    /* Young message: the minimum. */
    assert_int_equal(qmgr_backoff(1000.0, 990.0, 300, 4000), 300);
    /* Its age in between. */
    assert_int_equal(qmgr_backoff(10000.0, 8000.5, 300, 4000), 1999);
    /* Old message: the maximum. */
    assert_int_equal(qmgr_backoff(1e9, 1.0, 300, 4000), 4000);
    /* Arrival in the future (clock step): the minimum. */
    assert_int_equal(qmgr_backoff(100.0, 5000.0, 300, 4000), 300);
    /* Conflicting limits: the maximum wins, never below one second. */
    assert_int_equal(qmgr_backoff(100.0, 0.0, 500, 200), 200);
    assert_int_equal(qmgr_backoff(100.0, 100.0, 0, 0), 1);
}

static void expect_delay(double secs, const char *text)
{
    vstr *v = vstr_new(16);

    qmgr_format_delay(v, secs);
    assert_string_equal(vstr_str(v), text);
    vstr_free(v);
}

static void test_format(void **state)
{
    vstr *v = vstr_new(64);

    expect_delay(0, "0");
    expect_delay(0.004, "0");
    expect_delay(-3, "0");
    expect_delay(0.05, "0.05");
    expect_delay(0.25, "0.25");
    expect_delay(1.234, "1.2");
    expect_delay(37.9, "37");
    expect_delay(86400.0, "86400");
    qmgr_format_delays(v, 1.5, 0.25, 1.2, 0, 0.05);
    assert_string_equal(vstr_str(v), "delay=1.5, delays=0.25/1.2/0/0.05");
    vstr_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

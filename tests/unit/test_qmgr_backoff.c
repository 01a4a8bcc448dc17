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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

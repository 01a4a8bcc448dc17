/* Unit tests of the queue manager's decisions: the concurrency window
 * (start, growth up to the limit, shrinking, dead marking after the
 * failed cohort limit, the probe after the dead time), what counts as a
 * destination failure, message expiry (null sender uses
 * bounce_queue_lifetime) and when a delay warning is due. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "qmgr/qmgr_policy.h"

static void test_window_growth(void **state)
{
    struct qmgr_window w;
    int i;

    qmgr_window_init(&w, 5, 20);
    assert_int_equal(w.window, 5);
    assert_false(w.dead);
    for (i = 0; i < 30; i++)
        qmgr_window_success(&w, 20);
    assert_int_equal(w.window, 20);
    /* Initial above the limit, or nonsense: clamped. */
    qmgr_window_init(&w, 5, 2);
    assert_int_equal(w.window, 2);
    qmgr_window_init(&w, 0, 2);
    assert_int_equal(w.window, 1);
}

static void test_window_shrink_and_dead(void **state)
{
    struct qmgr_window w;

    qmgr_window_init(&w, 5, 20);
    /* 1/5 + 1/4 + 1/3 = 0.78: not yet a whole cohort. */
    assert_int_equal(qmgr_window_failure(&w, 1), 0);
    assert_int_equal(w.window, 4);
    assert_int_equal(qmgr_window_failure(&w, 1), 0);
    assert_int_equal(qmgr_window_failure(&w, 1), 0);
    assert_int_equal(w.window, 2);
    assert_false(w.dead);
    /* + 1/2 = 1.28: dead. */
    assert_int_equal(qmgr_window_failure(&w, 1), 1);
    assert_true(w.dead);
    assert_int_equal(w.window, 1);
    /* Further failures of jobs that were running do not re-kill it. */
    assert_int_equal(qmgr_window_failure(&w, 1), 0);
    /* The probe: one job; a failure kills again at once. */
    qmgr_window_probe(&w, 1);
    assert_false(w.dead);
    assert_int_equal(w.window, 1);
    assert_int_equal(qmgr_window_failure(&w, 1), 1);
    /* A probe that succeeds revives it and the window grows. */
    qmgr_window_probe(&w, 1);
    qmgr_window_success(&w, 20);
    assert_false(w.dead);
    assert_int_equal(w.window, 2);
    assert_true(w.fail_cohorts == 0);
}

static void test_window_cohort_limit(void **state)
{
    struct qmgr_window w;

    qmgr_window_init(&w, 1, 20);
    assert_int_equal(qmgr_window_failure(&w, 3), 0);
    assert_int_equal(qmgr_window_failure(&w, 3), 0);
    /* A success in between starts the count again. */
    qmgr_window_success(&w, 20);
    assert_int_equal(qmgr_window_failure(&w, 3), 0);   /* 1/2 */
    assert_int_equal(qmgr_window_failure(&w, 3), 0);   /* 1.5 */
    assert_int_equal(qmgr_window_failure(&w, 3), 0);   /* 2.5 */
    assert_int_equal(qmgr_window_failure(&w, 3), 1);   /* 3.5 */
    qmgr_window_probe(&w, 3);
    assert_int_equal(qmgr_window_failure(&w, 3), 1);
}

static void test_dest_failure(void **state)
{
    const int all_deferred[] = {1, 1, 1}, mixed[] = {1, 0, 1};
    const char *const conn[] = {"4.4.1", "4.4.2", "4.4.0"};
    const char *const mailbox[] = {"4.4.1", "4.2.2", "4.4.1"};
    const char *const none[] = {"4.4.1", NULL, "4.4.1"};

    const char *const greeting[] = {"4.3.2", "4.3.2", "4.3.2"};

    /* An agent that does not report site failures: judged by the codes. */
    assert_true(qmgr_dest_failure(-1, all_deferred, conn, 3));
    assert_false(qmgr_dest_failure(-1, all_deferred, mailbox, 3));
    assert_false(qmgr_dest_failure(-1, mixed, conn, 3));
    assert_false(qmgr_dest_failure(-1, all_deferred, none, 3));
    assert_false(qmgr_dest_failure(-1, all_deferred, conn, 0));
    /* The agent's word wins: a 4xx greeting is a site failure, a 4.4.x
     * reply to RCPT from a host that answered is not. */
    assert_true(qmgr_dest_failure(1, all_deferred, greeting, 3));
    assert_false(qmgr_dest_failure(0, all_deferred, conn, 3));
    assert_false(qmgr_dest_failure(1, mixed, greeting, 3));
}

static void test_expiry(void **state)
{
    double day = 86400;

    assert_false(qmgr_message_expired(1000 + 4 * day, 1000, "a@b", 5 * day, 1 * day));
    assert_true(qmgr_message_expired(1000 + 5 * day, 1000, "a@b", 5 * day, 1 * day));
    /* The null sender: bounce_queue_lifetime. */
    assert_true(qmgr_message_expired(1000 + 2 * day, 1000, "", 5 * day, 1 * day));
    assert_false(qmgr_message_expired(1000 + 0.5 * day, 1000, "", 5 * day, 1 * day));
    /* Lifetime 0: one attempt, then expired. */
    assert_true(qmgr_message_expired(1000, 1000, "a@b", 0, 0));
}

static void test_delay_warning(void **state)
{
    assert_false(qmgr_delay_warning_due(0, 5000, "a@b"));       /* none due or sent */
    assert_false(qmgr_delay_warning_due(5001, 5000, "a@b"));
    assert_true(qmgr_delay_warning_due(5000, 5000, "a@b"));
    assert_true(qmgr_delay_warning_due(4000, 5000, "a@b"));
    assert_false(qmgr_delay_warning_due(4000, 5000, ""));       /* null sender */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_growth),
        cmocka_unit_test(test_window_shrink_and_dead),
        cmocka_unit_test(test_window_cohort_limit),
        cmocka_unit_test(test_dest_failure),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_delay_warning),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

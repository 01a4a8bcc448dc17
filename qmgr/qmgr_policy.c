/* The queue manager's scheduling and expiry decisions (qmgr_policy.h),
 * kept free of I/O so that unit tests can drive them.  The window follows
 * Postfix's concurrency feedback with the simplest feedback: +1 per
 * successful delivery, -1 per failed one; failures are counted in
 * pseudo-cohorts as Postfix does (each failure is 1/window of one). */
#include "config.h"
#include <string.h>
#include "qmgr_policy.h"

void qmgr_window_init(struct qmgr_window *w, long initial, long limit)
{
    if (initial > limit)
        initial = limit;
    if (initial < 1)
        initial = 1;
    w->window = (int) initial;
    w->fail_cohorts = 0;
    w->dead = 0;
}

void qmgr_window_success(struct qmgr_window *w, long limit)
{
    w->fail_cohorts = 0;
    w->dead = 0;
    if (w->window < limit)
        w->window++;
    if (w->window < 1)
        w->window = 1;
}

int qmgr_window_failure(struct qmgr_window *w, long cohort_limit)
{
    if (w->dead)
        return 0;
    if (w->window < 1)
        w->window = 1;
    w->fail_cohorts += 1.0 / w->window;
    if (w->window > 1)
        w->window--;
    /* A small epsilon: five failures at 1/5 make one whole cohort. */
    if (w->fail_cohorts + 1e-9 >= (double) (cohort_limit > 0 ? cohort_limit : 1)) {
        w->dead = 1;
        return 1;
    }
    return 0;
}

void qmgr_window_probe(struct qmgr_window *w, long cohort_limit)
{
    w->dead = 0;
    w->window = 1;
    w->fail_cohorts = cohort_limit > 1 ? (double) (cohort_limit - 1) : 0;
}

int qmgr_dest_failure(int site_failed, const int *deferred, const char *const *dsns, size_t n)
{
    size_t i;

    if (n == 0 || site_failed == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (!deferred[i] || (site_failed < 0 && (dsns[i] == NULL
                                                 || strncmp(dsns[i], "4.4.", 4) != 0)))
            return 0;
    return 1;
}

int qmgr_message_expired(double now, double arrival, const char *sender, long max_lifetime,
                         long bounce_lifetime)
{
    long lifetime = (sender == NULL || *sender == 0) ? bounce_lifetime : max_lifetime;

    return now - arrival >= (double) lifetime;
}

int qmgr_delay_warning_due(long long warn_time, double now, const char *sender)
{
    return warn_time > 0 && sender != NULL && *sender != 0 && now >= (double) warn_time;
}

/* The queue manager's decisions, as pure functions for unit tests: the
 * per-destination concurrency window (grows on success, shrinks on
 * failure, a destination that keeps failing at concurrency 1 is dead),
 * what counts as a destination failure, message expiry and when a
 * delayed-mail warning is due. */
#ifndef POSTHORN_QMGR_POLICY_H
#define POSTHORN_QMGR_POLICY_H
#include <stddef.h>

struct qmgr_window {
    int window;         /* deliveries allowed at once */
    double fail_cohorts;    /* failures since the last success, each
                             * counting 1/window (a pseudo-cohort) */
    int dead;           /* no deliveries until the probe timer */
};

void qmgr_window_init(struct qmgr_window *w, long initial, long limit);
/* A delivery reached the destination: window + 1 up to limit. */
void qmgr_window_success(struct qmgr_window *w, long limit);
/* A delivery could not reach it: window - 1 (at least 1), and 1/window
 * of a failed cohort; cohort_limit failed cohorts without a success in
 * between make the destination dead (with the default limit 1: about a
 * window's worth of failures).  Returns 1 when this failure made it
 * dead. */
int qmgr_window_failure(struct qmgr_window *w, long cohort_limit);
/* The dead time is over: let one probe through (window 1; one more
 * failure makes it dead again). */
void qmgr_window_probe(struct qmgr_window *w, long cohort_limit);

/* A job failed at the destination level when every recipient was
 * deferred and the agent said it had no usable session with any host
 * (site_failed 1: refused, timed out, 4xx greeting, DNS failure).  An
 * agent that does not say (site_failed -1) is judged by the status codes:
 * all 4.4.x ("network and routing", RFC 3463).  deferred[i] is 1 for a
 * deferred recipient; dsns[i] its status code. */
int qmgr_dest_failure(int site_failed, const int *deferred, const char *const *dsns, size_t n);

/* Expiry: is a message that arrived at arrival too old at now?
 * bounce_lifetime applies to mail from the null sender. */
int qmgr_message_expired(double now, double arrival, const char *sender, long max_lifetime,
                         long bounce_lifetime);
/* A delay warning is due when the W time is set and has come; never for
 * mail from the null sender (nobody to warn). */
int qmgr_delay_warning_due(long long warn_time, double now, const char *sender);

#endif

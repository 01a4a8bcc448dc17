/* Retry timing for deferred mail (the age of a message, clamped between
 * minimal_backoff_time and maximal_backoff_time, so young mail is retried
 * soon and old mail rarely) and the formatting of the delay= and delays=
 * figures of delivery log lines. */
#include "config.h"
#include "qmgr_backoff.h"
#include "vstr.h"

long qmgr_backoff(double now, double arrival, long minimal, long maximal)
{
    double age = now - arrival;
    long backoff;

    if (!(age > 0))         /* also NaN: clock went backwards */
        age = 0;
    backoff = age > 1e9 ? 1000000000L : (long) age;
    if (backoff < minimal)
        backoff = minimal;
    if (backoff > maximal)
        backoff = maximal;
    if (backoff < 1)
        backoff = 1;
    return backoff;
}

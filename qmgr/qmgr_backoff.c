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

void qmgr_format_delay(vstr *out, double seconds)
{
    if (!(seconds >= 0.01))
        vstr_puts(out, "0");
    else if (seconds < 0.1)
        vstr_printf(out, "%.2f", seconds);
    else if (seconds < 10)
        vstr_printf(out, "%.2g", seconds);
    else if (seconds < 1e12)
        vstr_printf(out, "%lld", (long long) seconds);
    else
        vstr_puts(out, "999999999999");
}

void qmgr_format_delays(vstr *out, double total, double a, double b, double c, double d)
{
    vstr_puts(out, "delay=");
    qmgr_format_delay(out, total);
    vstr_puts(out, ", delays=");
    qmgr_format_delay(out, a);
    vstr_putc(out, '/');
    qmgr_format_delay(out, b);
    vstr_putc(out, '/');
    qmgr_format_delay(out, c);
    vstr_putc(out, '/');
    qmgr_format_delay(out, d);
}

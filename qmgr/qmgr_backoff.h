/* Retry timing and the delay figures of the queue manager's log lines. */
#ifndef POSTHORN_QMGR_BACKOFF_H
#define POSTHORN_QMGR_BACKOFF_H
#include "vstr.h"

/* Seconds until the next delivery attempt of a message that arrived at
 * arrival and was just deferred at now: its age, clamped to
 * [minimal, maximal] (maximal wins when they conflict). */
long qmgr_backoff(double now, double arrival, long minimal, long maximal);
/* Append a delay in seconds the way the log shows it: "0", "0.25", "1.2",
 * "37". */
void qmgr_format_delay(vstr *out, double seconds);
/* Append "delay=D, delays=a/b/c/d". */
void qmgr_format_delays(vstr *out, double total, double a, double b, double c, double d);

#endif

/* Retry timing of deferred mail. */
#ifndef POSTHORN_QMGR_BACKOFF_H
#define POSTHORN_QMGR_BACKOFF_H
#include "vstr.h"

/* Seconds until the next delivery attempt of a message that arrived at
 * arrival and was just deferred at now: its age, clamped to
 * [minimal, maximal] (maximal wins when they conflict). */
long qmgr_backoff(double now, double arrival, long minimal, long maximal);

#endif

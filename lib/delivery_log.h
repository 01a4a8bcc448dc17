/* The per-recipient status line that qmgr and every delivery agent log,
 * in Postfix's shape so that existing log tools parse it:
 *   ID: to=<rcpt>, orig_to=<orcpt>, relay=R, conn_use=N, delay=D,
 *       delays=a/b/c/d, dsn=X.Y.Z, status=S (reason)
 * (orig_to only when the original recipient differs, conn_use only for a
 * reused connection).  delays: a = before the queue manager, b = in the
 * queue manager, c = connection setup, d = transmission. */
#ifndef POSTHORN_DELIVERY_LOG_H
#define POSTHORN_DELIVERY_LOG_H
#include "vstr.h"

struct delivery_log {
    const char *queue_id;
    const char *rcpt;
    const char *orcpt;          /* "rfc822;addr", "" or NULL */
    const char *relay;          /* "local", "host[addr]:port", "none" */
    int conn_use;               /* > 1: the connection's Nth delivery */
    double delay;               /* arrival to now, seconds */
    double delays[4];
    const char *dsn;
    const char *status;         /* sent, deferred, bounced, expired */
    const char *reason;
};

void delivery_log_status(const struct delivery_log *l);
/* The line without logging it (tests). */
void delivery_log_format(vstr *out, const struct delivery_log *l);
/* A delay as Postfix shows it: "0" below 10 ms, two significant digits
 * below 10 s ("0.05", "0.1", "1.2", "2"), then whole seconds. */
void delay_format(vstr *out, double seconds);
/* The address of an ORCPT ("rfc822;" cut) when it differs from the
 * recipient, else NULL. */
const char *orcpt_differs(const char *orcpt, const char *rcpt);

#endif

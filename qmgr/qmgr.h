/* The queue manager's internal interfaces: configuration, in-memory
 * active messages (qmgr_active.c), delivery jobs and their scheduling per
 * transport and next hop (qmgr_deliver.c), and the queue scans
 * (qmgr_scan.c). */
#ifndef POSTHORN_QMGR_H
#define POSTHORN_QMGR_H
#include <stddef.h>
#include "qmgr_message.h"
#include "qmgr_resolve.h"
#include "vstr.h"

struct qmgr_config {
    long active_limit;          /* qmgr_message_active_limit */
    long queue_run_delay;       /* seconds between deferred queue scans */
    long minimal_backoff;
    long maximal_backoff;
    long process_limit;         /* default_process_limit: per transport */
    long announce_timeout;      /* connect + announcement + request */
    long reply_timeout;         /* one delivery */
    long throttle_time;         /* transport pause after an agent failure */
    struct qmgr_resolver resolver;
};
extern struct qmgr_config qmgr_conf;

/* A message in active/ being delivered. */
struct qmgr_msg {
    struct qmgr_message *m;
    int jobs;                   /* unfinished delivery jobs (+1 while set up) */
    double active_time;         /* wall clock when it entered active/ */
};

/* Outcome of one recipient, as reported by a delivery agent (or made up by
 * qmgr when the agent failed). */
enum qmgr_status { QMGR_SENT, QMGR_DEFERRED, QMGR_BOUNCED };
struct qmgr_outcome {
    size_t rcpt;                /* index into m->rcpts */
    enum qmgr_status status;
    const char *dsn;
    const char *reason;
    const char *action;         /* RFC 3464 action */
    const char *relay;          /* who took it */
};

/* qmgr_active.c */
double qmgr_wall_now(void);
int qmgr_active_count(void);
int qmgr_active_room(void);     /* how many more may become active */
/* Move from_queue/id to active/, read it and start delivery.  Returns 0
 * when the message was taken (or disposed of: corrupt, vanished), -1 when
 * it stays where it is. */
int qmgr_activate(const char *from_queue, const char *id);
/* Record outcomes durably: bounce log lines (fsynced) for bounced
 * recipients, 'D' marks for sent and bounced ones, one fsync of the queue
 * file; deferred ones keep their reason for the defer log. */
void qmgr_msg_outcomes(struct qmgr_msg *msg, const struct qmgr_outcome *o, size_t n);
/* Log "to=<...>, relay=none, ..., status=deferred (reason)" for a
 * recipient that qmgr itself defers, and remember the reason. */
void qmgr_msg_defer(struct qmgr_msg *msg, size_t rcpt, const char *relay, double conn_start,
                    const char *dsn, const char *reason);
/* A job of msg finished; the message is finished when none is left. */
void qmgr_msg_job_done(struct qmgr_msg *msg);
/* Append one line "address<TAB>dsn<TAB>reason\n" (tabs and control
 * characters in the parts replaced by spaces). */
void qmgr_status_line(vstr *out, const char *address, const char *dsn, const char *reason);

/* qmgr_deliver.c */
/* Queue delivery of recipients rcpt[0..n) of msg via transport to
 * nexthop, in jobs of at most the transport's recipient limit. */
void qmgr_deliver_submit(struct qmgr_msg *msg, const char *transport, const char *nexthop,
                         const size_t *rcpt, size_t n);
/* Per-transport limits from main.cf: "<transport>_<suffix>", else the
 * default_<suffix> parameter. */
long qmgr_transport_limit(const char *transport, const char *suffix);

/* qmgr_scan.c */
void qmgr_recover(void);                /* active/ -> incoming/ after a restart */
void qmgr_scan_incoming(void);
void qmgr_scan_deferred(void);          /* files whose retry time has come */
void qmgr_flush(void);                  /* all deferred mail due now */
void qmgr_scan_resume(void);            /* room freed up: scan again if needed */

#endif

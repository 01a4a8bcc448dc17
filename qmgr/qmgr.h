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
    long initial_concurrency;   /* initial_destination_concurrency */
    long dead_time;             /* dead destination pause: minimal_backoff_time */
    long max_lifetime;          /* maximal_queue_lifetime */
    long bounce_lifetime;       /* bounce_queue_lifetime */
    long rcpt_limit;            /* qmgr_message_recipient_limit */
    long bounce_retry;          /* retry after a failed bounce flush */
    struct qmgr_resolver resolver;
};
extern struct qmgr_config qmgr_conf;

/* A message in active/ being delivered. */
struct qmgr_msg {
    char *id;                   /* queue id (also the key of the active table) */
    struct qmgr_msg *hash_next; /* next in its active table bucket */
    struct qmgr_message *m;     /* the current slice of its recipients */
    int jobs;                   /* unfinished delivery jobs (+1 while set up) */
    double active_time;         /* wall clock when it entered active/ */
    size_t deferred_before;     /* recipients left pending by earlier slices */
    int defer_log_started;      /* this pass wrote the defer log already */
    int expired_logged;
    int flush_step;             /* next notification kind to flush */
    int flush_failed;           /* a bounce/success notification is owed */
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
/* Take no new messages; restart once the active ones are finished. */
void qmgr_drain(void);
/* Move from_queue/id to active/, read it and start delivery.  Returns 0
 * when the message was taken (or disposed of: corrupt, vanished), -1 when
 * it stays where it is. */
int qmgr_activate(const char *from_queue, const char *id);
/* Record outcomes durably: a bounce/ log entry (fsynced) for a bounced
 * recipient and a trace/ entry for a delivered one that asked for
 * NOTIFY=SUCCESS, then the 'D' mark; deferred ones keep their reason for
 * the defer/ log written when the message leaves active/. */
void qmgr_msg_outcomes(struct qmgr_msg *msg, const struct qmgr_outcome *o, size_t n);
/* Log "to=<...>, relay=none, ..., status=deferred (reason)" for a
 * recipient that qmgr itself defers, and remember the reason. */
void qmgr_msg_defer(struct qmgr_msg *msg, size_t rcpt, const char *relay, double conn_start,
                    const char *dsn, const char *reason);
/* A job of msg finished; the message is finished when none is left. */
void qmgr_msg_job_done(struct qmgr_msg *msg);

/* qmgr_deliver.c */
/* Queue delivery of recipients rcpt[0..n) of msg via transport to
 * nexthop, in jobs of at most the transport's recipient limit. */
void qmgr_deliver_submit(struct qmgr_msg *msg, const char *transport, const char *nexthop,
                         const size_t *rcpt, size_t n);
/* Per-transport limits from main.cf: "<transport>_<suffix>", else the
 * default_<suffix> parameter. */
long qmgr_transport_limit(const char *transport, const char *suffix);

/* qmgr_bounce.c: ask bounce(8) to flush the notification of kind
 * ("bounce", "delay", "success") for active/id; done(ctx, ok) is called
 * from the event loop, ok only after the reply status "0". */
void qmgr_bounce_flush(const char *id, const char *kind, void (*done)(void *ctx, int ok),
                       void *ctx);

/* qmgr_scan.c */
void qmgr_recover(void);                /* active/ -> incoming/ after a restart */
void qmgr_scan_incoming(void);
void qmgr_scan_deferred(void);          /* files whose retry time has come */
void qmgr_flush(void);                  /* all deferred mail due now */
void qmgr_scan_resume(void);            /* room freed up: scan again if needed */
/* A file in queue (incoming/ or deferred/) was left alone because its
 * old copy was still active: scan that queue again once room frees up. */
void qmgr_scan_later(const char *queue);

#endif

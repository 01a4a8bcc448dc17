/* The queue manager's view of one queue file: envelope, recipients with
 * the offsets of their records (for marking them done in place), and the
 * reader that validates a file's structure while loading it. */
#ifndef POSTHORN_QMGR_MESSAGE_H
#define POSTHORN_QMGR_MESSAGE_H
#include <stddef.h>
#include <sys/types.h>
#include "stream.h"
#include "vstr.h"

/* More recipients than this in one file makes it corrupt (smtpd caps a
 * message at smtpd_recipient_limit, far below). */
#define QMGR_MESSAGE_MAX_RCPT 1000000

enum qmgr_rcpt_state {
    QMGR_RCPT_PENDING = 0,  /* R record: still to be delivered */
    QMGR_RCPT_DONE,         /* D record, or marked done during this run */
};

struct qmgr_rcpt {
    char *address;
    char *orcpt;            /* DSN original recipient, "" when none */
    int notify;             /* DSN_NOTIFY_* mask, 0 when none */
    off_t offset;           /* file offset of the R/D record's type byte */
    int state;
    char *dsn;              /* last deferral: "4.4.0", or NULL */
    char *reason;           /* last deferral reason, or NULL */
};

struct qmgr_message {
    char *id;
    char *sender;           /* "" for the null sender */
    char *arrival;          /* T record text "seconds.microseconds" */
    long long arrival_sec;
    long arrival_usec;
    long flags;             /* REC_FLAG_* */
    long long content_size; /* Z */
    long long content_offset;
    long long rcpt_count;
    struct qmgr_rcpt *rcpts;
    size_t nrcpt;
    size_t rcpt_cap;
    size_t npending;        /* recipients in QMGR_RCPT_PENDING */
    long long warn_time;    /* W: delay warning due (seconds), 0: none */
    off_t warn_offset;      /* offset of the W record, -1: file has none */
    size_t rcpt_total;      /* R and D records in the file */
    size_t unread_pending;  /* pending recipients left out of rcpts[] */
    off_t next_offset;      /* offset of the first one left out */
};

/* Read and validate a whole queue file from s (positioned at its start).
 * Returns the message, or NULL with the reason in why ("truncated record
 * after offset 123", "missing end record", ...).  max_rcpt bounds the
 * number of recipients (0: QMGR_MESSAGE_MAX_RCPT). */
struct qmgr_message *qmgr_message_read(stream *s, const char *id, size_t max_rcpt, vstr *why);
/* The same for one slice of a message with many recipients: only pending
 * recipients at or after min_offset are kept, at most max_pending of
 * them (0: no limit); done recipients are counted, not kept.  The rest is
 * counted in unread_pending, starting at next_offset. */
struct qmgr_message *qmgr_message_read_slice(stream *s, const char *id, size_t max_pending,
                                             off_t min_offset, vstr *why);
void qmgr_message_free(struct qmgr_message *m);

/* Remember a deferral reason for a recipient (replaces an older one). */
void qmgr_rcpt_set_reason(struct qmgr_rcpt *r, const char *dsn, const char *reason);

#endif

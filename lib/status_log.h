/* Per-message delivery status logs: bounce/ID (recipients that failed),
 * defer/ID (why pending recipients are still waiting), trace/ID
 * (recipients delivered with NOTIFY=SUCCESS).  qmgr writes them as
 * outcomes arrive; bounce(8) reads them to write delivery status
 * notifications, and the queue listing reads defer/ for its reasons.
 * Each entry is one attribute list (attr.h) in the file, so no text from
 * a remote server can forge an entry. */
#ifndef POSTHORN_STATUS_LOG_H
#define POSTHORN_STATUS_LOG_H
#include <stddef.h>
#include "vstr.h"

struct status_entry {
    char *rcpt;         /* final recipient */
    char *orcpt;        /* original recipient ("rfc822;addr"), or "" */
    int notify;         /* DSN_NOTIFY_* mask, 0 = not given */
    long long offset;   /* the recipient's record offset in the queue file */
    char *status;       /* enhanced status code "5.1.1" */
    char *action;       /* failed, delayed, delivered, relayed, expanded */
    char *relay;        /* remote MTA "host[addr]:port", "local", "none" */
    char *reason;       /* diagnostic text */
    long long when;     /* time of the attempt (seconds) */
};

/* Append one entry to LOG/ID (log is QUEUE_BOUNCE_LOG, QUEUE_DEFER_LOG or
 * QUEUE_TRACE_LOG); with sync, fsync before returning.  0 or -1 (errno). */
int status_log_append(const char *log, const char *id, const struct status_entry *e, int sync);
/* Replace LOG/ID with these entries (atomically: temp file in the same
 * directory, fsync, rename, directory fsync); n == 0 removes the log. */
int status_log_rewrite(const char *log, const char *id, const struct status_entry *e, size_t n);
/* Read every entry; a missing log is 0 entries.  -1 with err on a
 * malformed log. */
int status_log_read(const char *log, const char *id, struct status_entry **entries, size_t *n,
                    vstr *err);
void status_log_free(struct status_entry *entries, size_t n);
int status_log_remove(const char *log, const char *id);   /* missing is fine */

/* Limits of one log: a longer or larger log is malformed (a runaway
 * writer must not make every reader allocate without bound). */
#define STATUS_LOG_MAX_ENTRIES 1000000
#define STATUS_LOG_MAX_SIZE (256L * 1024 * 1024)
/* Longest text field (reason, addresses) of an entry: longer text is cut
 * when written and a malformed entry when read. */
#define STATUS_LOG_MAX_TEXT 4096

/* The codec behind the file functions (unit tests, fuzzing).  encode
 * appends one entry (line breaks and NULs in text fields become spaces,
 * text longer than STATUS_LOG_MAX_TEXT is cut); parse reads every entry
 * of a whole log image: 0, or -1 with err (and nothing in *entries). */
void status_log_encode(vstr *out, const struct status_entry *e);
int status_log_parse(const char *buf, size_t len, struct status_entry **entries, size_t *n,
                     vstr *err);

#endif

/* bounce(8) internals: the parts of a queue file a notification needs
 * (bounce_queue.c), the choice of status log entries that get a notice
 * and the notification text itself (bounce_dsn.c: pure functions, unit
 * tested), and the hand-off to cleanup (bounce_cleanup.c). */
#ifndef POSTHORN_BOUNCE_H
#define POSTHORN_BOUNCE_H
#include <stddef.h>
#include <time.h>
#include "status_log.h"
#include "stream.h"
#include "vstr.h"

/* The three kinds of notification, named as in the flush request. */
enum dsn_kind { DSN_KIND_BOUNCE, DSN_KIND_DELAY, DSN_KIND_SUCCESS };

struct bounce_rcpt {
    long long offset;       /* of the R (or D) record */
    char *address;
    char *orcpt;            /* "" when none */
    int notify;             /* DSN_NOTIFY_* mask, 0 = not given */
    int done;               /* D record */
};

/* What bounce needs from one queue file. */
struct bounce_message {
    long long arrival;      /* T: seconds */
    int flags;              /* F: REC_FLAG_* */
    char *sender;           /* S: "" for the null sender */
    char *envid;            /* A envid=, "" when none */
    char *ret;              /* A ret=, "" when none (FULL, HDRS) */
    struct bounce_rcpt *rcpts;
    size_t nrcpt;
    vstr *headers;          /* the message header as encoded L/C records */
    vstr *content;          /* the whole content as L/C records, unless truncated */
    long content_size;      /* bytes of content read (lines + CRLF) */
    int truncated;          /* content exceeded the size limit: only headers kept */
};

/* Longest queue file envelope and header bounce accepts (the header is
 * capped by cleanup's header_size_limit already; this bounds memory). */
#define BOUNCE_MAX_HEADER (4L * 1024 * 1024)
#define BOUNCE_MAX_RCPTS 1000000

/* bounce_queue.c: read a queue file from s.  size_limit caps the copy of
 * the content (bounce_size_limit).  0, or -1 with the problem in err. */
int bounce_message_read(stream *s, long size_limit, struct bounce_message *m, vstr *err);
void bounce_message_free(struct bounce_message *m);
/* The recipient whose record starts at offset, or NULL. */
const struct bounce_rcpt *bounce_message_rcpt(const struct bounce_message *m, long long offset);

/* bounce_dsn.c */
int dsn_kind_parse(const char *s, enum dsn_kind *kind);
/* Does this entry get a notice of this kind (RFC 3461 NOTIFY)?  notify
 * is the recipient's mask (0: not given). */
int dsn_entry_wanted(enum dsn_kind kind, int notify);
/* Pick the entries of a status log that get a notice: the wanted ones,
 * the last entry per recipient (a defer log repeats them), and for delay
 * notices only recipients that are still pending in m.  Returns the count;
 * *out (freed by the caller with free()) points into entries. */
size_t dsn_select(enum dsn_kind kind, const struct bounce_message *m,
                  const struct status_entry *entries, size_t n,
                  const struct status_entry ***out);

/* What kind of notice to write. */
struct dsn_request {
    enum dsn_kind kind;
    const char *queue_id;       /* of the original message */
    const char *myhostname;
    const char *to;             /* recipient of the notice (To:) */
    const char *postmaster;     /* named in the text as the contact */
    time_t now;
    long long retry_until;      /* for delay notices: arrival + maximal_queue_lifetime */
    int postmaster_copy;        /* a copy for the postmaster: headers only */
    int double_bounce;          /* undeliverable notice of null-sender mail */
    unsigned rnd;               /* for the Message-ID and boundary */
};

/* Compose the whole notification (header and body) as L records appended
 * to out.  Every generated line is at most 998 bytes; the original
 * content's records are copied unchanged.  Returns the REC_FLAG_* flags
 * the notification needs (8BITMIME when it carries 8-bit content). */
int dsn_compose(vstr *out, const struct dsn_request *req, const struct bounce_message *m,
                const struct status_entry *const *e, size_t n);

/* bounce_cleanup.c: hand a composed message to cleanup.  0 with the new
 * queue id, or -1 with the reason ("4.3.0 ..."). */
int bounce_post(const char *sender, const char *rcpt, int flags, const char *log_ident,
                const vstr *records, vstr *queue_id, vstr *why);

/* bounce_flush.c: one flush request.  0 with the notification's id in
 * dsn_id ("" when none was due), or -1 with reason. */
int bounce_flush(const char *queue_name, const char *queue_id, enum dsn_kind kind,
                 vstr *dsn_id, vstr *reason);

#endif

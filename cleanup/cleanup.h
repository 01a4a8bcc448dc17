/* cleanup(8) internals: the state of one message being written to the
 * queue, and the steps the service routine drives (cleanup_message.c). */
#ifndef POSTHORN_CLEANUP_H
#define POSTHORN_CLEANUP_H
#include <stddef.h>
#include <sys/types.h>
#include "argv.h"
#include "cleanup_headers.h"
#include "queue_id.h"
#include "stream.h"
#include "vstr.h"

/* Why a message failed; the first reason sticks. */
enum cleanup_error {
    CLEANUP_OK = 0,
    CLEANUP_ERR_WRITE,      /* queue file could not be created/written */
    CLEANUP_ERR_SIZE,       /* message_size_limit exceeded */
    CLEANUP_ERR_PROTO,      /* malformed or out-of-order client records */
    CLEANUP_ERR_NORCPT,     /* sendmail -t found no recipient (permanent) */
};

/* At most this many recipients are taken from the header (sendmail -t). */
#define CLEANUP_EXTRACT_MAX 10000

/* Where the client is in its record stream. */
enum cleanup_phase {
    PHASE_ENVELOPE,         /* F S A O Y R, until M */
    PHASE_CONTENT,          /* L C, until X or E */
    PHASE_EXTRACTED,        /* after X: only E */
    PHASE_DONE,             /* E seen */
};

struct cleanup_limits {
    long message_size_limit;
    long header_size_limit;
    const char *myhostname;
    const char *myorigin;       /* appended to unqualified addresses (NULL: none) */
    long delay_warning_time;    /* seconds; 0: no delayed-mail warning */
};

typedef struct cleanup_state {
    char id[QUEUE_ID_LEN + 1];
    struct cleanup_limits lim;
    stream *dst;            /* the queue file, NULL once writing failed */
    int error;              /* enum cleanup_error */
    int saved_errno;        /* for CLEANUP_ERR_WRITE */
    vstr *why;              /* text for the warning */
    enum cleanup_phase phase;
    /* envelope */
    int flags;
    int have_flags, have_sender, have_orcpt, have_notify;
    long rcpt_count;
    long envelope_size;
    off_t size_offset;      /* offset of the Z record */
    off_t content_offset;   /* offset of the M record */
    /* content */
    long content_size;
    int in_header;
    int in_piece;           /* a C piece was seen; the line ends with an L */
    long header_size;
    vstr *header_recs;      /* encoded records of complete header lines */
    vstr *line_recs;        /* encoded records of the current line's pieces */
    vstr *line_start;       /* first bytes of the current line (classification) */
    hdr_scan scan;
    vstr *added_msgid;      /* Message-ID cleanup generated, if any */
    time_t now;
    /* From: for local submissions and sendmail -t (REC_FLAG_EXTRACT) */
    vstr *sender;           /* the S record */
    vstr *full_name;        /* A full_name=..., empty if none */
    int extract_notify;     /* A dsn_notify=N: notify mask of extracted recipients */
    long line_size;         /* content bytes counted for the current line */
    int dropping;           /* the current field is Bcc:/Resent-Bcc: */
    int saw_resent;         /* any Resent-* field */
    enum hdr_addr_field cur_field;  /* recipient field being continued */
    vstr *cur_value;        /* its value so far */
    argv_t *env_rcpts;      /* envelope recipients (for duplicates) */
    argv_t *hdr_rcpts;      /* from To/Cc/Bcc */
    argv_t *resent_rcpts;   /* from Resent-To/Cc/Bcc */
    argv_t *extracted;      /* what goes after X, duplicates removed */
} cleanup_state;

cleanup_state *cleanup_state_new(const char *id, const struct cleanup_limits *lim, time_t now);
void cleanup_state_free(cleanup_state *st);
/* Write the envelope head (V, Z placeholder, T, W) to dst. */
void cleanup_begin(cleanup_state *st, stream *dst, const struct timeval *arrival);
/* Process one client record.  Returns 0 to continue, 1 after E, -1 on a
 * protocol error (the request cannot be read further). */
int cleanup_record(cleanup_state *st, int type, const char *data, size_t len);
/* Format the Z record's data into out (exactly REC_SIZE_WIDTH bytes). */
void cleanup_size_data(vstr *out, long content_size, long content_offset, long rcpt_count);
/* Note an error (first one wins); the queue file is no longer written. */
void cleanup_fail(cleanup_state *st, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The reply for the client: status "0" or an SMTP code, and a reason
 * starting with an enhanced status code. */
void cleanup_reply_text(const cleanup_state *st, const char **status, const char **reason);

/* The service routine (cleanup_service.c). */
void cleanup_service(stream *client, void *ctx);

#endif

/* Maildrop files: what postdrop writes into maildrop/, pickup feeds to
 * cleanup and showq lists.  One validator for all of them, pure functions
 * on records (and a buffer or a stream around them), so unit tests and the
 * fuzzer drive exactly the code that guards pickup.
 *
 * A maildrop file is a sequence of records (record.h) in this order:
 *   V  MAILDROP_VERSION ("maildrop-1")                 \  the header,
 *   T  postdrop's submission time "seconds.microseconds" |  written by
 *   A  "uid=N": the real uid of postdrop's caller      /  postdrop
 * followed by the submission stream of TEAM.md ("The local submission
 * path"), which sendmail writes to postdrop's stdin:
 *   F  flags, decimal 0..65535 (users may only mean REC_FLAG_EXTRACT;
 *      pickup drops every other bit)
 *   S  sender ("" = null sender)
 *   A  zero or more of envid=TEXT (xtext-decoded, at most 100 bytes),
 *      ret=FULL|HDRS, full_name=TEXT (at most MAILDROP_TEXT_MAX bytes),
 *      each name at most once
 *   per recipient: [O orcpt] [Y notify mask 1..15, NEVER alone] R address
 *      (at least one R unless F has REC_FLAG_EXTRACT; at most max_rcpts)
 *   M  (empty), then the content as L and C records (the content never
 *      ends inside a C piece), X (empty), E (empty)
 * and nothing after E.  Envelope text (sender, recipients, orcpt,
 * attribute values) must be valid UTF-8 without control characters (no
 * NUL, CR, LF; this includes envid and full_name); sender and recipients are at most MAILDROP_ADDR_MAX bytes,
 * orcpt at most MAILDROP_ORCPT_MAX.  The size measured the way cleanup
 * measures it (envelope record data plus each content line + 2) must not
 * exceed max_size (message_size_limit), and the raw bytes of the stream
 * must not exceed maildrop_raw_limit().
 *
 * The owner of a maildrop file is the sender's identity: pickup moves a
 * file whose owner differs from its "uid=" record to corrupt/.
 *
 * For showq: maildrop_read_info() reads one maildrop file from an open
 * descriptor (validating all of it) and returns its submission time
 * (time_sec/time_usec from T), uid, sender, recipients, flags,
 * content_size (as in a queue file's Z record: each line + 2) and size
 * (bytes of the file).  A file that does not validate gives -1 with the
 * reason; skip it (pickup will move it to corrupt/). */
#ifndef POSTHORN_MAILDROP_H
#define POSTHORN_MAILDROP_H
#include <stddef.h>
#include <sys/types.h>
#include "argv.h"
#include "mail_addr.h"
#include "stream.h"
#include "vstr.h"

#define MAILDROP_VERSION "maildrop-1"
#define MAILDROP_ADDR_MAX MAIL_ADDR_MAX
#define MAILDROP_ORCPT_MAX 500      /* RFC 3461 */
#define MAILDROP_ENVID_MAX 100      /* RFC 3461 */
#define MAILDROP_TEXT_MAX 512       /* full_name */
#define MAILDROP_RCPT_MAX 10000     /* default max_rcpts */

/* What a checker expects first. */
enum maildrop_mode {
    MAILDROP_SUBMISSION,    /* the stream sendmail writes (starts with F) */
    MAILDROP_FILE,          /* a whole maildrop file (starts with V T A) */
};

/* Results of maildrop_check_record() / maildrop_get(). */
enum maildrop_status {
    MAILDROP_MORE = 0,      /* record accepted, more must follow */
    MAILDROP_END = 1,       /* the E record: complete */
    MAILDROP_BAD = -1,      /* invalid input; maildrop_check_why() says why */
    MAILDROP_IOERR = -2,    /* read error or timeout (maildrop_get only) */
};

struct maildrop_limits {
    long long max_size;     /* message_size_limit - MAILDROP_HEADROOM */
    long max_rcpts;
};

/* Room kept below message_size_limit for what pickup and cleanup add to a
 * local submission (Received:, Message-ID:, Date:, a From: with a full
 * name of up to MAILDROP_TEXT_MAX bytes, the uid attribute): a message
 * postdrop accepted is never refused by cleanup for its size, which
 * would leave it undeliverable after sendmail had reported success. */
#define MAILDROP_HEADROOM 2048

/* max_size = message_size_limit - MAILDROP_HEADROOM (at least 1),
 * max_rcpts = MAILDROP_RCPT_MAX. */
void maildrop_limits_init(struct maildrop_limits *lim, long long message_size_limit);
/* Largest acceptable raw stream / file, a hard cap independent of the
 * message size: 3 * max_size + 64 kB (record headers cost up to 3 bytes
 * per data byte for one-byte pieces, far less for real messages). */
long long maildrop_raw_limit(const struct maildrop_limits *lim);

/* What a checker learned so far. */
struct maildrop_info {
    long long time_sec;     /* from T; -1 in submission mode */
    long time_usec;
    long long uid;          /* from "uid="; -1 in submission mode */
    int flags;              /* F, as written (unmasked) */
    int utf8_envelope;      /* sender or a recipient is not ASCII */
    char *sender;           /* NULL until S */
    argv_t *rcpts;          /* only when collecting (see maildrop_check_new) */
    long rcpt_count;
    long long envelope_size;/* data bytes of envelope records */
    long long content_size; /* line bytes + 2 per line */
    long long size;         /* raw bytes consumed (maildrop_get) */
};

typedef struct maildrop_check maildrop_check;

/* collect_rcpts: keep the recipient addresses in info->rcpts. */
maildrop_check *maildrop_check_new(enum maildrop_mode mode, const struct maildrop_limits *lim,
                                   int collect_rcpts);
void maildrop_check_free(maildrop_check *c);
/* Check one record: MAILDROP_MORE, MAILDROP_END or MAILDROP_BAD.  After
 * MAILDROP_BAD or MAILDROP_END every further record is MAILDROP_BAD. */
int maildrop_check_record(maildrop_check *c, int type, const char *data, size_t len);
/* Count raw bytes (record headers included) against maildrop_raw_limit:
 * MAILDROP_MORE or MAILDROP_BAD. */
int maildrop_check_raw(maildrop_check *c, size_t nbytes);
const char *maildrop_check_why(const maildrop_check *c);
const struct maildrop_info *maildrop_check_info(const maildrop_check *c);
/* True while the records seen so far are the header (V, T, uid) of a
 * file, i.e. the next record to be checked would not be forwarded as-is;
 * false from the F record on. */
int maildrop_check_in_header(const maildrop_check *c);

/* Read and check the next record of s into *type / data: MAILDROP_MORE,
 * MAILDROP_END, MAILDROP_BAD (also for truncation and oversize) or
 * MAILDROP_IOERR (why says which; errno kept for STREAM_ERROR). */
int maildrop_get(stream *s, maildrop_check *c, int *type, vstr *data);
/* After MAILDROP_END: MAILDROP_END when the input ends there, MAILDROP_BAD
 * when anything follows, MAILDROP_IOERR on a read error. */
int maildrop_expect_eof(stream *s, maildrop_check *c);

/* A whole buffer: 0 when valid, -1 with the reason in why (may be NULL). */
int maildrop_validate(const void *buf, size_t len, enum maildrop_mode mode,
                      const struct maildrop_limits *lim, vstr *why);

/* showq: read a maildrop file from fd (from its current offset; the fd is
 * not closed) with a per-read timeout of timeout seconds.  0 and *info
 * filled (free with maildrop_info_free), or -1 with the reason in why. */
int maildrop_read_info(int fd, const struct maildrop_limits *lim, int timeout,
                       struct maildrop_info *info, vstr *why);
void maildrop_info_free(struct maildrop_info *info);

#endif

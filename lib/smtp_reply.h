/* Replies of a remote SMTP/LMTP server, as the client (smtp(8)) reads them:
 * one or more lines "NNN-text" ... "NNN text" with the same code, the
 * optional RFC 3463 enhanced status code at the start of the text, and
 * the EHLO keywords of a 250 reply to EHLO/LHLO.  Everything is bounded:
 * the length of a line, the number of lines, hence the whole reply. */
#ifndef POSTHORN_SMTP_REPLY_H
#define POSTHORN_SMTP_REPLY_H
#include <stddef.h>
#include <sys/types.h>
#include "vstr.h"

#define SMTP_REPLY_LINE_MAX 2048    /* bytes per line, CRLF excluded (RFC 5321: 512) */
#define SMTP_REPLY_LINES_MAX 100    /* lines per reply */

struct smtp_reply {
    int code;           /* 200..599 once complete (0 while empty) */
    vstr *dsn;          /* enhanced status code of the first line ("5.1.1"), or "" */
    vstr *raw;          /* the lines as received (control bytes shown as
                         * '?'), joined by one space
                         * ("550-5.1.1 first 550 5.1.1 second"): for reasons */
    vstr *text;         /* each line's text without code and enhanced code,
                         * lines separated by "\n" */
    int nlines;
    int complete;       /* the last line (code + space or code alone) was seen */
};

enum smtp_reply_status {
    SMTP_REPLY_MORE = 0,        /* a continuation line: feed the next one */
    SMTP_REPLY_DONE = 1,        /* the reply is complete */
    SMTP_REPLY_BAD = -1,        /* malformed; why says how */
};

void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
void smtp_reply_reset(struct smtp_reply *r);
/* Add one line (CR LF or LF already removed; a trailing CR is dropped).
 * Lines must share one code of the form [2-5][0-5][0-9] followed by '-'
 * (more follow), ' ' or nothing (last line); at most SMTP_REPLY_LINE_MAX
 * bytes and SMTP_REPLY_LINES_MAX lines. */
int smtp_reply_add_line(struct smtp_reply *r, const char *line, size_t len, vstr *why);
/* Parse one whole reply from a buffer of CRLF/LF terminated lines:
 * bytes consumed (> 0), 0 when the reply is incomplete, -1 if malformed. */
ssize_t smtp_reply_parse(struct smtp_reply *r, const char *buf, size_t len, vstr *why);

/* An RFC 3463 code "C.SSS.DDD" (class 2, 4 or 5; subject and detail 1..3
 * digits) at the start of s, followed by a space or the end: its length,
 * else 0. */
size_t smtp_dsn_prefix(const char *s, size_t len);
/* The status for a reply: its enhanced code when present and of the same
 * class as the code, else "C.0.0" from the reply code's class C (2, 4 or
 * 5; a 3XX reply, which is never a final status, gives "4.0.0").  out is
 * replaced. */
void smtp_reply_status(const struct smtp_reply *r, vstr *out);

/* ESMTP extensions announced in a 250 reply to EHLO / LHLO. */
#define SMTP_EXT_PIPELINING 0x01
#define SMTP_EXT_SIZE 0x02
#define SMTP_EXT_8BITMIME 0x04
#define SMTP_EXT_SMTPUTF8 0x08
#define SMTP_EXT_DSN 0x10
#define SMTP_EXT_ENHANCEDSTATUSCODES 0x20
#define SMTP_EXT_STARTTLS 0x40

struct smtp_ext {
    int flags;          /* SMTP_EXT_* */
    long long size;     /* SIZE limit; 0 = none announced or "SIZE" alone */
};

/* Keywords are matched without regard to case, on every line but the
 * first (the server's name and greeting); unknown keywords are ignored,
 * "SIZE" with a malformed number counts as SIZE without a limit. */
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ext *ext);

#endif

/* Queue file records: the one format for queue files and for the message
 * stream from smtpd/pickup to cleanup.  A record is
 *     type (1 byte) | length (1..4 bytes, base 128, low 7 bits first,
 *                     high bit = more) | data (length bytes)
 * A type letter keeps one meaning forever:
 *   V  format version "1" (first record of a queue file)
 *   Z  sizes, fixed width REC_SIZE_WIDTH: "content_size content_offset
 *      rcpt_count" space padded; rewritten in place by cleanup
 *   T  arrival time "seconds.microseconds"
 *   W  delay warning time, fixed width REC_WARN_WIDTH: decimal seconds
 *      since the epoch, space padded; when a delayed-mail warning is due,
 *      or 0 when none is (delay_warning_time = 0, or the warning went out).
 *      Optional (files written before it existed lack it); written by
 *      cleanup right after T, rewritten in place by qmgr
 *   F  flags, decimal (REC_FLAG_*)
 *   S  envelope sender (empty for the null sender)
 *   A  named attribute "name=value" (client_address, client_name, helo_name,
 *      protocol, envid, ret, ...)
 *   O  original recipient (DSN ORCPT, "type;address"), for the next R
 *   Y  DSN notify mask, decimal (DSN_NOTIFY_*), for the next R
 *   R  recipient, not yet done
 *   D  recipient done: an R whose type byte was rewritten in place
 *   M  start of message content (data empty)
 *   L  a content line, without its line terminator
 *   C  a piece of a longer content line: more pieces follow, and the last
 *      piece is an L
 *   X  end of content; recipient records may follow (extracted later)
 *   E  end of queue file (mandatory; data empty)
 * Anything else, a truncated record or a missing E makes the file corrupt. */
#ifndef POSTHORN_RECORD_H
#define POSTHORN_RECORD_H
#include <stddef.h>
#include <sys/types.h>
#include "stream.h"
#include "vstr.h"

#define REC_VERSION 'V'
#define REC_SIZE 'Z'
#define REC_TIME 'T'
#define REC_FLAGS 'F'
#define REC_WARN 'W'
#define REC_SENDER 'S'
#define REC_ATTR 'A'
#define REC_ORCPT 'O'
#define REC_NOTIFY 'Y'
#define REC_RCPT 'R'
#define REC_DONE 'D'
#define REC_MESSAGE 'M'
#define REC_LINE 'L'
#define REC_CONT 'C'
#define REC_XTRA 'X'
#define REC_END 'E'

#define REC_MAX_LEN 65536          /* longest data part of one record */
#define REC_SIZE_WIDTH 48
#define REC_WARN_WIDTH 20

#define REC_FLAG_LOCAL_CLIENT 1    /* add missing Date/Message-ID */
#define REC_FLAG_SMTPUTF8 2        /* message requires SMTPUTF8 */
#define REC_FLAG_8BITMIME 4        /* BODY=8BITMIME */
#define REC_FLAG_EXTRACT 8         /* sendmail -t: cleanup takes recipients from
                                    * To/Cc/Bcc (Resent-* when present) and
                                    * removes Bcc */

#define DSN_NOTIFY_NEVER 1
#define DSN_NOTIFY_SUCCESS 2
#define DSN_NOTIFY_FAILURE 4
#define DSN_NOTIFY_DELAY 8

enum rec_status {
    REC_OK = 0,
    REC_EOF = -1,       /* clean end before any byte of a record */
    REC_CORRUPT = -5,   /* bad type, bad or oversized length, truncated */
};

int rec_type_valid(int type);
/* Header bytes for a record; returns the header length (2..5). */
size_t rec_header(unsigned char out[5], int type, size_t len);
/* Append one record to a stream / a buffer.  Returns 0 or a STREAM_* error. */
int rec_put(stream *s, int type, const void *data, size_t len);
int rec_puts(stream *s, int type, const char *str);
int rec_putf(stream *s, int type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void rec_append(vstr *buf, int type, const void *data, size_t len);
/* Read one record; data is replaced.  Returns REC_OK, REC_EOF, REC_CORRUPT
 * or a STREAM_* error.  *offset (if not NULL) gets the record's position
 * (stream_offset before the type byte) for in-place rewriting. */
int rec_get(stream *s, int *type, vstr *data, off_t *offset);
/* Parse one record from a buffer: returns bytes consumed (> 0), 0 when the
 * buffer holds only part of a record, or REC_CORRUPT. */
ssize_t rec_parse(const void *buf, size_t len, int *type, const char **data, size_t *dlen);

#endif

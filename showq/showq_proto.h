/* The queue listing protocol of public/showq, shared by showq(8) (the
 * writer) and postqueue(1) (the reader), and compatible with what tools
 * read from Postfix 3.x's showq socket.  On the wire every list is a
 * sequence of NAME NUL VALUE NUL ended by a single NUL (attr.h):
 *
 *   {protocol = "mail_queue_list_protocol"}            announcement
 *   per message, in queue order (maildrop, incoming, active, deferred,
 *   hold):
 *   {queue_name, queue_id, time (arrival, seconds since the epoch),
 *    size (message content size in bytes; the file size for maildrop),
 *    forced_expire ("0" or "1"), sender ("" for the null sender),
 *    then for every pending recipient: recipient, reason ("" or why
 *    delivery was deferred)}
 *   {}                                                 end of the listing
 *
 * The server takes no input.  The reader below is for untrusted use (any
 * local user runs postqueue): it bounds every length and count and
 * rejects anything not shaped as above. */
#ifndef POSTHORN_SHOWQ_PROTO_H
#define POSTHORN_SHOWQ_PROTO_H
#include <stddef.h>
#include "vstr.h"

#define SHOWQ_SOCKET "public/showq"
#define SHOWQ_PROTOCOL "mail_queue_list_protocol"

/* Recipients listed per message: the attribute codec caps a list at
 * ATTR_MAX_COUNT entries, so a message with more lists the first ones. */
#define SHOWQ_MAX_LISTED_RCPTS 2000
/* Reader limits. */
#define SHOWQ_MAX_NAME 64
#define SHOWQ_MAX_VALUE 65536
#define SHOWQ_MAX_RCPTS 100000

struct showq_rcpt {
    char *address;
    char *reason;           /* "" when none */
};

struct showq_entry {
    char *queue_name;
    char *queue_id;
    long long arrival;      /* seconds */
    long long size;         /* bytes */
    int forced_expire;
    char *sender;
    struct showq_rcpt *rcpts;
    size_t nrcpt;
};

/* Incremental reader of the stream: feed it bytes as they arrive; it
 * calls on_entry for each complete message.  showq_reader_feed returns 0
 * (more input wanted), 1 (the end of the listing was seen; later bytes
 * are an error) or -1 (malformed: reason in err). */
typedef struct showq_reader showq_reader;
typedef void (*showq_entry_fn)(const struct showq_entry *e, void *ctx);

showq_reader *showq_reader_new(showq_entry_fn on_entry, void *ctx);
int showq_reader_feed(showq_reader *r, const void *buf, size_t len, vstr *err);
int showq_reader_done(const showq_reader *r);
void showq_reader_free(showq_reader *r);

/* Output formats of postqueue (postqueue_format.c). */
typedef struct showq_listing showq_listing;
/* The traditional mailq listing: header, one block per message, totals. */
showq_listing *showq_listing_new(void);
void showq_listing_entry(showq_listing *l, const struct showq_entry *e, vstr *out);
void showq_listing_end(showq_listing *l, vstr *out);
void showq_listing_free(showq_listing *l);
/* One JSON object (and a newline) per message, Postfix's field names. */
void showq_json_entry(const struct showq_entry *e, vstr *out);
/* A JSON string literal with quotes; invalid UTF-8 bytes become U+FFFD. */
void showq_json_string(vstr *out, const char *s, size_t len);

#endif

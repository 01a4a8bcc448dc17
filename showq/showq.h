/* The server side of the queue listing: reading one queue file into what
 * the listing shows (showq_queue.c), shared by showq(8) and flush(8). */
#ifndef POSTHORN_SHOWQ_H
#define POSTHORN_SHOWQ_H
#include <stddef.h>
#include "vstr.h"

/* Longest queue file read for a listing; a longer one is skipped. */
#define SHOWQ_MAX_FILE_SIZE (1024L * 1024 * 1024)

struct showq_file_rcpt {
    char *address;
    char *reason;           /* "" when none */
    long long offset;       /* of the R record */
};

struct showq_file {
    long long arrival;
    long long size;
    int forced_expire;
    char *sender;
    struct showq_file_rcpt *rcpts;
    size_t nrcpt;           /* pending recipients kept (at most max_rcpts) */
    size_t more_rcpts;      /* pending recipients beyond max_rcpts */
};

/* Read QUEUE/ID (the pending recipients only; with reasons, the latest
 * deferral reason of each from defer/ID).  max_rcpts bounds what is kept.
 * 0, or -1 when the file vanished, is not a regular file, is too large
 * or is malformed (text in err). */
int showq_file_read(const char *queue, const char *id, int reasons, size_t max_rcpts,
                    struct showq_file *f, vstr *err);
void showq_file_free(struct showq_file *f);
/* The listing entry of one message as an attribute list image
 * (showq_proto.h); values are made safe for the codec. */
void showq_file_encode(vstr *out, const char *queue, const char *id, const struct showq_file *f);

#endif

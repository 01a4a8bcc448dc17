/* Non-blocking input/output buffers for event-driven daemons: bytes come
 * in with one read(2) per readiness event and lines are extracted from the
 * buffer without further system calls; output is queued and written when
 * the socket is writable.  Bounded: input never grows past its limit. */
#ifndef POSTHORN_NETBUF_H
#define POSTHORN_NETBUF_H
#include <stddef.h>
#include <sys/types.h>

typedef struct netbuf {
    char *data;
    size_t start;   /* first unconsumed byte */
    size_t end;     /* one past the last byte */
    size_t cap;
    size_t limit;   /* hard maximum capacity */
} netbuf;

void netbuf_init(netbuf *b, size_t limit);
void netbuf_free(netbuf *b);
size_t netbuf_avail(const netbuf *b);            /* end - start */
/* read(2) once into the buffer: >0 bytes read, 0 EOF, -1 error (errno;
 * EAGAIN when nothing is there), -2 buffer full. */
ssize_t netbuf_fill(netbuf *b, int fd);
/* Find a complete line ending in "\n" within the first maxlen bytes.
 * Returns its length including "\n", 0 when no complete line is buffered
 * yet and fewer than maxlen bytes are buffered, or -1 when maxlen bytes are
 * buffered without a "\n" (line too long). */
ssize_t netbuf_line(const netbuf *b, size_t maxlen);
const char *netbuf_peek(const netbuf *b);        /* data + start */
void netbuf_consume(netbuf *b, size_t n);
void netbuf_append(netbuf *b, const void *p, size_t n);   /* may exceed limit: output side */
/* write(2) what is queued: bytes written, 0 if nothing queued, -1 error
 * (errno; EAGAIN when the socket is full). */
ssize_t netbuf_flush(netbuf *b, int fd);

#endif

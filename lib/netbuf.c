/* Byte buffers for non-blocking sockets.  Input: one read(2) per readiness
 * event, lines found in place, capacity grown on demand but never past the
 * caller's limit, consumed bytes reclaimed by moving the rest to the front
 * only when that pays.  Output: appended freely (the writer is our own
 * code), written as far as the socket takes it. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"
#include "mem.h"
#include "netbuf.h"

#define NETBUF_MIN_CAP 4096
#define NETBUF_READ_CHUNK 16384

void netbuf_init(netbuf *b, size_t limit)
{
    b->data = NULL;
    b->start = b->end = b->cap = 0;
    b->limit = limit;
}

void netbuf_free(netbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->start = b->end = b->cap = 0;
}

size_t netbuf_avail(const netbuf *b)
{
    return b->end - b->start;
}

/* Move unconsumed bytes to the front of the buffer. */
static void netbuf_compact(netbuf *b)
{
    if (b->start == 0)
        return;
    if (b->end > b->start)
        memmove(b->data, b->data + b->start, b->end - b->start);
    b->end -= b->start;
    b->start = 0;
}

/* Grow geometrically to at least want bytes, but not beyond max. */
static void netbuf_grow(netbuf *b, size_t want, size_t max)
{
    size_t cap = b->cap ? b->cap : NETBUF_MIN_CAP;

    while (cap < want)
        cap = cap * 2 > cap ? cap * 2 : want;
    if (cap > max)
        cap = max > want ? max : want;
    if (cap != b->cap) {
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
}

ssize_t netbuf_fill(netbuf *b, int fd)
{
    size_t top, want;
    ssize_t n;

    /* Reclaim consumed space when the tail is full or the consumed part
     * is at least half the buffer, so the memmove cost stays amortized. */
    if (b->start == b->end)
        b->start = b->end = 0;
    else if (b->start > 0 && (b->end >= b->cap || b->end >= b->limit || b->start >= b->cap / 2))
        netbuf_compact(b);
    if (b->end >= b->limit)
        return -2;
    /* Grow when little room is left, never past the limit. */
    if (b->cap - b->end < NETBUF_READ_CHUNK / 4 && b->cap < b->limit) {
        want = b->cap * 2 > b->end + NETBUF_READ_CHUNK ? b->cap * 2 : b->end + NETBUF_READ_CHUNK;
        netbuf_grow(b, want < b->limit ? want : b->limit, b->limit);
    }
    top = b->cap < b->limit ? b->cap : b->limit;
    if (top <= b->end)
        return -2;
    do {
        n = read(fd, b->data + b->end, top - b->end);
    } while (n < 0 && errno == EINTR);
    if (n > 0)
        b->end += (size_t) n;
    return n;
}

ssize_t netbuf_line(const netbuf *b, size_t maxlen)
{
    size_t avail = b->end - b->start;
    size_t scan = avail < maxlen ? avail : maxlen;
    const char *nl;

    if (scan == 0)
        return maxlen == 0 ? -1 : 0;
    nl = memchr(b->data + b->start, '\n', scan);
    if (nl != NULL)
        return (ssize_t) (nl - (b->data + b->start)) + 1;
    return avail >= maxlen ? -1 : 0;
}

const char *netbuf_peek(const netbuf *b)
{
    return b->data ? b->data + b->start : "";
}

void netbuf_consume(netbuf *b, size_t n)
{
    if (n > b->end - b->start)
        n = b->end - b->start;
    b->start += n;
    if (b->start == b->end)
        b->start = b->end = 0;
}

void netbuf_append(netbuf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (b->cap - b->end < n) {
        /* Compact first when that alone makes room. */
        if (b->start > 0 && b->cap - (b->end - b->start) >= n)
            netbuf_compact(b);
        else {
            if (n > SIZE_MAX - b->end)
                msg_panic("netbuf_append: size overflow");
            netbuf_compact(b);
            netbuf_grow(b, b->end + n, SIZE_MAX);
        }
    }
    memcpy(b->data + b->end, p, n);
    b->end += n;
}

ssize_t netbuf_flush(netbuf *b, int fd)
{
    size_t avail = b->end - b->start;
    ssize_t n;

    if (avail == 0)
        return 0;
    for (;;) {
        /* send() so a closed peer gives EPIPE, not SIGPIPE; pipes and
         * files fall back to write(). */
        n = send(fd, b->data + b->start, avail, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, b->data + b->start, avail);
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    if (n > 0)
        netbuf_consume(b, (size_t) n);
    return n;
}

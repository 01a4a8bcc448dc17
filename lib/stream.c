/* Buffered blocking I/O over a file descriptor with a deadline on every
 * operation: each public call that may wait computes its deadline once
 * and every wait inside it is a poll(2) bounded by the time left, so a
 * peer that trickles bytes cannot hold a call longer than the timeout.
 * Sockets are read and written with MSG_DONTWAIT (and MSG_NOSIGNAL), so
 * the descriptor's own blocking mode, shared with other processes, is left
 * alone.  Lines are read with a caller-supplied maximum length. */
#include "config.h"
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "mem.h"
#include "stream.h"
#include "vstr.h"

#define STREAM_BUFSIZE 16384

struct stream {
    int fd;
    int is_socket;
    int timeout;                /* seconds; <= 0: none */
    long long deadline_ms;      /* of the operation in progress */
    char *rbuf;
    size_t rpos, rend;
    char *wbuf;
    size_t wlen;
    int werr;                   /* sticky: first failed write's status */
    int werrno;
    off_t offset;
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start the deadline of one public operation. */
static void op_begin(stream *s)
{
    s->deadline_ms = s->timeout > 0 ? now_ms() + (long long) s->timeout * 1000 : -1;
}

/* Wait until fd is ready for events or the deadline passes. */
static int wait_ready(stream *s, short events)
{
    struct pollfd pfd;
    int wait_ms, n;

    for (;;) {
        if (s->deadline_ms < 0) {
            wait_ms = -1;
        } else {
            long long left = s->deadline_ms - now_ms();

            if (left <= 0) {
                errno = ETIMEDOUT;
                return STREAM_TIMEOUT;
            }
            wait_ms = left > 1000000000 ? 1000000000 : (int) left;
        }
        pfd.fd = s->fd;
        pfd.events = events;
        pfd.revents = 0;
        n = poll(&pfd, 1, wait_ms);
        if (n > 0)
            return STREAM_OK;           /* ready, or error/hangup: the I/O call says which */
        if (n == 0) {
            errno = ETIMEDOUT;
            return STREAM_TIMEOUT;
        }
        if (errno != EINTR)
            return STREAM_ERROR;
    }
}

/* One read into the (empty) read buffer: STREAM_OK, EOF, TIMEOUT, ERROR. */
static int fill(stream *s)
{
    ssize_t n;
    int st;

    s->rpos = s->rend = 0;
    for (;;) {
        if (!s->is_socket && s->deadline_ms >= 0 && (st = wait_ready(s, POLLIN)) != STREAM_OK)
            return st;
        if (s->is_socket)
            n = recv(s->fd, s->rbuf, STREAM_BUFSIZE, MSG_DONTWAIT);
        else
            n = read(s->fd, s->rbuf, STREAM_BUFSIZE);
        if (n > 0) {
            s->rend = (size_t) n;
            return STREAM_OK;
        }
        if (n == 0)
            return STREAM_EOF;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if ((st = wait_ready(s, POLLIN)) != STREAM_OK)
                return st;
            continue;
        }
        return STREAM_ERROR;
    }
}

/* Write all of buf, waiting within the deadline. */
static int write_all(stream *s, const char *buf, size_t len)
{
    ssize_t n;
    int st;

    while (len > 0) {
        if (!s->is_socket && s->deadline_ms >= 0 && (st = wait_ready(s, POLLOUT)) != STREAM_OK)
            return st;
        if (s->is_socket)
            n = send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        else
            n = write(s->fd, buf, len);
        if (n >= 0) {
            buf += n;
            len -= (size_t) n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if ((st = wait_ready(s, POLLOUT)) != STREAM_OK)
                return st;
            continue;
        }
        return STREAM_ERROR;
    }
    return STREAM_OK;
}

stream *stream_fdopen(int fd)
{
    stream *s = xcalloc(1, sizeof(*s));
    struct stat st;

    s->fd = fd;
    s->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    s->rbuf = xmalloc(STREAM_BUFSIZE);
    s->wbuf = xmalloc(STREAM_BUFSIZE);
    s->deadline_ms = -1;
    return s;
}

void stream_free(stream *s)
{
    if (s == NULL)
        return;
    free(s->rbuf);
    free(s->wbuf);
    free(s);
}

int stream_close(stream *s)
{
    int ret = 0;

    if (stream_flush(s) != STREAM_OK)
        ret = -1;
    if (close(s->fd) != 0)
        ret = -1;
    stream_free(s);
    return ret;
}

int stream_fd(const stream *s)
{
    return s->fd;
}

void stream_set_timeout(stream *s, int seconds)
{
    s->timeout = seconds;
}

const char *stream_strerror(int status)
{
    switch (status) {
    case STREAM_OK:
        return "success";
    case STREAM_EOF:
        return "unexpected end of input";
    case STREAM_TIMEOUT:
        return "timeout";
    case STREAM_ERROR:
        return strerror(errno);
    case STREAM_TOOLONG:
        return "line too long";
    default:
        return "unknown stream error";
    }
}

int stream_getline(stream *s, vstr *line, size_t maxlen)
{
    size_t got = 0, take, avail;
    char *nl;
    int st;

    vstr_reset(line);
    op_begin(s);
    for (;;) {
        if (s->rpos == s->rend) {
            st = fill(s);
            if (st == STREAM_EOF)
                return got > 0 ? STREAM_OK : STREAM_EOF;
            if (st != STREAM_OK)
                return st;
        }
        if (got >= maxlen)
            return STREAM_TOOLONG;
        avail = s->rend - s->rpos;
        if (avail > maxlen - got)
            avail = maxlen - got;
        nl = memchr(s->rbuf + s->rpos, '\n', avail);
        take = nl != NULL ? (size_t) (nl - (s->rbuf + s->rpos)) + 1 : avail;
        vstr_append(line, s->rbuf + s->rpos, take);
        s->rpos += take;
        s->offset += (off_t) take;
        got += take;
        if (nl != NULL)
            return STREAM_OK;
    }
}

int stream_skip_line(stream *s)
{
    char *nl;
    size_t take;
    int st, any = 0;

    op_begin(s);
    for (;;) {
        if (s->rpos == s->rend) {
            st = fill(s);
            if (st == STREAM_EOF)
                return any ? STREAM_OK : STREAM_EOF;
            if (st != STREAM_OK)
                return st;
        }
        nl = memchr(s->rbuf + s->rpos, '\n', s->rend - s->rpos);
        take = nl != NULL ? (size_t) (nl - (s->rbuf + s->rpos)) + 1 : s->rend - s->rpos;
        s->rpos += take;
        s->offset += (off_t) take;
        any = 1;
        if (nl != NULL)
            return STREAM_OK;
    }
}

int stream_read_exact(stream *s, void *buf, size_t n)
{
    char *out = buf;
    size_t take;
    int st;

    op_begin(s);
    while (n > 0) {
        if (s->rpos == s->rend && (st = fill(s)) != STREAM_OK)
            return st;
        take = s->rend - s->rpos;
        if (take > n)
            take = n;
        memcpy(out, s->rbuf + s->rpos, take);
        s->rpos += take;
        s->offset += (off_t) take;
        out += take;
        n -= take;
    }
    return STREAM_OK;
}

int stream_getc(stream *s)
{
    int st;

    if (s->rpos == s->rend) {
        op_begin(s);
        if ((st = fill(s)) != STREAM_OK)
            return st;
    }
    s->offset++;
    return (unsigned char) s->rbuf[s->rpos++];
}

size_t stream_buffered(const stream *s)
{
    return s->rend - s->rpos;
}

/* Remember a write failure: bytes were lost, so every later write, flush
 * and close must fail too (a queue file must never look complete). */
static int write_failed(stream *s, int st)
{
    if (s->werr == 0) {
        s->werr = st;
        s->werrno = errno;
    }
    return st;
}

static int write_error(stream *s)
{
    errno = s->werrno;
    return s->werr;
}

int stream_write(stream *s, const void *buf, size_t n)
{
    int st;

    if (s->werr)
        return write_error(s);
    if (n <= STREAM_BUFSIZE - s->wlen) {
        memcpy(s->wbuf + s->wlen, buf, n);
        s->wlen += n;
        s->offset += (off_t) n;
        return STREAM_OK;
    }
    if ((st = stream_flush(s)) != STREAM_OK)
        return st;
    if (n <= STREAM_BUFSIZE) {
        memcpy(s->wbuf, buf, n);
        s->wlen = n;
    } else {
        /* Too big to buffer: write it straight through. */
        op_begin(s);
        if ((st = write_all(s, buf, n)) != STREAM_OK)
            return write_failed(s, st);
    }
    s->offset += (off_t) n;
    return STREAM_OK;
}

int stream_puts(stream *s, const char *str)
{
    return stream_write(s, str, strlen(str));
}

int stream_printf(stream *s, const char *fmt, ...)
{
    vstr *tmp = vstr_new(256);
    va_list ap;
    int st;

    va_start(ap, fmt);
    vstr_vprintf(tmp, fmt, ap);
    va_end(ap);
    st = stream_write(s, vstr_str(tmp), vstr_len(tmp));
    vstr_free(tmp);
    return st;
}

int stream_flush(stream *s)
{
    int st;

    if (s->werr)
        return write_error(s);
    if (s->wlen == 0)
        return STREAM_OK;
    op_begin(s);
    st = write_all(s, s->wbuf, s->wlen);
    s->wlen = 0;
    return st == STREAM_OK ? st : write_failed(s, st);
}

off_t stream_offset(const stream *s)
{
    return s->offset;
}

int stream_seek(stream *s, off_t off)
{
    int st;

    if ((st = stream_flush(s)) != STREAM_OK)
        return st;
    s->rpos = s->rend = 0;
    if (lseek(s->fd, off, SEEK_SET) < 0)
        return STREAM_ERROR;
    s->offset = off;
    return STREAM_OK;
}

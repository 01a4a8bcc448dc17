/* Buffered streams over a file descriptor, for the blocking daemons
 * (cleanup, local, IPC clients).  Every read and write is bounded in time
 * (a per-operation deadline, enforced with poll) and every line read is
 * bounded in length.  The event-driven daemons use netbuf.h instead. */
#ifndef POSTHORN_STREAM_H
#define POSTHORN_STREAM_H
#include <stddef.h>
#include <sys/types.h>
#include "vstr.h"

typedef struct stream stream;

enum stream_status {
    STREAM_OK = 0,
    STREAM_EOF = -1,      /* clean end of input */
    STREAM_TIMEOUT = -2,  /* deadline expired */
    STREAM_ERROR = -3,    /* I/O error (errno set) */
    STREAM_TOOLONG = -4,  /* line longer than the caller's limit */
};

stream *stream_fdopen(int fd);
void stream_free(stream *s);           /* frees the stream, does not close fd */
int stream_close(stream *s);           /* flushes, closes fd, frees; 0 or -1 */
int stream_fd(const stream *s);
/* Per-operation timeout in seconds; <= 0 means no timeout. */
void stream_set_timeout(stream *s, int seconds);
const char *stream_strerror(int status);

/* Read one line into line (replaced), including its "\n" if present.
 * At most maxlen bytes are stored; a longer line returns STREAM_TOOLONG with
 * the first maxlen bytes in line and the rest of that line left unread
 * (call stream_skip_line to discard it).  A final line without "\n"
 * before EOF is returned as STREAM_OK; the next call returns STREAM_EOF. */
int stream_getline(stream *s, vstr *line, size_t maxlen);
int stream_skip_line(stream *s);
/* Read exactly n bytes (STREAM_EOF if input ends first). */
int stream_read_exact(stream *s, void *buf, size_t n);
/* One byte: 0..255, or a negative stream_status. */
int stream_getc(stream *s);
/* Bytes already buffered and readable without blocking. */
size_t stream_buffered(const stream *s);

/* Writes are buffered.  A failed write is sticky: every later write,
 * flush and close of the stream fails too, so a file written with
 * unchecked rec_put calls cannot look complete after stream_close. */
int stream_write(stream *s, const void *buf, size_t n);
int stream_puts(stream *s, const char *str);
int stream_printf(stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int stream_flush(stream *s);

/* Logical offset: bytes read or written through this stream since it was
 * opened or last seeked (for a file opened at 0, the file offset). */
off_t stream_offset(const stream *s);
/* Flush, discard read-ahead, lseek(fd, off, SEEK_SET). */
int stream_seek(stream *s, off_t off);

#endif

/* Typed, length-prefixed records: the format of queue files and of the
 * message stream into cleanup.  The length is a base-128 number of at most
 * four bytes (low bits first) and never more than REC_MAX_LEN, so a reader
 * knows a record's size before it allocates anything; an unknown type,
 * an oversized length or a record cut short is reported as corrupt. */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "record.h"

#define REC_LEN_BYTES 4

int rec_type_valid(int type)
{
    switch (type) {
    case REC_VERSION:
    case REC_SIZE:
    case REC_TIME:
    case REC_FLAGS:
    case REC_WARN:
    case REC_SENDER:
    case REC_ATTR:
    case REC_ORCPT:
    case REC_NOTIFY:
    case REC_RCPT:
    case REC_DONE:
    case REC_MESSAGE:
    case REC_LINE:
    case REC_CONT:
    case REC_XTRA:
    case REC_END:
        return 1;
    default:
        return 0;
    }
}

size_t rec_header(unsigned char out[5], int type, size_t len)
{
    size_t n = 0;

    out[n++] = (unsigned char) type;
    /* Lengths beyond REC_MAX_LEN are a caller bug; the encoding below
     * would still be unambiguous but no reader accepts it. */
    do {
        unsigned char b = len & 0x7f;

        len >>= 7;
        if (len != 0)
            b |= 0x80;
        out[n++] = b;
    } while (len != 0 && n < 1 + REC_LEN_BYTES);
    return n;
}

int rec_put(stream *s, int type, const void *data, size_t len)
{
    unsigned char hdr[5];
    size_t hlen;
    int st;

    if (len > REC_MAX_LEN)
        return STREAM_TOOLONG;
    hlen = rec_header(hdr, type, len);
    if ((st = stream_write(s, hdr, hlen)) != STREAM_OK)
        return st;
    return len > 0 ? stream_write(s, data, len) : STREAM_OK;
}

int rec_puts(stream *s, int type, const char *str)
{
    return rec_put(s, type, str, strlen(str));
}

int rec_putf(stream *s, int type, const char *fmt, ...)
{
    vstr *tmp = vstr_new(128);
    va_list ap;
    int st;

    va_start(ap, fmt);
    vstr_vprintf(tmp, fmt, ap);
    va_end(ap);
    st = rec_put(s, type, vstr_str(tmp), vstr_len(tmp));
    vstr_free(tmp);
    return st;
}

void rec_append(vstr *buf, int type, const void *data, size_t len)
{
    unsigned char hdr[5];
    size_t hlen = rec_header(hdr, type, len);

    vstr_append(buf, hdr, hlen);
    vstr_append(buf, data, len);
}

int rec_get(stream *s, int *type, vstr *data, off_t *offset)
{
    size_t len = 0;
    int c, i, st;

    vstr_reset(data);
    if (offset != NULL)
        *offset = stream_offset(s);
    c = stream_getc(s);
    if (c == STREAM_EOF)
        return REC_EOF;
    if (c < 0)
        return c;
    *type = c;
    if (!rec_type_valid(c))
        return REC_CORRUPT;
    for (i = 0;; i++) {
        if (i == REC_LEN_BYTES)
            return REC_CORRUPT;
        c = stream_getc(s);
        if (c == STREAM_EOF)
            return REC_CORRUPT;
        if (c < 0)
            return c;
        len |= (size_t) (c & 0x7f) << (7 * i);
        if (!(c & 0x80))
            break;
    }
    if (len > REC_MAX_LEN)
        return REC_CORRUPT;
    vstr_reserve(data, len);
    st = stream_read_exact(s, vstr_str(data), len);
    if (st == STREAM_EOF)
        return REC_CORRUPT;
    if (st != STREAM_OK)
        return st;
    data->len = len;
    data->data[len] = '\0';
    return REC_OK;
}

ssize_t rec_parse(const void *buf, size_t len, int *type, const char **data, size_t *dlen)
{
    const unsigned char *p = buf;
    size_t rlen = 0, pos = 1;
    int i;

    if (len == 0)
        return 0;
    if (!rec_type_valid(p[0]))
        return REC_CORRUPT;
    for (i = 0;; i++) {
        if (i == REC_LEN_BYTES)
            return REC_CORRUPT;
        if (pos >= len)
            return 0;
        rlen |= (size_t) (p[pos] & 0x7f) << (7 * i);
        if (rlen > REC_MAX_LEN)
            return REC_CORRUPT;         /* no need to wait for more */
        if (!(p[pos++] & 0x80))
            break;
    }
    if (rlen > REC_MAX_LEN)
        return REC_CORRUPT;
    if (len - pos < rlen)
        return 0;
    *type = p[0];
    *data = (const char *) p + pos;
    *dlen = rlen;
    return (ssize_t) (pos + rlen);
}

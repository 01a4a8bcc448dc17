/* bounce(8): read what a notification needs from a queue file: arrival
 * time, flags, sender, DSN envelope attributes (envid, ret), the
 * recipients with their record offsets, and the content as records (the
 * header always, the whole content while it fits bounce_size_limit). */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "bounce.h"
#include "mem.h"
#include "record.h"
#include "stream.h"
#include "vstr.h"

/* RFC 5322 field name characters: printable ASCII except the colon. */
static int is_ftext(unsigned char c)
{
    return c >= 33 && c <= 126 && c != ':';
}

/* Does this line belong to a message header (field or continuation)? */
static int header_line(const char *p, size_t len)
{
    size_t i = 0;

    if (len > 0 && (p[0] == ' ' || p[0] == '\t'))
        return 1;
    while (i < len && is_ftext((unsigned char)p[i]))
        i++;
    if (i == 0)
        return 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i < len && p[i] == ':';
}

/* A decimal number in [0, max] from record data. */
static int rec_number(const char *p, size_t len, long long max, long long *out)
{
    long long v = 0;
    size_t i;

    if (len == 0 || len > 18)
        return -1;
    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static char *text_dup(const vstr *data)
{
    return xstrndup(vstr_str(data), vstr_len(data));
}

/* Envelope records that may appear before M and after X. */
struct rcpt_pending {
    char *orcpt;
    int notify;
};

static int add_rcpt(struct bounce_message *m, struct rcpt_pending *p, int type, const vstr *data,
                    long long offset, vstr *err)
{
    struct bounce_rcpt *r;

    if (m->nrcpt >= BOUNCE_MAX_RCPTS) {
        vstr_set(err, "too many recipients");
        return -1;
    }
    if (vstr_len(data) == 0 || memchr(vstr_str(data), '\0', vstr_len(data)) != NULL) {
        vstr_set(err, "bad recipient record");
        return -1;
    }
    if ((m->nrcpt & (m->nrcpt - 1)) == 0 || m->nrcpt == 0)
        m->rcpts = xreallocarray(m->rcpts, m->nrcpt ? m->nrcpt * 2 : 1, sizeof(*m->rcpts));
    r = &m->rcpts[m->nrcpt++];
    r->offset = offset;
    r->address = text_dup(data);
    r->orcpt = p->orcpt ? p->orcpt : xstrdup("");
    r->notify = p->notify;
    r->done = (type == REC_DONE);
    p->orcpt = NULL;
    p->notify = 0;
    return 0;
}

static int envelope_record(struct bounce_message *m, struct rcpt_pending *p, int type,
                           const vstr *data, long long offset, vstr *err)
{
    const char *s = vstr_str(data);
    size_t len = vstr_len(data);
    long long num;

    switch (type) {
    case REC_VERSION:
    case REC_SIZE:
    case REC_WARN:
        return 0;
    case REC_TIME:
        /* "seconds.microseconds": the seconds are enough. */
        if (memchr(s, '.', len) != NULL)
            len = (size_t)((const char *)memchr(s, '.', len) - s);
        if (rec_number(s, len, 0x7fffffffffffLL, &num) != 0) {
            vstr_set(err, "bad arrival time record");
            return -1;
        }
        m->arrival = num;
        return 0;
    case REC_FLAGS:
        if (rec_number(s, len, 0xffff, &num) != 0) {
            vstr_set(err, "bad flags record");
            return -1;
        }
        m->flags = (int)num;
        return 0;
    case REC_SENDER:
        free(m->sender);
        m->sender = text_dup(data);
        return 0;
    case REC_ATTR:
        if (len > 6 && strncmp(s, "envid=", 6) == 0) {
            free(m->envid);
            m->envid = xstrndup(s + 6, len - 6);
        } else if (len > 4 && strncmp(s, "ret=", 4) == 0) {
            free(m->ret);
            m->ret = xstrndup(s + 4, len - 4);
        }
        return 0;
    case REC_ORCPT:
        free(p->orcpt);
        p->orcpt = text_dup(data);
        return 0;
    case REC_NOTIFY:
        if (rec_number(s, len, 15, &num) != 0) {
            vstr_set(err, "bad notify record");
            return -1;
        }
        p->notify = (int)num;
        return 0;
    case REC_RCPT:
    case REC_DONE:
        return add_rcpt(m, p, type, data, offset, err);
    default:
        /* Other envelope records (W, the delay warning time, and any
         * later addition) say nothing a notification needs. */
        if (rec_type_valid(type))
            return 0;
        vstr_reset(err);
        vstr_printf(err, "unexpected record type %d in envelope", type);
        return -1;
    }
}

int bounce_message_read(stream *s, long size_limit, struct bounce_message *m, vstr *err)
{
    struct rcpt_pending pending = {NULL, 0};
    enum { ENVELOPE, CONTENT, EXTRACTED } phase = ENVELOPE;
    vstr *data = vstr_new(256);
    vstr *line = vstr_new(256);     /* records of the current header line */
    int in_header = 1, type, st, ret = -1;
    off_t off;

    memset(m, 0, sizeof(*m));
    m->sender = xstrdup("");
    m->envid = xstrdup("");
    m->ret = xstrdup("");
    m->headers = vstr_new(1024);
    m->content = vstr_new(4096);
    for (;;) {
        st = rec_get(s, &type, data, &off);
        if (st != REC_OK) {
            vstr_set(err, st == REC_EOF ? "queue file ends without end record"
                                        : "malformed or unreadable queue file record");
            goto out;
        }
        if (type == REC_END) {
            if (phase == CONTENT) {
                vstr_set(err, "queue file ends inside the content");
                goto out;
            }
            break;
        }
        if (phase == CONTENT) {
            if (type == REC_XTRA) {
                phase = EXTRACTED;
                continue;
            }
            if (type != REC_LINE && type != REC_CONT) {
                vstr_reset(err);
                vstr_printf(err, "unexpected record type %d in content", type);
                goto out;
            }
            m->content_size += (long)vstr_len(data) + (type == REC_LINE ? 2 : 0);
            if (!m->truncated) {
                if (m->content_size > size_limit) {
                    m->truncated = 1;
                    vstr_free(m->content);
                    m->content = vstr_new(16);
                } else {
                    rec_append(m->content, type, vstr_str(data), vstr_len(data));
                }
            }
            if (in_header) {
                rec_append(line, type, vstr_str(data), vstr_len(data));
                if (type == REC_CONT && vstr_len(line) <= 8192)
                    continue;
                /* A header line is judged by its first piece. */
                if (type == REC_LINE) {
                    const char *first = vstr_str(line);
                    const char *fd;
                    size_t fl;
                    int ftype;

                    if (rec_parse(first, vstr_len(line), &ftype, &fd, &fl) <= 0
                        || !header_line(fd, fl)
                        || vstr_len(m->headers) + vstr_len(line) > BOUNCE_MAX_HEADER)
                        in_header = 0;
                    else
                        vstr_append(m->headers, vstr_str(line), vstr_len(line));
                } else {
                    in_header = 0;  /* an absurdly long header line ends it */
                }
                vstr_reset(line);
            }
            continue;
        }
        if (type == REC_MESSAGE) {
            if (phase != ENVELOPE) {
                vstr_set(err, "second content start record");
                goto out;
            }
            phase = CONTENT;
            continue;
        }
        if (type == REC_LINE || type == REC_CONT || type == REC_XTRA) {
            vstr_set(err, "content record outside the content");
            goto out;
        }
        if (envelope_record(m, &pending, type, data, (long long)off, err) != 0)
            goto out;
    }
    if (phase == ENVELOPE) {
        vstr_set(err, "queue file has no content");
        goto out;
    }
    ret = 0;
out:
    free(pending.orcpt);
    vstr_free(data);
    vstr_free(line);
    return ret;
}

void bounce_message_free(struct bounce_message *m)
{
    size_t i;

    for (i = 0; i < m->nrcpt; i++) {
        free(m->rcpts[i].address);
        free(m->rcpts[i].orcpt);
    }
    free(m->rcpts);
    free(m->sender);
    free(m->envid);
    free(m->ret);
    if (m->headers)
        vstr_free(m->headers);
    if (m->content)
        vstr_free(m->content);
    memset(m, 0, sizeof(*m));
}

const struct bounce_rcpt *bounce_message_rcpt(const struct bounce_message *m, long long offset)
{
    size_t lo = 0, hi = m->nrcpt, mid;

    /* Recipients were read in file order: offsets increase. */
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (m->rcpts[mid].offset == offset)
            return &m->rcpts[mid];
        if (m->rcpts[mid].offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

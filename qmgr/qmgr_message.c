/* Queue file reader for the queue manager: walks every record of a queue
 * file once, checks the order rules of record.h (V first, one Z/T/S and
 * at most one W (optional: older files lack it) before M, O/Y only in
 * front of a recipient, content only between M and X, E last and nothing
 * after it) and keeps the envelope and the
 * recipients with their record offsets (all of them, or one slice of the
 * pending ones for messages with many recipients).  Anything unexpected
 * makes the file corrupt; the caller moves it to corrupt/. */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "mem.h"
#include "qmgr_message.h"
#include "record.h"
#include "stream.h"
#include "vstr.h"

/* Where the reader is in the file. */
enum reader_phase {
    PHASE_START,        /* nothing read yet: V must come */
    PHASE_ENVELOPE,     /* after V, before M */
    PHASE_CONTENT,      /* after M, before X */
    PHASE_EXTRACTED,    /* after X, before E */
};

/* Parse a decimal number of at most 18 digits from s[0..len): 0 or -1. */
static int parse_decimal(const char *s, size_t len, long long *out)
{
    long long v = 0;
    size_t i;

    if (len == 0 || len > 18)
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Z: "content_size content_offset rcpt_count", right-padded with spaces. */
static int parse_sizes(struct qmgr_message *m, const char *s, size_t len)
{
    long long v[3];
    size_t pos = 0;
    int i;

    if (len > REC_SIZE_WIDTH)
        return -1;
    for (i = 0; i < 3; i++) {
        size_t start = pos;

        while (pos < len && s[pos] >= '0' && s[pos] <= '9')
            pos++;
        if (parse_decimal(s + start, pos - start, &v[i]) < 0)
            return -1;
        if (i < 2) {
            if (pos >= len || s[pos] != ' ')
                return -1;
            pos++;
        }
    }
    for (; pos < len; pos++)
        if (s[pos] != ' ')
            return -1;
    m->content_size = v[0];
    m->content_offset = v[1];
    m->rcpt_count = v[2];
    return 0;
}

/* T: "seconds.microseconds". */
static int parse_arrival(struct qmgr_message *m, const char *s, size_t len)
{
    const char *dot = memchr(s, '.', len);
    long long sec, usec;

    if (dot == NULL || parse_decimal(s, dot - s, &sec) < 0
        || parse_decimal(dot + 1, len - (dot + 1 - s), &usec) < 0 || usec > 999999)
        return -1;
    m->arrival_sec = sec;
    m->arrival_usec = (long) usec;
    m->arrival = xstrndup(s, len);
    return 0;
}

/* Envelope text must be usable as an IPC value and a log argument:
 * no NUL, CR or LF (the attribute writer refuses them anyway). */
static int text_ok(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (s[i] == 0 || s[i] == '\n' || s[i] == '\r')
            return 0;
    return 1;
}

static void add_rcpt(struct qmgr_message *m, const char *addr, size_t len, char *orcpt,
                     int notify, off_t offset, int done)
{
    struct qmgr_rcpt *r;

    if (m->nrcpt == m->rcpt_cap) {
        m->rcpt_cap = m->rcpt_cap ? 2 * m->rcpt_cap : 8;
        m->rcpts = xreallocarray(m->rcpts, m->rcpt_cap, sizeof(*m->rcpts));
    }
    r = &m->rcpts[m->nrcpt++];
    memset(r, 0, sizeof(*r));
    r->address = xstrndup(addr, len);
    r->orcpt = orcpt ? orcpt : xstrdup("");
    r->notify = notify;
    r->offset = offset;
    r->state = done ? QMGR_RCPT_DONE : QMGR_RCPT_PENDING;
    if (!done)
        m->npending++;
}

void qmgr_rcpt_set_reason(struct qmgr_rcpt *r, const char *dsn, const char *reason)
{
    free(r->dsn);
    free(r->reason);
    r->dsn = xstrdup(dsn);
    r->reason = xstrdup(reason);
}

void qmgr_message_free(struct qmgr_message *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->nrcpt; i++) {
        free(m->rcpts[i].address);
        free(m->rcpts[i].orcpt);
        free(m->rcpts[i].dsn);
        free(m->rcpts[i].reason);
    }
    free(m->rcpts);
    free(m->id);
    free(m->sender);
    free(m->arrival);
    free(m);
}

#define CORRUPT(...) do { vstr_printf(why, __VA_ARGS__); goto corrupt; } while (0)

/* W: seconds, right-padded with spaces to REC_WARN_WIDTH. */
static int parse_warn(struct qmgr_message *m, const char *s, size_t len)
{
    size_t digits = 0, i;
    long long v;

    if (len != REC_WARN_WIDTH)
        return -1;
    while (digits < len && s[digits] >= '0' && s[digits] <= '9')
        digits++;
    if (parse_decimal(s, digits, &v) < 0)
        return -1;
    for (i = digits; i < len; i++)
        if (s[i] != ' ')
            return -1;
    m->warn_time = v;
    return 0;
}

static struct qmgr_message *message_read(stream *s, const char *id, size_t max_rcpt,
                                         size_t max_pending, off_t min_offset, vstr *why);

struct qmgr_message *qmgr_message_read(stream *s, const char *id, size_t max_rcpt, vstr *why)
{
    return message_read(s, id, max_rcpt, 0, 0, why);
}

struct qmgr_message *qmgr_message_read_slice(stream *s, const char *id, size_t max_pending,
                                             off_t min_offset, vstr *why)
{
    return message_read(s, id, 0, max_pending ? max_pending : (size_t) -1, min_offset, why);
}

/* max_pending 0: keep every recipient (done ones too), at most max_rcpt. */
static struct qmgr_message *message_read(stream *s, const char *id, size_t max_rcpt,
                                         size_t max_pending, off_t min_offset, vstr *why)
{
    struct qmgr_message *m = xcalloc(1, sizeof(*m));
    vstr *data = vstr_new(256);
    enum reader_phase phase = PHASE_START;
    char *orcpt = NULL;         /* pending O for the next recipient */
    int have_notify = 0, notify = 0;
    int have_size = 0, have_flags = 0, in_long_line = 0;
    off_t offset = 0;
    int type, st;

    vstr_reset(why);
    m->id = xstrdup(id);
    m->warn_offset = -1;
    m->next_offset = -1;
    if (max_rcpt == 0 || max_rcpt > QMGR_MESSAGE_MAX_RCPT)
        max_rcpt = QMGR_MESSAGE_MAX_RCPT;
    for (;;) {
        const char *d;
        size_t len;

        st = rec_get(s, &type, data, &offset);
        if (st == REC_EOF)
            CORRUPT("missing end record");
        if (st == REC_CORRUPT)
            CORRUPT("bad or truncated record at offset %lld", (long long) offset);
        if (st != REC_OK)
            CORRUPT("read error at offset %lld: %s", (long long) offset, stream_strerror(st));
        d = vstr_str(data);
        len = vstr_len(data);

        if (phase == PHASE_START) {
            if (type != REC_VERSION)
                CORRUPT("first record is not a version record");
            if (len != 1 || d[0] != '1')
                CORRUPT("unsupported queue file version");
            phase = PHASE_ENVELOPE;
            continue;
        }
        /* O and Y belong to the recipient record that follows them. */
        if ((orcpt != NULL || have_notify) && type != REC_RCPT && type != REC_DONE
            && type != REC_ORCPT && type != REC_NOTIFY)
            CORRUPT("original recipient or notify record not followed by a recipient at offset %lld",
                    (long long) offset);
        switch (type) {
        case REC_SIZE:
            if (phase != PHASE_ENVELOPE || have_size)
                CORRUPT("misplaced or duplicate size record");
            if (parse_sizes(m, d, len) < 0)
                CORRUPT("malformed size record");
            have_size = 1;
            break;
        case REC_TIME:
            if (phase != PHASE_ENVELOPE || m->arrival != NULL)
                CORRUPT("misplaced or duplicate arrival time record");
            if (parse_arrival(m, d, len) < 0)
                CORRUPT("malformed arrival time record");
            break;
        case REC_WARN:
            if (phase != PHASE_ENVELOPE || m->warn_offset >= 0)
                CORRUPT("misplaced or duplicate delay warning record");
            if (parse_warn(m, d, len) < 0)
                CORRUPT("malformed delay warning record");
            m->warn_offset = offset;
            break;
        case REC_FLAGS: {
            long long f;

            if (phase != PHASE_ENVELOPE || have_flags)
                CORRUPT("misplaced or duplicate flags record");
            if (parse_decimal(d, len, &f) < 0 || f > LONG_MAX)
                CORRUPT("malformed flags record");
            m->flags = (long) f;
            have_flags = 1;
            break;
        }
        case REC_SENDER:
            if (phase != PHASE_ENVELOPE || m->sender != NULL)
                CORRUPT("misplaced or duplicate sender record");
            if (!text_ok(d, len))
                CORRUPT("malformed sender record");
            m->sender = xstrndup(d, len);
            break;
        case REC_ATTR:
            if (phase != PHASE_ENVELOPE)
                CORRUPT("misplaced attribute record");
            if (len == 0 || d[0] == '=' || memchr(d, '=', len) == NULL || !text_ok(d, len))
                CORRUPT("malformed attribute record");
            break;
        case REC_ORCPT:
            if (phase == PHASE_CONTENT || orcpt != NULL)
                CORRUPT("misplaced or duplicate original recipient record");
            if (!text_ok(d, len))
                CORRUPT("malformed original recipient record");
            orcpt = xstrndup(d, len);
            break;
        case REC_NOTIFY: {
            long long n;

            if (phase == PHASE_CONTENT || have_notify)
                CORRUPT("misplaced or duplicate notify record");
            if (parse_decimal(d, len, &n) < 0 || n > 15)
                CORRUPT("malformed notify record");
            notify = (int) n;
            have_notify = 1;
            break;
        }
        case REC_RCPT:
        case REC_DONE:
            if (phase == PHASE_CONTENT)
                CORRUPT("recipient record inside the content");
            if (len == 0 || !text_ok(d, len))
                CORRUPT("malformed recipient record");
            if (m->rcpt_total >= max_rcpt)
                CORRUPT("more than %zu recipients", max_rcpt);
            m->rcpt_total++;
            if (max_pending == 0) {
                add_rcpt(m, d, len, orcpt, notify, offset, type == REC_DONE);
            } else if (type == REC_DONE || offset < min_offset) {
                free(orcpt);
            } else if (m->npending >= max_pending) {
                if (m->unread_pending++ == 0)
                    m->next_offset = offset;
                free(orcpt);
            } else {
                add_rcpt(m, d, len, orcpt, notify, offset, 0);
            }
            orcpt = NULL;
            have_notify = 0;
            notify = 0;
            break;
        case REC_MESSAGE:
            if (phase != PHASE_ENVELOPE)
                CORRUPT("duplicate content record");
            if (len != 0)
                CORRUPT("malformed content record");
            if (!have_size || m->arrival == NULL || m->sender == NULL)
                CORRUPT("size, arrival time or sender record missing before the content");
            if (m->content_offset != (long long) offset)
                CORRUPT("content offset %lld in size record, content starts at %lld",
                        m->content_offset, (long long) offset);
            phase = PHASE_CONTENT;
            break;
        case REC_LINE:
        case REC_CONT:
            if (phase != PHASE_CONTENT)
                CORRUPT("content record outside the content");
            in_long_line = (type == REC_CONT);
            break;
        case REC_XTRA:
            if (phase != PHASE_CONTENT)
                CORRUPT("misplaced end of content record");
            if (in_long_line)
                CORRUPT("content ends inside a line");
            phase = PHASE_EXTRACTED;
            break;
        case REC_END:
            if (phase != PHASE_EXTRACTED)
                CORRUPT("end record before the end of the content");
            if (len != 0)
                CORRUPT("malformed end record");
            if ((st = rec_get(s, &type, data, &offset)) != REC_EOF)
                CORRUPT("data after the end record");
            if (m->rcpt_total == 0)
                CORRUPT("no recipients");
            vstr_free(data);
            return m;
        case REC_VERSION:
            CORRUPT("duplicate version record");
        default:
            CORRUPT("unknown record type %d at offset %lld", type, (long long) offset);
        }
    }

corrupt:
    free(orcpt);
    vstr_free(data);
    qmgr_message_free(m);
    return NULL;
}

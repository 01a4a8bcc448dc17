/* The maildrop file format (maildrop.h): a record-by-record checker that
 * enforces record order, allowed types and attribute names, lengths,
 * counts and sizes, plus small drivers that feed it from a buffer or a
 * stream.  Everything a maildrop file says is untrusted: it was written
 * by an arbitrary local user through postdrop. */
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "argv.h"
#include "mail_addr.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "mem.h"
#include "record.h"
#include "stream.h"
#include "vstr.h"

enum phase {
    PH_VERSION,     /* file: expect V */
    PH_TIME,        /* file: expect T */
    PH_UID,         /* file: expect A uid= */
    PH_FLAGS,       /* expect F */
    PH_SENDER,      /* expect S */
    PH_ENVELOPE,    /* A, O, Y, R or M */
    PH_CONTENT,     /* L, C or X */
    PH_END,         /* expect E */
    PH_DONE,        /* saw E */
    PH_BAD,         /* failed */
};

struct maildrop_check {
    struct maildrop_limits lim;
    enum phase phase;
    int collect_rcpts;
    int have_envid, have_ret, have_full_name, have_dsn_notify;
    int have_orcpt, have_notify;
    int in_piece;
    vstr *why;
    struct maildrop_info info;
};

void maildrop_limits_init(struct maildrop_limits *lim, long long message_size_limit)
{
    lim->max_size = message_size_limit > MAILDROP_HEADROOM + 1
                        ? message_size_limit - MAILDROP_HEADROOM : 1;
    lim->max_rcpts = MAILDROP_RCPT_MAX;
}

long long maildrop_raw_limit(const struct maildrop_limits *lim)
{
    return 3 * lim->max_size + 65536;
}

maildrop_check *maildrop_check_new(enum maildrop_mode mode, const struct maildrop_limits *lim,
                                   int collect_rcpts)
{
    maildrop_check *c = xcalloc(1, sizeof(*c));

    c->lim = *lim;
    c->phase = (mode == MAILDROP_FILE) ? PH_VERSION : PH_FLAGS;
    c->collect_rcpts = collect_rcpts;
    c->why = vstr_new(64);
    c->info.time_sec = -1;
    c->info.uid = -1;
    if (collect_rcpts)
        c->info.rcpts = argv_new();
    return c;
}

void maildrop_info_free(struct maildrop_info *info)
{
    if (info == NULL)
        return;
    free(info->sender);
    if (info->rcpts != NULL)
        argv_free(info->rcpts);
    info->sender = NULL;
    info->rcpts = NULL;
}

void maildrop_check_free(maildrop_check *c)
{
    if (c == NULL)
        return;
    maildrop_info_free(&c->info);
    vstr_free(c->why);
    free(c);
}

const char *maildrop_check_why(const maildrop_check *c)
{
    return vstr_str(c->why);
}

const struct maildrop_info *maildrop_check_info(const maildrop_check *c)
{
    return &c->info;
}

int maildrop_check_in_header(const maildrop_check *c)
{
    return c->phase == PH_VERSION || c->phase == PH_TIME || c->phase == PH_UID;
}

static int bad(maildrop_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(maildrop_check *c, const char *fmt, ...)
{
    va_list ap;

    if (c->phase == PH_BAD)
        return MAILDROP_BAD;
    c->phase = PH_BAD;
    vstr_reset(c->why);
    va_start(ap, fmt);
    vstr_vprintf(c->why, fmt, ap);
    va_end(ap);
    return MAILDROP_BAD;
}

/* Printable name of a record type for a reason text. */
static const char *type_name(int type, char buf[8])
{
    if (type > 32 && type < 127) {
        buf[0] = '\'';
        buf[1] = (char)type;
        buf[2] = '\'';
        buf[3] = '\0';
    } else {
        buf[0] = '0' + ((type >> 6) & 3);
        buf[1] = '0' + ((type >> 3) & 7);
        buf[2] = '0' + (type & 7);
        buf[3] = '\0';
    }
    return buf;
}

/* Valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF)
 * without C0 controls or DEL: envelope text must never carry a NUL or a
 * line break, which is how envelopes get forged. */
static int text_ok(const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data, *end = p + len;

    while (p < end) {
        unsigned c = *p;
        unsigned cp, need, min, i;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= need)
            return 0;
        for (i = 1; i <= need; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += need + 1;
    }
    return 1;
}

/* A decimal number of at most maxdigits digits in [0, max]. */
static int decimal_ok(const char *data, size_t len, size_t maxdigits, long long max,
                      long long *out)
{
    long long v = 0;
    size_t i;

    if (len == 0 || len > maxdigits)
        return 0;
    for (i = 0; i < len; i++) {
        if (data[i] < '0' || data[i] > '9')
            return 0;
        v = v * 10 + (data[i] - '0');
    }
    if (v > max)
        return 0;
    *out = v;
    return 1;
}

static int is_prefix(const char *data, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && memcmp(data, prefix, n) == 0;
}

/* T: "seconds.microseconds". */
static int time_record(maildrop_check *c, const char *data, size_t len)
{
    const char *dot = memchr(data, '.', len);
    long long sec, usec;

    if (dot == NULL || !decimal_ok(data, (size_t)(dot - data), 12, 999999999999LL, &sec)
        || (size_t)(data + len - (dot + 1)) != 6
        || !decimal_ok(dot + 1, 6, 6, 999999, &usec))
        return bad(c, "malformed submission time record");
    c->info.time_sec = sec;
    c->info.time_usec = (long)usec;
    return MAILDROP_MORE;
}

/* A DSN notify mask: 1..15, NEVER only on its own. */
static int notify_mask_ok(const char *data, size_t len)
{
    long long num;

    return decimal_ok(data, len, 2, 15, &num) && num != 0
        && (!(num & DSN_NOTIFY_NEVER) || num == DSN_NOTIFY_NEVER);
}

static int attr_record(maildrop_check *c, const char *data, size_t len)
{
    const char *value;
    size_t vlen;

    if (is_prefix(data, len, "envid=")) {
        value = data + 6, vlen = len - 6;
        if (c->have_envid++)
            return bad(c, "duplicate envid attribute");
        if (vlen == 0 || vlen > MAILDROP_ENVID_MAX || !text_ok(value, vlen))
            return bad(c, "envid attribute empty, longer than %d bytes or not clean text",
                       MAILDROP_ENVID_MAX);
    } else if (is_prefix(data, len, "ret=")) {
        value = data + 4, vlen = len - 4;
        if (c->have_ret++)
            return bad(c, "duplicate ret attribute");
        if (!((vlen == 4 && memcmp(value, "FULL", 4) == 0)
              || (vlen == 4 && memcmp(value, "HDRS", 4) == 0)))
            return bad(c, "ret attribute is neither FULL nor HDRS");
    } else if (is_prefix(data, len, "full_name=")) {
        value = data + 10, vlen = len - 10;
        if (c->have_full_name++)
            return bad(c, "duplicate full_name attribute");
        if (vlen > MAILDROP_TEXT_MAX || !text_ok(value, vlen))
            return bad(c, "full_name attribute too long or not clean UTF-8 text");
    } else if (is_prefix(data, len, ATTR_DSN_NOTIFY "=")) {
        value = data + sizeof(ATTR_DSN_NOTIFY), vlen = len - sizeof(ATTR_DSN_NOTIFY);
        if (c->have_dsn_notify++)
            return bad(c, "duplicate " ATTR_DSN_NOTIFY " attribute");
        if (!notify_mask_ok(value, vlen))
            return bad(c, ATTR_DSN_NOTIFY " attribute is not a notify mask");
    } else {
        return bad(c, "attribute not allowed in a submission");
    }
    return MAILDROP_MORE;
}

static int envelope_record(maildrop_check *c, int type, const char *data, size_t len)
{
    char tb[8];

    switch (type) {
    case REC_ATTR:
        return attr_record(c, data, len);
    case REC_ORCPT:
        if (c->have_orcpt)
            return bad(c, "two original recipient records for one recipient");
        if (len == 0 || len > MAILDROP_ORCPT_MAX || !text_ok(data, len))
            return bad(c, "original recipient empty, longer than %d bytes or not clean text",
                       MAILDROP_ORCPT_MAX);
        c->have_orcpt = 1;
        return MAILDROP_MORE;
    case REC_NOTIFY:
        if (c->have_notify)
            return bad(c, "two notify records for one recipient");
        if (!notify_mask_ok(data, len))
            return bad(c, "malformed notify record");
        c->have_notify = 1;
        return MAILDROP_MORE;
    case REC_RCPT:
        if (len == 0 || len > MAILDROP_ADDR_MAX || !text_ok(data, len))
            return bad(c, "recipient empty, longer than %d bytes or not clean text",
                       MAILDROP_ADDR_MAX);
        if (c->info.rcpt_count >= c->lim.max_rcpts)
            return bad(c, "more than %ld recipients", c->lim.max_rcpts);
        c->info.rcpt_count++;
        c->info.utf8_envelope |= has_8bit(data, len);
        if (c->collect_rcpts)
            argv_addn(c->info.rcpts, data, len);
        c->have_orcpt = c->have_notify = 0;
        return MAILDROP_MORE;
    case REC_MESSAGE:
        if (len != 0)
            return bad(c, "data in message start record");
        if (c->have_orcpt || c->have_notify)
            return bad(c, "original recipient or notify record without a recipient");
        if (c->info.rcpt_count == 0 && !(c->info.flags & REC_FLAG_EXTRACT))
            return bad(c, "no recipients");
        c->phase = PH_CONTENT;
        return MAILDROP_MORE;
    default:
        return bad(c, "record type %s not allowed in the envelope", type_name(type, tb));
    }
}

static int count_size(maildrop_check *c, int type, size_t len)
{
    if (type == REC_LINE || type == REC_CONT)
        c->info.content_size += (long long)len + (type == REC_LINE ? 2 : 0);
    else
        c->info.envelope_size += (long long)len;
    if (c->info.content_size + c->info.envelope_size > c->lim.max_size)
        return bad(c, "message size exceeds the limit of %lld bytes", c->lim.max_size);
    return MAILDROP_MORE;
}

int maildrop_check_record(maildrop_check *c, int type, const char *data, size_t len)
{
    long long num;
    char tb[8];

    if (c->phase == PH_BAD)
        return MAILDROP_BAD;
    if (len > REC_MAX_LEN)
        return bad(c, "record longer than %d bytes", REC_MAX_LEN);
    if (count_size(c, type, len) != MAILDROP_MORE)
        return MAILDROP_BAD;
    switch (c->phase) {
    case PH_VERSION:
        if (type != REC_VERSION || len != strlen(MAILDROP_VERSION)
            || memcmp(data, MAILDROP_VERSION, len) != 0)
            return bad(c, "not a maildrop file of version %s", MAILDROP_VERSION);
        c->phase = PH_TIME;
        return MAILDROP_MORE;
    case PH_TIME:
        if (type != REC_TIME)
            return bad(c, "missing submission time record");
        c->phase = PH_UID;
        return time_record(c, data, len);
    case PH_UID:
        if (type != REC_ATTR || !is_prefix(data, len, "uid=")
            || !decimal_ok(data + 4, len - 4, 10, 4294967294LL, &num))
            return bad(c, "missing or malformed uid record");
        c->info.uid = num;
        c->phase = PH_FLAGS;
        return MAILDROP_MORE;
    case PH_FLAGS:
        if (type != REC_FLAGS || !decimal_ok(data, len, 5, 65535, &num))
            return bad(c, "missing or malformed flags record");
        c->info.flags = (int)num;
        c->phase = PH_SENDER;
        return MAILDROP_MORE;
    case PH_SENDER:
        if (type != REC_SENDER)
            return bad(c, "missing sender record");
        if (len > MAILDROP_ADDR_MAX || !text_ok(data, len))
            return bad(c, "sender longer than %d bytes or not clean text", MAILDROP_ADDR_MAX);
        c->info.sender = xstrndup(data, len);
        c->info.utf8_envelope |= has_8bit(data, len);
        c->phase = PH_ENVELOPE;
        return MAILDROP_MORE;
    case PH_ENVELOPE:
        return envelope_record(c, type, data, len);
    case PH_CONTENT:
        if (type == REC_LINE) {
            c->in_piece = 0;
            return MAILDROP_MORE;
        }
        if (type == REC_CONT) {
            c->in_piece = 1;
            return MAILDROP_MORE;
        }
        if (type == REC_XTRA) {
            if (c->in_piece)
                return bad(c, "content ends inside a line");
            if (len != 0)
                return bad(c, "data in end of content record");
            c->phase = PH_END;
            return MAILDROP_MORE;
        }
        return bad(c, "record type %s not allowed in the content", type_name(type, tb));
    case PH_END:
        if (type != REC_END)
            return bad(c, "record type %s after the end of content", type_name(type, tb));
        if (len != 0)
            return bad(c, "data in end record");
        c->phase = PH_DONE;
        return MAILDROP_END;
    case PH_DONE:
        return bad(c, "data after the end record");
    case PH_BAD:
        break;
    }
    return MAILDROP_BAD;
}

int maildrop_check_raw(maildrop_check *c, size_t nbytes)
{
    if (c->phase == PH_BAD)
        return MAILDROP_BAD;
    c->info.size += (long long)nbytes;
    if (c->info.size > maildrop_raw_limit(&c->lim))
        return bad(c, "more than %lld bytes", maildrop_raw_limit(&c->lim));
    return MAILDROP_MORE;
}

int maildrop_get(stream *s, maildrop_check *c, int *type, vstr *data)
{
    off_t before = stream_offset(s);
    int st;

    if (c->phase == PH_BAD)
        return MAILDROP_BAD;
    st = rec_get(s, type, data, NULL);
    if (st == REC_OK) {
        if (maildrop_check_raw(c, (size_t)(stream_offset(s) - before)) != MAILDROP_MORE)
            return MAILDROP_BAD;
        return maildrop_check_record(c, *type, vstr_str(data), vstr_len(data));
    }
    if (st == REC_EOF) {
        if (c->phase == PH_DONE)
            return bad(c, "read after the end record");
        return bad(c, "input ends before the end record (truncated)");
    }
    if (st == REC_CORRUPT)
        return bad(c, "malformed or truncated record");
    /* STREAM_TIMEOUT, STREAM_ERROR: not the input's fault. */
    {
        int saved = errno;

        vstr_reset(c->why);
        vstr_printf(c->why, "read error: %s",
                    st == STREAM_ERROR ? strerror(saved) : stream_strerror(st));
        errno = saved;
    }
    return MAILDROP_IOERR;
}

int maildrop_expect_eof(stream *s, maildrop_check *c)
{
    int ch;

    if (c->phase != PH_DONE)
        return bad(c, "input ends before the end record (truncated)");
    ch = stream_getc(s);
    if (ch == STREAM_EOF)
        return MAILDROP_END;
    if (ch >= 0)
        return bad(c, "data after the end record");
    {
        int saved = errno;

        vstr_reset(c->why);
        vstr_printf(c->why, "read error: %s",
                    ch == STREAM_ERROR ? strerror(saved) : stream_strerror(ch));
        errno = saved;
    }
    return MAILDROP_IOERR;
}

int maildrop_validate(const void *buf, size_t len, enum maildrop_mode mode,
                      const struct maildrop_limits *lim, vstr *why)
{
    maildrop_check *c = maildrop_check_new(mode, lim, 0);
    const char *p = buf;
    size_t off = 0;
    int ret = -1, type, st = MAILDROP_MORE;

    while (off < len && st == MAILDROP_MORE) {
        const char *data;
        size_t dlen;
        ssize_t n = rec_parse(p + off, len - off, &type, &data, &dlen);

        if (n == 0) {
            bad(c, "input ends before the end record (truncated)");
            break;
        }
        if (n < 0) {
            bad(c, "malformed or truncated record");
            break;
        }
        off += (size_t)n;
        if (maildrop_check_raw(c, (size_t)n) != MAILDROP_MORE)
            break;
        st = maildrop_check_record(c, type, data, dlen);
    }
    if (c->phase == PH_DONE && off < len)
        bad(c, "data after the end record");
    else if (c->phase != PH_DONE && c->phase != PH_BAD)
        bad(c, "input ends before the end record (truncated)");
    if (c->phase == PH_DONE)
        ret = 0;
    else if (why != NULL)
        vstr_set(why, vstr_str(c->why));
    maildrop_check_free(c);
    return ret;
}

int maildrop_read_info(int fd, const struct maildrop_limits *lim, int timeout,
                       struct maildrop_info *info, vstr *why)
{
    maildrop_check *c = maildrop_check_new(MAILDROP_FILE, lim, 1);
    stream *s = stream_fdopen(fd);
    vstr *data = vstr_new(256);
    int type, st;

    stream_set_timeout(s, timeout);
    while ((st = maildrop_get(s, c, &type, data)) == MAILDROP_MORE)
        ;
    if (st == MAILDROP_END)
        st = maildrop_expect_eof(s, c);
    stream_free(s);
    vstr_free(data);
    if (st != MAILDROP_END) {
        if (why != NULL)
            vstr_set(why, vstr_str(c->why));
        maildrop_check_free(c);
        return -1;
    }
    *info = c->info;
    memset(&c->info, 0, sizeof(c->info));
    maildrop_check_free(c);
    return 0;
}

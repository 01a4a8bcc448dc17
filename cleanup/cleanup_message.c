/* cleanup(8) message processing: checks the client's records in order,
 * copies the envelope, buffers the message header to learn what it lacks,
 * adds Message-ID:/Date:/From: for local submissions, takes recipients
 * from To/Cc/Bcc for sendmail -t (writing them as R records after X and
 * removing Bcc), counts the content size and enforces message_size_limit.
 * Knows nothing about sockets. */
#include "mail_date.h"
#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include "argv.h"
#include "cleanup.h"
#include "header_addr.h"
#include "log.h"
#include "mail_proto.h"
#include "mem.h"
#include "record.h"
#include "stream.h"
#include "vstr.h"

/* How much of a header line is kept to classify it and read its value. */
#define LINE_START_MAX 4096

cleanup_state *cleanup_state_new(const char *id, const struct cleanup_limits *lim, time_t now)
{
    cleanup_state *st = xcalloc(1, sizeof(*st));

    memcpy(st->id, id, QUEUE_ID_LEN);
    st->id[QUEUE_ID_LEN] = '\0';
    st->lim = *lim;
    st->why = vstr_new(64);
    st->header_recs = vstr_new(1024);
    st->line_recs = vstr_new(256);
    st->line_start = vstr_new(256);
    st->added_msgid = vstr_new(64);
    hdr_scan_init(&st->scan);
    st->sender = vstr_new(64);
    st->full_name = vstr_new(32);
    st->cur_value = vstr_new(128);
    st->env_rcpts = argv_new();
    st->hdr_rcpts = argv_new();
    st->resent_rcpts = argv_new();
    st->extracted = argv_new();
    st->phase = PHASE_ENVELOPE;
    st->now = now;
    return st;
}

void cleanup_state_free(cleanup_state *st)
{
    if (st == NULL)
        return;
    vstr_free(st->why);
    vstr_free(st->header_recs);
    vstr_free(st->line_recs);
    vstr_free(st->line_start);
    vstr_free(st->added_msgid);
    hdr_scan_free(&st->scan);
    vstr_free(st->sender);
    vstr_free(st->full_name);
    vstr_free(st->cur_value);
    argv_free(st->env_rcpts);
    argv_free(st->hdr_rcpts);
    argv_free(st->resent_rcpts);
    argv_free(st->extracted);
    free(st);
}

void cleanup_fail(cleanup_state *st, int error, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    if (st->error != CLEANUP_OK)
        return;
    st->error = error;
    st->saved_errno = saved;
    vstr_reset(st->why);
    va_start(ap, fmt);
    vstr_vprintf(st->why, fmt, ap);
    va_end(ap);
    errno = saved;
}

static int writing(const cleanup_state *st)
{
    return st->error == CLEANUP_OK && st->dst != NULL;
}

static void put_rec(cleanup_state *st, int type, const void *data, size_t len)
{
    int status;

    if (!writing(st))
        return;
    if ((status = rec_put(st->dst, type, data, len)) != 0)
        cleanup_fail(st, CLEANUP_ERR_WRITE, "queue file write error: %s",
                     status == STREAM_ERROR ? strerror(errno) : stream_strerror(status));
}

static void put_raw(cleanup_state *st, const vstr *buf)
{
    int status;

    if (!writing(st) || vstr_len(buf) == 0)
        return;
    if ((status = stream_write(st->dst, vstr_str(buf), vstr_len(buf))) != 0)
        cleanup_fail(st, CLEANUP_ERR_WRITE, "queue file write error: %s",
                     status == STREAM_ERROR ? strerror(errno) : stream_strerror(status));
}

void cleanup_size_data(vstr *out, long content_size, long content_offset, long rcpt_count)
{
    vstr_reset(out);
    vstr_printf(out, "%ld %ld %ld", content_size, content_offset, rcpt_count);
    while (vstr_len(out) < REC_SIZE_WIDTH)
        vstr_putc(out, ' ');
}

void cleanup_begin(cleanup_state *st, stream *dst, const struct timeval *arrival)
{
    vstr *buf = vstr_new(REC_SIZE_WIDTH + 1);

    st->dst = dst;
    put_rec(st, REC_VERSION, "1", 1);
    st->size_offset = stream_offset(dst);
    cleanup_size_data(buf, 0, 0, 0);
    put_rec(st, REC_SIZE, vstr_str(buf), vstr_len(buf));
    vstr_reset(buf);
    vstr_printf(buf, "%lld.%06ld", (long long)arrival->tv_sec, (long)arrival->tv_usec);
    put_rec(st, REC_TIME, vstr_str(buf), vstr_len(buf));
    /* When the delayed-mail warning is due, fixed width so that qmgr can
     * rewrite it in place ("0") once the warning went out. */
    vstr_reset(buf);
    vstr_printf(buf, "%-*lld", REC_WARN_WIDTH,
                st->lim.delay_warning_time > 0
                    ? (long long)arrival->tv_sec + st->lim.delay_warning_time : 0LL);
    put_rec(st, REC_WARN, vstr_str(buf), vstr_len(buf));
    vstr_free(buf);
}

/* Envelope text: no NUL and no line break (injected lines forge envelopes). */
static int text_ok(const char *data, size_t len)
{
    return memchr(data, '\0', len) == NULL && memchr(data, '\n', len) == NULL
           && memchr(data, '\r', len) == NULL;
}

/* A small decimal number in [min, max]. */
static int decimal_ok(const char *data, size_t len, long min, long max, long *out)
{
    long v = 0;
    size_t i;

    if (len == 0 || len > 9)
        return 0;
    for (i = 0; i < len; i++) {
        if (data[i] < '0' || data[i] > '9')
            return 0;
        v = v * 10 + (data[i] - '0');
    }
    if (v < min || v > max)
        return 0;
    *out = v;
    return 1;
}

/* "name=value" with a lower-case identifier name. */
static int attr_record_ok(const char *data, size_t len)
{
    const char *eq = memchr(data, '=', len);
    const char *p;

    if (eq == NULL || eq == data || !text_ok(data, len))
        return 0;
    for (p = data; p < eq; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

static int proto_error(cleanup_state *st, const char *what, int type)
{
    if (type > 32 && type < 127)
        cleanup_fail(st, CLEANUP_ERR_PROTO, "malformed client request: %s (record type '%c')",
                     what, type);
    else
        cleanup_fail(st, CLEANUP_ERR_PROTO, "malformed client request: %s (record type %d)",
                     what, type);
    return -1;
}

static int envelope_record_put(cleanup_state *st, int type, const char *data, size_t len);

/* An address without a domain (a local submission's "user") gets
 * @$myorigin, as Postfix's append_at_myorigin does; the null sender stays
 * empty.  Returns data itself, or the qualified copy in buf. */
static const char *qualify(const cleanup_state *st, const char *data, size_t *len, vstr *buf)
{
    if (*len == 0 || st->lim.myorigin == NULL || *st->lim.myorigin == '\0'
        || memchr(data, '@', *len) != NULL)
        return data;
    vstr_setn(buf, data, *len);
    vstr_printf(buf, "@%s", st->lim.myorigin);
    *len = vstr_len(buf);
    return vstr_str(buf);
}

static void check_size(cleanup_state *st)
{
    if (st->content_size + st->envelope_size > st->lim.message_size_limit)
        cleanup_fail(st, CLEANUP_ERR_SIZE, "message size exceeds message_size_limit %ld",
                     st->lim.message_size_limit);
}

static int envelope_record(cleanup_state *st, int type, const char *data, size_t len)
{
    vstr *qualified = NULL;
    int ret;

    if (type == REC_SENDER || type == REC_RCPT) {
        qualified = vstr_new(len + 64);
        data = qualify(st, data, &len, qualified);
    }
    ret = envelope_record_put(st, type, data, len);
    vstr_free(qualified);
    return ret;
}

static int envelope_record_put(cleanup_state *st, int type, const char *data, size_t len)
{
    long num;

    st->envelope_size += (long)len;
    check_size(st);
    switch (type) {
    case REC_FLAGS:
        if (st->have_flags || !decimal_ok(data, len, 0, 0xffff, &num))
            return proto_error(st, "bad or repeated flags", type);
        st->have_flags = 1;
        st->flags = (int)num;
        break;
    case REC_SENDER:
        if (st->have_sender || !text_ok(data, len))
            return proto_error(st, "bad or repeated sender", type);
        st->have_sender = 1;
        vstr_setn(st->sender, data, len);
        break;
    case REC_ATTR:
        if (!attr_record_ok(data, len))
            return proto_error(st, "bad attribute", type);
        if (len > 10 && memcmp(data, "full_name=", 10) == 0)
            vstr_setn(st->full_name, data + 10, len - 10);
        if (len > sizeof(ATTR_DSN_NOTIFY) && memcmp(data, ATTR_DSN_NOTIFY "=", sizeof(ATTR_DSN_NOTIFY)) == 0) {
            if (!decimal_ok(data + sizeof(ATTR_DSN_NOTIFY), len - sizeof(ATTR_DSN_NOTIFY), 1, 15, &num))
                return proto_error(st, "bad " ATTR_DSN_NOTIFY " attribute", type);
            st->extract_notify = (int)num;
        }
        break;
    case REC_ORCPT:
        if (st->have_orcpt || !text_ok(data, len))
            return proto_error(st, "bad or repeated original recipient", type);
        st->have_orcpt = 1;
        break;
    case REC_NOTIFY:
        if (st->have_notify || !decimal_ok(data, len, 1, 15, &num))
            return proto_error(st, "bad or repeated notify mask", type);
        st->have_notify = 1;
        break;
    case REC_RCPT:
        if (!st->have_sender)
            return proto_error(st, "recipient before sender", type);
        if (len == 0 || !text_ok(data, len))
            return proto_error(st, "bad recipient", type);
        st->have_orcpt = st->have_notify = 0;
        st->rcpt_count++;
        if (st->env_rcpts->n < CLEANUP_EXTRACT_MAX)
            argv_addn(st->env_rcpts, data, len);
        break;
    case REC_MESSAGE:
        /* With sendmail -t the recipients may all come from the header. */
        if (!st->have_sender || (st->rcpt_count == 0 && !(st->flags & REC_FLAG_EXTRACT))
            || st->have_orcpt || st->have_notify || len != 0)
            return proto_error(st, "content before sender or recipients", type);
        if (st->dst != NULL)
            st->content_offset = stream_offset(st->dst);
        st->phase = PHASE_CONTENT;
        st->in_header = 1;
        break;
    default:
        return proto_error(st, "unexpected record in envelope", type);
    }
    put_rec(st, type, data, len);
    return 0;
}

/* Append a header line cleanup adds, counted as content. */
static void add_header_line(cleanup_state *st, const vstr *line)
{
    put_rec(st, REC_LINE, vstr_str(line), vstr_len(line));
    st->content_size += (long)vstr_len(line) + 2;
}

/* "From: Full Name <sender>" for a local submission without From: (the
 * sender is qualified already), the null sender MAILER-DAEMON. */
static void add_from_header(cleanup_state *st, vstr *line)
{
    const char *sender = vstr_str(st->sender);

    vstr_set(line, "From: ");
    if (*sender == '\0') {
        vstr_puts(line, "MAILER-DAEMON");
    } else {
        if (vstr_len(st->full_name) > 0) {
            header_addr_quote_phrase(line, vstr_str(st->full_name));
            vstr_puts(line, " <");
        }
        vstr_puts(line, sender);
        if (vstr_len(st->full_name) > 0)
            vstr_putc(line, '>');
    }
    add_header_line(st, line);
}

/* The recipient field being collected is complete: parse its value. */
static void extract_field_done(cleanup_state *st)
{
    argv_t *dst;
    size_t bad = 0;

    if (st->cur_field == HDR_ADDR_TO || st->cur_field == HDR_ADDR_BCC)
        dst = st->hdr_rcpts;
    else if (st->cur_field == HDR_ADDR_RESENT_TO || st->cur_field == HDR_ADDR_RESENT_BCC)
        dst = st->resent_rcpts;
    else
        dst = NULL;
    if (dst != NULL && dst->n < CLEANUP_EXTRACT_MAX) {
        header_addr_parse(vstr_str(st->cur_value), vstr_len(st->cur_value),
                          CLEANUP_EXTRACT_MAX - dst->n, dst, &bad);
        if (bad > 0)
            msg_info("%s: skipped %zu malformed header address%s", st->id, bad,
                     bad == 1 ? "" : "es");
    }
    st->cur_field = HDR_ADDR_NONE;
    vstr_reset(st->cur_value);
}

/* sendmail -t: look at one complete header line (its first bytes are in
 * line_start).  Returns 0 when the line must be removed (Bcc). */
static int extract_line(cleanup_state *st, enum hdr_kind kind)
{
    const char *line = vstr_str(st->line_start);
    size_t len = vstr_len(st->line_start);
    const char *value = NULL;
    size_t vlen = 0;
    enum hdr_addr_field f;

    if (kind == HDR_KIND_CONT) {
        if (st->cur_field != HDR_ADDR_NONE)
            vstr_append(st->cur_value, line, len);
        return !st->dropping;
    }
    extract_field_done(st);
    f = hdr_addr_field(line, len, &value, &vlen);
    if (f >= HDR_ADDR_RESENT_TO)
        st->saw_resent = 1;
    if (value != NULL) {
        st->cur_field = f;
        vstr_setn(st->cur_value, value, vlen);
    }
    st->dropping = (f == HDR_ADDR_BCC || f == HDR_ADDR_RESENT_BCC);
    return !st->dropping;
}

static int rcpt_known(argv_t *list, const char *addr)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcasecmp(list->v[i], addr) == 0)
            return 1;
    return 0;
}

/* The header is complete: choose the recipients (Resent-* fields win when
 * any is present), without duplicates of each other or of the envelope. */
static void extract_finish(cleanup_state *st)
{
    argv_t *from;

    extract_field_done(st);
    from = st->saw_resent ? st->resent_rcpts : st->hdr_rcpts;
    for (size_t i = 0; i < from->n; i++) {
        vstr *buf = vstr_new(64);
        size_t len = strlen(from->v[i]);
        const char *addr = qualify(st, from->v[i], &len, buf);

        if (!rcpt_known(st->env_rcpts, addr) && !rcpt_known(st->extracted, addr))
            argv_add(st->extracted, addr);
        vstr_free(buf);
    }
}

/* After X: the extracted recipients as R records. */
static void write_extracted(cleanup_state *st)
{
    for (size_t i = 0; i < st->extracted->n; i++) {
        if (st->extract_notify > 0) {
            char mask[16];

            snprintf(mask, sizeof(mask), "%d", st->extract_notify);
            put_rec(st, REC_NOTIFY, mask, strlen(mask));
        }
        put_rec(st, REC_RCPT, st->extracted->v[i], strlen(st->extracted->v[i]));
        st->rcpt_count++;
    }
    if (st->rcpt_count == 0)
        cleanup_fail(st, CLEANUP_ERR_NORCPT, "No recipient addresses found in message header");
}

void cleanup_reply_text(const cleanup_state *st, const char **status, const char **reason)
{
    switch (st->error) {
    case CLEANUP_OK:
        *status = "0";
        *reason = "";
        break;
    case CLEANUP_ERR_SIZE:
        *status = "552";
        *reason = "5.3.4 Error: message file too big";
        break;
    case CLEANUP_ERR_NORCPT:
        *status = "550";
        *reason = "5.1.3 No recipient addresses found in message header";
        break;
    default:
        *status = "451";
        *reason = "4.3.0 Error: queue file write error";
        break;
    }
}

static void log_message_id(cleanup_state *st, const char *value)
{
    char buf[512];

    if (*value != '\0')
        msg_info("%s: message-id=%s", st->id, log_printable(buf, sizeof(buf), value, strlen(value)));
}

/* The header ends before the line now in line_recs (which may be empty,
 * or only the first pieces of a long line).  body_line: that line is a
 * non-empty line that is not a header line. */
static void end_header(cleanup_state *st, int body_line)
{
    vstr *line = vstr_new(128);
    int added = 0;

    put_raw(st, st->header_recs);
    if (st->flags & REC_FLAG_EXTRACT)
        extract_finish(st);
    if (st->flags & REC_FLAG_LOCAL_CLIENT) {
        if (!(st->scan.seen & HDR_SEEN_MSGID)) {
            hdr_make_msgid(st->added_msgid, st->now, st->id, st->lim.myhostname);
            vstr_set(line, "Message-ID: ");
            vstr_append(line, vstr_str(st->added_msgid), vstr_len(st->added_msgid));
            add_header_line(st, line);
            added = 1;
        }
        if (!(st->scan.seen & HDR_SEEN_DATE)) {
            vstr_set(line, "Date: ");
            mail_date_format(line, st->now);
            add_header_line(st, line);
            added = 1;
        }
        if (!(st->scan.seen & HDR_SEEN_FROM)) {
            add_from_header(st, line);
            added = 1;
        }
    }
    if (st->scan.seen & HDR_SEEN_MSGID)
        log_message_id(st, hdr_scan_msgid(&st->scan));
    else
        log_message_id(st, vstr_str(st->added_msgid));
    /* Keep what we added in the header: separate it from a body that
     * started without the empty line. */
    if (added && body_line) {
        put_rec(st, REC_LINE, "", 0);
        st->content_size += 2;
    }
    put_raw(st, st->line_recs);
    vstr_reset(st->header_recs);
    vstr_reset(st->line_recs);
    vstr_reset(st->line_start);
    st->line_size = 0;
    st->in_header = 0;
    vstr_free(line);
}

static void content_piece(cleanup_state *st, int type, const char *data, size_t len)
{
    long counted = (long)len + (type == REC_LINE ? 2 : 0);
    size_t keep;
    enum hdr_kind kind;

    st->content_size += counted;
    check_size(st);
    if (!st->in_header) {
        put_rec(st, type, data, len);
        return;
    }
    /* Buffer the header (bounded by header_size_limit). */
    rec_append(st->line_recs, type, data, len);
    if (vstr_len(st->line_start) < LINE_START_MAX) {
        keep = LINE_START_MAX - vstr_len(st->line_start);
        vstr_append(st->line_start, data, len < keep ? len : keep);
    }
    st->header_size += counted;
    st->line_size += counted;
    if (st->header_size > st->lim.header_size_limit) {
        /* The rest of the message is body, as Postfix does. */
        end_header(st, 1);
        return;
    }
    if (type != REC_LINE)
        return;
    kind = hdr_scan_line(&st->scan, vstr_str(st->line_start), vstr_len(st->line_start));
    if (kind == HDR_KIND_FIELD || kind == HDR_KIND_CONT) {
        if (!(st->flags & REC_FLAG_EXTRACT) || extract_line(st, kind))
            vstr_append(st->header_recs, vstr_str(st->line_recs), vstr_len(st->line_recs));
        else
            st->content_size -= st->line_size;      /* a removed Bcc line */
        vstr_reset(st->line_recs);
        vstr_reset(st->line_start);
        st->line_size = 0;
    } else {
        end_header(st, kind == HDR_KIND_OTHER);
    }
}

static int content_record(cleanup_state *st, int type, const char *data, size_t len)
{
    switch (type) {
    case REC_LINE:
    case REC_CONT:
        content_piece(st, type, data, len);
        st->in_piece = (type == REC_CONT);
        return 0;
    case REC_XTRA:
    case REC_END:
        if (st->in_piece)
            return proto_error(st, "content ends inside a line", type);
        if (len != 0)
            return proto_error(st, "data in end record", type);
        if (st->in_header)
            end_header(st, 0);
        put_rec(st, REC_XTRA, "", 0);
        if (st->flags & REC_FLAG_EXTRACT)
            write_extracted(st);
        st->phase = PHASE_EXTRACTED;
        if (type == REC_XTRA)
            return 0;
        put_rec(st, REC_END, "", 0);
        st->phase = PHASE_DONE;
        return 1;
    default:
        return proto_error(st, "unexpected record in content", type);
    }
}

int cleanup_record(cleanup_state *st, int type, const char *data, size_t len)
{
    switch (st->phase) {
    case PHASE_ENVELOPE:
        return envelope_record(st, type, data, len);
    case PHASE_CONTENT:
        return content_record(st, type, data, len);
    case PHASE_EXTRACTED:
        if (type != REC_END || len != 0)
            return proto_error(st, "unexpected record after content", type);
        put_rec(st, REC_END, "", 0);
        st->phase = PHASE_DONE;
        return 1;
    default:
        return proto_error(st, "record after end", type);
    }
}

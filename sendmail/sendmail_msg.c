/* sendmail(1) message input: stdin lines (LF or CRLF) become L/C
 * records, a lone "." ends the message unless -i, message_size_limit is
 * enforced, and the To/Cc/Bcc values are kept so that -t can refuse a
 * message without recipients before anything is queued.  Also the
 * envelope records of the submission stream (TEAM.md). */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include "argv.h"
#include "header_addr.h"
#include "mail_proto.h"
#include "mem.h"
#include "record.h"
#include "sendmail.h"
#include "stream.h"
#include "vstr.h"

/* Header tracking state lives with the message. */
struct sm_hdr_state {
    int in_header;
    int line_start;         /* the next piece starts a line */
    argv_t *cur_list;       /* list the current field's value goes to */
    vstr *cur;              /* first bytes of the current line */
    size_t collected;
};

static struct sm_hdr_state *hdr_state(struct sm_message *m);

struct sm_message_priv {
    struct sm_message pub;
    struct sm_hdr_state hs;
};

struct sm_message *sm_message_new(void)
{
    struct sm_message_priv *p = xcalloc(1, sizeof(*p));

    p->pub.recs = vstr_new(4096);
    p->pub.to_fields = argv_new();
    p->pub.resent_fields = argv_new();
    p->hs.in_header = 1;
    p->hs.line_start = 1;
    p->hs.cur = vstr_new(256);
    rec_append(p->pub.recs, REC_MESSAGE, "", 0);
    return &p->pub;
}

void sm_message_free(struct sm_message *m)
{
    struct sm_message_priv *p = (struct sm_message_priv *)m;

    if (m == NULL)
        return;
    vstr_free(m->recs);
    argv_free(m->to_fields);
    argv_free(m->resent_fields);
    vstr_free(p->hs.cur);
    free(p);
}

static struct sm_hdr_state *hdr_state(struct sm_message *m)
{
    return &((struct sm_message_priv *)m)->hs;
}

/* Case-insensitive "name:" (optional blanks before the colon) at the
 * start of line; returns the value or NULL. */
static const char *field_value(const char *line, size_t len, const char *name, size_t *vlen)
{
    size_t n = strlen(name), i;

    if (len < n || strncasecmp(line, name, n) != 0)
        return NULL;
    for (i = n; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
        ;
    if (i >= len || line[i] != ':')
        return NULL;
    *vlen = len - i - 1;
    return line + i + 1;
}

static int is_field(const char *line, size_t len)
{
    size_t i;

    for (i = 0; i < len && line[i] > 32 && line[i] < 127 && line[i] != ':'; i++)
        ;
    if (i == 0)
        return 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i < len && line[i] == ':';
}

/* One complete header line (its first bytes). */
static void header_line(struct sm_message *m, struct sm_hdr_state *hs, const char *line,
                        size_t len)
{
    static const char *const to_names[] = {"to", "cc", "bcc"};
    static const char *const resent_names[] = {"resent-to", "resent-cc", "resent-bcc"};
    const char *value;
    size_t vlen, i;
    argv_t *list;

    if (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
        /* A continuation: append to the field's value. */
        if (hs->cur_list != NULL && hs->cur_list->n > 0 && hs->collected < SM_HDR_COLLECT_MAX) {
            char **last = &hs->cur_list->v[hs->cur_list->n - 1];
            size_t old = strlen(*last);

            *last = xrealloc(*last, old + len + 2);
            (*last)[old] = ' ';
            memcpy(*last + old + 1, line, len);
            (*last)[old + 1 + len] = '\0';
            hs->collected += len;
        }
        return;
    }
    if (!is_field(line, len)) {
        hs->in_header = 0;
        return;
    }
    hs->cur_list = NULL;
    if (len >= 7 && strncasecmp(line, "resent-", 7) == 0)
        m->saw_resent = 1;
    for (i = 0; i < 3; i++) {
        list = NULL;
        if ((value = field_value(line, len, to_names[i], &vlen)) != NULL)
            list = m->to_fields;
        else if ((value = field_value(line, len, resent_names[i], &vlen)) != NULL)
            list = m->resent_fields;
        if (list != NULL) {
            if (hs->collected < SM_HDR_COLLECT_MAX) {
                argv_addn(list, value, vlen);
                hs->collected += vlen;
                hs->cur_list = list;
            }
            return;
        }
    }
}

int sm_message_line(struct sm_message *m, const char *p, size_t len, int is_piece, long limit)
{
    struct sm_hdr_state *hs = hdr_state(m);
    size_t keep;

    m->size += (long)len + (is_piece ? 0 : 2);
    if (m->size > limit)
        return -1;
    rec_append(m->recs, is_piece ? REC_CONT : REC_LINE, p, len);
    if (hs->in_header) {
        if (hs->line_start)
            vstr_reset(hs->cur);
        if (vstr_len(hs->cur) < 4096) {
            keep = 4096 - vstr_len(hs->cur);
            vstr_append(hs->cur, p, len < keep ? len : keep);
        }
        if (!is_piece) {
            if (vstr_len(hs->cur) == 0)
                hs->in_header = 0;
            else
                header_line(m, hs, vstr_str(hs->cur), vstr_len(hs->cur));
        }
    }
    hs->line_start = !is_piece;
    if (!is_piece)
        m->lines++;
    return 0;
}

size_t sm_message_header_rcpts(const struct sm_message *m)
{
    const argv_t *fields = m->saw_resent ? m->resent_fields : m->to_fields;
    argv_t *addrs = argv_new();
    size_t n = 0;

    for (size_t i = 0; i < fields->n && n == 0; i++)
        n += header_addr_parse(fields->v[i], strlen(fields->v[i]), 1, addrs, NULL);
    argv_free(addrs);
    return n;
}

int sm_read_message(stream *in, int ignore_dots, long limit, struct sm_message *m, vstr *err)
{
    vstr *line = vstr_new(1024);
    int carry_cr = 0;       /* a piece ended in CR: it may be half of CRLF */
    int at_line_start = 1;
    int status, ret = 0;
    size_t len;
    char *p;

    for (;;) {
        status = stream_getline(in, line, REC_MAX_LEN);
        if (status == STREAM_EOF)
            break;
        if (status != STREAM_OK && status != STREAM_TOOLONG) {
            vstr_printf(err, "error reading input: %s", stream_strerror(status));
            ret = EX_IOERR;
            break;
        }
        if (carry_cr) {
            /* Put the held-back CR in front of this chunk. */
            vstr *tmp = vstr_new(vstr_len(line) + 1);

            vstr_putc(tmp, '\r');
            vstr_append(tmp, vstr_str(line), vstr_len(line));
            vstr_setn(line, vstr_str(tmp), vstr_len(tmp));
            vstr_free(tmp);
            carry_cr = 0;
        }
        p = vstr_str(line);
        len = vstr_len(line);
        if (status == STREAM_TOOLONG) {
            if (len > 0 && p[len - 1] == '\r') {
                len--;
                carry_cr = 1;
            }
            if (sm_message_line(m, p, len, 1, limit) < 0)
                goto too_big;
            at_line_start = 0;
            continue;
        }
        if (len > 0 && p[len - 1] == '\n')
            len--;
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (at_line_start && !ignore_dots && len == 1 && p[0] == '.')
            break;
        if (sm_message_line(m, p, len, 0, limit) < 0)
            goto too_big;
        at_line_start = 1;
    }
    if (carry_cr && ret == 0 && sm_message_line(m, "\r", 1, 0, limit) < 0)
        goto too_big;
    vstr_free(line);
    return ret;
too_big:
    vstr_free(line);
    vstr_printf(err, "message file too big (message_size_limit %ld)", limit);
    return EX_DATAERR;
}

void sm_envelope(vstr *out, int flags, const char *sender, const char *full_name,
                 const char *envid, const char *ret, int notify, const argv_t *rcpts)
{
    vstr *buf = vstr_new(64);

    vstr_printf(buf, "%d", flags);
    rec_append(out, REC_FLAGS, vstr_str(buf), vstr_len(buf));
    rec_append(out, REC_SENDER, sender, strlen(sender));
    if (envid != NULL && *envid) {
        vstr_set(buf, "envid=");
        vstr_puts(buf, envid);
        rec_append(out, REC_ATTR, vstr_str(buf), vstr_len(buf));
    }
    if (ret != NULL) {
        vstr_set(buf, "ret=");
        vstr_puts(buf, ret);
        rec_append(out, REC_ATTR, vstr_str(buf), vstr_len(buf));
    }
    if (full_name != NULL && *full_name) {
        vstr_set(buf, "full_name=");
        vstr_puts(buf, full_name);
        rec_append(out, REC_ATTR, vstr_str(buf), vstr_len(buf));
    }
    /* -N applies to the recipients -t finds in the header too. */
    if (notify > 0 && (flags & REC_FLAG_EXTRACT)) {
        vstr_reset(buf);
        vstr_printf(buf, "%s=%d", ATTR_DSN_NOTIFY, notify);
        rec_append(out, REC_ATTR, vstr_str(buf), vstr_len(buf));
    }
    for (size_t i = 0; i < rcpts->n; i++) {
        if (notify > 0) {
            vstr_reset(buf);
            vstr_printf(buf, "%d", notify);
            rec_append(out, REC_NOTIFY, vstr_str(buf), vstr_len(buf));
        }
        rec_append(out, REC_RCPT, rcpts->v[i], strlen(rcpts->v[i]));
    }
    vstr_free(buf);
}

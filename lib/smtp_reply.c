/* Parser of remote SMTP/LMTP server replies (smtp_reply.h): one line at a
 * time, so that the client can bound and time every read, plus the
 * buffer form used by tests and the fuzzer, the enhanced status code and
 * the EHLO extension keywords. */
#include "config.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "smtp_reply.h"

void smtp_reply_init(struct smtp_reply *r)
{
    r->code = 0;
    r->dsn = vstr_new(16);
    r->raw = vstr_new(128);
    r->text = vstr_new(128);
    r->nlines = 0;
    r->complete = 0;
}

void smtp_reply_free(struct smtp_reply *r)
{
    vstr_free(r->dsn);
    vstr_free(r->raw);
    vstr_free(r->text);
    r->dsn = r->raw = r->text = NULL;
}

void smtp_reply_reset(struct smtp_reply *r)
{
    r->code = 0;
    vstr_reset(r->dsn);
    vstr_reset(r->raw);
    vstr_reset(r->text);
    r->nlines = 0;
    r->complete = 0;
}

/* 1..3 digits at s: their count, else 0. */
static size_t digits(const char *s, size_t len)
{
    size_t n = 0;

    while (n < len && n < 4 && isdigit((unsigned char) s[n]))
        n++;
    return n >= 1 && n <= 3 ? n : 0;
}

size_t smtp_dsn_prefix(const char *s, size_t len)
{
    size_t i = 0, n;

    if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
        return 0;
    i = 2;
    if ((n = digits(s + i, len - i)) == 0)
        return 0;
    i += n;
    if (i >= len || s[i] != '.')
        return 0;
    i++;
    if ((n = digits(s + i, len - i)) == 0)
        return 0;
    i += n;
    if (i < len && s[i] != ' ')
        return 0;
    return i;
}

static void append_clean(vstr *out, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];

        vstr_putc(out, (c < 0x20 && c != '\t') || c == 0x7f ? '?' : c);
    }
}

static int bad(vstr *why, const char *text)
{
    if (why != NULL)
        vstr_set(why, text);
    return SMTP_REPLY_BAD;
}

int smtp_reply_add_line(struct smtp_reply *r, const char *line, size_t len, vstr *why)
{
    int code;
    size_t dlen, skip;
    const char *text;

    if (r->complete)
        return bad(why, "line after the end of the reply");
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > SMTP_REPLY_LINE_MAX)
        return bad(why, "reply line too long");
    if (r->nlines >= SMTP_REPLY_LINES_MAX)
        return bad(why, "too many reply lines");
    if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5'
        || !isdigit((unsigned char) line[2]))
        return bad(why, "reply without a valid status code");
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return bad(why, "reply code not followed by space or hyphen");
    if (memchr(line, '\0', len) != NULL)
        return bad(why, "NUL byte in reply");
    code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (r->nlines > 0 && code != r->code)
        return bad(why, "reply lines with different status codes");
    r->code = code;

    text = len > 4 ? line + 4 : "";
    dlen = len > 4 ? len - 4 : 0;
    skip = smtp_dsn_prefix(text, dlen);
    if (skip > 0 && text[0] == line[0]) {
        if (r->nlines == 0)
            vstr_setn(r->dsn, text, skip);
        text += skip;
        dlen -= skip;
        while (dlen > 0 && *text == ' ') {
            text++;
            dlen--;
        }
    }
    if (r->nlines > 0) {
        vstr_putc(r->raw, ' ');
        vstr_putc(r->text, '\n');
    }
    /* The text ends up in logs, status logs and DSNs: no control bytes. */
    append_clean(r->raw, line, len);
    append_clean(r->text, text, dlen);
    r->nlines++;
    if (len == 3 || line[3] == ' ') {
        r->complete = 1;
        return SMTP_REPLY_DONE;
    }
    return SMTP_REPLY_MORE;
}

ssize_t smtp_reply_parse(struct smtp_reply *r, const char *buf, size_t len, vstr *why)
{
    size_t pos = 0;
    const char *nl;
    int status;

    smtp_reply_reset(r);
    while (pos < len) {
        nl = memchr(buf + pos, '\n', len - pos);
        if (nl == NULL)
            return len - pos > SMTP_REPLY_LINE_MAX + 1 ? bad(why, "reply line too long") : 0;
        status = smtp_reply_add_line(r, buf + pos, (size_t) (nl - (buf + pos)), why);
        pos = (size_t) (nl - buf) + 1;
        if (status == SMTP_REPLY_BAD)
            return -1;
        if (status == SMTP_REPLY_DONE)
            return (ssize_t) pos;
    }
    return 0;
}

void smtp_reply_status(const struct smtp_reply *r, vstr *out)
{
    int cls = r->code / 100;

    if (vstr_len(r->dsn) > 0 && vstr_str(r->dsn)[0] - '0' == cls) {
        vstr_set(out, vstr_str(r->dsn));
        return;
    }
    vstr_reset(out);
    /* 3XX where a final reply was due is an error worth a retry. */
    vstr_printf(out, "%d.0.0", cls == 2 || cls == 5 ? cls : 4);
}

/* Does the keyword at s (len bytes, up to a space) equal kw? */
static int keyword_is(const char *s, size_t len, const char *kw)
{
    return strlen(kw) == len && strncasecmp(s, kw, len) == 0;
}

void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ext *ext)
{
    static const struct {
        const char *name;
        int flag;
    } known[] = {
        {"PIPELINING", SMTP_EXT_PIPELINING},
        {"SIZE", SMTP_EXT_SIZE},
        {"8BITMIME", SMTP_EXT_8BITMIME},
        {"SMTPUTF8", SMTP_EXT_SMTPUTF8},
        {"DSN", SMTP_EXT_DSN},
        {"ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCEDSTATUSCODES},
        {"STARTTLS", SMTP_EXT_STARTTLS},
    };
    const char *p = vstr_str(r->text);
    const char *end = p + vstr_len(r->text);
    const char *eol, *sp;
    size_t i, klen;
    int first = 1;

    ext->flags = 0;
    ext->size = 0;
    if (r->code != 250)
        return;
    for (; p < end; p = eol + 1, first = 0) {
        eol = memchr(p, '\n', (size_t) (end - p));
        if (eol == NULL)
            eol = end;
        if (first)
            continue;       /* "name greeting" */
        sp = memchr(p, ' ', (size_t) (eol - p));
        klen = (size_t) ((sp ? sp : eol) - p);
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            if (!keyword_is(p, klen, known[i].name))
                continue;
            ext->flags |= known[i].flag;
            if (known[i].flag == SMTP_EXT_SIZE && sp != NULL) {
                const char *q = sp + 1;
                long long v = 0;
                int ok = q < eol;

                for (; q < eol && ok; q++) {
                    if (!isdigit((unsigned char) *q) || v > 1000000000000000LL)
                        ok = 0;
                    else
                        v = v * 10 + (*q - '0');
                }
                ext->size = ok ? v : 0;
            }
        }
    }
}

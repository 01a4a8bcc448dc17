/* RFC 5322 address-list parsing for sendmail -t recipient extraction in
 * cleanup(8) and for sendmail's command-line recipients: a small lenient
 * scanner that drops display names, comments and group names and keeps
 * each addr-spec as written, with every length and count bounded. */
#include "config.h"
#include <stddef.h>
#include <string.h>
#include "argv.h"
#include "header_addr.h"
#include "vstr.h"

/* One mailbox being collected. */
struct mailbox {
    vstr *plain;        /* tokens outside <...>: an addr-spec or a display name */
    vstr *angle;        /* tokens inside <...> */
    int in_angle;
    int seen_angle;
    int bad;
};

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void mailbox_reset(struct mailbox *m)
{
    vstr_reset(m->plain);
    vstr_reset(m->angle);
    m->in_angle = m->seen_angle = m->bad = 0;
}

/* Append bytes to the part being collected; past the length cap the
 * mailbox is marked bad and nothing more is stored. */
static void mailbox_add(struct mailbox *m, const char *p, size_t n)
{
    vstr *dst = m->in_angle ? m->angle : m->plain;

    if (vstr_len(dst) + n > HEADER_ADDR_MAX_LEN) {
        /* Too long for an address; outside <...> it may still be a long
         * display name, harmless when an <address> follows. */
        m->bad |= (m->in_angle || m->seen_angle) ? 1 : 2;
        return;
    }
    vstr_append(dst, p, n);
}

/* End of one mailbox: emit its address.  Returns 1 when one was added. */
static int mailbox_flush(struct mailbox *m, size_t max, argv_t *out, size_t *added, size_t *bad)
{
    const char *addr;
    size_t len;
    const char *colon;
    int ok = 1;

    if (m->in_angle)
        m->bad |= 1;
    if (m->seen_angle) {
        addr = vstr_str(m->angle);
        len = vstr_len(m->angle);
        /* Obsolete source route "@a,@b:user@domain": keep what follows it. */
        if (len > 0 && addr[0] == '@' && (colon = memchr(addr, ':', len)) != NULL) {
            len -= (size_t)(colon + 1 - addr);
            addr = colon + 1;
        }
        m->bad &= ~2;
    } else {
        addr = vstr_str(m->plain);
        len = vstr_len(m->plain);
    }
    if (m->bad) {
        (*bad)++;
        ok = 0;
    } else if (len == 0) {
        ok = 0;                 /* empty element or the null address <> */
    } else if (*added >= max) {
        ok = 0;
    } else {
        argv_addn(out, addr, len);
        (*added)++;
    }
    mailbox_reset(m);
    return ok;
}

/* Skip a comment starting at s[i] == '('.  Returns the index after it (or
 * len: unterminated or too deeply nested comments run to the end). */
static size_t skip_comment(const char *s, size_t len, size_t i)
{
    int depth = 0;

    for (; i < len; i++) {
        if (s[i] == '\\') {
            i++;
        } else if (s[i] == '(') {
            if (++depth > HEADER_ADDR_MAX_DEPTH)
                return len;
        } else if (s[i] == ')') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return len;
}

/* Copy a quoted string or domain literal starting at s[i] (== open) up
 * to and including close.  Returns the index after it; an unterminated
 * one marks the mailbox bad and returns len. */
static size_t copy_delimited(struct mailbox *m, const char *s, size_t len, size_t i, char close)
{
    size_t start = i;

    for (i++; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len) {
            i++;
        } else if (s[i] == close) {
            mailbox_add(m, s + start, i + 1 - start);
            return i + 1;
        } else if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') {
            m->bad |= 1;
        }
    }
    m->bad |= 1;
    return len;
}

size_t header_addr_parse(const char *s, size_t len, size_t max, argv_t *out, size_t *bad)
{
    struct mailbox m;
    size_t added = 0, nbad = 0, i = 0;
    unsigned char c;

    m.plain = vstr_new(64);
    m.angle = vstr_new(64);
    mailbox_reset(&m);
    while (i < len) {
        c = (unsigned char)s[i];
        if (is_space(c)) {
            i++;
        } else if (c == '(') {
            i = skip_comment(s, len, i);
        } else if (c == '"') {
            i = copy_delimited(&m, s, len, i, '"');
        } else if (c == '[') {
            i = copy_delimited(&m, s, len, i, ']');
        } else if (c == '<') {
            if (m.in_angle)
                m.bad |= 1;
            m.in_angle = m.seen_angle = 1;
            vstr_reset(m.angle);
            i++;
        } else if (c == '>') {
            m.in_angle = 0;     /* a stray '>' is ignored */
            i++;
        } else if ((c == ',' || c == ';') && !m.in_angle) {
            mailbox_flush(&m, max, out, &added, &nbad);
            i++;
        } else if (c == ':' && !m.in_angle) {
            /* A group name ends: what came before was no address. */
            if (m.seen_angle)
                m.bad |= 1;
            vstr_reset(m.plain);
            m.bad &= ~2;
            i++;
        } else if (c < 32 || c == 127) {
            m.bad |= 1;
            i++;
        } else {
            mailbox_add(&m, s + i, 1);
            i++;
        }
    }
    mailbox_flush(&m, max, out, &added, &nbad);
    vstr_free(m.plain);
    vstr_free(m.angle);
    if (bad != NULL)
        *bad = nbad;
    return added;
}

/* RFC 5322 atext plus the space between words. */
static int phrase_char_ok(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c == ' ' || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

void header_addr_quote_phrase(vstr *out, const char *name)
{
    const unsigned char *p;
    int plain = *name != '\0' && name[0] != ' ' && name[strlen(name) - 1] != ' ';

    for (p = (const unsigned char *)name; plain && *p; p++)
        if (!phrase_char_ok(*p))
            plain = 0;
    if (plain) {
        vstr_puts(out, name);
        return;
    }
    vstr_putc(out, '"');
    for (p = (const unsigned char *)name; *p; p++) {
        if (*p < 32 || *p == 127)
            vstr_putc(out, ' ');
        else if (*p == '"' || *p == '\\') {
            vstr_putc(out, '\\');
            vstr_putc(out, *p);
        } else
            vstr_putc(out, *p);
    }
    vstr_putc(out, '"');
}

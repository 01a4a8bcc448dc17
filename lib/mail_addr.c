/* Mail address parsing for the SMTP server and the daemons behind it:
 * RFC 5321 paths (MAIL FROM / RCPT TO) with optional source routes,
 * quoted local parts and address literals, ESMTP parameter splitting,
 * RFC 3461 xtext, and small helpers on "local@domain" strings.
 * Everything here reads untrusted bytes: every loop is bounded by an
 * explicit length and nothing assumes NUL termination. */
#include "config.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include "mail_addr.h"
#include "mem.h"
#include "vstr.h"

#define DOMAIN_MAX 255
#define LABEL_MAX 63
#define LOCAL_MAX 256       /* RFC says 64; real mail has longer ones */
#define PARAM_KEY_MAX 64
#define PARAM_VALUE_MAX 1024

/* RFC 5322 atext, ASCII part. */
static int is_atext(unsigned char c)
{
    if (isascii(c) && isalnum(c))
        return 1;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Length of one UTF-8 sequence at s (n bytes available), 0 if invalid.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t need;
    unsigned cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10FFFF
        || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

int utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0;

    while (i < len) {
        size_t n = utf8_seq_len(p + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

int has_8bit(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) s[i] & 0x80)
            return 1;
    return 0;
}

/* Skip a valid UTF-8 non-ASCII sequence at s[i] when allowed; returns its
 * length or 0. */
static size_t utf8_char_at(const char *s, size_t len, size_t i, int flags)
{
    if (!(flags & PATH_SMTPUTF8) || !((unsigned char) s[i] & 0x80))
        return 0;
    return utf8_seq_len((const unsigned char *) s + i, len - i);
}

/* Dot-string local part: returns bytes used, 0 on error. */
static size_t scan_dot_string(const char *s, size_t len, int flags)
{
    size_t i = 0;
    int need_atom = 1;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;

        if (is_atext(c)) {
            i++;
            need_atom = 0;
        } else if ((n = utf8_char_at(s, len, i, flags)) > 0) {
            i += n;
            need_atom = 0;
        } else if (c == '.' && !need_atom) {
            i++;
            need_atom = 1;
        } else {
            break;
        }
    }
    return (need_atom || i == 0) ? 0 : i;
}

/* Quoted-string local part starting at '"': bytes used, 0 on error. */
static size_t scan_quoted_string(const char *s, size_t len, int flags)
{
    size_t i = 1;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;

        if (c == '"')
            return i + 1;
        if (c == '\\') {
            if (i + 1 >= len || s[i + 1] < 32 || s[i + 1] > 126)
                return 0;
            i += 2;
        } else if (c >= 32 && c <= 126) {
            i++;
        } else if ((n = utf8_char_at(s, len, i, flags)) > 0) {
            i += n;
        } else {
            return 0;
        }
    }
    return 0;
}

/* Address literal "[...]" starting at '[': bytes used, 0 on error. */
static size_t scan_addr_literal(const char *s, size_t len)
{
    const char *end = memchr(s, ']', len);
    size_t n;
    char buf[64];
    unsigned char bin[16];

    if (end == NULL)
        return 0;
    n = (size_t) (end - s) - 1;
    if (n == 0 || n >= sizeof(buf))
        return 0;
    memcpy(buf, s + 1, n);
    buf[n] = 0;
    if (strncasecmp(buf, "IPv6:", 5) == 0) {
        if (inet_pton(AF_INET6, buf + 5, bin) != 1)
            return 0;
    } else if (inet_pton(AF_INET, buf, bin) != 1) {
        return 0;
    }
    return n + 2;
}

/* Domain name or address literal: bytes used, 0 on error. */
static size_t scan_domain(const char *s, size_t len, int flags)
{
    size_t i = 0, label = 0;

    if (len > 0 && s[0] == '[')
        return scan_addr_literal(s, len);
    while (i < len) {
        unsigned char c = s[i];
        size_t n;

        if ((isascii(c) && isalnum(c)) || c == '-' || c == '_') {
            i++;
            label++;
        } else if ((n = utf8_char_at(s, len, i, flags)) > 0) {
            i += n;
            label += n;
        } else if (c == '.' && label > 0) {
            i++;
            label = 0;
            continue;
        } else {
            break;
        }
        if (label > LABEL_MAX)
            return 0;
    }
    if (i == 0 || label == 0 || i > DOMAIN_MAX)
        return 0;
    return i;
}

/* "local@domain" or (unqualified) "local": bytes used, 0 on error. */
static size_t scan_mailbox(const char *s, size_t len, int flags, const char **why)
{
    size_t local, dom;

    if (len == 0) {
        *why = "empty address";
        return 0;
    }
    if (s[0] == '"')
        local = scan_quoted_string(s, len, flags);
    else
        local = scan_dot_string(s, len, flags);
    if (local == 0 || local > LOCAL_MAX) {
        *why = "bad local part";
        return 0;
    }
    if (local == len || s[local] != '@')
        return local;
    dom = scan_domain(s + local + 1, len - local - 1, flags);
    if (dom == 0) {
        *why = "bad domain";
        return 0;
    }
    return local + 1 + dom;
}

/* Source route "@a,@b:" (obsolete, ignored): bytes used, 0 if none,
 * (size_t) -1 on error. */
static size_t scan_source_route(const char *s, size_t len, int flags)
{
    size_t i = 0;

    if (len == 0 || s[0] != '@')
        return 0;
    for (;;) {
        size_t d;

        if (i >= len || s[i] != '@')
            return (size_t) -1;
        i++;
        d = scan_domain(s + i, len - i, flags);
        if (d == 0)
            return (size_t) -1;
        i += d;
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        if (i < len && s[i] == ':')
            return i + 1;
        return (size_t) -1;
    }
}

int smtp_path_parse(const char *s, size_t len, int flags, vstr *addr, const char **rest,
                    const char **why)
{
    size_t i = 0, start, n;
    int bracket;

    vstr_reset(addr);
    *why = "bad address syntax";
    while (i < len && s[i] == ' ')
        i++;
    if (memchr(s, 0, len) != NULL) {
        *why = "NUL byte in address";
        return -1;
    }
    bracket = (i < len && s[i] == '<');
    if (!bracket && !(flags & PATH_ALLOW_BARE)) {
        *why = "missing <> around address";
        return -1;
    }
    if (bracket) {
        i++;
        if (i < len && s[i] == '>') {
            if (!(flags & PATH_ALLOW_EMPTY)) {
                *why = "empty address not allowed";
                return -1;
            }
            i++;
            goto done;
        }
        n = scan_source_route(s + i, len - i, flags);
        if (n == (size_t) -1) {
            *why = "bad source route";
            return -1;
        }
        i += n;
    }
    start = i;
    n = scan_mailbox(s + i, len - i, flags, why);
    if (n == 0)
        return -1;
    i += n;
    if (n > MAIL_ADDR_MAX) {
        *why = "address too long";
        return -1;
    }
    if (!(flags & PATH_SMTPUTF8) && has_8bit(s + start, n)) {
        *why = "8-bit address without SMTPUTF8";
        return -1;
    }
    vstr_setn(addr, s + start, n);
    if (bracket) {
        if (i >= len || s[i] != '>') {
            *why = "missing > after address";
            return -1;
        }
        i++;
    }
done:
    if (i < len && s[i] != ' ') {
        *why = "garbage after address";
        vstr_reset(addr);
        return -1;
    }
    *rest = s + i;
    return 0;
}

int smtp_params_parse(const char *s, size_t len, size_t max,
                      int (*fn)(const char *key, const char *value, void *ctx), void *ctx)
{
    size_t i = 0, count = 0;
    vstr *key = vstr_new(32), *val = vstr_new(64);
    int ret = 0;

    for (;;) {
        size_t k0, klen, v0 = 0, vlen = 0;
        int has_value = 0;

        while (i < len && s[i] == ' ')
            i++;
        if (i >= len)
            break;
        if (++count > max) {
            ret = -1;
            break;
        }
        k0 = i;
        if (!(isascii((unsigned char) s[i]) && isalnum((unsigned char) s[i]))) {
            ret = -1;
            break;
        }
        while (i < len && isascii((unsigned char) s[i])
               && (isalnum((unsigned char) s[i]) || s[i] == '-'))
            i++;
        klen = i - k0;
        if (i < len && s[i] == '=') {
            has_value = 1;
            v0 = ++i;
            while (i < len && s[i] != ' ') {
                unsigned char c = s[i];
                if (c == '=' || c < 33 || c == 127) {
                    ret = -1;
                    goto out;
                }
                i++;
            }
            vlen = i - v0;
            if (vlen == 0) {
                ret = -1;
                break;
            }
        }
        if (i < len && s[i] != ' ') {
            ret = -1;
            break;
        }
        if (klen > PARAM_KEY_MAX || vlen > PARAM_VALUE_MAX) {
            ret = -1;
            break;
        }
        vstr_setn(key, s + k0, klen);
        for (size_t j = 0; j < key->len; j++)
            key->data[j] = toupper((unsigned char) key->data[j]);
        vstr_setn(val, s + v0, vlen);
        ret = fn(vstr_str(key), has_value ? vstr_str(val) : NULL, ctx);
        if (ret != 0)
            break;
    }
out:
    vstr_free(key);
    vstr_free(val);
    return ret;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int xtext_decode(vstr *out, const char *in, size_t len)
{
    vstr_reset(out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];

        if (c == '+') {
            int hi, lo;
            if (i + 2 >= len)
                return -1;
            hi = hexval((unsigned char) in[i + 1]);
            lo = hexval((unsigned char) in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            vstr_putc(out, hi * 16 + lo);
            i += 2;
        } else if (c >= 33 && c <= 126 && c != '=') {
            vstr_putc(out, c);
        } else {
            return -1;
        }
    }
    return 0;
}

void xtext_encode(vstr *out, const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];

        if (c < 33 || c > 126 || c == '+' || c == '=')
            vstr_printf(out, "+%02X", c);
        else
            vstr_putc(out, c);
    }
}

const char *mail_addr_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at ? at + 1 : "";
}

void mail_addr_local(vstr *out, const char *addr)
{
    const char *at = strrchr(addr, '@');

    vstr_setn(out, addr, at ? (size_t) (at - addr) : strlen(addr));
}

void lowercase(char *s)
{
    for (; *s; s++)
        if (isascii((unsigned char) *s))
            *s = tolower((unsigned char) *s);
}

void mail_addr_split_ext(const char *local, const char *delims, vstr *user, vstr *ext)
{
    size_t n = (delims && *delims) ? strcspn(local, delims) : strlen(local);

    /* A local part that starts with the delimiter has no user to split off. */
    if (n == 0 || local[n] == 0) {
        vstr_set(user, local);
        if (ext)
            vstr_reset(ext);
        return;
    }
    vstr_setn(user, local, n);
    if (ext)
        vstr_set(ext, local + n + 1);
}

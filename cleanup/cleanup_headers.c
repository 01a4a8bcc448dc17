/* Message header helpers for cleanup(8): which lines belong to the
 * header, what Message-ID:, Date: and From: say, and the values cleanup
 * adds when a local submission lacks them (see cleanup_headers.h). */
#include "config.h"
#include <stddef.h>
#include <string.h>
#include <time.h>
#include "cleanup_headers.h"
#include "vstr.h"

/* RFC 5322 ftext: printable US-ASCII except the colon. */
static int is_ftext(unsigned char c)
{
    return c >= 33 && c <= 126 && c != ':';
}

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Length of the field name at the start of line when the line is a field
 * ("name:" with optional SP/TAB before the colon); 0 when it is not.
 * *colon gets the position of the colon. */
static size_t field_name_len(const char *line, size_t len, size_t *colon)
{
    size_t n = 0;
    size_t i;

    while (n < len && is_ftext((unsigned char)line[n]))
        n++;
    if (n == 0)
        return 0;
    i = n;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i >= len || line[i] != ':')
        return 0;
    *colon = i;
    return n;
}

enum hdr_kind hdr_line_kind(const char *line, size_t len)
{
    size_t colon;

    if (len == 0)
        return HDR_KIND_EMPTY;
    if (line[0] == ' ' || line[0] == '\t')
        return HDR_KIND_CONT;
    if (field_name_len(line, len, &colon) > 0)
        return HDR_KIND_FIELD;
    return HDR_KIND_OTHER;
}

const char *hdr_field_value(const char *line, size_t len, const char *name, size_t *vlen)
{
    size_t colon = 0;
    size_t n = field_name_len(line, len, &colon);
    size_t i;

    if (n == 0 || n != strlen(name))
        return NULL;
    for (i = 0; i < n; i++)
        if (ascii_lower((unsigned char)line[i]) != ascii_lower((unsigned char)name[i]))
            return NULL;
    *vlen = len - colon - 1;
    return line + colon + 1;
}

enum hdr_addr_field hdr_addr_field(const char *line, size_t len, const char **value,
                                   size_t *vlen)
{
    static const struct {
        const char *name;
        enum hdr_addr_field field;
    } fields[] = {
        {"to", HDR_ADDR_TO},
        {"cc", HDR_ADDR_TO},
        {"bcc", HDR_ADDR_BCC},
        {"resent-to", HDR_ADDR_RESENT_TO},
        {"resent-cc", HDR_ADDR_RESENT_TO},
        {"resent-bcc", HDR_ADDR_RESENT_BCC},
    };
    const char *prefix = "resent-";
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        *value = hdr_field_value(line, len, fields[i].name, vlen);
        if (*value != NULL)
            return fields[i].field;
    }
    if (len < strlen(prefix))
        return HDR_ADDR_NONE;
    for (i = 0; prefix[i] != '\0'; i++)
        if (ascii_lower((unsigned char)line[i]) != prefix[i])
            return HDR_ADDR_NONE;
    return HDR_ADDR_RESENT_OTHER;
}

void hdr_scan_init(hdr_scan *h)
{
    h->seen = 0;
    h->current = 0;
    h->lines = 0;
    h->msgid = vstr_new(64);
}

void hdr_scan_free(hdr_scan *h)
{
    vstr_free(h->msgid);
    h->msgid = NULL;
}

/* Append a piece of the Message-ID value, bounded. */
static void msgid_append(hdr_scan *h, const char *p, size_t n)
{
    size_t room = HDR_MSGID_MAX - vstr_len(h->msgid);

    if (n > room)
        n = room;
    vstr_append(h->msgid, p, n);
}

enum hdr_kind hdr_scan_line(hdr_scan *h, const char *line, size_t len)
{
    static const struct {
        const char *name;
        int bit;
    } known[] = {
        {"message-id", HDR_SEEN_MSGID},
        {"date", HDR_SEEN_DATE},
        {"from", HDR_SEEN_FROM},
    };
    enum hdr_kind kind = hdr_line_kind(line, len);
    const char *value;
    size_t vlen, i;

    switch (kind) {
    case HDR_KIND_CONT:
        if (h->lines == 0)
            return HDR_KIND_OTHER;
        /* Only the first Message-ID field's value is collected. */
        if (h->current == HDR_SEEN_MSGID)
            msgid_append(h, line, len);
        h->lines++;
        return kind;
    case HDR_KIND_FIELD:
        h->current = 0;
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            value = hdr_field_value(line, len, known[i].name, &vlen);
            if (value == NULL)
                continue;
            if (known[i].bit == HDR_SEEN_MSGID && !(h->seen & HDR_SEEN_MSGID)) {
                h->current = HDR_SEEN_MSGID;
                msgid_append(h, value, vlen);
            }
            h->seen |= known[i].bit;
            break;
        }
        h->lines++;
        return kind;
    default:
        return kind;
    }
}

const char *hdr_scan_msgid(hdr_scan *h)
{
    char *s = vstr_str(h->msgid);
    size_t len = vstr_len(h->msgid);
    size_t start = 0;

    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    s[len] = '\0';
    h->msgid->len = len;
    while (s[start] == ' ' || s[start] == '\t')
        start++;
    return s + start;
}

void hdr_make_msgid(vstr *out, time_t t, const char *id, const char *host)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    vstr_printf(out, "<%04d%02d%02d%02d%02d%02d.%s@%s>", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, id, host);
}

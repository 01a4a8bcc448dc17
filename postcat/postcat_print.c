/* postcat's printer: walks the records of a queue file and prints them in
 * Postfix's postcat layout (envelope records as "name: value" lines
 * between "*** ... ***" banners, the message content line by line).
 * Envelope text is untrusted: non-printable bytes are shown as '?'.
 * Message content is printed as stored, so "postcat -hb" reproduces the
 * message exactly (redirect it rather than viewing hostile mail on a
 * terminal).  A malformed or truncated file stops the output with the
 * offset of the bad record. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "postcat.h"
#include "record.h"

/* Envelope text with non-printable bytes as '?'. */
static void put_printable(FILE *out, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];

        putc(c >= 32 && c < 127 ? c : '?', out);
    }
}

static void put_field(FILE *out, const char *name, const char *s, size_t len)
{
    fprintf(out, "%s: ", name);
    put_printable(out, s, len);
    putc('\n', out);
}

/* "seconds.microseconds" as a date, or the raw text when malformed. */
static void put_time(FILE *out, const char *name, const char *s, size_t len)
{
    char text[32], stamp[64], *end;
    long long sec;
    struct tm tm;
    time_t t;

    if (len == 0 || len >= sizeof(text)) {
        put_field(out, name, s, len);
        return;
    }
    memcpy(text, s, len);
    text[len] = '\0';
    sec = strtoll(text, &end, 10);
    t = (time_t) sec;
    if (end == text || (*end != '\0' && *end != '.' && *end != ' ') || sec <= 0
        || localtime_r(&t, &tm) == NULL
        || strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S %Y", &tm) == 0) {
        put_field(out, name, s, len);
        return;
    }
    fprintf(out, "%s: %s\n", name, stamp);
}

/* Does a content line start a header field ("Name:") or continue one? */
static int header_line(const char *s, size_t len, int seen_header)
{
    size_t i;

    if (len > 0 && (s[0] == ' ' || s[0] == '\t'))
        return seen_header;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];

        if (c == ':')
            return i > 0;
        if (c <= 32 || c >= 127)
            return 0;
    }
    return 0;
}

static const char *envelope_name(int type)
{
    switch (type) {
    case REC_VERSION:
        return "queue_file_version";
    case REC_SIZE:
        return "message_size";
    case REC_WARN:
        return "delay_warning_time";
    case REC_FLAGS:
        return "message_flags";
    case REC_SENDER:
        return "sender";
    case REC_ATTR:
        return "named_attribute";
    case REC_ORCPT:
        return "original_recipient";
    case REC_NOTIFY:
        return "notify_flags";
    case REC_RCPT:
        return "recipient";
    case REC_DONE:
        return "done_recipient";
    }
    return NULL;
}

int postcat_print(stream *in, FILE *out, const char *label, int sections, vstr *err)
{
    enum { ENVELOPE, CONTENT, EXTRACTED } where = ENVELOPE;
    int banners = (sections & POSTCAT_ENVELOPE) != 0;
    int line_start = 1, in_header = 1, seen_header = 0, show_line = 0;
    vstr *data = vstr_new(256);
    off_t offset = 0;
    int type, st, ret = -1;

    if (banners)
        fprintf(out, "*** ENVELOPE RECORDS %s ***\n", label);
    for (;;) {
        st = rec_get(in, &type, data, &offset);
        if (st == REC_EOF) {
            vstr_printf(err, "truncated: no end record after offset %lld", (long long) offset);
            goto out;
        }
        if (st != REC_OK) {
            vstr_printf(err, "malformed record at offset %lld", (long long) offset);
            goto out;
        }
        if (where == CONTENT) {
            if (type == REC_LINE || type == REC_CONT) {
                if (line_start) {
                    if (in_header && !header_line(vstr_str(data), vstr_len(data), seen_header))
                        in_header = 0;
                    if (in_header)
                        seen_header = 1;
                    show_line = (sections & (in_header ? POSTCAT_HEADER : POSTCAT_BODY)) != 0;
                }
                if (show_line) {
                    fwrite(vstr_str(data), 1, vstr_len(data), out);
                    if (type == REC_LINE)
                        putc('\n', out);
                }
                line_start = type == REC_LINE;
                continue;
            }
            if (type != REC_XTRA) {
                vstr_printf(err, "record type '%c' inside the message content at offset %lld",
                            type, (long long) offset);
                goto out;
            }
            if (!line_start) {
                vstr_printf(err, "unfinished content line before offset %lld",
                            (long long) offset);
                goto out;
            }
            where = EXTRACTED;
            if (banners)
                fprintf(out, "*** HEADER EXTRACTED %s ***\n", label);
            continue;
        }
        switch (type) {
        case REC_MESSAGE:
            if (where != ENVELOPE) {
                vstr_printf(err, "second message content at offset %lld", (long long) offset);
                goto out;
            }
            where = CONTENT;
            if (banners)
                fprintf(out, "*** MESSAGE CONTENTS %s ***\n", label);
            continue;
        case REC_END:
            if (where != EXTRACTED) {
                vstr_printf(err, "end record without message content at offset %lld",
                            (long long) offset);
                goto out;
            }
            if (banners)
                fprintf(out, "*** MESSAGE FILE END %s ***\n", label);
            st = rec_get(in, &type, data, &offset);
            if (st != REC_EOF) {
                vstr_printf(err, "data after the end record at offset %lld",
                            (long long) offset);
                goto out;
            }
            ret = 0;
            goto out;
        case REC_LINE:
        case REC_CONT:
        case REC_XTRA:
            vstr_printf(err, "record type '%c' outside the message content at offset %lld",
                        type, (long long) offset);
            goto out;
        case REC_TIME:
            if (sections & POSTCAT_ENVELOPE)
                put_time(out, "message_arrival_time", vstr_str(data), vstr_len(data));
            continue;
        default:
            if (envelope_name(type) == NULL) {
                vstr_printf(err, "unknown record type %d at offset %lld", type,
                            (long long) offset);
                goto out;
            }
            if (sections & POSTCAT_ENVELOPE) {
                size_t len = vstr_len(data);

                /* Fixed-width records are space padded. */
                while (len > 0 && vstr_str(data)[len - 1] == ' ')
                    len--;
                put_field(out, envelope_name(type), vstr_str(data), len);
            }
            continue;
        }
    }
out:
    vstr_free(data);
    return ret;
}

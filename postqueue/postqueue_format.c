/* postqueue's output formats for the entries of the showq stream: the
 * traditional mailq listing (-p) and one JSON object per message (-j),
 * both with Postfix's layout and field names.  Every text comes from a
 * queue file, i.e. from strangers: the listing shows control characters
 * as '?', and JSON strings are escaped and made valid UTF-8. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mem.h"
#include "../showq/showq_proto.h"
#include "vstr.h"

/* Width of the queue id column (our ids have 15 letters; Postfix's short
 * ones 10). */
#define LISTING_ID_WIDTH 15

struct showq_listing {
    long long total_size;
    size_t count;
};

showq_listing *showq_listing_new(void)
{
    return xcalloc(1, sizeof(struct showq_listing));
}

void showq_listing_free(showq_listing *l)
{
    free(l);
}

/* Text for a terminal: control bytes become '?'. */
static void put_printable(vstr *out, const char *s)
{
    for (; *s; s++)
        vstr_putc(out, ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
}

static void put_spaces(vstr *out, int n)
{
    while (n-- > 0)
        vstr_putc(out, ' ');
}

void showq_listing_entry(showq_listing *l, const struct showq_entry *e, vstr *out)
{
    time_t when = (time_t)e->arrival;
    struct tm tm;
    char date[64];
    const char *last_reason = "";
    char status = ' ';
    int indent = LISTING_ID_WIDTH + 32;

    if (l->count++ == 0)
        vstr_printf(out, "%-*s  %8s %-20s %s\n", LISTING_ID_WIDTH, "-Queue ID-", "--Size--",
                    "----Arrival Time----", "-Sender/Recipient-------");
    l->total_size += e->size;
    if (strcmp(e->queue_name, "active") == 0)
        status = '*';
    else if (strcmp(e->queue_name, "hold") == 0)
        status = '!';
    if (localtime_r(&when, &tm) == NULL || strftime(date, sizeof(date), "%a %b %e %H:%M:%S", &tm) == 0)
        strcpy(date, "?");
    vstr_printf(out, "%-*s%c %8lld %-20s ", LISTING_ID_WIDTH, e->queue_id, status, e->size, date);
    if (e->sender[0] == '\0')
        vstr_puts(out, "MAILER-DAEMON");
    else
        put_printable(out, e->sender);
    vstr_putc(out, '\n');
    for (size_t i = 0; i < e->nrcpt; i++) {
        const char *reason = e->rcpts[i].reason;

        /* A reason is shown once for the recipients that share it. */
        if (reason[0] != '\0' && strcmp(reason, last_reason) != 0) {
            vstr_putc(out, '(');
            put_printable(out, reason);
            vstr_puts(out, ")\n");
        }
        last_reason = reason;
        put_spaces(out, indent);
        put_printable(out, e->rcpts[i].address);
        vstr_putc(out, '\n');
    }
    vstr_putc(out, '\n');
}

void showq_listing_end(showq_listing *l, vstr *out)
{
    long long kbytes = (l->total_size + 1023) / 1024;

    if (l->count == 0)
        vstr_puts(out, "Mail queue is empty\n");
    else
        vstr_printf(out, "-- %lld Kbytes in %zu Request%s.\n", kbytes, l->count,
                    l->count == 1 ? "" : "s");
}

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
    uint32_t cp;
    size_t n, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void showq_json_string(vstr *out, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, n;

    vstr_putc(out, '"');
    while (i < len) {
        unsigned char c = s[i];

        if (c == '"' || c == '\\') {
            vstr_putc(out, '\\');
            vstr_putc(out, c);
            i++;
        } else if (c == '\n') {
            vstr_puts(out, "\\n");
            i++;
        } else if (c == '\t') {
            vstr_puts(out, "\\t");
            i++;
        } else if (c == '\r') {
            vstr_puts(out, "\\r");
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            vstr_printf(out, "\\u%04x", c);
            i++;
        } else if ((n = utf8_sequence(s + i, len - i)) == 0) {
            vstr_puts(out, "\\ufffd");
            i++;
        } else {
            vstr_append(out, s + i, n);
            i += n;
        }
    }
    vstr_putc(out, '"');
}

static void json_field(vstr *out, const char *name, const char *value)
{
    vstr_printf(out, "\"%s\": ", name);
    showq_json_string(out, value, strlen(value));
}

void showq_json_entry(const struct showq_entry *e, vstr *out)
{
    vstr_putc(out, '{');
    json_field(out, "queue_name", e->queue_name);
    vstr_puts(out, ", ");
    json_field(out, "queue_id", e->queue_id);
    vstr_printf(out, ", \"arrival_time\": %lld, \"message_size\": %lld, \"forced_expire\": %s, ",
                e->arrival, e->size, e->forced_expire ? "true" : "false");
    json_field(out, "sender", e->sender);
    vstr_puts(out, ", \"recipients\": [");
    for (size_t i = 0; i < e->nrcpt; i++) {
        if (i > 0)
            vstr_puts(out, ", ");
        vstr_putc(out, '{');
        json_field(out, "address", e->rcpts[i].address);
        if (e->rcpts[i].reason[0] != '\0') {
            vstr_puts(out, ", ");
            json_field(out, "delay_reason", e->rcpts[i].reason);
        }
        vstr_putc(out, '}');
    }
    vstr_puts(out, "]}\n");
}

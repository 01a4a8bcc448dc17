/* bounce(8): which status log entries get a notice (RFC 3461 NOTIFY) and
 * the notification itself: an RFC 6522 multipart/report with a text part
 * for people, an RFC 3464 message/delivery-status part for programs, and
 * the original message (message/rfc822) or its header
 * (text/rfc822-headers).  Pure functions of their arguments, so the unit
 * tests see exactly what cleanup would get. */
#include "mail_date.h"
#include "config.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "bounce.h"
#include "mem.h"
#include "record.h"
#include "status_log.h"
#include "vstr.h"

/* Generated lines are wrapped near this column and never exceed
 * LINE_HARD_MAX (RFC 5322's 998, with room to spare). */
#define WRAP_COLUMN 76
#define LINE_HARD_MAX 990

int dsn_kind_parse(const char *s, enum dsn_kind *kind)
{
    if (strcmp(s, "bounce") == 0)
        *kind = DSN_KIND_BOUNCE;
    else if (strcmp(s, "delay") == 0)
        *kind = DSN_KIND_DELAY;
    else if (strcmp(s, "success") == 0)
        *kind = DSN_KIND_SUCCESS;
    else
        return -1;
    return 0;
}

int dsn_entry_wanted(enum dsn_kind kind, int notify)
{
    if (notify & DSN_NOTIFY_NEVER)
        return 0;
    switch (kind) {
    case DSN_KIND_BOUNCE:
        return notify == 0 || (notify & DSN_NOTIFY_FAILURE);
    case DSN_KIND_DELAY:
        return notify == 0 || (notify & DSN_NOTIFY_DELAY);
    case DSN_KIND_SUCCESS:
        return (notify & DSN_NOTIFY_SUCCESS) != 0;
    }
    return 0;
}

/* Sorting entries by recipient, then by position in the log. */
static const struct status_entry *sort_base;

static int by_rcpt_then_position(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const struct status_entry *x = &sort_base[i], *y = &sort_base[j];
    int c;

    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    if ((c = strcmp(x->rcpt, y->rcpt)) != 0)
        return c;
    return i < j ? -1 : i > j;
}

static int by_position(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;

    return i < j ? -1 : i > j;
}

size_t dsn_select(enum dsn_kind kind, const struct bounce_message *m,
                  const struct status_entry *entries, size_t n,
                  const struct status_entry ***out)
{
    const struct status_entry **v = xcalloc(n ? n : 1, sizeof(*v));
    size_t *idx = xcalloc(n ? n : 1, sizeof(*idx));
    const struct bounce_rcpt *r;
    size_t i, last = 0, count = 0;
    int notify;

    /* The last entry per recipient wins (a defer log repeats them):
     * sort, keep the last of each run, back into log order.  Logs may
     * hold many entries, so no quadratic search. */
    for (i = 0; i < n; i++)
        idx[i] = i;
    sort_base = entries;
    qsort(idx, n, sizeof(*idx), by_rcpt_then_position);
    for (i = 0; i < n; i++) {
        const struct status_entry *e = &entries[idx[i]];

        if (i + 1 < n && entries[idx[i + 1]].offset == e->offset
            && strcmp(entries[idx[i + 1]].rcpt, e->rcpt) == 0)
            continue;
        idx[last++] = idx[i];
    }
    qsort(idx, last, sizeof(*idx), by_position);
    for (i = 0; i < last; i++) {
        const struct status_entry *e = &entries[idx[i]];

        r = m ? bounce_message_rcpt(m, e->offset) : NULL;
        notify = e->notify;
        if (notify == 0 && r != NULL)
            notify = r->notify;
        if (!dsn_entry_wanted(kind, notify))
            continue;
        /* Delivered or bounced since it was deferred: no warning. */
        if (kind == DSN_KIND_DELAY && r != NULL && r->done)
            continue;
        v[count++] = e;
    }
    free(idx);
    *out = v;
    return count;
}


/* ---------- output helpers ---------- */

static void put_line(vstr *out, const char *s, size_t len)
{
    rec_append(out, REC_LINE, s, len);
}

static void put_str(vstr *out, const char *s)
{
    put_line(out, s, strlen(s));
}

static void put_fmt(vstr *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put_fmt(vstr *out, const char *fmt, ...)
{
    vstr *v = vstr_new(128);
    va_list ap;

    va_start(ap, fmt);
    vstr_vprintf(v, fmt, ap);
    va_end(ap);
    put_line(out, vstr_str(v), vstr_len(v));
    vstr_free(v);
}

/* Text from the outside world (addresses, remote replies) made safe for a
 * 7-bit message: control characters and 8-bit bytes become '?'. */
static char *clean_text(const char *s)
{
    char *c = xstrdup(s ? s : "");
    char *p;

    for (p = c; *p; p++)
        if ((unsigned char)*p < 32 || (unsigned char)*p > 126)
            *p = '?';
    return c;
}

/* Emit prefix + text as lines of at most WRAP_COLUMN columns where the
 * text has spaces to break at (and never more than LINE_HARD_MAX);
 * continuation lines start with indent.  Header fields use indent " "
 * (RFC 5322 folding); body text its own indent. */
static void put_wrapped(vstr *out, const char *prefix, const char *text, const char *indent)
{
    vstr *line = vstr_new(128);
    const char *p = text;
    size_t room, take, brk;

    vstr_set(line, prefix);
    while (*p != '\0') {
        size_t rest = strlen(p);

        room = vstr_len(line) < WRAP_COLUMN ? WRAP_COLUMN - vstr_len(line) : 0;
        if (rest <= room) {
            vstr_puts(line, p);
            break;
        }
        /* Last space within the room, else the first one after it. */
        brk = 0;
        for (take = 1; take <= room && take < rest; take++)
            if (p[take] == ' ')
                brk = take;
        if (brk == 0) {
            for (take = room + 1; take < rest && p[take] != ' '; take++)
                ;
            brk = take < rest ? take : rest;
        }
        if (vstr_len(line) + brk > LINE_HARD_MAX)
            brk = LINE_HARD_MAX - vstr_len(line);
        if (brk == 0 && vstr_len(line) <= strlen(indent)) {
            brk = 1;
        }
        if (brk > 0)
            vstr_append(line, p, brk);
        p += brk;
        if (*p == '\0')
            break;
        put_line(out, vstr_str(line), vstr_len(line));
        vstr_set(line, indent);
        while (*p == ' ')
            p++;
    }
    put_line(out, vstr_str(line), vstr_len(line));
    vstr_free(line);
}

/* "5.1.1"-shaped: class 2, 4 or 5, then 1-3 and 1-3 digits. */
static int status_code_ok(const char *s)
{
    int n;

    if (s[0] != '2' && s[0] != '4' && s[0] != '5')
        return 0;
    if (s[1] != '.')
        return 0;
    s += 2;
    for (n = 0; *s >= '0' && *s <= '9'; s++)
        n++;
    if (n < 1 || n > 3 || *s != '.')
        return 0;
    for (n = 0, s++; *s >= '0' && *s <= '9'; s++)
        n++;
    return n >= 1 && n <= 3 && *s == '\0';
}

static const char *kind_default_status(enum dsn_kind kind)
{
    return kind == DSN_KIND_BOUNCE ? "5.0.0" : kind == DSN_KIND_DELAY ? "4.0.0" : "2.0.0";
}

static const char *entry_action(enum dsn_kind kind, const struct status_entry *e)
{
    static const char *const actions[] = {"failed", "delayed", "delivered", "relayed",
                                          "expanded", NULL};
    int i;

    for (i = 0; actions[i] != NULL; i++)
        if (strcmp(e->action, actions[i]) == 0)
            return actions[i];
    return kind == DSN_KIND_BOUNCE ? "failed" : kind == DSN_KIND_DELAY ? "delayed" : "delivered";
}

/* The remote MTA of a relay "host[addr]:port": the host part, or NULL
 * for local deliveries. */
static char *relay_host(const char *relay)
{
    const char *b = strchr(relay, '[');

    if (b == NULL || b == relay)
        return NULL;
    return xstrndup(relay, (size_t)(b - relay));
}

/* The remote server's own words in a reason "host X[Y] said: 550 ...". */
static const char *remote_reply(const struct status_entry *e)
{
    const char *said = strstr(e->reason, " said: ");

    if (said == NULL || strchr(e->relay, '[') == NULL)
        return NULL;
    return said + 7;
}

/* Does any record of recs carry a byte with the high bit set? */
static int content_is_8bit(const vstr *recs)
{
    size_t pos = 0, dl, k;
    const char *d;
    ssize_t used;
    int t;

    while (pos < vstr_len(recs)
           && (used = rec_parse(vstr_str(recs) + pos, vstr_len(recs) - pos, &t, &d, &dl)) > 0) {
        for (k = 0; k < dl; k++)
            if ((unsigned char)d[k] & 0x80)
                return 1;
        pos += (size_t)used;
    }
    return 0;
}

static const char *subject_of(const struct dsn_request *req)
{
    if (req->double_bounce)
        return "Undeliverable mail: returned notification could not be delivered";
    switch (req->kind) {
    case DSN_KIND_BOUNCE:
        return req->postmaster_copy ? "Postmaster Copy: Undelivered Mail"
                                    : "Undelivered Mail Returned to Sender";
    case DSN_KIND_DELAY:
        return req->postmaster_copy ? "Postmaster Warning: Delayed Mail"
                                    : "Delayed Mail (still being retried)";
    case DSN_KIND_SUCCESS:
        break;
    }
    return "Successful Mail Delivery Report";
}

static void put_explanation(vstr *out, const struct dsn_request *req,
                            const struct bounce_message *m)
{
    char *host = clean_text(req->myhostname);
    char *sender = clean_text(m->sender);

    put_fmt(out, "This is the mail system at host %s.", host);
    put_str(out, "");
    switch (req->kind) {
    case DSN_KIND_BOUNCE:
        if (req->double_bounce) {
            put_wrapped(out, "", "A message from the null sender (itself a delivery "
                        "notification) could not be delivered to the recipients below. "
                        "It cannot be returned, so this notice goes to the postmaster.", "");
        } else {
            put_wrapped(out, "", "Your message could not be delivered to one or more "
                        "recipients, and the mail system has given up on them. The "
                        "reasons are listed below.", "");
        }
        break;
    case DSN_KIND_DELAY:
        put_wrapped(out, "", "Your message could not be delivered yet to one or more "
                    "recipients. This is only a warning: the mail system keeps trying, "
                    "and you do not need to send the message again.", "");
        put_str(out, "");
        {
            vstr *until = vstr_new(64);

            mail_date_format(until, (time_t)req->retry_until);
            put_fmt(out, "Delivery will be attempted until %s.", vstr_str(until));
            vstr_free(until);
        }
        break;
    case DSN_KIND_SUCCESS:
        put_wrapped(out, "", "Your message was delivered to the recipients below, as "
                    "you asked for a report of successful delivery.", "");
        break;
    }
    put_str(out, "");
    if (req->kind != DSN_KIND_SUCCESS && req->postmaster != NULL) {
        char *pm = clean_text(req->postmaster);
        vstr *t = vstr_new(128);

        vstr_printf(t, "If you need help, write to <%s> and include this report.", pm);
        put_wrapped(out, "", vstr_str(t), "");
        put_str(out, "");
        vstr_free(t);
        free(pm);
    }
    if (req->postmaster_copy || req->double_bounce) {
        put_fmt(out, "Original sender: <%s>", sender);
        put_str(out, "");
    }
    put_str(out, "                   The mail system");
    free(host);
    free(sender);
}

static void put_per_recipient_text(vstr *out, const struct status_entry *const *e, size_t n)
{
    vstr *prefix = vstr_new(128);
    size_t i;

    for (i = 0; i < n; i++) {
        char *rcpt = clean_text(e[i]->rcpt);
        char *reason = clean_text(*e[i]->reason ? e[i]->reason : e[i]->action);

        put_str(out, "");
        vstr_reset(prefix);
        vstr_printf(prefix, "<%s>: ", rcpt);
        put_wrapped(out, vstr_str(prefix), reason, "    ");
        free(rcpt);
        free(reason);
    }
    vstr_free(prefix);
}

static void put_delivery_status(vstr *out, const struct dsn_request *req,
                                const struct bounce_message *m,
                                const struct status_entry *const *e, size_t n)
{
    vstr *v = vstr_new(64);
    char *host = clean_text(req->myhostname);
    size_t i;

    put_fmt(out, "Reporting-MTA: dns; %s", host);
    put_fmt(out, "X-Posthorn-Queue-ID: %s", req->queue_id);
    {
        char *sender = clean_text(m->sender);

        put_fmt(out, "X-Posthorn-Sender: rfc822; %s", sender);
        free(sender);
    }
    if (*m->envid) {
        char *envid = clean_text(m->envid);

        put_wrapped(out, "Original-Envelope-Id: ", envid, " ");
        free(envid);
    }
    vstr_reset(v);
    mail_date_format(v, (time_t)m->arrival);
    put_fmt(out, "Arrival-Date: %s", vstr_str(v));
    for (i = 0; i < n; i++) {
        char *rcpt = clean_text(e[i]->rcpt);
        char *reason = clean_text(e[i]->reason);
        char *rhost = relay_host(e[i]->relay);
        const char *remote = remote_reply(e[i]);

        put_str(out, "");
        put_wrapped(out, "Final-Recipient: rfc822; ", rcpt, " ");
        if (*e[i]->orcpt) {
            char *orcpt = clean_text(e[i]->orcpt);

            /* Stored as "type;address", the field's own syntax. */
            put_wrapped(out, "Original-Recipient: ", orcpt, " ");
            free(orcpt);
        }
        put_fmt(out, "Action: %s", entry_action(req->kind, e[i]));
        put_fmt(out, "Status: %s",
                status_code_ok(e[i]->status) ? e[i]->status : kind_default_status(req->kind));
        if (rhost != NULL) {
            char *h = clean_text(rhost);

            put_wrapped(out, "Remote-MTA: dns; ", h, " ");
            free(h);
        }
        if (*reason) {
            if (remote != NULL) {
                char *r = clean_text(remote);

                put_wrapped(out, "Diagnostic-Code: smtp; ", r, " ");
                free(r);
            } else {
                put_wrapped(out, "Diagnostic-Code: x-unix; ", reason, " ");
            }
        }
        if (e[i]->when > 0) {
            vstr_reset(v);
            mail_date_format(v, (time_t)e[i]->when);
            put_fmt(out, "Last-Attempt-Date: %s", vstr_str(v));
        }
        if (req->kind == DSN_KIND_DELAY && req->retry_until > 0) {
            vstr_reset(v);
            mail_date_format(v, (time_t)req->retry_until);
            put_fmt(out, "Will-Retry-Until: %s", vstr_str(v));
        }
        free(rcpt);
        free(reason);
        free(rhost);
    }
    free(host);
    vstr_free(v);
}

int dsn_compose(vstr *out, const struct dsn_request *req, const struct bounce_message *m,
                const struct status_entry *const *e, size_t n)
{
    vstr *v = vstr_new(128);
    vstr *boundary = vstr_new(64);
    char *host = clean_text(req->myhostname);
    char *to = clean_text(req->to);
    struct tm tm;
    int full, eight_bit, flags = 0;
    time_t now = req->now;

    /* The whole message goes back only to its sender with a failure
     * notice, when RET=HDRS was not asked for and it fits the limit. */
    full = req->kind == DSN_KIND_BOUNCE && !req->postmaster_copy && strcasecmp(m->ret, "HDRS") != 0
           && !m->truncated;
    eight_bit = content_is_8bit(full ? m->content : m->headers);
    if (eight_bit)
        flags |= REC_FLAG_8BITMIME;

    gmtime_r(&now, &tm);
    vstr_printf(boundary, "%s.%lld.%08X/%s", req->queue_id, (long long)now, req->rnd, host);

    /* Header */
    mail_date_format(v, now);
    put_fmt(out, "Date: %s", vstr_str(v));
    put_fmt(out, "From: MAILER-DAEMON@%s (Mail Delivery System)", host);
    put_fmt(out, "Subject: %s", subject_of(req));
    put_wrapped(out, "To: ", to, " ");
    put_str(out, "Auto-Submitted: auto-replied");
    put_fmt(out, "Message-ID: <%04d%02d%02d%02d%02d%02d.%s.%08X@%s>", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, req->queue_id,
            req->rnd, host);
    put_str(out, "MIME-Version: 1.0");
    put_str(out, "Content-Type: multipart/report; report-type=delivery-status;");
    put_fmt(out, "\tboundary=\"%s\"", vstr_str(boundary));
    put_fmt(out, "Content-Transfer-Encoding: %s", eight_bit ? "8bit" : "7bit");
    put_str(out, "");
    put_str(out, "This is a MIME-encapsulated message.");
    put_str(out, "");

    /* Part 1: for people */
    put_fmt(out, "--%s", vstr_str(boundary));
    put_str(out, "Content-Description: Notification");
    put_str(out, "Content-Type: text/plain; charset=us-ascii");
    put_str(out, "");
    put_explanation(out, req, m);
    put_per_recipient_text(out, e, n);
    put_str(out, "");

    /* Part 2: for programs */
    put_fmt(out, "--%s", vstr_str(boundary));
    put_str(out, "Content-Description: Delivery report");
    put_str(out, "Content-Type: message/delivery-status");
    put_str(out, "");
    put_delivery_status(out, req, m, e, n);
    put_str(out, "");

    /* Part 3: the message or its header */
    put_fmt(out, "--%s", vstr_str(boundary));
    if (full) {
        put_str(out, "Content-Description: Undelivered Message");
        put_str(out, "Content-Type: message/rfc822");
        if (eight_bit)
            put_str(out, "Content-Transfer-Encoding: 8bit");
        put_str(out, "");
        vstr_append(out, vstr_str(m->content), vstr_len(m->content));
    } else {
        put_fmt(out, "Content-Description: %s",
                req->kind == DSN_KIND_SUCCESS ? "Message Headers" :
                req->kind == DSN_KIND_DELAY ? "Delayed Message Headers" :
                "Undelivered Message Headers");
        put_str(out, "Content-Type: text/rfc822-headers");
        if (eight_bit)
            put_str(out, "Content-Transfer-Encoding: 8bit");
        put_str(out, "");
        vstr_append(out, vstr_str(m->headers), vstr_len(m->headers));
    }
    put_str(out, "");
    put_fmt(out, "--%s--", vstr_str(boundary));

    free(host);
    free(to);
    vstr_free(v);
    vstr_free(boundary);
    return flags;
}

/* smtpd: the SMTP server.  One process serves many sessions on the event
 * loop (DESIGN.md "Why smtpd is event-driven"); each session is a small
 * state machine around the pure protocol module (smtp_proto.c).  This file
 * owns the I/O: client input and output buffers, PIPELINING, timeouts,
 * the relay policy call, and the record stream to cleanup for DATA. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "argv.h"
#include "attr.h"
#include "event.h"
#include "log.h"
#include "mail_addr.h"
#include "mail_proto.h"
#include "match_list.h"
#include "mem.h"
#include "netbuf.h"
#include "params.h"
#include "record.h"
#include "skeleton.h"
#include "smtp_proto.h"
#include "smtpd_check.h"
#include "vstr.h"

#define CLIENT_READ_LIMIT 65536         /* client input buffer */
#define CLIENT_OUT_HIGH_WATER 65536     /* stop reading while replies pile up */
#define DATA_PIECE 2048                 /* longest C/L record from one line piece */
#define CLEANUP_FLUSH_AT 65536          /* write to cleanup in large chunks */
#define CLEANUP_HIGH_WATER (256 * 1024) /* stop reading the client above this */
#define CLEANUP_REPLY_LIMIT 16384
#define LOG_TEXT_MAX 256
#define DRAIN_CHECK_MS 1000

/* Configuration, read once before the jail. */
static struct smtp_config cfg;
static struct smtpd_policy *policy;
static char *smtpd_banner;
static char *mail_name;
static long smtpd_timeout_ms, error_sleep_ms, ipc_timeout_ms;
static int bare_newline_reject_mode;
static match_list *bare_newline_exclusions;
static argv_t *header_rewrite_clients;
static int always_add_headers;

enum cleanup_state { CL_NONE, CL_DATA, CL_WAIT_REPLY };

struct session {
    int fd;
    char *client_addr;
    char *local_addr;
    vstr *ident;                /* "unknown[ADDR]" for log lines */
    netbuf in, out;
    struct smtp_session proto;
    struct event_timer timer;   /* smtpd_timeout, or ipc_timeout for cleanup */
    struct event_timer delay_timer;
    int delaying;               /* holding replies for smtpd_error_sleep_time */
    int closing;                /* flush the replies, then close */
    int skipping_line;          /* discarding the rest of an overlong line */
    int local_client;           /* REC_FLAG_LOCAL_CLIENT */
    /* The cleanup stream of the current message. */
    enum cleanup_state cl_state;
    int cl_fd;
    int cl_failed;              /* cleanup went away during DATA */
    int cl_announced;
    netbuf cl_out, cl_in;
    struct session *prev, *next;
};

static struct session *sessions;
static struct event_timer drain_timer;

static int session_run(struct session *s);
static void session_update_events(struct session *s);

/* Untrusted text for a log line (bounded, printable); uses a rotating
 * set of buffers so that one log call can hold several. */
static const char *printable(const char *text, size_t len)
{
    static char bufs[4][LOG_TEXT_MAX + 4];
    static int which;
    char *b = bufs[which++ & 3];

    return log_printable(b, sizeof(bufs[0]), text, len);
}

/* Text from the client that goes into a header or queue file attribute:
 * control characters and non-ASCII replaced, bounded. */
static void sanitize(vstr *out, const char *text, size_t len, size_t max)
{
    vstr_reset(out);
    for (size_t i = 0; i < len && i < max; i++) {
        unsigned char c = text[i];
        vstr_putc(out, (c < 33 || c > 126) ? '?' : c);
    }
}

/* Numeric address of a socket end; IPv4-mapped IPv6 shown as IPv4. */
static char *sockaddr_text(const struct sockaddr_storage *ss)
{
    char buf[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const void *) ss;
        if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)))
            return xstrdup(buf);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const void *) ss;
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            if (inet_ntop(AF_INET, sin6->sin6_addr.s6_addr + 12, buf, sizeof(buf)))
                return xstrdup(buf);
        } else if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf))) {
            return xstrdup(buf);
        }
    }
    return xstrdup("unknown");
}

static int addr_is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

/* local_header_rewrite_clients: may cleanup add missing headers? */
static int local_header_client(const struct session *s)
{
    if (always_add_headers)
        return 1;
    for (size_t i = 0; i < header_rewrite_clients->n; i++) {
        const char *r = header_rewrite_clients->v[i];
        if (strcmp(r, "permit_inet_interfaces") == 0) {
            if (strcmp(s->client_addr, s->local_addr) == 0 || addr_is_loopback(s->client_addr))
                return 1;
        } else if (strcmp(r, "permit_mynetworks") == 0) {
            if (s->proto.client_in_mynetworks)
                return 1;
        } else if (strcmp(r, "static:all") == 0) {
            return 1;
        } else {
            msg_warn("unsupported local_header_rewrite_clients entry \"%s\"; ignored", r);
        }
    }
    return 0;
}

/* ---------- session teardown ---------- */

static void cleanup_close(struct session *s)
{
    if (s->cl_fd >= 0) {
        event_del(s->cl_fd);
        close(s->cl_fd);
        s->cl_fd = -1;
    }
    netbuf_free(&s->cl_out);
    netbuf_free(&s->cl_in);
    s->cl_state = CL_NONE;
    s->cl_announced = 0;
}

static void session_close(struct session *s)
{
    vstr *counts = vstr_new(128);

    smtp_proto_counts(&s->proto, counts);
    msg_info("disconnect from %s %s", vstr_str(s->ident), vstr_str(counts));
    vstr_free(counts);
    /* Closing without E makes cleanup discard a half-sent message. */
    cleanup_close(s);
    event_timer_cancel(&s->timer);
    event_timer_cancel(&s->delay_timer);
    event_del(s->fd);
    close(s->fd);
    netbuf_free(&s->in);
    netbuf_free(&s->out);
    smtp_proto_free(&s->proto);
    if (s->prev)
        s->prev->next = s->next;
    else
        sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    free(s->client_addr);
    free(s->local_addr);
    vstr_free(s->ident);
    free(s);
    multi_server_disconnect();
}

static void timer_arm(struct session *s, long ms);

/* Move queued replies to the client; -1 when the connection is gone. */
static int client_flush(struct session *s)
{
    while (netbuf_avail(&s->out) > 0) {
        ssize_t n = netbuf_flush(&s->out, s->fd);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            return -1;
        }
        if (n == 0)
            break;
        if (s->cl_state != CL_WAIT_REPLY)
            timer_arm(s, smtpd_timeout_ms);
    }
    return 0;
}

static void queue_reply(struct session *s)
{
    if (s->proto.reply->len > 0) {
        netbuf_append(&s->out, s->proto.reply->data, s->proto.reply->len);
        vstr_reset(s->proto.reply);
    }
}

/* ---------- timers ---------- */

static void session_timeout(void *ctx);

static void timer_arm(struct session *s, long ms)
{
    event_timer_set(&s->timer, ms, session_timeout, s);
}

static void cleanup_finish(struct session *s, int status, const char *queue_id,
                           const char *reason);

static void session_timeout(void *ctx)
{
    struct session *s = ctx;

    if (s->cl_state == CL_WAIT_REPLY) {
        msg_warn("timeout waiting for the cleanup service reply (client %s)",
                 vstr_str(s->ident));
        cleanup_finish(s, 451, NULL, "4.3.0 Error: queue file write error");
        if (session_run(s))
            session_update_events(s);
        return;
    }
    if (!s->closing) {
        msg_info("timeout after %s from %s", smtp_proto_last(&s->proto), vstr_str(s->ident));
        vstr_puts(s->proto.reply, "421 4.4.2 Error: timeout exceeded\r\n");
        queue_reply(s);
        (void) client_flush(s);
    }
    /* A client that does not read its replies gets no more time. */
    session_close(s);
}

static void delay_done(void *ctx)
{
    struct session *s = ctx;

    s->delaying = 0;
    if (session_run(s))
        session_update_events(s);
}

/* ---------- cleanup stream ---------- */

static void cleanup_event(int fd, int events, void *ctx);

static void cleanup_put(struct session *s, int type, const void *data, size_t len)
{
    unsigned char hdr[5];
    size_t hl;

    if (s->cl_fd < 0 || s->cl_failed)
        return;
    hl = rec_header(hdr, type, len);
    netbuf_append(&s->cl_out, hdr, hl);
    if (len > 0)
        netbuf_append(&s->cl_out, data, len);
}

static void cleanup_putf(struct session *s, int type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void cleanup_putf(struct session *s, int type, const char *fmt, ...)
{
    vstr *v = vstr_new(128);
    va_list ap;

    va_start(ap, fmt);
    vstr_vprintf(v, fmt, ap);
    va_end(ap);
    cleanup_put(s, type, v->data, v->len);
    vstr_free(v);
}

/* cleanup went away: drop what is queued; the client's DATA is read to
 * its end and answered with 451. */
static void cleanup_fail(struct session *s)
{
    s->cl_failed = 1;
    netbuf_consume(&s->cl_out, netbuf_avail(&s->cl_out));
}

/* Write what is queued for cleanup; on failure the rest of the message is
 * read and dropped and the client gets 451 at the end of DATA. */
static void cleanup_flush(struct session *s)
{
    while (s->cl_fd >= 0 && !s->cl_failed && netbuf_avail(&s->cl_out) > 0) {
        ssize_t n = netbuf_flush(&s->cl_out, s->cl_fd);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            msg_warn("write to %s: %m (client %s)", CLEANUP_SOCKET, vstr_str(s->ident));
            cleanup_fail(s);
            return;
        }
        if (n == 0)
            break;
    }
}

static void received_header(struct session *s)
{
    vstr *helo = vstr_new(64), *line = vstr_new(256);
    char date[128];
    struct tm tm;
    time_t now = time(NULL);

    if (s->proto.helo_name->len > 0)
        sanitize(helo, s->proto.helo_name->data, s->proto.helo_name->len, 255);
    else
        vstr_set(helo, "unknown");
    localtime_r(&now, &tm);
    if (strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm) == 0)
        date[0] = 0;
    vstr_printf(line, "Received: from %s (unknown [%s])", vstr_str(helo), s->client_addr);
    cleanup_put(s, REC_LINE, line->data, line->len);
    vstr_reset(line);
    vstr_printf(line, "\tby %s (%s) with %s", cfg.myhostname, mail_name,
                s->proto.esmtp ? "ESMTP" : "SMTP");
    if (s->proto.nrcpt == 1) {
        cleanup_put(s, REC_LINE, line->data, line->len);
        vstr_reset(line);
        vstr_printf(line, "\tfor <%s>; %s", s->proto.rcpts[0].addr, date);
    } else {
        vstr_putc(line, ';');
        cleanup_put(s, REC_LINE, line->data, line->len);
        vstr_reset(line);
        vstr_printf(line, "\t%s", date);
    }
    cleanup_put(s, REC_LINE, line->data, line->len);
    vstr_free(helo);
    vstr_free(line);
}

/* Connect to cleanup and send the envelope; 1 ok, 0 cleanup unreachable. */
static int cleanup_open(struct session *s)
{
    struct smtp_session *p = &s->proto;
    int flags = 0;
    vstr *tmp;

    s->cl_fd = service_connect(CLEANUP_SOCKET, 1);
    if (s->cl_fd < 0) {
        msg_warn("connect to %s: %m (client %s)", CLEANUP_SOCKET, vstr_str(s->ident));
        return 0;
    }
    s->cl_failed = 0;
    s->cl_announced = 0;
    s->cl_state = CL_DATA;
    netbuf_init(&s->cl_out, CLEANUP_HIGH_WATER * 2);
    netbuf_init(&s->cl_in, CLEANUP_REPLY_LIMIT);

    if (s->local_client)
        flags |= REC_FLAG_LOCAL_CLIENT;
    if (p->body_8bit)
        flags |= REC_FLAG_8BITMIME;
    if (p->smtputf8)
        flags |= REC_FLAG_SMTPUTF8;
    cleanup_putf(s, REC_FLAGS, "%d", flags);
    cleanup_put(s, REC_SENDER, p->sender->data, p->sender->len);
    cleanup_putf(s, REC_ATTR, "%s=%s", ATTR_CLIENT_ADDRESS, s->client_addr);
    cleanup_putf(s, REC_ATTR, "%s=%s", ATTR_CLIENT_NAME, "unknown");
    if (p->helo_name->len > 0) {
        tmp = vstr_new(64);
        sanitize(tmp, p->helo_name->data, p->helo_name->len, 255);
        cleanup_putf(s, REC_ATTR, "%s=%s", ATTR_HELO_NAME, vstr_str(tmp));
        vstr_free(tmp);
    }
    cleanup_putf(s, REC_ATTR, "%s=%s", ATTR_PROTOCOL, p->esmtp ? "ESMTP" : "SMTP");
    if (p->envid->len > 0)
        cleanup_putf(s, REC_ATTR, "%s=%s", ATTR_ENVID, vstr_str(p->envid));
    if (p->ret->len > 0)
        cleanup_putf(s, REC_ATTR, "%s=%s", ATTR_RET, vstr_str(p->ret));
    for (size_t i = 0; i < p->nrcpt; i++) {
        if (p->rcpts[i].orcpt)
            cleanup_putf(s, REC_ORCPT, "%s", p->rcpts[i].orcpt);
        if (p->rcpts[i].notify)
            cleanup_putf(s, REC_NOTIFY, "%d", p->rcpts[i].notify);
        cleanup_putf(s, REC_RCPT, "%s", p->rcpts[i].addr);
    }
    cleanup_put(s, REC_MESSAGE, "", 0);
    received_header(s);
    return 1;
}

/* The message is done one way or another: reply, log, drop the stream. */
static void cleanup_finish(struct session *s, int status, const char *queue_id,
                           const char *reason)
{
    int act;

    if (status == 0)
        msg_info("%s: client=%s", queue_id, vstr_str(s->ident));
    cleanup_close(s);
    act = smtp_proto_data_end(&s->proto, status, queue_id, reason);
    queue_reply(s);
    timer_arm(s, smtpd_timeout_ms);
    if (act & SMTP_ACT_DISCONNECT)
        s->closing = 1;
    else if ((act & SMTP_ACT_DELAY) && error_sleep_ms > 0) {
        s->delaying = 1;
        event_timer_set(&s->delay_timer, error_sleep_ms, delay_done, s);
    }
}

/* Parse cleanup's announcement and reply from cl_in; 1 when finished. */
static int cleanup_parse_reply(struct session *s)
{
    attr_list *l = attr_list_new();
    vstr *err = vstr_new(64);
    ssize_t n;
    int done = 0;

    if (!s->cl_announced) {
        n = attr_parse(netbuf_peek(&s->cl_in), netbuf_avail(&s->cl_in), l, NULL, err);
        if (n == 0)
            goto out;
        if (n < 0 || attr_check_announce(l, PROTO_CLEANUP, PROTO_VERSION, err) < 0) {
            msg_warn("%s: bad announcement: %s", CLEANUP_SOCKET, vstr_str(err));
            cleanup_finish(s, 451, NULL, "4.3.0 Error: queue file write error");
            done = 1;
            goto out;
        }
        netbuf_consume(&s->cl_in, (size_t) n);
        s->cl_announced = 1;
        attr_list_reset(l);
    }
    n = attr_parse(netbuf_peek(&s->cl_in), netbuf_avail(&s->cl_in), l, cleanup_reply_spec, err);
    if (n == 0)
        goto out;
    done = 1;
    if (n < 0) {
        msg_warn("%s: bad reply: %s", CLEANUP_SOCKET, vstr_str(err));
        cleanup_finish(s, 451, NULL, "4.3.0 Error: queue file write error");
        goto out;
    }
    {
        const char *status = attr_get(l, "status");
        const char *id = attr_get(l, "queue_id");
        const char *reason = attr_get(l, "reason");
        long code;

        if (status && strcmp(status, "0") == 0) {
            int id_ok = id != NULL && *id != 0 && strlen(id) <= 64;
            for (const char *c = id; id_ok && *c; c++)
                if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')))
                    id_ok = 0;
            if (!id_ok) {
                msg_warn("%s: reply without a valid queue_id", CLEANUP_SOCKET);
                cleanup_finish(s, 451, NULL, "4.3.0 Error: queue file write error");
            } else {
                char *idcopy = xstrdup(id);
                cleanup_finish(s, 0, idcopy, NULL);
                free(idcopy);
            }
        } else if (attr_get_long(l, "status", 400, 599, &code) == 0) {
            vstr *r = vstr_new(64);
            vstr_set(r, reason ? reason : "");
            cleanup_finish(s, (int) code, NULL, vstr_str(r));
            vstr_free(r);
        } else {
            msg_warn("%s: bad status \"%s\"", CLEANUP_SOCKET,
                     printable(status ? status : "", status ? strlen(status) : 0));
            cleanup_finish(s, 451, NULL, "4.3.0 Error: queue file write error");
        }
    }
out:
    attr_list_free(l);
    vstr_free(err);
    return done;
}

static void cleanup_event(int fd, int events, void *ctx)
{
    struct session *s = ctx;

    if (events & EV_WRITE)
        cleanup_flush(s);
    if (s->cl_state == CL_WAIT_REPLY && s->cl_failed) {
        cleanup_finish(s, 451, NULL, "4.3.0 Error: queue file write error");
    } else if (s->cl_state == CL_WAIT_REPLY && (events & EV_READ)) {
        ssize_t n = netbuf_fill(&s->cl_in, fd);
        if (n > 0) {
            (void) cleanup_parse_reply(s);
        } else if (n == 0 || n == -2 || (errno != EAGAIN && errno != EINTR)) {
            msg_warn("%s: connection lost before the reply (client %s)", CLEANUP_SOCKET,
                     vstr_str(s->ident));
            cleanup_finish(s, 451, NULL, "4.3.0 Error: queue file write error");
        }
    } else if (s->cl_state == CL_DATA && (events & EV_READ) && !s->cl_failed) {
        /* Early data from cleanup: the announcement (kept), or EOF. */
        ssize_t n = netbuf_fill(&s->cl_in, fd);
        if (n == 0 || (n < 0 && n != -2 && errno != EAGAIN && errno != EINTR)) {
            msg_warn("%s: connection lost during DATA (client %s)", CLEANUP_SOCKET,
                     vstr_str(s->ident));
            cleanup_fail(s);
        }
    }
    if (session_run(s))
        session_update_events(s);
}

/* ---------- client input ---------- */

static void log_reject(struct session *s, const char *reply_line, const char *rcpt)
{
    struct smtp_session *p = &s->proto;

    msg_info("NOQUEUE: reject: RCPT from %s: %s; from=<%s> to=<%s> proto=%s helo=<%s>",
             vstr_str(s->ident), printable(reply_line, strlen(reply_line)),
             printable(p->sender->data, p->sender->len), printable(rcpt, strlen(rcpt)),
             p->esmtp ? "ESMTP" : "SMTP", printable(p->helo_name->data, p->helo_name->len));
}

/* Act on what the protocol module asked for. */
static void handle_actions(struct session *s, int act)
{
    if (act & SMTP_ACT_RCPT_CHECK) {
        vstr *rej = vstr_new(128);
        const char *rcpt = s->proto.pending_rcpt.addr;

        if (smtpd_check_rcpt(policy, s->client_addr, rcpt, rej) < 0) {
            log_reject(s, vstr_str(rej), rcpt);
            act |= smtp_proto_rcpt_result(&s->proto, vstr_str(rej));
        } else {
            act |= smtp_proto_rcpt_result(&s->proto, NULL);
        }
        vstr_free(rej);
    }
    if (act & SMTP_ACT_DATA)
        act |= smtp_proto_data_begin(&s->proto, cleanup_open(s));
    queue_reply(s);
    if (act & SMTP_ACT_DISCONNECT) {
        s->closing = 1;
        if (s->proto.errors >= cfg.hard_error_limit)
            msg_info("too many errors after %s from %s", smtp_proto_last(&s->proto),
                     vstr_str(s->ident));
    } else if ((act & SMTP_ACT_DELAY) && error_sleep_ms > 0) {
        s->delaying = 1;
        event_timer_set(&s->delay_timer, error_sleep_ms, delay_done, s);
    }
}

/* One command line from the buffer; 0 when more input is needed. */
static int command_step(struct session *s)
{
    const char *p = netbuf_peek(&s->in);
    size_t avail = netbuf_avail(&s->in), len;
    ssize_t n;
    int term;

    if (s->skipping_line) {
        const char *nl = memchr(p, '\n', avail);
        if (nl == NULL) {
            netbuf_consume(&s->in, avail);
            return 0;
        }
        netbuf_consume(&s->in, (size_t) (nl - p) + 1);
        s->skipping_line = 0;
        return 1;
    }
    n = netbuf_line(&s->in, cfg.line_length_limit + 2);
    if (n == 0)
        return 0;
    if (n < 0) {
        int act = smtp_proto_line_too_long(&s->proto);
        const char *nl = memchr(p, '\n', avail);

        /* Discard the rest of that line, here or as it arrives. */
        if (nl != NULL) {
            netbuf_consume(&s->in, (size_t) (nl - p) + 1);
        } else {
            netbuf_consume(&s->in, avail);
            s->skipping_line = 1;
        }
        handle_actions(s, act);
        return 1;
    }
    len = (size_t) n - 1;
    term = SMTP_TERM_LF;
    if (len > 0 && p[len - 1] == '\r') {
        len--;
        term = SMTP_TERM_CRLF;
    }
    {
        int act = smtp_proto_command(&s->proto, p, len, term);
        netbuf_consume(&s->in, (size_t) n);
        handle_actions(s, act);
    }
    return 1;
}

/* End of DATA: hand the message to cleanup, or reply at once. */
static void data_finish(struct session *s)
{
    if (s->proto.data_too_big) {
        msg_info("NOQUEUE: reject: DATA from %s: 552 5.3.4 Error: message file too big",
                 vstr_str(s->ident));
        cleanup_finish(s, 552, NULL, "5.3.4 Error: message file too big");
        return;
    }
    if (s->cl_failed || s->cl_fd < 0) {
        cleanup_finish(s, 451, NULL, "4.3.0 Error: queue file write error");
        return;
    }
    cleanup_put(s, REC_END, "", 0);
    s->cl_state = CL_WAIT_REPLY;
    cleanup_flush(s);
    timer_arm(s, ipc_timeout_ms);
    /* The announcement may already be buffered. */
    if (netbuf_avail(&s->cl_in) > 0)
        (void) cleanup_parse_reply(s);
}

/* One DATA line or line piece from the buffer; 0 when more is needed. */
static int data_step(struct session *s)
{
    const char *p = netbuf_peek(&s->in), *out;
    size_t len, outlen, used;
    ssize_t n = netbuf_line(&s->in, DATA_PIECE);
    int term, r;

    if (n == 0)
        return 0;
    if (n < 0) {
        /* A long line: forward a piece, keeping a CR that may belong to
         * the CR LF right after it. */
        len = DATA_PIECE;
        if (p[len - 1] == '\r')
            len--;
        used = len;
        term = SMTP_TERM_NONE;
    } else {
        used = (size_t) n;
        len = used - 1;
        term = SMTP_TERM_LF;
        if (len > 0 && p[len - 1] == '\r') {
            len--;
            term = SMTP_TERM_CRLF;
        }
    }
    r = smtp_proto_data_input(&s->proto, p, len, term, &out, &outlen);
    switch (r) {
    case SMTP_DATA_LINE:
        cleanup_put(s, REC_LINE, out, outlen);
        break;
    case SMTP_DATA_PIECE:
        cleanup_put(s, REC_CONT, out, outlen);
        break;
    case SMTP_DATA_SKIP:
        break;
    case SMTP_DATA_END:
        netbuf_consume(&s->in, used);
        data_finish(s);
        return 1;
    case SMTP_DATA_DISCONNECT:
        netbuf_consume(&s->in, used);
        cleanup_close(s);
        queue_reply(s);
        s->closing = 1;
        return 1;
    }
    netbuf_consume(&s->in, used);
    if (netbuf_avail(&s->cl_out) >= CLEANUP_FLUSH_AT)
        cleanup_flush(s);
    return 1;
}

/* Process buffered input as far as possible, then send the batched
 * replies.  Returns 0 when the session was closed. */
static int session_run(struct session *s)
{
    while (!s->closing && !s->delaying && s->cl_state != CL_WAIT_REPLY) {
        if (netbuf_avail(&s->out) > CLIENT_OUT_HIGH_WATER)
            break;
        if (s->cl_state == CL_DATA && netbuf_avail(&s->cl_out) > CLEANUP_HIGH_WATER)
            break;
        if (!(s->proto.in_data ? data_step(s) : command_step(s)))
            break;
    }
    if (s->cl_state == CL_DATA && netbuf_avail(&s->in) == 0)
        cleanup_flush(s);           /* input drained: don't sit on a partial batch */
    if (!s->delaying && client_flush(s) < 0) {
        msg_info("lost connection after %s from %s", smtp_proto_last(&s->proto),
                 vstr_str(s->ident));
        session_close(s);
        return 0;
    }
    if (s->closing && netbuf_avail(&s->out) == 0) {
        session_close(s);
        return 0;
    }
    return 1;
}

static void client_event(int fd, int events, void *ctx);

static void session_update_events(struct session *s)
{
    int want = 0;

    if (!s->closing && !s->delaying && s->cl_state != CL_WAIT_REPLY
        && netbuf_avail(&s->out) <= CLIENT_OUT_HIGH_WATER
        && !(s->cl_state == CL_DATA && netbuf_avail(&s->cl_out) > CLEANUP_HIGH_WATER))
        want |= EV_READ;
    if (!s->delaying && netbuf_avail(&s->out) > 0)
        want |= EV_WRITE;
    event_set(s->fd, want, client_event, s);
    if (s->cl_fd >= 0) {
        int cw = 0;
        if (netbuf_avail(&s->cl_out) > 0 && !s->cl_failed)
            cw |= EV_WRITE;
        if (!s->cl_failed)
            cw |= EV_READ;
        event_set(s->cl_fd, cw, cleanup_event, s);
    }
}

static void client_event(int fd, int events, void *ctx)
{
    struct session *s = ctx;

    if (events & EV_READ) {
        ssize_t n = netbuf_fill(&s->in, fd);

        if (n > 0) {
            timer_arm(s, smtpd_timeout_ms);
        } else if (n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK
                              && errno != EINTR)) {
            if (!s->closing)
                msg_info("lost connection after %s from %s", smtp_proto_last(&s->proto),
                         vstr_str(s->ident));
            session_close(s);
            return;
        }
    }
    if (session_run(s))
        session_update_events(s);
}

/* ---------- drain on SIGTERM ---------- */

/* Idle sessions (no transaction, nothing buffered) get 421 and are closed;
 * busy ones finish their message and are caught by the next check. */
static void drain_idle_sessions(void)
{
    struct session *s, *next;

    for (s = sessions; s; s = next) {
        next = s->next;
        if (s->closing || s->cl_state != CL_NONE || s->proto.in_mail || s->proto.in_data
            || netbuf_avail(&s->in) > 0)
            continue;
        vstr_puts(s->proto.reply, "421 4.3.2 Service shutting down\r\n");
        queue_reply(s);
        s->closing = 1;
        if (session_run(s))
            session_update_events(s);
    }
}

static void drain_check(void *ctx)
{
    (void) ctx;
    drain_idle_sessions();
    if (sessions != NULL)
        event_timer_set(&drain_timer, DRAIN_CHECK_MS, drain_check, NULL);
}

static void drain_start(void)
{
    drain_check(NULL);
}

/* ---------- accept ---------- */

static void on_accept(int fd, void *ctx)
{
    (void) ctx;
    struct session *s = xcalloc(1, sizeof(*s));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    size_t inlimit = cfg.line_length_limit + 3 > CLIENT_READ_LIMIT
                     ? cfg.line_length_limit + 3 : CLIENT_READ_LIMIT;

    s->fd = fd;
    s->cl_fd = -1;
    memset(&ss, 0, sizeof(ss));
    s->client_addr = getpeername(fd, (struct sockaddr *) &ss, &sl) == 0
                     ? sockaddr_text(&ss) : xstrdup("unknown");
    sl = sizeof(ss);
    memset(&ss, 0, sizeof(ss));
    s->local_addr = getsockname(fd, (struct sockaddr *) &ss, &sl) == 0
                    ? sockaddr_text(&ss) : xstrdup("unknown");
    s->ident = vstr_new(64);
    vstr_printf(s->ident, "unknown[%s]", s->client_addr);
    netbuf_init(&s->in, inlimit);
    netbuf_init(&s->out, CLIENT_READ_LIMIT);
    smtp_proto_init(&s->proto, &cfg);
    s->proto.client_in_mynetworks = smtpd_check_mynetworks(policy, s->client_addr);
    s->proto.bare_lf_reject = bare_newline_reject_mode
                              && match_list_match_addr(bare_newline_exclusions, s->client_addr) != 1;
    s->local_client = local_header_client(s);
    s->next = sessions;
    if (sessions)
        sessions->prev = s;
    sessions = s;

    msg_info("connect from %s", vstr_str(s->ident));
    smtp_proto_greeting(&s->proto, smtpd_banner);
    queue_reply(s);
    timer_arm(s, smtpd_timeout_ms);
    if (session_run(s))
        session_update_events(s);
}

/* ---------- configuration ---------- */

static void smtpd_pre_jail(void *ctx)
{
    (void) ctx;
    const char *bare = config_str("smtpd_forbid_bare_newline");
    vstr *err = vstr_new(64);

    cfg.myhostname = xstrdup(config_str("myhostname"));
    cfg.myorigin = xstrdup(config_str("myorigin"));
    cfg.message_size_limit = config_size("message_size_limit");
    cfg.recipient_limit = config_int("smtpd_recipient_limit");
    cfg.soft_error_limit = config_int("smtpd_soft_error_limit");
    cfg.hard_error_limit = config_int("smtpd_hard_error_limit");
    cfg.line_length_limit = (size_t) config_int("line_length_limit");
    cfg.disable_vrfy = config_bool("disable_vrfy_command");
    cfg.smtputf8_enable = config_bool("smtputf8_enable");
    cfg.helo_required = config_bool("smtpd_helo_required");
    cfg.strict_rfc821 = config_bool("strict_rfc821_envelopes");
    cfg.bare_newline_reject_code = (int) config_int("smtpd_forbid_bare_newline_reject_code");
    smtpd_banner = xstrdup(config_str("smtpd_banner"));
    mail_name = xstrdup(config_str("mail_name"));
    smtpd_timeout_ms = config_time("smtpd_timeout") * 1000L;
    error_sleep_ms = config_time("smtpd_error_sleep_time") * 1000L;
    ipc_timeout_ms = config_time("ipc_timeout") * 1000L;

    if (strcmp(bare, "reject") == 0) {
        bare_newline_reject_mode = 1;
    } else if (strcmp(bare, "normalize") != 0 && strcmp(bare, "no") != 0
               && strcmp(bare, "yes") != 0) {
        msg_warn("smtpd_forbid_bare_newline: unknown value \"%s\"; using \"normalize\"", bare);
    }
    bare_newline_exclusions = match_list_addr(config_str("smtpd_forbid_bare_newline_exclusions"), err);
    if (bare_newline_exclusions == NULL)
        msg_fatal("smtpd_forbid_bare_newline_exclusions: %s", vstr_str(err));
    header_rewrite_clients = argv_split(config_str("local_header_rewrite_clients"), LIST_DELIMS);
    always_add_headers = config_bool("always_add_missing_headers");

    {
        const char *pdms = config_str("parent_domain_matches_subdomains");
        argv_t *pl = argv_split(pdms, LIST_DELIMS);
        int relay_parent = 0;
        for (size_t i = 0; i < pl->n; i++)
            if (strcmp(pl->v[i], "relay_domains") == 0)
                relay_parent = 1;
        argv_free(pl);
        policy = smtpd_policy_new(config_str("smtpd_relay_restrictions"),
                                  config_str("mynetworks"), config_str("mydestination"),
                                  config_str("relay_domains"), relay_parent);
    }
    vstr_free(err);
}

static void smtpd_post_jail(void *ctx)
{
    (void) ctx;
    /* A client or cleanup that goes away must not kill every session. */
    signal(SIGPIPE, SIG_IGN);
    multi_server_on_drain(drain_start);
}

int main(int argc, char **argv)
{
    static const struct server_hooks hooks = {
        .pre_jail = smtpd_pre_jail,
        .post_jail = smtpd_post_jail,
    };

    return multi_server_main(argc, argv, on_accept, "smtpd_process_session_limit", &hooks);
}

/* smtp(8) conversation with one server: greeting, EHLO/LHLO with the
 * HELO fallback, the place where STARTTLS goes, and the mail transaction
 * (MAIL, RCPT, DATA, content with dot-stuffing, end of data), with
 * PIPELINING when offered and a time limit for every stage.  Each
 * recipient's outcome is taken from the reply that decided it. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "mail_addr.h"
#include "mem.h"
#include "record.h"
#include "smtp.h"
#include "smtp_reply.h"
#include "stream.h"
#include "vstr.h"

#define SMTP_READ_BAD (-20)     /* malformed reply (besides STREAM_*) */

struct smtp_session *smtp_session_new(int fd, const char *host, const char *addr, int port,
                                      const char *dest)
{
    struct smtp_session *ss = xcalloc(1, sizeof(*ss));

    ss->s = stream_fdopen(fd);
    ss->host = xstrdup(host);
    ss->addr = xstrdup(addr);
    ss->port = port;
    ss->dest = xstrdup(dest);
    ss->opened_ms = smtp_now_ms();
    ss->idle_since_ms = ss->opened_ms;
    ss->label = vstr_new(64);
    if (port > 0)
        vstr_printf(ss->label, "%s[%s]:%d", host, addr, port);
    else
        vstr_printf(ss->label, "%s[%s]", host, addr);
    return ss;
}

/* "host[addr]" for reasons (the port is in the relay field). */
static const char *peer(const struct smtp_session *ss, vstr *buf)
{
    vstr_reset(buf);
    vstr_printf(buf, "%s[%s]", ss->host, ss->addr);
    return vstr_str(buf);
}

void smtp_session_close(struct smtp_session *ss, int send_quit)
{
    if (ss == NULL)
        return;
    if (send_quit && !ss->broken && ss->s != NULL) {
        struct smtp_reply r;
        vstr *why = vstr_new(32);

        smtp_reply_init(&r);
        stream_set_timeout(ss->s, (int) smtp_cfg.quit_timeout);
        if (stream_puts(ss->s, "QUIT\r\n") == 0 && stream_flush(ss->s) == 0)
            (void) smtp_read_reply(ss, smtp_cfg.quit_timeout, &r, why);
        smtp_reply_free(&r);
        vstr_free(why);
    }
    if (ss->s != NULL)
        stream_close(ss->s);
    free(ss->host);
    free(ss->addr);
    free(ss->dest);
    vstr_free(ss->label);
    free(ss);
}

int smtp_read_reply(struct smtp_session *ss, long timeout, struct smtp_reply *r, vstr *why)
{
    vstr *line = vstr_new(128);
    int st, res;
    size_t len;

    smtp_reply_reset(r);
    stream_set_timeout(ss->s, (int) timeout);
    for (;;) {
        st = stream_getline(ss->s, line, SMTP_REPLY_LINE_MAX + 2);
        if (st == STREAM_TOOLONG) {
            /* Keep the first part of an over-long line. */
            st = stream_skip_line(ss->s);
            if (st != STREAM_OK && st != STREAM_EOF)
                break;
            vstr_truncate(line, SMTP_REPLY_LINE_MAX);
        } else if (st != STREAM_OK) {
            break;
        }
        len = vstr_len(line);
        if (len > 0 && vstr_str(line)[len - 1] == '\n')
            len--;
        if (len > 0 && vstr_str(line)[len - 1] == '\r')
            len--;
        if (len > SMTP_REPLY_LINE_MAX)
            len = SMTP_REPLY_LINE_MAX;
        res = smtp_reply_add_line(r, vstr_str(line), len, why);
        if (res == SMTP_REPLY_BAD) {
            st = SMTP_READ_BAD;
            break;
        }
        if (res == SMTP_REPLY_DONE) {
            st = STREAM_OK;
            break;
        }
    }
    vstr_free(line);
    return st;
}

/* A failed read or write in the middle of the conversation: every
 * undecided recipient is deferred; the session is unusable. */
static void session_failed(struct smtp_session *ss, struct smtp_delivery *d, int st,
                           const char *while_text, const vstr *why)
{
    vstr *p = vstr_new(64);
    const char *relay = vstr_str(ss->label);

    ss->broken = 1;
    peer(ss, p);
    if (st == STREAM_TIMEOUT)
        smtp_pending_set(d, RCPT_DEFERRED, "4.4.2", relay,
                         "conversation with %s timed out while %s", vstr_str(p), while_text);
    else if (st == SMTP_READ_BAD)
        smtp_pending_set(d, RCPT_DEFERRED, "4.5.0", relay,
                         "protocol error: malformed reply from %s (%s) while %s", vstr_str(p),
                         vstr_str(why), while_text);
    else
        smtp_pending_set(d, RCPT_DEFERRED, "4.4.2", relay, "lost connection with %s while %s",
                         vstr_str(p), while_text);
    vstr_free(p);
}

/* The same for a step before the transaction: the text goes to why, for
 * the next host to try. */
static void start_failed(struct smtp_session *ss, int st, const char *while_text,
                         const vstr *bad, vstr *why, vstr *dsn)
{
    vstr *p = vstr_new(64);

    ss->broken = 1;
    peer(ss, p);
    vstr_reset(why);
    if (st == STREAM_TIMEOUT)
        vstr_printf(why, "conversation with %s timed out while %s", vstr_str(p), while_text);
    else if (st == SMTP_READ_BAD)
        vstr_printf(why, "protocol error: malformed reply from %s (%s) while %s", vstr_str(p),
                    vstr_str(bad), while_text);
    else
        vstr_printf(why, "lost connection with %s while %s", vstr_str(p), while_text);
    vstr_set(dsn, st == SMTP_READ_BAD ? "4.5.0" : "4.4.2");
    vstr_free(p);
}

/* "host H[A] said: RAW (in reply to CMD command)" */
static void said(vstr *out, struct smtp_session *ss, const struct smtp_reply *r, const char *cmd)
{
    vstr *p = vstr_new(64);

    vstr_reset(out);
    vstr_printf(out, "host %s said: %s (in reply to %s command)", peer(ss, p), vstr_str(r->raw),
                cmd);
    vstr_free(p);
}

/* The outcome of a recipient from a reply. */
static void rcpt_from_reply(struct smtp_session *ss, struct smtp_rcpt *rc,
                            const struct smtp_reply *r, const char *cmd)
{
    vstr *dsn = vstr_new(16);
    vstr *text = vstr_new(128);
    int cls = r->code / 100;

    smtp_reply_status(r, dsn);
    if (cls == 2) {
        smtp_rcpt_set(rc, RCPT_SENT, vstr_str(dsn), vstr_str(ss->label), "%s", vstr_str(r->raw));
        /* LMTP is final delivery.  A next hop that supports DSN got the
         * NOTIFY request and reports success itself (RFC 3461): "passed"
         * tells qmgr no notice is due from us.  One without DSN support
         * ends the DSN chain here: "relayed". */
        rc->action = smtp_cfg.lmtp ? "delivered"
                     : (ss->ext.flags & SMTP_EXT_DSN) ? "passed" : "relayed";
    } else {
        said(text, ss, r, cmd);
        smtp_rcpt_set(rc, cls == 5 ? RCPT_BOUNCED : RCPT_DEFERRED, vstr_str(dsn),
                      vstr_str(ss->label), "%s", vstr_str(text));
    }
    vstr_free(dsn);
    vstr_free(text);
}

/* Every recipient still pending gets the outcome of r. */
static void pending_from_reply(struct smtp_session *ss, struct smtp_delivery *d,
                               const struct smtp_reply *r, const char *cmd, int accepted_only)
{
    size_t i;

    for (i = 0; i < d->nrcpt; i++)
        if (d->rcpts[i].status == RCPT_PENDING && (!accepted_only || d->rcpts[i].accepted))
            rcpt_from_reply(ss, &d->rcpts[i], r, cmd);
}

static int send_line(struct smtp_session *ss, long timeout, const char *text, int flush)
{
    int st;

    stream_set_timeout(ss->s, (int) timeout);
    if ((st = stream_puts(ss->s, text)) == 0 && (st = stream_puts(ss->s, "\r\n")) == 0 && flush)
        st = stream_flush(ss->s);
    return st;
}

int smtp_session_start(struct smtp_session *ss, struct smtp_delivery *d, vstr *why, vstr *dsn,
                       int *permanent)
{
    struct smtp_reply r;
    vstr *cmd = vstr_new(64);
    vstr *bad = vstr_new(32);
    vstr *p = vstr_new(64);
    int st, ret = STEP_NEXT_HOST;
    const char *hello = smtp_cfg.lmtp ? "LHLO" : "EHLO";

    *permanent = 0;
    smtp_reply_init(&r);
    st = smtp_read_reply(ss, smtp_cfg.helo_timeout, &r, bad);
    if (st != STREAM_OK) {
        start_failed(ss, st, "receiving the initial server greeting", bad, why, dsn);
        goto out;
    }
    if (r.code / 100 != 2) {
        vstr_reset(why);
        vstr_printf(why, "host %s refused to talk to me: %s", peer(ss, p), vstr_str(r.raw));
        smtp_reply_status(&r, dsn);
        if (r.code / 100 == 5 && !smtp_cfg.skip_5xx_greeting) {
            smtp_pending_set(d, RCPT_BOUNCED, vstr_str(dsn), vstr_str(ss->label), "%s",
                             vstr_str(why));
            ret = STEP_FINAL;
        } else {
            *permanent = r.code / 100 == 5;
        }
        goto out;
    }
    vstr_printf(cmd, "%s %s", hello, smtp_cfg.helo_name);
    if ((st = send_line(ss, smtp_cfg.helo_timeout, vstr_str(cmd), 1)) != 0) {
        start_failed(ss, st, smtp_cfg.lmtp ? "sending LHLO" : "sending EHLO", bad, why, dsn);
        goto out;
    }
    st = smtp_read_reply(ss, smtp_cfg.helo_timeout, &r, bad);
    if (st != STREAM_OK) {
        start_failed(ss, st, smtp_cfg.lmtp ? "receiving the LHLO reply" : "receiving the EHLO reply",
                     bad, why, dsn);
        goto out;
    }
    if (r.code / 100 == 5 && !smtp_cfg.lmtp) {
        /* An old server: HELO, and no extensions. */
        vstr_reset(cmd);
        vstr_printf(cmd, "HELO %s", smtp_cfg.helo_name);
        hello = "HELO";
        if ((st = send_line(ss, smtp_cfg.helo_timeout, vstr_str(cmd), 1)) != 0) {
            start_failed(ss, st, "sending HELO", bad, why, dsn);
            goto out;
        }
        if ((st = smtp_read_reply(ss, smtp_cfg.helo_timeout, &r, bad)) != STREAM_OK) {
            start_failed(ss, st, "receiving the HELO reply", bad, why, dsn);
            goto out;
        }
    }
    if (r.code / 100 != 2) {
        said(why, ss, &r, hello);
        smtp_reply_status(&r, dsn);
        if (r.code / 100 == 5) {
            smtp_pending_set(d, RCPT_BOUNCED, vstr_str(dsn), vstr_str(ss->label), "%s",
                             vstr_str(why));
            ret = STEP_FINAL;
        }
        goto out;
    }
    if (strcmp(hello, "HELO") == 0) {
        ss->ext.flags = 0;
        ss->ext.size = 0;
    } else {
        smtp_ehlo_parse(&r, &ss->ext);
    }
    /* Opportunistic TLS (RFC 3207) slots in here, when the peer offers
     * STARTTLS (SMTP_EXT_STARTTLS): STARTTLS, handshake, EHLO again. */
    ret = STEP_OK;
out:
    smtp_reply_free(&r);
    vstr_free(cmd);
    vstr_free(bad);
    vstr_free(p);
    return ret;
}

int smtp_session_rset(struct smtp_session *ss)
{
    struct smtp_reply r;
    vstr *why = vstr_new(32);
    int ok;

    smtp_reply_init(&r);
    ok = send_line(ss, smtp_cfg.rset_timeout, "RSET", 1) == 0
         && smtp_read_reply(ss, smtp_cfg.rset_timeout, &r, why) == STREAM_OK && r.code / 100 == 2;
    smtp_reply_free(&r);
    vstr_free(why);
    return ok ? 0 : -1;
}

/* MAIL FROM with the parameters the server understands. */
static void mail_command(vstr *cmd, const struct smtp_session *ss, const struct smtp_msg *msg)
{
    int ext = ss->ext.flags;

    vstr_reset(cmd);
    vstr_printf(cmd, "MAIL FROM:<%s>", msg->sender);
    if ((ext & SMTP_EXT_SIZE) && msg->size > 0)
        vstr_printf(cmd, " SIZE=%lld", msg->size);
    if ((ext & SMTP_EXT_8BITMIME) && (msg->flags & REC_FLAG_8BITMIME))
        vstr_puts(cmd, " BODY=8BITMIME");
    if ((ext & SMTP_EXT_SMTPUTF8) && (msg->flags & REC_FLAG_SMTPUTF8))
        vstr_puts(cmd, " SMTPUTF8");
    if (ext & SMTP_EXT_DSN) {
        if (msg->ret != NULL)
            vstr_printf(cmd, " RET=%s", msg->ret);
        if (msg->envid != NULL) {
            vstr_puts(cmd, " ENVID=");
            xtext_encode(cmd, msg->envid, strlen(msg->envid));
        }
    }
}

static void rcpt_command(vstr *cmd, const struct smtp_session *ss, const struct smtp_rcpt *rc)
{
    const char *semi;

    vstr_reset(cmd);
    vstr_printf(cmd, "RCPT TO:<%s>", rc->address);
    if (!(ss->ext.flags & SMTP_EXT_DSN))
        return;
    if (rc->notify & DSN_NOTIFY_NEVER) {
        vstr_puts(cmd, " NOTIFY=NEVER");
    } else if (rc->notify != 0) {
        const char *sep = " NOTIFY=";

        if (rc->notify & DSN_NOTIFY_SUCCESS) {
            vstr_printf(cmd, "%sSUCCESS", sep);
            sep = ",";
        }
        if (rc->notify & DSN_NOTIFY_FAILURE) {
            vstr_printf(cmd, "%sFAILURE", sep);
            sep = ",";
        }
        if (rc->notify & DSN_NOTIFY_DELAY)
            vstr_printf(cmd, "%sDELAY", sep);
    }
    if (*rc->orcpt != '\0' && (semi = strchr(rc->orcpt, ';')) != NULL && semi[1] != '\0') {
        vstr_puts(cmd, " ORCPT=");
        vstr_append(cmd, rc->orcpt, (size_t) (semi - rc->orcpt) + 1);
        xtext_encode(cmd, semi + 1, strlen(semi + 1));
    }
}

/* Content writer state: dot-stuffing at the start of a line and folding
 * of lines longer than smtp_line_length_limit with CR LF SPACE. */
struct content_out {
    stream *s;
    long column;
};

static int content_put(struct content_out *co, const char *data, size_t len, int end_of_line)
{
    long limit = smtp_cfg.line_length_limit;
    size_t take;

    if (co->column == 0 && len > 0 && data[0] == '.' && stream_write(co->s, ".", 1) != 0)
        return -1;
    if (co->column == 0 && len > 0 && data[0] == '.')
        co->column = 1;
    while (len > 0) {
        take = len;
        if (limit > 0 && co->column + (long) take > limit) {
            if (co->column >= limit) {
                if (stream_write(co->s, "\r\n ", 3) != 0)
                    return -1;
                co->column = 1;
                continue;
            }
            take = (size_t) (limit - co->column);
        }
        if (stream_write(co->s, data, take) != 0)
            return -1;
        co->column += (long) take;
        data += take;
        len -= take;
    }
    if (end_of_line) {
        if (stream_write(co->s, "\r\n", 2) != 0)
            return -1;
        co->column = 0;
    }
    return 0;
}

/* Copy the content (L/C records up to X) to the server.  0, -1 on a write
 * error (errno, st), -2 when the queue file is unreadable. */
static int send_content(struct smtp_session *ss, struct smtp_msg *msg, int *st)
{
    vstr *data = vstr_new(1024);
    struct content_out co = {ss->s, 0};
    int type = 0, rs, ret = 0;

    *st = STREAM_OK;
    stream_set_timeout(ss->s, (int) smtp_cfg.data_xfer_timeout);
    if (stream_seek(msg->qf, msg->content_offset) != 0
        || rec_get(msg->qf, &type, data, NULL) != REC_OK || type != REC_MESSAGE) {
        ret = -2;
        goto out;
    }
    for (;;) {
        rs = rec_get(msg->qf, &type, data, NULL);
        if (rs != REC_OK) {
            ret = -2;
            break;
        }
        if (type == REC_XTRA)
            break;
        if (type != REC_LINE && type != REC_CONT) {
            ret = -2;
            break;
        }
        if (content_put(&co, vstr_str(data), vstr_len(data), type == REC_LINE) != 0) {
            ret = -1;
            *st = STREAM_ERROR;
            break;
        }
    }
    if (ret == 0 && co.column != 0 && content_put(&co, "", 0, 1) != 0) {
        ret = -1;
        *st = STREAM_ERROR;
    }
out:
    vstr_free(data);
    return ret;
}

int smtp_transaction(struct smtp_session *ss, struct smtp_delivery *d)
{
    struct smtp_msg *msg = d->msg;
    struct smtp_reply r;
    vstr *cmd = vstr_new(256);
    vstr *bad = vstr_new(32);
    vstr *p = vstr_new(64);
    size_t *list = xcalloc(d->nrcpt ? d->nrcpt : 1, sizeof(*list));
    size_t nlist = 0, i, accepted = 0;
    int pipelining = (ss->ext.flags & SMTP_EXT_PIPELINING) != 0;
    int st, ret = STEP_FINAL, mail_ok, data_ok;
    const char *relay = vstr_str(ss->label);

    smtp_reply_init(&r);
    peer(ss, p);
    for (i = 0; i < d->nrcpt; i++) {
        d->rcpts[i].accepted = 0;
        if (d->rcpts[i].status == RCPT_PENDING)
            list[nlist++] = i;
    }
    if ((msg->flags & REC_FLAG_SMTPUTF8) && !(ss->ext.flags & SMTP_EXT_SMTPUTF8)) {
        smtp_pending_set(d, RCPT_BOUNCED, "5.6.7", relay,
                         "SMTPUTF8 is required, but was not offered by host %s", vstr_str(p));
        ret = STEP_OK;
        goto out;
    }
    if ((ss->ext.flags & SMTP_EXT_SIZE) && ss->ext.size > 0 && msg->size > ss->ext.size) {
        smtp_pending_set(d, RCPT_BOUNCED, "5.3.4", relay,
                         "message size %lld exceeds size limit %lld of server %s", msg->size,
                         ss->ext.size, vstr_str(p));
        ret = STEP_OK;
        goto out;
    }
    if (nlist == 0) {
        ret = STEP_OK;
        goto out;
    }

    /* With PIPELINING, MAIL, every RCPT and DATA go out in one write. */
    mail_command(cmd, ss, msg);
    if ((st = send_line(ss, smtp_cfg.mail_timeout, vstr_str(cmd), !pipelining)) != 0) {
        session_failed(ss, d, st, "sending MAIL FROM", bad);
        goto out;
    }
    if (pipelining) {
        for (i = 0; i < nlist; i++) {
            rcpt_command(cmd, ss, &d->rcpts[list[i]]);
            if ((st = send_line(ss, smtp_cfg.rcpt_timeout, vstr_str(cmd), 0)) != 0)
                break;
        }
        if (st == 0)
            st = send_line(ss, smtp_cfg.data_init_timeout, "DATA", 1);
        if (st != 0) {
            session_failed(ss, d, st, "sending MAIL FROM", bad);
            goto out;
        }
    }
    if ((st = smtp_read_reply(ss, smtp_cfg.mail_timeout, &r, bad)) != STREAM_OK) {
        session_failed(ss, d, st, "receiving the MAIL FROM reply", bad);
        goto out;
    }
    mail_ok = r.code / 100 == 2;
    if (!mail_ok)
        pending_from_reply(ss, d, &r, "MAIL FROM", 0);
    if (!mail_ok && !pipelining) {
        ret = STEP_OK;
        goto out;
    }
    for (i = 0; i < nlist; i++) {
        struct smtp_rcpt *rc = &d->rcpts[list[i]];

        if (!pipelining) {
            rcpt_command(cmd, ss, rc);
            if ((st = send_line(ss, smtp_cfg.rcpt_timeout, vstr_str(cmd), 1)) != 0) {
                session_failed(ss, d, st, "sending RCPT TO", bad);
                goto out;
            }
        }
        if ((st = smtp_read_reply(ss, smtp_cfg.rcpt_timeout, &r, bad)) != STREAM_OK) {
            session_failed(ss, d, st, "receiving the RCPT TO reply", bad);
            goto out;
        }
        if (!mail_ok)
            continue;           /* pipelined after a failed MAIL: ignore */
        if (r.code / 100 == 2) {
            rc->accepted = 1;
            accepted++;
        } else {
            rcpt_from_reply(ss, rc, &r, "RCPT TO");
        }
    }
    if (!pipelining) {
        if (accepted == 0) {
            ret = STEP_OK;
            goto out;
        }
        if ((st = send_line(ss, smtp_cfg.data_init_timeout, "DATA", 1)) != 0) {
            session_failed(ss, d, st, "sending DATA", bad);
            goto out;
        }
    }
    if ((st = smtp_read_reply(ss, smtp_cfg.data_init_timeout, &r, bad)) != STREAM_OK) {
        session_failed(ss, d, st, "receiving the DATA reply", bad);
        goto out;
    }
    data_ok = r.code == 354;
    if (!data_ok) {
        if (accepted > 0)
            pending_from_reply(ss, d, &r, "DATA", 1);
        ret = STEP_OK;
        goto out;
    }
    if (accepted == 0) {
        /* A pipelined DATA that the server accepted without recipients:
         * end it empty, and ignore the result. */
        if ((st = send_line(ss, smtp_cfg.data_done_timeout, ".", 1)) != 0
            || (st = smtp_read_reply(ss, smtp_cfg.data_done_timeout, &r, bad)) != STREAM_OK) {
            ss->broken = 1;
            goto out;
        }
        ret = STEP_OK;
        goto out;
    }
    if (send_content(ss, msg, &st) == -2) {
        /* Never end the data: the server must not take a partial message. */
        msg_warn("%s: queue file is unreadable or malformed while sending it", msg->queue_id);
        ss->broken = 1;
        smtp_pending_set(d, RCPT_DEFERRED, "4.3.0", relay, "cannot read the queue file");
        goto out;
    }
    if (st != 0 || (st = send_line(ss, smtp_cfg.data_done_timeout, ".", 1)) != 0) {
        session_failed(ss, d, st, "sending message body", bad);
        goto out;
    }
    if (!smtp_cfg.lmtp) {
        if ((st = smtp_read_reply(ss, smtp_cfg.data_done_timeout, &r, bad)) != STREAM_OK) {
            session_failed(ss, d, st, "receiving the end of data reply -- message may be sent more than once", bad);
            goto out;
        }
        pending_from_reply(ss, d, &r, "end of DATA", 1);
    } else {
        /* LMTP: one reply per accepted recipient, in RCPT order. */
        for (i = 0; i < nlist; i++) {
            struct smtp_rcpt *rc = &d->rcpts[list[i]];

            if (!rc->accepted || rc->status != RCPT_PENDING)
                continue;
            if ((st = smtp_read_reply(ss, smtp_cfg.data_done_timeout, &r, bad)) != STREAM_OK) {
                session_failed(ss, d, st, "receiving the end of data replies -- message may be sent more than once", bad);
                goto out;
            }
            rcpt_from_reply(ss, rc, &r, "end of DATA");
        }
    }
    ss->use_count++;
    ret = STEP_OK;
out:
    smtp_reply_free(&r);
    vstr_free(cmd);
    vstr_free(bad);
    vstr_free(p);
    free(list);
    return ret;
}

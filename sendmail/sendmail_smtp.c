/* sendmail -bs: an SMTP conversation on stdin/stdout, as some mail
 * clients use it.  The protocol is smtpd's own pure state machine
 * (smtpd/smtp_proto.c, linked in), so both speak the same SMTP; every
 * accepted message is submitted through postdrop like any other local
 * mail.  Replies end in CRLF; input lines may end in LF or CRLF. */
#include "config.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "argv.h"
#include "params.h"
#include "record.h"
#include "sendmail.h"
#include "smtp_proto.h"
#include "stream.h"
#include "vstr.h"

/* The envelope of an SMTP transaction: ORCPT and NOTIFY per recipient. */
static void smtp_envelope(vstr *out, const struct smtp_session *s, const char *full_name)
{
    vstr *buf = vstr_new(64);
    argv_t *none = argv_new();

    sm_envelope(out, 0, vstr_str(s->sender), full_name, vstr_str(s->envid),
                vstr_len(s->ret) > 0 ? vstr_str(s->ret) : NULL, 0, none);
    for (size_t i = 0; i < s->nrcpt; i++) {
        const struct smtp_rcpt *r = &s->rcpts[i];

        if (r->orcpt != NULL)
            rec_append(out, REC_ORCPT, r->orcpt, strlen(r->orcpt));
        if (r->notify > 0) {
            vstr_reset(buf);
            vstr_printf(buf, "%d", r->notify);
            rec_append(out, REC_NOTIFY, vstr_str(buf), vstr_len(buf));
        }
        rec_append(out, REC_RCPT, r->addr, strlen(r->addr));
    }
    argv_free(none);
    vstr_free(buf);
}

static int send_reply(struct smtp_session *s, stream *out)
{
    int status = 0;

    if (vstr_len(s->reply) > 0) {
        status = stream_write(out, vstr_str(s->reply), vstr_len(s->reply));
        if (status == 0)
            status = stream_flush(out);
        vstr_reset(s->reply);
    }
    return status;
}

/* The end of DATA: submit the message, then reply. */
static int finish_message(const struct sm_opts *o, struct smtp_session *s,
                          struct sm_message *msg, const char *full_name)
{
    vstr *recs = vstr_new(4096);
    int status;

    if (s->data_too_big)
        return smtp_proto_data_end(s, 552, NULL, "5.3.4 Error: message file too big");
    smtp_envelope(recs, s, full_name);
    vstr_append(recs, vstr_str(msg->recs), vstr_len(msg->recs));
    rec_append(recs, REC_XTRA, "", 0);
    rec_append(recs, REC_END, "", 0);
    status = sm_postdrop(o, recs);
    vstr_free(recs);
    if (status == 0)
        return smtp_proto_data_end(s, 0, "maildrop", NULL);
    if (status == EX_NOPERM || status == EX_DATAERR || status == EX_USAGE)
        return smtp_proto_data_end(s, 554, NULL, "5.3.0 Error: message not accepted");
    return smtp_proto_data_end(s, 451, NULL, "4.3.0 Error: queue file write error");
}

int sm_smtp_session(const struct sm_opts *o, stream *in, stream *out, const char *sender_login,
                    const char *full_name)
{
    struct smtp_config cfg;
    struct smtp_session s;
    struct sm_message *msg = NULL;
    vstr *line = vstr_new(1024);
    int carry_cr = 0, act = 0, status, r, done = 0;
    const char *data;
    size_t dlen, len;
    char *p;

    (void)sender_login;
    memset(&cfg, 0, sizeof(cfg));
    cfg.myhostname = config_str("myhostname");
    cfg.myorigin = config_str("myorigin");
    cfg.message_size_limit = config_size("message_size_limit");
    cfg.recipient_limit = config_int("smtpd_recipient_limit");
    cfg.soft_error_limit = config_int("smtpd_soft_error_limit");
    cfg.hard_error_limit = config_int("smtpd_hard_error_limit");
    cfg.line_length_limit = (size_t)config_int("line_length_limit");
    cfg.disable_vrfy = 1;
    cfg.smtputf8_enable = config_bool("smtputf8_enable");
    smtp_proto_init(&s, &cfg);
    s.client_in_mynetworks = 1;
    smtp_proto_greeting(&s, config_str("smtpd_banner"));
    if (send_reply(&s, out) != 0)
        done = 1;

    while (!done) {
        size_t maxlen = s.in_data ? REC_MAX_LEN : cfg.line_length_limit + 2;

        status = stream_getline(in, line, maxlen);
        if (status == STREAM_EOF || (status != STREAM_OK && status != STREAM_TOOLONG))
            break;
        if (carry_cr) {
            vstr *tmp = vstr_new(vstr_len(line) + 1);

            vstr_putc(tmp, '\r');
            vstr_append(tmp, vstr_str(line), vstr_len(line));
            vstr_setn(line, vstr_str(tmp), vstr_len(tmp));
            vstr_free(tmp);
            carry_cr = 0;
        }
        p = vstr_str(line);
        len = vstr_len(line);
        if (!s.in_data) {
            if (status == STREAM_TOOLONG) {
                stream_skip_line(in);
                act = smtp_proto_line_too_long(&s);
            } else {
                int term = SMTP_TERM_LF;

                if (len > 0 && p[len - 1] == '\n')
                    len--;
                if (len > 0 && p[len - 1] == '\r') {
                    len--;
                    term = SMTP_TERM_CRLF;
                }
                act = smtp_proto_command(&s, p, len, term);
                if (act & SMTP_ACT_RCPT_CHECK)
                    act |= smtp_proto_rcpt_result(&s, NULL);    /* local user: any rcpt */
                if (act & SMTP_ACT_DATA) {
                    sm_message_free(msg);
                    msg = sm_message_new();
                    act |= smtp_proto_data_begin(&s, 1);
                }
            }
        } else {
            int term;

            if (status == STREAM_TOOLONG) {
                term = SMTP_TERM_NONE;
                if (len > 0 && p[len - 1] == '\r') {
                    len--;
                    carry_cr = 1;
                }
            } else {
                term = SMTP_TERM_LF;
                if (len > 0 && p[len - 1] == '\n')
                    len--;
                if (len > 0 && p[len - 1] == '\r') {
                    len--;
                    term = SMTP_TERM_CRLF;
                }
            }
            r = smtp_proto_data_input(&s, p, len, term, &data, &dlen);
            act = 0;
            if (r == SMTP_DATA_LINE || r == SMTP_DATA_PIECE)
                (void)sm_message_line(msg, data, dlen, r == SMTP_DATA_PIECE, LONG_MAX);
            else if (r == SMTP_DATA_END)
                act = finish_message(o, &s, msg, full_name);
            else if (r == SMTP_DATA_DISCONNECT)
                act = SMTP_ACT_DISCONNECT;
        }
        if (send_reply(&s, out) != 0 || (act & SMTP_ACT_DISCONNECT))
            done = 1;
    }
    sm_message_free(msg);
    smtp_proto_free(&s);
    vstr_free(line);
    return 0;
}

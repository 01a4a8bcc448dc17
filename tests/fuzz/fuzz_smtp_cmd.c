// sources: smtpd/smtp_proto.c
/* libFuzzer target for the SMTP server protocol module: the input is a
 * client conversation (split at "\n"; a CR before it makes the line
 * CR LF terminated), fed line by line to smtp_proto_command() or, inside
 * DATA, to smtp_proto_data_input().  The first byte picks configuration
 * switches.  Every reply must be well-formed SMTP (code, CR LF lines) and
 * the recipient count must stay within the limit. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "smtpd/smtp_proto.h"
#include "vstr.h"

static void check_reply(const vstr *r)
{
    size_t i = 0;

    while (i < r->len) {
        const char *line = r->data + i;
        const char *end = memchr(line, '\n', r->len - i);

        if (end == NULL || end == line || end[-1] != '\r')
            abort();
        if (end - line < 4 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9'
            || line[2] < '0' || line[2] > '9' || (line[3] != ' ' && line[3] != '-'))
            abort();
        for (const char *p = line; p < end - 1; p++)
            if (*p == '\r' || *p == 0)
                abort();
        i = (size_t) (end - r->data) + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtp_config cfg = {
        .myhostname = "mx.example.org",
        .myorigin = "example.org",
        .message_size_limit = 4096,
        .recipient_limit = 5,
        .soft_error_limit = 3,
        .hard_error_limit = 50,
        .line_length_limit = 2048,
        .bare_newline_reject_code = 550,
    };
    struct smtp_session s;
    const char *p, *end;
    unsigned flags;
    unsigned step = 0;

    if (size == 0)
        return 0;
    flags = data[0];
    cfg.strict_rfc821 = flags & 1;
    cfg.smtputf8_enable = (flags >> 1) & 1;
    cfg.helo_required = (flags >> 2) & 1;
    cfg.disable_vrfy = (flags >> 3) & 1;
    smtp_proto_init(&s, &cfg);
    s.bare_lf_reject = (flags >> 4) & 1;
    s.client_in_mynetworks = (flags >> 5) & 1;
    smtp_proto_greeting(&s, "mx.example.org ESMTP");

    p = (const char *) data + 1;
    end = (const char *) data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
        int term = SMTP_TERM_LF, act = 0;

        if (len > 0 && p[len - 1] == '\r') {
            len--;
            term = SMTP_TERM_CRLF;
        }
        if (nl == NULL)
            term = SMTP_TERM_NONE;
        step++;
        if (s.in_data) {
            const char *out;
            size_t outlen;
            int r = smtp_proto_data_input(&s, p, len, term, &out, &outlen);

            if (outlen > len || (outlen > 0 && (out < p || out + outlen > p + len)))
                abort();
            if (r == SMTP_DATA_END)
                act = smtp_proto_data_end(&s, (step & 1) ? 0 : 451, "QID",
                                          "4.3.0 Error: queue file write error");
            else if (r == SMTP_DATA_DISCONNECT)
                act = SMTP_ACT_DISCONNECT;
        } else if (term == SMTP_TERM_NONE) {
            act = smtp_proto_line_too_long(&s);
        } else {
            act = smtp_proto_command(&s, p, len, term);
            if (act & SMTP_ACT_RCPT_CHECK)
                act |= smtp_proto_rcpt_result(&s, (step % 3) ? NULL
                                              : "554 5.7.1 <x@y>: Relay access denied");
            if (act & SMTP_ACT_DATA)
                act |= smtp_proto_data_begin(&s, (step % 5) != 0);
        }
        if ((long) s.nrcpt > cfg.recipient_limit)
            abort();
        check_reply(s.reply);
        vstr_reset(s.reply);
        if (act & SMTP_ACT_DISCONNECT) {
            smtp_proto_free(&s);
            smtp_proto_init(&s, &cfg);
        }
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    {
        vstr *c = vstr_new(64);
        smtp_proto_counts(&s, c);
        vstr_free(c);
    }
    smtp_proto_free(&s);
    return 0;
}

// sources: smtp/smtp_nexthop.c
/* libFuzzer target for the parser of remote SMTP server replies
 * (lib/smtp_reply.c): the input is what a server might send; replies are
 * parsed one after another from the buffer, and each complete one goes
 * through the status and EHLO keyword code.  The input, cut at the first
 * NUL, is also parsed as a next hop in SMTP and LMTP mode
 * (smtp/smtp_nexthop.c). */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"
#include "smtp/smtp.h"
#include "smtp_reply.h"
#include "vstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtp_reply r;
    struct smtp_ext ext;
    struct smtp_nexthop nh;
    vstr *why = vstr_new(32), *status = vstr_new(16);
    const char *p = (const char *) data;
    size_t left = size;
    ssize_t used;
    char *text;
    int lmtp;

    smtp_reply_init(&r);
    while (left > 0 && (used = smtp_reply_parse(&r, p, left, why)) > 0) {
        if (r.code < 200 || r.code > 599 || !r.complete || r.nlines < 1
            || r.nlines > SMTP_REPLY_LINES_MAX)
            abort();
        smtp_reply_status(&r, status);
        if (vstr_len(status) < 5 || smtp_dsn_prefix(vstr_str(status), vstr_len(status)) == 0)
            abort();
        smtp_ehlo_parse(&r, &ext);
        p += used;
        left -= (size_t) used;
    }
    smtp_reply_free(&r);

    text = xstrndup((const char *) data, size);
    for (lmtp = 0; lmtp < 2; lmtp++) {
        if (smtp_nexthop_parse(text, lmtp, 25, &nh, why) == 0) {
            if (nh.host == NULL || (nh.kind != NEXTHOP_UNIX && (nh.port < 1 || nh.port > 65535)))
                abort();
            smtp_nexthop_free(&nh);
        }
    }
    free(text);
    vstr_free(why);
    vstr_free(status);
    return 0;
}

/* The SMTP server protocol logic (RFC 5321 with PIPELINING, SIZE,
 * 8BITMIME, ENHANCEDSTATUSCODES, SMTPUTF8 and DSN), kept free of I/O so
 * that unit tests and fuzzers can drive it line by line.  smtpd.c owns
 * the sockets, timers, the relay policy and the cleanup stream, and acts
 * on the SMTP_ACT_* bits these functions return. */
#include "config.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mail_addr.h"
#include "mem.h"
#include "record.h"
#include "smtp_proto.h"
#include "vstr.h"

#define MAX_PARAMS 16
#define ENVID_MAX 100       /* RFC 3461 */
#define ORCPT_MAX 500

static const char *const verb_names[SMTP_V_COUNT] = {
    "HELO", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "BDAT", "RSET",
    "NOOP", "VRFY", "EXPN", "ETRN", "TURN", "HELP", "QUIT", "UNKNOWN",
};

const char *smtp_verb_name(enum smtp_verb v)
{
    return (v >= 0 && v < SMTP_V_COUNT) ? verb_names[v] : "UNKNOWN";
}

const char *smtp_proto_last(const struct smtp_session *s)
{
    if (s->in_data)
        return "DATA";
    if (s->after_eom)
        return "END-OF-MESSAGE";
    return s->seen_cmd ? smtp_verb_name(s->last_verb) : "CONNECT";
}

void smtp_proto_init(struct smtp_session *s, const struct smtp_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    s->reply = vstr_new(256);
    s->helo_name = vstr_new(64);
    s->sender = vstr_new(64);
    s->envid = vstr_new(16);
    s->ret = vstr_new(8);
    s->declared_size = -1;
}

static void rcpt_free(struct smtp_rcpt *r)
{
    xfree(r->addr);
    xfree(r->orcpt);
    r->notify = 0;
}

void smtp_proto_reset(struct smtp_session *s)
{
    for (size_t i = 0; i < s->nrcpt; i++)
        rcpt_free(&s->rcpts[i]);
    s->nrcpt = 0;
    rcpt_free(&s->pending_rcpt);
    s->in_mail = 0;
    s->in_data = 0;
    vstr_reset(s->sender);
    vstr_reset(s->envid);
    vstr_reset(s->ret);
    s->declared_size = -1;
    s->body_8bit = 0;
    s->smtputf8 = 0;
    s->data_size = 0;
    s->data_too_big = 0;
}

void smtp_proto_free(struct smtp_session *s)
{
    smtp_proto_reset(s);
    free(s->rcpts);
    vstr_free(s->reply);
    vstr_free(s->helo_name);
    vstr_free(s->sender);
    vstr_free(s->envid);
    vstr_free(s->ret);
    memset(s, 0, sizeof(*s));
}

/* Append one reply line; count errors (4xx/5xx) and successes for the
 * current command; escalate to a delay or a disconnect at the limits. */
static int reply(struct smtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int reply(struct smtp_session *s, const char *fmt, ...)
{
    va_list ap;
    size_t start = s->reply->len;
    char code;

    va_start(ap, fmt);
    vstr_vprintf(s->reply, fmt, ap);
    va_end(ap);
    vstr_puts(s->reply, "\r\n");
    code = s->reply->data[start];
    if (code == '2') {
        s->ok_count[s->last_verb]++;
        return 0;
    }
    if (code != '4' && code != '5')
        return 0;
    s->errors++;
    if (s->errors >= s->cfg->hard_error_limit) {
        vstr_puts(s->reply, "421 4.7.0 Error: too many errors\r\n");
        return SMTP_ACT_DISCONNECT;
    }
    if (s->errors >= s->cfg->soft_error_limit)
        return SMTP_ACT_DELAY;
    return 0;
}

void smtp_proto_greeting(struct smtp_session *s, const char *banner)
{
    vstr_printf(s->reply, "220 %s\r\n", banner);
}

/* ESMTP parameters of MAIL and RCPT: parsed into this context; the first
 * problem leaves its reply in err and stops the parse. */
struct param_ctx {
    struct smtp_session *s;
    int is_rcpt;
    unsigned seen;          /* bit per known keyword, for duplicates */
    vstr *err;
    /* RCPT results */
    int notify;
    vstr *orcpt;
};

enum { P_SIZE = 1, P_BODY = 2, P_SMTPUTF8 = 4, P_RET = 8, P_ENVID = 16, P_NOTIFY = 32, P_ORCPT = 64 };

/* The reply is before, the parameter keyword (alphanumeric, bounded by
 * the parser), after. */
static int param_error(struct param_ctx *c, const char *before, const char *key,
                       const char *after)
{
    vstr_puts(c->err, before);
    vstr_puts(c->err, key);
    vstr_puts(c->err, after);
    return 1;
}

/* Text a client sent (xtext-decoded) must not smuggle control characters
 * into queue file attributes or log lines. */
static int printable_text(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = p[i];
        if (ch < 32 || ch == 127)
            return 0;
    }
    return 1;
}

static int parse_size(const char *v, long *out)
{
    long n = 0;

    if (*v == 0)
        return -1;
    for (; *v; v++) {
        if (!isdigit((unsigned char) *v))
            return -1;
        if (n > (2147483647L * 100L - 9) / 10)     /* clamp: "far too big" */
            n = 2147483647L * 100L;
        else
            n = n * 10 + (*v - '0');
    }
    *out = n;
    return 0;
}

static int mail_param(const char *key, const char *value, void *ctx)
{
    struct param_ctx *c = ctx;
    struct smtp_session *s = c->s;
    unsigned bit;

    if (strcmp(key, "SIZE") == 0)
        bit = P_SIZE;
    else if (strcmp(key, "BODY") == 0)
        bit = P_BODY;
    else if (strcmp(key, "SMTPUTF8") == 0 && s->cfg->smtputf8_enable)
        bit = P_SMTPUTF8;
    else if (strcmp(key, "RET") == 0)
        bit = P_RET;
    else if (strcmp(key, "ENVID") == 0)
        bit = P_ENVID;
    else
        return param_error(c, "555 5.5.4 Unsupported option: ", key, "");
    if (c->seen & bit)
        return param_error(c, "501 5.5.4 Duplicate ", key, " parameter");
    c->seen |= bit;

    switch (bit) {
    case P_SIZE: {
        long n;
        if (value == NULL || parse_size(value, &n) < 0)
            return param_error(c, "501 5.5.4 Bad ", key, " parameter syntax");
        if (n > s->cfg->message_size_limit) {
            vstr_puts(c->err, "552 5.3.4 Message size exceeds fixed limit");
            return 1;
        }
        s->declared_size = n;
        return 0;
    }
    case P_BODY:
        if (value && strcasecmp(value, "8BITMIME") == 0)
            s->body_8bit = 1;
        else if (value && strcasecmp(value, "7BIT") == 0)
            s->body_8bit = 0;
        else
            return param_error(c, "501 5.5.4 Unsupported ", key, " parameter value");
        return 0;
    case P_SMTPUTF8:
        if (value != NULL)
            return param_error(c, "501 5.5.4 Bad ", key, " parameter syntax");
        s->smtputf8 = 1;
        return 0;
    case P_RET:
        if (value && strcasecmp(value, "FULL") == 0)
            vstr_set(s->ret, "FULL");
        else if (value && strcasecmp(value, "HDRS") == 0)
            vstr_set(s->ret, "HDRS");
        else
            return param_error(c, "501 5.5.4 Bad ", key, " parameter value");
        return 0;
    case P_ENVID:
        if (value == NULL || xtext_decode(s->envid, value, strlen(value)) < 0
            || s->envid->len == 0 || s->envid->len > ENVID_MAX
            || !printable_text(s->envid->data, s->envid->len)) {
            vstr_reset(s->envid);
            return param_error(c, "501 5.5.4 Bad ", key, " parameter syntax");
        }
        return 0;
    }
    return 0;
}

static int notify_parse(const char *value)
{
    int mask = 0;
    const char *p = value;

    while (*p) {
        size_t n = strcspn(p, ",");
        int bit;

        if (n == 5 && strncasecmp(p, "NEVER", 5) == 0)
            bit = DSN_NOTIFY_NEVER;
        else if (n == 7 && strncasecmp(p, "SUCCESS", 7) == 0)
            bit = DSN_NOTIFY_SUCCESS;
        else if (n == 7 && strncasecmp(p, "FAILURE", 7) == 0)
            bit = DSN_NOTIFY_FAILURE;
        else if (n == 5 && strncasecmp(p, "DELAY", 5) == 0)
            bit = DSN_NOTIFY_DELAY;
        else
            return -1;
        if (mask & bit)
            return -1;
        mask |= bit;
        p += n;
        if (*p == ',') {
            p++;
            if (*p == 0)
                return -1;
        }
    }
    /* NEVER excludes the others (RFC 3461 section 4.1). */
    if (mask == 0 || ((mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER))
        return -1;
    return mask;
}

static int rcpt_param(const char *key, const char *value, void *ctx)
{
    struct param_ctx *c = ctx;
    unsigned bit;

    if (strcmp(key, "NOTIFY") == 0)
        bit = P_NOTIFY;
    else if (strcmp(key, "ORCPT") == 0)
        bit = P_ORCPT;
    else
        return param_error(c, "555 5.5.4 Unsupported option: ", key, "");
    if (c->seen & bit)
        return param_error(c, "501 5.5.4 Duplicate ", key, " parameter");
    c->seen |= bit;

    if (bit == P_NOTIFY) {
        if (value == NULL || (c->notify = notify_parse(value)) < 0)
            return param_error(c, "501 5.5.4 Bad ", key, " parameter syntax");
        return 0;
    }
    /* ORCPT=addr-type;xtext */
    {
        const char *semi = value ? strchr(value, ';') : NULL;
        vstr *dec;
        int bad;

        if (semi == NULL || semi == value)
            return param_error(c, "501 5.5.4 Bad ", key, " parameter syntax");
        for (const char *p = value; p < semi; p++)
            if (!(isascii((unsigned char) *p) && (isalnum((unsigned char) *p) || *p == '-')))
                return param_error(c, "501 5.5.4 Bad ", key, " parameter syntax");
        dec = vstr_new(64);
        bad = xtext_decode(dec, semi + 1, strlen(semi + 1)) < 0 || dec->len == 0
              || dec->len > ORCPT_MAX || !printable_text(dec->data, dec->len);
        if (!bad) {
            vstr_setn(c->orcpt, value, (size_t) (semi - value) + 1);
            vstr_append(c->orcpt, dec->data, dec->len);
        }
        vstr_free(dec);
        if (bad)
            return param_error(c, "501 5.5.4 Bad ", key, " parameter syntax");
        return 0;
    }
}

/* Run the parameter parser; 0 ok, else the reply actions already taken. */
static int params_run(struct smtp_session *s, struct param_ctx *c, const char *rest,
                      size_t len, int *act)
{
    int r;

    c->s = s;
    c->err = vstr_new(64);
    r = smtp_params_parse(rest, len, MAX_PARAMS, c->is_rcpt ? rcpt_param : mail_param, c);
    if (r != 0) {
        if (c->err->len > 0)
            *act = reply(s, "%s", vstr_str(c->err));
        else
            *act = reply(s, "501 5.5.4 Bad %s parameter syntax", c->is_rcpt ? "RCPT" : "MAIL");
    }
    vstr_free(c->err);
    c->err = NULL;
    return r;
}

static int path_flags(const struct smtp_session *s)
{
    int flags = 0;

    if (s->cfg->smtputf8_enable)
        flags |= PATH_SMTPUTF8;
    if (!s->cfg->strict_rfc821)
        flags |= PATH_ALLOW_BARE;
    return flags;
}

static int cmd_mail(struct smtp_session *s, const char *arg, size_t alen)
{
    struct param_ctx pc;
    vstr *addr;
    const char *rest, *why;
    int act = 0;

    if (s->cfg->helo_required && s->helo_name->len == 0)
        return reply(s, "503 5.5.1 Error: send HELO/EHLO first");
    if (s->in_mail)
        return reply(s, "503 5.5.1 Error: nested MAIL command");
    if (alen < 5 || strncasecmp(arg, "FROM:", 5) != 0)
        return reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
    addr = vstr_new(64);
    if (smtp_path_parse(arg + 5, alen - 5, path_flags(s) | PATH_ALLOW_EMPTY, addr, &rest,
                        &why) < 0) {
        vstr_free(addr);
        return reply(s, "501 5.1.7 Bad sender address syntax");
    }
    memset(&pc, 0, sizeof(pc));
    if (params_run(s, &pc, rest, (size_t) (arg + alen - rest), &act) != 0) {
        vstr_free(addr);
        smtp_proto_reset(s);
        return act;
    }
    if (has_8bit(addr->data, addr->len) && !s->smtputf8) {
        vstr_free(addr);
        smtp_proto_reset(s);
        return reply(s, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
    }
    if (addr->len > 0 && strchr(addr->data, '@') == NULL)
        vstr_printf(addr, "@%s", s->cfg->myorigin);
    vstr_setn(s->sender, addr->data, addr->len);
    vstr_free(addr);
    s->in_mail = 1;
    return reply(s, "250 2.1.0 Ok");
}

static int cmd_rcpt(struct smtp_session *s, const char *arg, size_t alen)
{
    struct param_ctx pc;
    vstr *addr;
    const char *rest, *why;
    int act = 0;

    if (!s->in_mail)
        return reply(s, "503 5.5.1 Error: need MAIL command");
    if (alen < 3 || strncasecmp(arg, "TO:", 3) != 0)
        return reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
    addr = vstr_new(64);
    if (smtp_path_parse(arg + 3, alen - 3, path_flags(s), addr, &rest, &why) < 0) {
        vstr_free(addr);
        return reply(s, "501 5.1.3 Bad recipient address syntax");
    }
    if ((long) s->nrcpt >= s->cfg->recipient_limit) {
        vstr_free(addr);
        return reply(s, "452 4.5.3 Error: too many recipients");
    }
    memset(&pc, 0, sizeof(pc));
    pc.is_rcpt = 1;
    pc.orcpt = vstr_new(64);
    if (params_run(s, &pc, rest, (size_t) (arg + alen - rest), &act) != 0) {
        vstr_free(addr);
        vstr_free(pc.orcpt);
        return act;
    }
    if (has_8bit(addr->data, addr->len) && !s->smtputf8) {
        vstr_free(addr);
        vstr_free(pc.orcpt);
        return reply(s, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
    }
    if (strchr(addr->data, '@') == NULL) {
        /* RFC 5321 4.5.1: <postmaster> must be accepted unqualified. */
        if (strcasecmp(addr->data, "postmaster") == 0 || s->client_in_mynetworks) {
            vstr_printf(addr, "@%s", s->cfg->myorigin);
        } else {
            act = reply(s, "501 5.1.3 <%s>: Recipient address rejected: "
                        "need fully-qualified address", addr->data);
            vstr_free(addr);
            vstr_free(pc.orcpt);
            return act;
        }
    }
    rcpt_free(&s->pending_rcpt);
    s->pending_rcpt.addr = vstr_export(addr);
    s->pending_rcpt.orcpt = pc.orcpt->len ? xstrdup(pc.orcpt->data) : NULL;
    s->pending_rcpt.notify = pc.notify;
    vstr_free(pc.orcpt);
    return SMTP_ACT_RCPT_CHECK;
}

int smtp_proto_rcpt_result(struct smtp_session *s, const char *reject)
{
    if (s->pending_rcpt.addr == NULL)
        return 0;
    if (reject != NULL) {
        rcpt_free(&s->pending_rcpt);
        return reply(s, "%s", reject);
    }
    if (s->nrcpt == s->rcpt_cap) {
        s->rcpt_cap = s->rcpt_cap ? s->rcpt_cap * 2 : 8;
        s->rcpts = xreallocarray(s->rcpts, s->rcpt_cap, sizeof(*s->rcpts));
    }
    s->rcpts[s->nrcpt++] = s->pending_rcpt;
    memset(&s->pending_rcpt, 0, sizeof(s->pending_rcpt));
    return reply(s, "250 2.1.5 Ok");
}

static int cmd_data(struct smtp_session *s, const char *arg, size_t alen)
{
    (void) arg;
    if (alen > 0)
        return reply(s, "501 5.5.4 Syntax: DATA");
    if (!s->in_mail)
        return reply(s, "503 5.5.1 Error: need MAIL command");
    if (s->nrcpt == 0)
        return reply(s, "503 5.5.1 Error: need RCPT command");
    return SMTP_ACT_DATA;
}

int smtp_proto_data_begin(struct smtp_session *s, int ok)
{
    if (!ok) {
        smtp_proto_reset(s);
        return reply(s, "451 4.3.0 Error: queue file write error");
    }
    s->in_data = 1;
    s->data_size = 0;
    s->data_too_big = 0;
    s->data_at_line_start = 1;
    s->data_prev_crlf = 1;
    return reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

int smtp_proto_data_input(struct smtp_session *s, const char *p, size_t len, int term,
                          const char **out, size_t *outlen)
{
    int at_start = s->data_at_line_start;

    *out = p;
    *outlen = len;
    if (term == SMTP_TERM_LF && s->bare_lf_reject) {
        s->in_data = 0;
        vstr_printf(s->reply, "%d 5.5.2 Error: bare <LF> received\r\n",
                    s->cfg->bare_newline_reject_code);
        return SMTP_DATA_DISCONNECT;
    }
    /* Only CR LF . CR LF ends the message: a "." line ended by a bare LF,
     * or after a line ended by a bare LF, is content (SMTP smuggling relies
     * on MTAs disagreeing here). */
    if (at_start && s->data_prev_crlf && term == SMTP_TERM_CRLF && len == 1 && p[0] == '.') {
        *outlen = 0;
        return SMTP_DATA_END;
    }
    if (at_start && len > 0 && p[0] == '.') {
        *out = p + 1;
        *outlen = len - 1;
    }
    s->data_at_line_start = (term != SMTP_TERM_NONE);
    if (term != SMTP_TERM_NONE)
        s->data_prev_crlf = (term == SMTP_TERM_CRLF);
    if (!s->data_too_big) {
        s->data_size += (long) *outlen + (term != SMTP_TERM_NONE ? 2 : 0);
        if (s->data_size > s->cfg->message_size_limit)
            s->data_too_big = 1;
    }
    if (s->data_too_big)
        return SMTP_DATA_SKIP;
    return term == SMTP_TERM_NONE ? SMTP_DATA_PIECE : SMTP_DATA_LINE;
}

/* "d.d.d" at the start of text (an enhanced status code)? */
static int has_enhanced_code(const char *t)
{
    int parts = 0;

    for (;;) {
        int digits = 0;
        while (isdigit((unsigned char) *t) && digits < 4) {
            t++;
            digits++;
        }
        if (digits == 0)
            return 0;
        if (++parts == 3)
            return *t == ' ' || *t == 0;
        if (*t++ != '.')
            return 0;
    }
}

int smtp_proto_data_end(struct smtp_session *s, int status, const char *queue_id,
                        const char *reason)
{
    int act;

    s->in_data = 0;
    s->after_eom = 1;
    if (status == 0) {
        act = reply(s, "250 2.0.0 Ok: queued as %s", queue_id ? queue_id : "?");
        s->errors = 0;          /* the limits count errors without delivering mail */
    } else if (status >= 400 && status <= 599 && reason && *reason
               && printable_text(reason, strlen(reason)) && strlen(reason) < 400) {
        if (has_enhanced_code(reason))
            act = reply(s, "%d %s", status, reason);
        else
            act = reply(s, "%d %c.3.0 %s", status, status >= 500 ? '5' : '4', reason);
    } else if (status >= 400 && status <= 599) {
        act = reply(s, "%d %c.3.0 Error: message not accepted", status,
                    status >= 500 ? '5' : '4');
    } else {
        act = reply(s, "451 4.3.0 Error: queue file write error");
    }
    smtp_proto_reset(s);
    return act;
}

static int cmd_ehlo(struct smtp_session *s, const char *arg, size_t alen, int esmtp)
{
    if (alen == 0)
        return reply(s, "501 5.5.4 Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
    smtp_proto_reset(s);
    vstr_setn(s->helo_name, arg, alen);
    s->esmtp = esmtp;
    if (!esmtp)
        return reply(s, "250 %s", s->cfg->myhostname);
    vstr_printf(s->reply, "250-%s\r\n", s->cfg->myhostname);
    vstr_puts(s->reply, "250-PIPELINING\r\n");
    vstr_printf(s->reply, "250-SIZE %ld\r\n", s->cfg->message_size_limit);
    if (!s->cfg->disable_vrfy)
        vstr_puts(s->reply, "250-VRFY\r\n");
    vstr_puts(s->reply, "250-ENHANCEDSTATUSCODES\r\n");
    vstr_puts(s->reply, "250-8BITMIME\r\n");
    if (s->cfg->smtputf8_enable) {
        vstr_puts(s->reply, "250-DSN\r\n");
        return reply(s, "250 SMTPUTF8");
    }
    return reply(s, "250 DSN");
}

static const struct {
    const char *name;
    enum smtp_verb verb;
} verbs[] = {
    {"HELO", SMTP_V_HELO}, {"EHLO", SMTP_V_EHLO}, {"STARTTLS", SMTP_V_STARTTLS},
    {"AUTH", SMTP_V_AUTH}, {"MAIL", SMTP_V_MAIL}, {"RCPT", SMTP_V_RCPT},
    {"DATA", SMTP_V_DATA}, {"BDAT", SMTP_V_BDAT}, {"RSET", SMTP_V_RSET},
    {"NOOP", SMTP_V_NOOP}, {"VRFY", SMTP_V_VRFY}, {"EXPN", SMTP_V_EXPN},
    {"ETRN", SMTP_V_ETRN}, {"TURN", SMTP_V_TURN}, {"HELP", SMTP_V_HELP},
    {"QUIT", SMTP_V_QUIT},
};

int smtp_proto_line_too_long(struct smtp_session *s)
{
    s->seen_cmd = 1;
    s->after_eom = 0;
    s->last_verb = SMTP_V_UNKNOWN;
    s->total_count[SMTP_V_UNKNOWN]++;
    return reply(s, "500 5.5.2 Error: line too long");
}

int smtp_proto_command(struct smtp_session *s, const char *line, size_t len, int term)
{
    size_t vlen = 0, a0;
    enum smtp_verb verb = SMTP_V_UNKNOWN;

    if (term == SMTP_TERM_LF && s->bare_lf_reject) {
        vstr_printf(s->reply, "%d 5.5.2 Error: bare <LF> received\r\n",
                    s->cfg->bare_newline_reject_code);
        return SMTP_ACT_DISCONNECT;
    }
    /* Tolerate trailing white space, as most servers do. */
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    while (vlen < len && line[vlen] != ' ')
        vlen++;
    a0 = vlen;
    while (a0 < len && line[a0] == ' ')
        a0++;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strlen(verbs[i].name) == vlen && strncasecmp(verbs[i].name, line, vlen) == 0) {
            verb = verbs[i].verb;
            break;
        }
    }
    s->seen_cmd = 1;
    s->after_eom = 0;
    s->last_verb = verb;
    s->total_count[verb]++;
    if (memchr(line, 0, len) != NULL)
        return reply(s, "500 5.5.2 Error: bad syntax");
    if (s->in_data)     /* caller bug; never mix DATA lines with commands */
        return reply(s, "503 5.5.1 Error: command in DATA phase");

    const char *arg = line + a0;
    size_t alen = len - a0;

    switch (verb) {
    case SMTP_V_EHLO:
        return cmd_ehlo(s, arg, alen, 1);
    case SMTP_V_HELO:
        return cmd_ehlo(s, arg, alen, 0);
    case SMTP_V_MAIL:
        return cmd_mail(s, arg, alen);
    case SMTP_V_RCPT:
        return cmd_rcpt(s, arg, alen);
    case SMTP_V_DATA:
        return cmd_data(s, arg, alen);
    case SMTP_V_RSET:
        if (alen > 0)
            return reply(s, "501 5.5.4 Syntax: RSET");
        smtp_proto_reset(s);
        return reply(s, "250 2.0.0 Ok");
    case SMTP_V_NOOP:
        return reply(s, "250 2.0.0 Ok");
    case SMTP_V_QUIT:
        reply(s, "221 2.0.0 Bye");
        return SMTP_ACT_DISCONNECT;
    case SMTP_V_VRFY:
        if (s->cfg->disable_vrfy)
            return reply(s, "502 5.5.1 VRFY command is disabled");
        if (alen == 0)
            return reply(s, "501 5.5.4 Syntax: VRFY address");
        return reply(s, "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
    case SMTP_V_HELP:
        return reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT");
    case SMTP_V_STARTTLS:
    case SMTP_V_AUTH:
    case SMTP_V_BDAT:
    case SMTP_V_EXPN:
    case SMTP_V_ETRN:
    case SMTP_V_TURN:
        return reply(s, "502 5.5.1 Error: command not implemented");
    case SMTP_V_UNKNOWN:
    case SMTP_V_COUNT:
        break;
    }
    if (len == 0)
        return reply(s, "500 5.5.2 Error: bad syntax");
    return reply(s, "500 5.5.2 Error: command not recognized");
}

void smtp_proto_counts(const struct smtp_session *s, vstr *out)
{
    unsigned ok = 0, total = 0;

    for (int v = 0; v < SMTP_V_COUNT; v++) {
        if (s->total_count[v] == 0)
            continue;
        for (const char *p = verb_names[v]; *p; p++)
            vstr_putc(out, tolower((unsigned char) *p));
        if (s->ok_count[v] == s->total_count[v])
            vstr_printf(out, "=%u ", s->ok_count[v]);
        else
            vstr_printf(out, "=%u/%u ", s->ok_count[v], s->total_count[v]);
        ok += s->ok_count[v];
        total += s->total_count[v];
    }
    if (ok == total)
        vstr_printf(out, "commands=%u", total);
    else
        vstr_printf(out, "commands=%u/%u", ok, total);
}

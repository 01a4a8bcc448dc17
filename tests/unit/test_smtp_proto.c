/* Unit tests for the SMTP server protocol module (smtpd/smtp_proto.c) and
 * the relay policy (smtpd/smtpd_check.c): every command, ordering errors,
 * parameters, limits, DATA framing and a pile of malformed input. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "record.h"
#include "smtp_proto.h"
#include "smtpd_check.h"
#include "vstr.h"

static struct smtp_config base_cfg = {
    .myhostname = "mx.example.org",
    .myorigin = "example.org",
    .message_size_limit = 10000,
    .recipient_limit = 3,
    .soft_error_limit = 100,
    .hard_error_limit = 200,
    .line_length_limit = 2048,
    .disable_vrfy = 0,
    .smtputf8_enable = 1,
    .helo_required = 0,
    .strict_rfc821 = 0,
    .bare_newline_reject_code = 550,
};

struct fixture {
    struct smtp_config cfg;
    struct smtp_session s;
    char *last;         /* last reply text */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->cfg = base_cfg;
    smtp_proto_init(&f->s, &f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    smtp_proto_free(&f->s);
    free(f->last);
    free(f);
    return 0;
}

/* Take the reply text out of the session. */
static const char *take(struct fixture *f)
{
    free(f->last);
    f->last = strdup(vstr_str(f->s.reply));
    vstr_reset(f->s.reply);
    return f->last;
}

/* Run a command; a RCPT policy check is answered "accept". */
static int cmd(struct fixture *f, const char *line)
{
    int act = smtp_proto_command(&f->s, line, strlen(line), SMTP_TERM_CRLF);

    if (act & SMTP_ACT_RCPT_CHECK)
        act = (act & ~SMTP_ACT_RCPT_CHECK) | smtp_proto_rcpt_result(&f->s, NULL);
    return act;
}

/* Command, expecting a reply starting with want. */
static void expect(struct fixture *f, const char *line, const char *want)
{
    const char *got;

    cmd(f, line);
    got = take(f);
    if (strncmp(got, want, strlen(want)) != 0)
        fail_msg("%s: expected \"%s\", got \"%s\"", line, want, got);
}

static void test_greeting(void **state)
{
    struct fixture *f = *state;

    smtp_proto_greeting(&f->s, "mx.example.org ESMTP posthorn");
    assert_string_equal(take(f), "220 mx.example.org ESMTP posthorn\r\n");
    assert_string_equal(smtp_proto_last(&f->s), "CONNECT");
}

static void test_ehlo(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(cmd(f, "EHLO client.example"), 0);
    assert_string_equal(take(f), "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10000\r\n"
                        "250-VRFY\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
                        "250-DSN\r\n250 SMTPUTF8\r\n");
    assert_string_equal(vstr_str(f->s.helo_name), "client.example");
    assert_true(f->s.esmtp);
    expect(f, "EHLO", "501 5.5.4 ");
    expect(f, "ehlo   spaced.example  ", "250-mx.example.org");
    assert_string_equal(vstr_str(f->s.helo_name), "spaced.example");
}

static void test_ehlo_options(void **state)
{
    struct fixture *f = *state;

    f->cfg.disable_vrfy = 1;
    f->cfg.smtputf8_enable = 0;
    cmd(f, "EHLO c");
    assert_string_equal(take(f), "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10000\r\n"
                        "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n");
    assert_null(strstr(f->last, "CHUNKING"));
}

static void test_helo(void **state)
{
    struct fixture *f = *state;

    expect(f, "HELO client", "250 mx.example.org\r\n");
    assert_false(f->s.esmtp);
    expect(f, "HELO", "501 5.5.4 Syntax: HELO hostname");
}

static void test_transaction(void **state)
{
    struct fixture *f = *state;

    expect(f, "EHLO c", "250-");
    expect(f, "MAIL FROM:<a@b.example>", "250 2.1.0 Ok\r\n");
    assert_string_equal(vstr_str(f->s.sender), "a@b.example");
    expect(f, "RCPT TO:<x@mx.example.org>", "250 2.1.5 Ok\r\n");
    expect(f, "RCPT TO:<y@mx.example.org>", "250 2.1.5 Ok\r\n");
    assert_int_equal(f->s.nrcpt, 2);
    assert_int_equal(cmd(f, "DATA"), SMTP_ACT_DATA);
    assert_string_equal(take(f), "");
    smtp_proto_data_begin(&f->s, 1);
    assert_string_equal(take(f), "354 End data with <CR><LF>.<CR><LF>\r\n");
    assert_true(f->s.in_data);
    assert_string_equal(smtp_proto_last(&f->s), "DATA");
    smtp_proto_data_end(&f->s, 0, "ABC123", NULL);
    assert_string_equal(take(f), "250 2.0.0 Ok: queued as ABC123\r\n");
    assert_false(f->s.in_mail);
    assert_int_equal(f->s.nrcpt, 0);
    assert_string_equal(smtp_proto_last(&f->s), "END-OF-MESSAGE");
    assert_int_equal(cmd(f, "QUIT"), SMTP_ACT_DISCONNECT);
    assert_string_equal(smtp_proto_last(&f->s), "QUIT");
    assert_string_equal(take(f), "221 2.0.0 Bye\r\n");
    {
        vstr *c = vstr_new(64);
        smtp_proto_counts(&f->s, c);
        assert_string_equal(vstr_str(c), "ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6");
        vstr_free(c);
    }
}

static void test_null_sender_and_case(void **state)
{
    struct fixture *f = *state;

    expect(f, "mail from:<>", "250 2.1.0");
    assert_string_equal(vstr_str(f->s.sender), "");
    expect(f, "rcpt to:<X@Y.example>", "250 2.1.5");
    expect(f, "RSET", "250 2.0.0");
    expect(f, "MAIL FROM: <a@b.example>", "250 2.1.0");
    expect(f, "RSET", "250 2.0.0");
    /* Bare address without brackets: tolerated unless strict. */
    expect(f, "MAIL FROM:a@b.example", "250 2.1.0");
    expect(f, "RSET", "250");
    f->cfg.strict_rfc821 = 1;
    expect(f, "MAIL FROM:a@b.example", "501 5.1.7 ");
}

static void test_order_errors(void **state)
{
    struct fixture *f = *state;

    expect(f, "RCPT TO:<x@y.example>", "503 5.5.1 Error: need MAIL command");
    expect(f, "DATA", "503 5.5.1 ");
    expect(f, "MAIL FROM:<a@b.example>", "250");
    expect(f, "MAIL FROM:<a@b.example>", "503 5.5.1 Error: nested MAIL command");
    expect(f, "DATA", "503 5.5.1 Error: need RCPT command");
    f->cfg.helo_required = 1;
    expect(f, "RSET", "250");
    expect(f, "MAIL FROM:<a@b.example>", "503 5.5.1 Error: send HELO/EHLO first");
    expect(f, "HELO x", "250");
    expect(f, "MAIL FROM:<a@b.example>", "250");
}

static void test_syntax_errors(void **state)
{
    struct fixture *f = *state;

    expect(f, "MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>");
    expect(f, "MAIL TO:<a@b>", "501 5.5.4 ");
    expect(f, "MAIL FROM:", "501 5.1.7 ");
    expect(f, "MAIL FROM:<a@b", "501 5.1.7 ");
    expect(f, "MAIL FROM:<a b@c>", "501 5.1.7 ");
    expect(f, "MAIL FROM:<a@b.example>junk", "501 5.1.7 ");
    expect(f, "MAIL FROM:<a@b.example>", "250");
    expect(f, "RCPT", "501 5.5.4 Syntax: RCPT TO:<address>");
    expect(f, "RCPT FROM:<a@b>", "501 5.5.4 ");
    expect(f, "RCPT TO:<>", "501 5.1.3 ");
    expect(f, "RCPT TO:<a@@b>", "501 5.1.3 ");
    expect(f, "RCPT TO:<a@b..c>", "501 5.1.3 ");
    expect(f, "RSET x", "501 5.5.4 ");
    expect(f, "DATA x", "501 5.5.4 ");
}

static void test_mail_params(void **state)
{
    struct fixture *f = *state;

    expect(f, "EHLO c", "250");
    expect(f, "MAIL FROM:<a@b.example> SIZE=500 BODY=8BITMIME RET=HDRS ENVID=id+2B1", "250 2.1.0");
    assert_int_equal(f->s.declared_size, 500);
    assert_true(f->s.body_8bit);
    assert_string_equal(vstr_str(f->s.ret), "HDRS");
    assert_string_equal(vstr_str(f->s.envid), "id+1");
    expect(f, "RSET", "250");
    assert_false(f->s.body_8bit);
    assert_int_equal(f->s.declared_size, -1);
    expect(f, "MAIL FROM:<a@b.example> SIZE=10001", "552 5.3.4 ");
    assert_false(f->s.in_mail);
    expect(f, "MAIL FROM:<a@b.example> SIZE=99999999999999999999999", "552 5.3.4 ");
    expect(f, "MAIL FROM:<a@b.example> SIZE=", "501 5.5.4 ");
    expect(f, "MAIL FROM:<a@b.example> SIZE=12x", "501 5.5.4 ");
    expect(f, "MAIL FROM:<a@b.example> SIZE", "501 5.5.4 ");
    expect(f, "MAIL FROM:<a@b.example> SIZE=1 SIZE=2", "501 5.5.4 Duplicate SIZE parameter");
    expect(f, "MAIL FROM:<a@b.example> BODY=BINARYMIME", "501 5.5.4 ");
    expect(f, "MAIL FROM:<a@b.example> RET=ALL", "501 5.5.4 ");
    expect(f, "MAIL FROM:<a@b.example> ENVID=a+0D+0Ab", "501 5.5.4 ");
    expect(f, "MAIL FROM:<a@b.example> ENVID=a+zz", "501 5.5.4 ");
    expect(f, "MAIL FROM:<a@b.example> SMTPUTF8=yes", "501 5.5.4 ");
    expect(f, "MAIL FROM:<a@b.example> FOO=bar", "555 5.5.4 Unsupported option: FOO");
    expect(f, "MAIL FROM:<a@b.example> AUTH=<>", "555 5.5.4 ");
    expect(f, "MAIL FROM:<a@b.example> =x", "501 5.5.4 ");
    expect(f, "MAIL FROM:<a@b.example> A B C D E F G H I J K L M N O P Q R", "555 5.5.4 ");
    expect(f, "MAIL FROM:<a@b.example> body=7bit", "250 2.1.0");
}

static void test_smtputf8(void **state)
{
    struct fixture *f = *state;

    expect(f, "EHLO c", "250");
    expect(f, "MAIL FROM:<j\xc3\xb6rg@b.example>", "553 5.6.7 ");
    expect(f, "MAIL FROM:<j\xc3\xb6rg@b.example> SMTPUTF8", "250 2.1.0");
    assert_true(f->s.smtputf8);
    expect(f, "RCPT TO:<\xc3\xbc@mx.example.org>", "250 2.1.5");
    expect(f, "RSET", "250");
    expect(f, "MAIL FROM:<a@b.example>", "250");
    expect(f, "RCPT TO:<\xc3\xbc@mx.example.org>", "553 5.6.7 ");
    expect(f, "RSET", "250");
    f->cfg.smtputf8_enable = 0;
    expect(f, "MAIL FROM:<a@b.example> SMTPUTF8", "555 5.5.4 ");
    expect(f, "MAIL FROM:<j\xc3\xb6rg@b.example>", "501 5.1.7 ");
}

static void test_rcpt_params(void **state)
{
    struct fixture *f = *state;

    expect(f, "MAIL FROM:<a@b.example>", "250");
    expect(f, "RCPT TO:<x@y.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40y.example", "250 2.1.5");
    assert_int_equal(f->s.rcpts[0].notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE);
    assert_string_equal(f->s.rcpts[0].orcpt, "rfc822;x@y.example");
    expect(f, "RCPT TO:<z@y.example> NOTIFY=never", "250 2.1.5");
    assert_int_equal(f->s.rcpts[1].notify, DSN_NOTIFY_NEVER);
    assert_null(f->s.rcpts[1].orcpt);
    expect(f, "RCPT TO:<z@y.example> NOTIFY=NEVER,DELAY", "501 5.5.4 ");
    expect(f, "RCPT TO:<z@y.example> NOTIFY=", "501 5.5.4 ");
    expect(f, "RCPT TO:<z@y.example> NOTIFY=SUCCESS,", "501 5.5.4 ");
    expect(f, "RCPT TO:<z@y.example> NOTIFY=SUCCESS,SUCCESS", "501 5.5.4 ");
    expect(f, "RCPT TO:<z@y.example> NOTIFY=SOMETIMES", "501 5.5.4 ");
    expect(f, "RCPT TO:<z@y.example> NOTIFY=DELAY NOTIFY=DELAY", "501 5.5.4 Duplicate NOTIFY");
    expect(f, "RCPT TO:<z@y.example> ORCPT=rfc822", "501 5.5.4 ");
    expect(f, "RCPT TO:<z@y.example> ORCPT=;x@y", "501 5.5.4 ");
    expect(f, "RCPT TO:<z@y.example> ORCPT=rfc822;", "501 5.5.4 ");
    expect(f, "RCPT TO:<z@y.example> ORCPT=rfc822;a+00b", "501 5.5.4 ");
    expect(f, "RCPT TO:<z@y.example> ORCPT=rf/c;ab", "501 5.5.4 ");
    expect(f, "RCPT TO:<z@y.example> SIZE=1", "555 5.5.4 Unsupported option: SIZE");
    assert_int_equal(f->s.nrcpt, 2);
}

static void test_rcpt_limit(void **state)
{
    struct fixture *f = *state;

    expect(f, "MAIL FROM:<a@b.example>", "250");
    expect(f, "RCPT TO:<1@y.example>", "250");
    expect(f, "RCPT TO:<2@y.example>", "250");
    expect(f, "RCPT TO:<3@y.example>", "250");
    expect(f, "RCPT TO:<4@y.example>", "452 4.5.3 Error: too many recipients");
    assert_int_equal(f->s.nrcpt, 3);
}

static void test_rcpt_policy(void **state)
{
    struct fixture *f = *state;
    int act;

    expect(f, "MAIL FROM:<a@b.example>", "250");
    act = smtp_proto_command(&f->s, "RCPT TO:<x@z.example>", 21, SMTP_TERM_CRLF);
    assert_int_equal(act, SMTP_ACT_RCPT_CHECK);
    assert_string_equal(f->s.pending_rcpt.addr, "x@z.example");
    assert_string_equal(take(f), "");
    smtp_proto_rcpt_result(&f->s, "554 5.7.1 <x@z.example>: Relay access denied");
    assert_string_equal(take(f), "554 5.7.1 <x@z.example>: Relay access denied\r\n");
    assert_int_equal(f->s.nrcpt, 0);
    assert_null(f->s.pending_rcpt.addr);
    assert_int_equal(f->s.errors, 1);
    /* A stray result without a pending recipient does nothing. */
    assert_int_equal(smtp_proto_rcpt_result(&f->s, NULL), 0);
    assert_string_equal(take(f), "");
    {
        vstr *c = vstr_new(64);
        smtp_proto_counts(&f->s, c);
        assert_string_equal(vstr_str(c), "mail=1 rcpt=0/1 commands=1/2");
        vstr_free(c);
    }
}

static void test_unqualified(void **state)
{
    struct fixture *f = *state;

    expect(f, "MAIL FROM:<joe>", "250");
    assert_string_equal(vstr_str(f->s.sender), "joe@example.org");
    expect(f, "RCPT TO:<Postmaster>", "250 2.1.5");
    assert_string_equal(f->s.rcpts[0].addr, "Postmaster@example.org");
    expect(f, "RCPT TO:<bob>", "501 5.1.3 <bob>: Recipient address rejected: need fully-qualified address");
    f->s.client_in_mynetworks = 1;
    expect(f, "RCPT TO:<bob>", "250 2.1.5");
    assert_string_equal(f->s.rcpts[1].addr, "bob@example.org");
}

static void test_misc_commands(void **state)
{
    struct fixture *f = *state;

    expect(f, "NOOP", "250 2.0.0 Ok");
    expect(f, "NOOP anything", "250 2.0.0 Ok");
    expect(f, "HELP", "214 2.0.0 ");
    expect(f, "VRFY root", "252 2.0.0 ");
    expect(f, "VRFY", "501 5.5.4 ");
    f->cfg.disable_vrfy = 1;
    expect(f, "VRFY root", "502 5.5.1 ");
    expect(f, "EXPN list", "502 5.5.1 ");
    expect(f, "TURN", "502 5.5.1 ");
    expect(f, "ETRN example.org", "502 5.5.1 ");
    expect(f, "AUTH PLAIN AAAA", "502 5.5.1 ");
    expect(f, "STARTTLS", "502 5.5.1 ");
    expect(f, "BDAT 100 LAST", "502 5.5.1 ");
    expect(f, "FOO", "500 5.5.2 Error: command not recognized");
    expect(f, "MAILFROM:<a@b>", "500 5.5.2 ");
    expect(f, "", "500 5.5.2 ");
    expect(f, "   ", "500 5.5.2 ");
    expect(f, "\x80\xff\x01", "500 5.5.2 ");
    assert_string_equal(smtp_proto_last(&f->s), "UNKNOWN");
}

static void test_nul_in_command(void **state)
{
    struct fixture *f = *state;
    static const char line[] = "EHLO a\0b";

    smtp_proto_command(&f->s, line, sizeof(line) - 1, SMTP_TERM_CRLF);
    assert_string_equal(take(f), "500 5.5.2 Error: bad syntax\r\n");
    assert_int_equal(f->s.helo_name->len, 0);
}

static void test_line_too_long(void **state)
{
    struct fixture *f = *state;

    smtp_proto_line_too_long(&f->s);
    assert_string_equal(take(f), "500 5.5.2 Error: line too long\r\n");
    assert_int_equal(f->s.errors, 1);
}

static void test_error_limits(void **state)
{
    struct fixture *f = *state;
    int act;

    f->cfg.soft_error_limit = 2;
    f->cfg.hard_error_limit = 4;
    assert_int_equal(cmd(f, "BOGUS"), 0);
    take(f);
    assert_int_equal(cmd(f, "BOGUS"), SMTP_ACT_DELAY);
    take(f);
    assert_int_equal(cmd(f, "NOOP"), 0);       /* success: not delayed */
    take(f);
    assert_int_equal(cmd(f, "BOGUS"), SMTP_ACT_DELAY);
    take(f);
    act = cmd(f, "BOGUS");
    assert_int_equal(act, SMTP_ACT_DISCONNECT);
    assert_string_equal(take(f), "500 5.5.2 Error: command not recognized\r\n"
                        "421 4.7.0 Error: too many errors\r\n");
}

static void test_bare_lf(void **state)
{
    struct fixture *f = *state;
    int act;

    /* normalize: bare LF is a line end like CR LF */
    act = smtp_proto_command(&f->s, "NOOP", 4, SMTP_TERM_LF);
    assert_int_equal(act, 0);
    assert_string_equal(take(f), "250 2.0.0 Ok\r\n");
    f->s.bare_lf_reject = 1;
    act = smtp_proto_command(&f->s, "NOOP", 4, SMTP_TERM_LF);
    assert_int_equal(act, SMTP_ACT_DISCONNECT);
    assert_string_equal(take(f), "550 5.5.2 Error: bare <LF> received\r\n");
}

/* Feed one DATA line; returns the result and the forwarded content. */
static int data(struct fixture *f, const char *line, int term, char **out)
{
    const char *o;
    size_t olen;
    int r = smtp_proto_data_input(&f->s, line, strlen(line), term, &o, &olen);

    if (out)
        *out = strndup(o, olen);
    return r;
}

static void start_data(struct fixture *f)
{
    expect(f, "MAIL FROM:<a@b.example>", "250");
    expect(f, "RCPT TO:<x@y.example>", "250");
    assert_int_equal(cmd(f, "DATA"), SMTP_ACT_DATA);
    smtp_proto_data_begin(&f->s, 1);
    take(f);
}

static void test_data_framing(void **state)
{
    struct fixture *f = *state;
    char *o;

    start_data(f);
    assert_int_equal(data(f, "Subject: hi", SMTP_TERM_CRLF, &o), SMTP_DATA_LINE);
    assert_string_equal(o, "Subject: hi");
    free(o);
    assert_int_equal(data(f, "", SMTP_TERM_CRLF, &o), SMTP_DATA_LINE);
    free(o);
    assert_int_equal(data(f, "..leading dot", SMTP_TERM_CRLF, &o), SMTP_DATA_LINE);
    assert_string_equal(o, ".leading dot");
    free(o);
    assert_int_equal(data(f, "..", SMTP_TERM_CRLF, &o), SMTP_DATA_LINE);
    assert_string_equal(o, ".");
    free(o);
    /* "." with a bare LF is content, never the end. */
    assert_int_equal(data(f, ".", SMTP_TERM_LF, &o), SMTP_DATA_LINE);
    free(o);
    /* "." CR LF after a line ended by a bare LF is content too. */
    assert_int_equal(data(f, "x", SMTP_TERM_LF, &o), SMTP_DATA_LINE);
    free(o);
    assert_int_equal(data(f, ".", SMTP_TERM_CRLF, &o), SMTP_DATA_LINE);
    assert_string_equal(o, "");
    free(o);
    /* A bare CR is content. */
    assert_int_equal(data(f, "a\rb", SMTP_TERM_CRLF, &o), SMTP_DATA_LINE);
    assert_string_equal(o, "a\rb");
    free(o);
    /* ".\r" would be "." CR CR LF: content. */
    assert_int_equal(data(f, ".\r", SMTP_TERM_CRLF, &o), SMTP_DATA_LINE);
    free(o);
    /* Pieces of a long line: only the first is unstuffed, and a "." piece
     * in the middle of a line is not an end. */
    assert_int_equal(data(f, ".abc", SMTP_TERM_NONE, &o), SMTP_DATA_PIECE);
    assert_string_equal(o, "abc");
    free(o);
    assert_int_equal(data(f, ".", SMTP_TERM_CRLF, &o), SMTP_DATA_LINE);
    assert_string_equal(o, ".");
    free(o);
    assert_int_equal(data(f, ".", SMTP_TERM_CRLF, NULL), SMTP_DATA_END);
    smtp_proto_data_end(&f->s, 0, "Q1", NULL);
    assert_string_equal(take(f), "250 2.0.0 Ok: queued as Q1\r\n");
    assert_false(f->s.in_data);
}

static void test_data_size(void **state)
{
    struct fixture *f = *state;
    char big[1000];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    start_data(f);
    for (int i = 0; i < 9; i++)
        assert_int_equal(data(f, big, SMTP_TERM_CRLF, NULL), SMTP_DATA_LINE);
    assert_int_equal(f->s.data_size, 9 * 1001);
    assert_int_equal(data(f, big, SMTP_TERM_CRLF, NULL), SMTP_DATA_SKIP);
    assert_true(f->s.data_too_big);
    assert_int_equal(data(f, "short", SMTP_TERM_CRLF, NULL), SMTP_DATA_SKIP);
    assert_int_equal(data(f, ".", SMTP_TERM_CRLF, NULL), SMTP_DATA_END);
    smtp_proto_data_end(&f->s, 552, NULL, "5.3.4 Error: message file too big");
    assert_string_equal(take(f), "552 5.3.4 Error: message file too big\r\n");
}

static void test_data_bare_lf_reject(void **state)
{
    struct fixture *f = *state;

    start_data(f);
    f->s.bare_lf_reject = 1;
    assert_int_equal(data(f, "line", SMTP_TERM_CRLF, NULL), SMTP_DATA_LINE);
    assert_int_equal(data(f, "line", SMTP_TERM_LF, NULL), SMTP_DATA_DISCONNECT);
    assert_string_equal(take(f), "550 5.5.2 Error: bare <LF> received\r\n");
}

static void test_data_cleanup_errors(void **state)
{
    struct fixture *f = *state;

    start_data(f);
    data(f, ".", SMTP_TERM_CRLF, NULL);
    smtp_proto_data_end(&f->s, 451, NULL, "4.3.0 Queue file write error");
    assert_string_equal(take(f), "451 4.3.0 Queue file write error\r\n");
    start_data(f);
    smtp_proto_data_end(&f->s, 554, NULL, "no enhanced code");
    assert_string_equal(take(f), "554 5.3.0 no enhanced code\r\n");
    start_data(f);
    smtp_proto_data_end(&f->s, 200, NULL, "weird");
    assert_string_equal(take(f), "451 4.3.0 Error: queue file write error\r\n");
    start_data(f);
    smtp_proto_data_end(&f->s, 451, NULL, "bad\r\ninjection");
    assert_string_equal(take(f), "451 4.3.0 Error: message not accepted\r\n");
    /* cleanup unreachable */
    expect(f, "MAIL FROM:<a@b.example>", "250");
    expect(f, "RCPT TO:<x@y.example>", "250");
    cmd(f, "DATA");
    smtp_proto_data_begin(&f->s, 0);
    assert_string_equal(take(f), "451 4.3.0 Error: queue file write error\r\n");
    assert_false(f->s.in_data);
    assert_false(f->s.in_mail);
}

static void test_ehlo_resets(void **state)
{
    struct fixture *f = *state;

    expect(f, "MAIL FROM:<a@b.example>", "250");
    expect(f, "RCPT TO:<x@y.example>", "250");
    expect(f, "EHLO again", "250-");
    assert_false(f->s.in_mail);
    assert_int_equal(f->s.nrcpt, 0);
    expect(f, "DATA", "503 5.5.1 ");
}

/* Throw random junk at the command parser: it must always produce one
 * reply with a valid code and never crash. */
static void test_random_junk(void **state)
{
    struct fixture *f = *state;
    static const char *prefixes[] = {"MAIL FROM:", "RCPT TO:", "EHLO ", "HELO ", "DATA", "VRFY ",
                                     "RSET", "NOOP", "QUIT", "", "MAIL FROM:<a@b> ",
                                     "RCPT TO:<x@y> "};
    unsigned seed = 12345;
    char line[300];

    for (int i = 0; i < 20000; i++) {
        size_t plen, len;
        const char *pre = prefixes[i % (sizeof(prefixes) / sizeof(prefixes[0]))];
        int act;

        plen = strlen(pre);
        memcpy(line, pre, plen);
        seed = seed * 1103515245 + 12345;
        len = plen + (seed >> 16) % 40;
        for (size_t j = plen; j < len; j++) {
            seed = seed * 1103515245 + 12345;
            line[j] = (char) ((seed >> 16) & 0xff);
            if ((seed >> 8) & 1)
                line[j] = "<>@:;=+ .\"\\[]ax1"[(seed >> 24) % 17];
        }
        act = smtp_proto_command(&f->s, line, len, SMTP_TERM_CRLF);
        if (act & SMTP_ACT_RCPT_CHECK)
            smtp_proto_rcpt_result(&f->s, (seed & 4) ? NULL : "554 5.7.1 no");
        if (act & SMTP_ACT_DATA) {
            smtp_proto_data_begin(&f->s, 1);
            smtp_proto_data_end(&f->s, 0, "X", NULL);
        }
        if (f->s.reply->len > 0) {
            const char *r = vstr_str(f->s.reply);
            assert_true(r[0] >= '2' && r[0] <= '5');
            assert_int_equal(r[f->s.reply->len - 1], '\n');
        }
        vstr_reset(f->s.reply);
        f->s.errors = 0;
    }
}

/* ---- relay policy ---- */

static void test_policy(void **state)
{
    struct smtpd_policy *p = smtpd_policy_new("permit_mynetworks, reject_unauth_destination",
                                              "127.0.0.0/8 [::1]/128 192.0.2.0/24",
                                              "mx.example.org, localhost",
                                              "relay.example", 1);
    vstr *r = vstr_new(64);

    assert_true(smtpd_check_mynetworks(p, "127.0.0.1"));
    assert_true(smtpd_check_mynetworks(p, "::1"));
    assert_false(smtpd_check_mynetworks(p, "198.51.100.1"));
    /* mynetworks may relay anywhere */
    assert_int_equal(smtpd_check_rcpt(p, "192.0.2.7", "u@far.away", r), 0);
    /* others only to our domains */
    assert_int_equal(smtpd_check_rcpt(p, "198.51.100.1", "u@mx.example.org", r), 0);
    assert_int_equal(smtpd_check_rcpt(p, "198.51.100.1", "u@MX.Example.ORG", r), 0);
    assert_int_equal(smtpd_check_rcpt(p, "198.51.100.1", "u@localhost.", r), 0);
    assert_int_equal(smtpd_check_rcpt(p, "198.51.100.1", "u@relay.example", r), 0);
    assert_int_equal(smtpd_check_rcpt(p, "198.51.100.1", "u@sub.relay.example", r), 0);
    assert_int_equal(smtpd_check_rcpt(p, "198.51.100.1", "u@far.away", r), -1);
    assert_string_equal(vstr_str(r), "554 5.7.1 <u@far.away>: Relay access denied");
    assert_int_equal(smtpd_check_rcpt(p, "198.51.100.1", "u@sub.mx.example.org", r), -1);
    assert_int_equal(smtpd_check_rcpt(p, "198.51.100.1", "\"a@mx.example.org\"@far.away", r), -1);
    smtpd_policy_free(p);

    p = smtpd_policy_new("reject", "", "x", "", 0);
    assert_int_equal(smtpd_check_rcpt(p, "127.0.0.1", "u@x", r), -1);
    assert_string_equal(vstr_str(r), "554 5.7.1 <u@x>: Recipient address rejected: Access denied");
    smtpd_policy_free(p);
    p = smtpd_policy_new("permit reject", "", "x", "", 0);
    assert_int_equal(smtpd_check_rcpt(p, "127.0.0.1", "u@far", r), 0);
    smtpd_policy_free(p);
    p = smtpd_policy_new("check_bogus_thing", "", "x", "", 0);
    assert_int_equal(smtpd_check_rcpt(p, "127.0.0.1", "u@x", r), -1);
    assert_string_equal(vstr_str(r), "451 4.3.5 Server configuration error");
    smtpd_policy_free(p);
    p = smtpd_policy_new("", "", "x", "", 0);
    assert_int_equal(smtpd_check_rcpt(p, "127.0.0.1", "u@far", r), 0);
    smtpd_policy_free(p);
    vstr_free(r);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_greeting), T(test_ehlo), T(test_ehlo_options), T(test_helo),
        T(test_transaction), T(test_null_sender_and_case), T(test_order_errors),
        T(test_syntax_errors), T(test_mail_params), T(test_smtputf8), T(test_rcpt_params),
        T(test_rcpt_limit), T(test_rcpt_policy), T(test_unqualified), T(test_misc_commands),
        T(test_nul_in_command), T(test_line_too_long), T(test_error_limits), T(test_bare_lf),
        T(test_data_framing), T(test_data_size), T(test_data_bare_lf_reject),
        T(test_data_cleanup_errors), T(test_ehlo_resets), T(test_random_junk),
        cmocka_unit_test(test_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for sendmail(1)'s logic: the command line (modes, legacy
 * options, -N/-R/-V/-f checks, mailq/newaliases by name), recipient
 * splitting, the gecos name, the stdin reader (the "." rule, CRLF, long
 * lines, size limit, header recipients for -t), the envelope records and
 * authorized_submit_users. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "argv.h"
#include "params.h"
#include "record.h"
#include "sendmail.h"
#include "stream.h"
#include "vstr.h"

/* Parse a command line given as a NULL-ended list. */
static int parse(struct sm_opts *o, vstr *err, ...)
{
    char *av[64];
    int ac = 0;
    va_list ap;

    va_start(ap, err);
    while ((av[ac] = va_arg(ap, char *)) != NULL)
        ac++;
    va_end(ap);
    sm_opts_init(o);
    vstr_reset(err);
    return sm_parse_args(o, ac, av, err);
}

static void test_args_basic(void **state)
{
    struct sm_opts o;
    vstr *err = vstr_new(64);

    (void)state;
    assert_int_equal(parse(&o, err, "sendmail", "-t", "-i", "-f", "me@x", "-F", "Me",
                           "-N", "success,delay", "-R", "hdrs", "-V", "a+2Bb", "-c", "/etc/x",
                           "u@y", "v@z", NULL), 0);
    assert_int_equal(o.mode, SM_MODE_DELIVER);
    assert_true(o.extract && o.ignore_dots);
    assert_string_equal(o.sender, "me@x");
    assert_string_equal(o.full_name, "Me");
    assert_int_equal(o.notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY);
    assert_string_equal(o.ret, "HDRS");
    assert_string_equal(vstr_str(o.envid), "a+b");
    assert_string_equal(o.config_dir, "/etc/x");
    assert_int_equal(o.rcpt_args->n, 2);
    assert_string_equal(o.rcpt_args->v[1], "v@z");
    sm_opts_free(&o);

    /* Clustered flags, attached arguments, -oi, -r, --. */
    assert_int_equal(parse(&o, err, "/usr/sbin/sendmail", "-tv", "-oi", "-rfoo@bar", "-Fname",
                           "--", "-notanoption", NULL), 0);
    assert_true(o.extract && o.verbose && o.ignore_dots);
    assert_string_equal(o.sender, "foo@bar");
    assert_string_equal(o.full_name, "name");
    assert_string_equal(o.rcpt_args->v[0], "-notanoption");
    sm_opts_free(&o);

    /* -C file names the configuration directory. */
    assert_int_equal(parse(&o, err, "sendmail", "-C", "/etc/other/main.cf", "a", NULL), 0);
    assert_string_equal(o.config_dir, "/etc/other");
    sm_opts_free(&o);
    vstr_free(err);
}

static void test_args_modes(void **state)
{
    struct sm_opts o;
    vstr *err = vstr_new(64);

    (void)state;
    assert_int_equal(parse(&o, err, "mailq", NULL), 0);
    assert_int_equal(o.mode, SM_MODE_MAILQ);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "/usr/bin/newaliases", NULL), 0);
    assert_int_equal(o.mode, SM_MODE_NEWALIASES);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-bp", NULL), 0);
    assert_int_equal(o.mode, SM_MODE_MAILQ);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-b", "s", NULL), 0);
    assert_int_equal(o.mode, SM_MODE_SMTP);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-bi", NULL), 0);
    assert_int_equal(o.mode, SM_MODE_NEWALIASES);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-I", NULL), 0);
    assert_int_equal(o.mode, SM_MODE_NEWALIASES);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-bv", "a@b", NULL), 0);
    assert_int_equal(o.mode, SM_MODE_VERIFY);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-q", NULL), 0);
    assert_int_equal(o.mode, SM_MODE_FLUSH);
    assert_null(o.flush_site);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-q1h", NULL), 0);
    assert_int_equal(o.mode, SM_MODE_FLUSH);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-qRexample.com", NULL), 0);
    assert_string_equal(o.flush_site, "example.com");
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-qR", "site.example", NULL), 0);
    assert_string_equal(o.flush_site, "site.example");
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-qIABC", NULL), 0);
    assert_string_equal(o.flush_id, "ABC");
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-bm", "a", NULL), 0);
    assert_int_equal(o.mode, SM_MODE_DELIVER);
    sm_opts_free(&o);
    vstr_free(err);
}

static void test_args_legacy_and_errors(void **state)
{
    struct sm_opts o;
    vstr *err = vstr_new(64);

    (void)state;
    assert_int_equal(parse(&o, err, "sendmail", "-oem", "-odb", "-o", "x", "-L", "l", "-h",
                           "9", "-B", "8BITMIME", "-U", "-m", "-n", "-G", "-X", "/log",
                           "-ODeliveryMode=b", "-p", "smtp:x", "-e", "x", "rcpt", NULL), 0);
    assert_false(o.ignore_dots);
    assert_int_equal(o.rcpt_args->n, 1);
    assert_string_equal(o.rcpt_args->v[0], "rcpt");
    sm_opts_free(&o);

    assert_int_equal(parse(&o, err, "sendmail", "-Z", NULL), -1);
    assert_non_null(strstr(vstr_str(err), "unknown option -Z"));
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-f", NULL), -1);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-bd", NULL), -1);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-N", "never,success", NULL), -1);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-N", "bogus", NULL), -1);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-R", "body", NULL), -1);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-V", "bad+ZZ", NULL), -1);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-V", "x+0Ay", NULL), -1);
    sm_opts_free(&o);
    assert_int_equal(parse(&o, err, "sendmail", "-qR", NULL), -1);
    sm_opts_free(&o);
    vstr_free(err);
}

static void test_notify_ret(void **state)
{
    (void)state;
    assert_int_equal(sm_parse_notify("never"), DSN_NOTIFY_NEVER);
    assert_int_equal(sm_parse_notify("NEVER"), DSN_NOTIFY_NEVER);
    assert_int_equal(sm_parse_notify("success, delay,failure"),
                     DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY | DSN_NOTIFY_FAILURE);
    assert_int_equal(sm_parse_notify(""), -1);
    assert_int_equal(sm_parse_notify("never,failure"), -1);
    assert_int_equal(sm_parse_notify("success,xx"), -1);
    assert_string_equal(sm_parse_ret("FULL"), "FULL");
    assert_string_equal(sm_parse_ret("hdrs"), "HDRS");
    assert_null(sm_parse_ret("headers"));
}

static void test_rcpt_and_sender(void **state)
{
    argv_t *a = argv_new();
    vstr *err = vstr_new(64), *out = vstr_new(64);

    (void)state;
    assert_int_equal(sm_rcpt_split("a@b, Name <c@d>", a, err), 0);
    assert_int_equal(sm_rcpt_split("user", a, err), 0);
    assert_int_equal(a->n, 3);
    assert_string_equal(a->v[1], "c@d");
    assert_string_equal(a->v[2], "user");
    assert_int_equal(sm_rcpt_split("<unterminated@x", a, err), -1);
    assert_int_equal(sm_rcpt_split("a@b\nInjected: x", a, err), -1);
    assert_int_equal(sm_sender_parse("", out, err), 0);
    assert_string_equal(vstr_str(out), "");
    assert_int_equal(sm_sender_parse("<>", out, err), 0);
    assert_string_equal(vstr_str(out), "");
    assert_int_equal(sm_sender_parse("Me <me@x>", out, err), 0);
    assert_string_equal(vstr_str(out), "me@x");
    assert_int_equal(sm_sender_parse("a@b, c@d", out, err), -1);
    assert_int_equal(sm_sender_parse("a\r@b", out, err), -1);
    argv_free(a);
    vstr_free(err);
    vstr_free(out);
}

static void test_gecos(void **state)
{
    vstr *v = vstr_new(16);

    (void)state;
    sm_gecos_name(v, "Jane Doe,Room 1,555", "jane");
    assert_string_equal(vstr_str(v), "Jane Doe");
    sm_gecos_name(v, "& Smith", "bob");
    assert_string_equal(vstr_str(v), "Bob Smith");
    sm_gecos_name(v, "", "x");
    assert_string_equal(vstr_str(v), "");
    sm_gecos_name(v, "bad\nname", "x");
    assert_string_equal(vstr_str(v), "badname");
    vstr_free(v);
}

/* Run sm_read_message on input; returns the status, records in m. */
static int read_input(const char *input, size_t len, int ignore_dots, long limit,
                      struct sm_message *m)
{
    char path[] = "/tmp/test_sendmail_XXXXXX";
    int fd = mkstemp(path);
    vstr *err = vstr_new(32);
    stream *in;
    int status;

    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, input, len), (ssize_t)len);
    lseek(fd, 0, SEEK_SET);
    in = stream_fdopen(fd);
    status = sm_read_message(in, ignore_dots, limit, m, err);
    stream_free(in);
    close(fd);
    vstr_free(err);
    return status;
}

/* The records as "T:data\n" lines. */
static char *dump(const vstr *recs)
{
    vstr *out = vstr_new(64);
    const char *p = vstr_str(recs), *data;
    size_t left = vstr_len(recs), dlen;
    ssize_t n;
    int type;

    while (left > 0 && (n = rec_parse(p, left, &type, &data, &dlen)) > 0) {
        vstr_putc(out, type);
        vstr_putc(out, ':');
        vstr_append(out, data, dlen);
        vstr_putc(out, '\n');
        p += n;
        left -= (size_t)n;
    }
    assert_int_equal(left, 0);
    return vstr_export(out);
}

static void test_reader_dot_rule(void **state)
{
    struct sm_message *m = sm_message_new();
    const char *in = "Subject: x\r\n\r\nbody\r\n.\r\nafter\n";
    char *d;

    (void)state;
    assert_int_equal(read_input(in, strlen(in), 0, 100000, m), 0);
    d = dump(m->recs);
    assert_string_equal(d, "M:\nL:Subject: x\nL:\nL:body\n");
    assert_int_equal(m->size, 12 + 2 + 6);
    free(d);
    sm_message_free(m);

    m = sm_message_new();
    assert_int_equal(read_input(in, strlen(in), 1, 100000, m), 0);
    d = dump(m->recs);
    assert_string_equal(d, "M:\nL:Subject: x\nL:\nL:body\nL:.\nL:after\n");
    free(d);
    sm_message_free(m);

    /* ".." is not unstuffed; a final line without LF is kept. */
    m = sm_message_new();
    assert_int_equal(read_input("..x\n. \nend", 10, 0, 100000, m), 0);
    d = dump(m->recs);
    assert_string_equal(d, "M:\nL:..x\nL:. \nL:end\n");
    free(d);
    sm_message_free(m);

    /* Empty input: an empty message. */
    m = sm_message_new();
    assert_int_equal(read_input("", 0, 0, 100000, m), 0);
    d = dump(m->recs);
    assert_string_equal(d, "M:\n");
    free(d);
    sm_message_free(m);
}

static void test_reader_long_lines_and_limit(void **state)
{
    struct sm_message *m = sm_message_new();
    size_t n = REC_MAX_LEN * 2 + 10;
    char *in = malloc(n + 3);
    char *d;

    (void)state;
    memset(in, 'a', n);
    /* The CR of the CRLF sits exactly at a piece boundary. */
    in[REC_MAX_LEN - 1] = 'b';
    memcpy(in + n, "\r\n", 2);
    assert_int_equal(read_input(in, n + 2, 0, 10000000, m), 0);
    d = dump(m->recs);
    assert_non_null(strstr(d, "M:\nC:"));
    assert_null(strstr(d, "\r"));
    assert_int_equal(m->size, (long)n + 2);
    assert_int_equal(m->lines, 1);
    free(d);
    sm_message_free(m);

    /* A CR right at a piece boundary that is not part of CRLF is kept. */
    m = sm_message_new();
    memset(in, 'a', n);
    in[REC_MAX_LEN - 1] = '\r';
    memcpy(in + n, "\n", 1);
    assert_int_equal(read_input(in, n + 1, 0, 10000000, m), 0);
    assert_int_equal(m->size, (long)n + 2);
    sm_message_free(m);

    m = sm_message_new();
    assert_int_equal(read_input(in, n + 1, 0, 1000, m), 65);    /* EX_DATAERR */
    sm_message_free(m);
    free(in);
}

static void test_header_recipients(void **state)
{
    struct sm_message *m = sm_message_new();
    const char *in;

    (void)state;
    in = "Subject: x\nTo: undisclosed-recipients:;\n\nTo: body@x\n";
    assert_int_equal(read_input(in, strlen(in), 0, 100000, m), 0);
    assert_int_equal(sm_message_header_rcpts(m), 0);
    sm_message_free(m);

    m = sm_message_new();
    in = "To: list:;\nBcc:\n  hidden@x\n\nbody\n";
    assert_int_equal(read_input(in, strlen(in), 0, 100000, m), 0);
    assert_int_equal(sm_message_header_rcpts(m), 1);
    sm_message_free(m);

    /* Resent-* present: only Resent-To/Cc/Bcc count. */
    m = sm_message_new();
    in = "To: a@x\nResent-From: r@x\n\n";
    assert_int_equal(read_input(in, strlen(in), 0, 100000, m), 0);
    assert_int_equal(sm_message_header_rcpts(m), 0);
    sm_message_free(m);

    /* A body line ends the header. */
    m = sm_message_new();
    in = "Subject: x\nnot a header\nTo: a@x\n";
    assert_int_equal(read_input(in, strlen(in), 0, 100000, m), 0);
    assert_int_equal(sm_message_header_rcpts(m), 0);
    sm_message_free(m);
}

static void test_envelope(void **state)
{
    vstr *out = vstr_new(64);
    argv_t *r = argv_new();
    char *d;

    (void)state;
    argv_add(r, "a@x");
    argv_add(r, "b@y");
    sm_envelope(out, REC_FLAG_EXTRACT, "me", "Me Too", "id1", "FULL", 6, r);
    d = dump(out);
    /* with -t, -N also travels as dsn_notify for the header's recipients */
    assert_string_equal(d, "F:8\nS:me\nA:envid=id1\nA:ret=FULL\nA:full_name=Me Too\n"
                           "A:dsn_notify=6\nY:6\nR:a@x\nY:6\nR:b@y\n");
    free(d);
    vstr_reset(out);
    sm_envelope(out, 0, "me", NULL, NULL, NULL, 6, r);
    d = dump(out);
    assert_string_equal(d, "F:0\nS:me\nY:6\nR:a@x\nY:6\nR:b@y\n");
    free(d);
    vstr_reset(out);
    sm_envelope(out, 0, "", "", "", NULL, 0, r);
    d = dump(out);
    assert_string_equal(d, "F:0\nS:\nR:a@x\nR:b@y\n");
    free(d);
    argv_free(r);
    vstr_free(out);
}

static void test_authorized(void **state)
{
    (void)state;
    assert_int_equal(sm_user_authorized("static:anyone", "x"), 1);
    assert_int_equal(sm_user_authorized("root, alice", "alice"), 1);
    assert_int_equal(sm_user_authorized("root, alice", "bob"), 0);
    assert_int_equal(sm_user_authorized("!bob, static:anyone", "bob"), 0);
    assert_int_equal(sm_user_authorized("!bob, static:anyone", "carol"), 1);
    assert_int_equal(sm_user_authorized("inline:{ dave=ok }", "dave"), 1);
    assert_int_equal(sm_user_authorized("inline:{ dave=ok }", "eve"), 0);
    assert_int_equal(sm_user_authorized("", "eve"), 0);
}

/* -bs over temporary files: replies end in CRLF; a message that postdrop
 * cannot take (here: no postdrop at all) gets a 4xx, and the session
 * goes on. */
static void test_smtp_session(void **state)
{
    char inpath[] = "/tmp/test_sendmail_in_XXXXXX", outpath[] = "/tmp/test_sendmail_out_XXXXXX";
    const char *script = "EHLO me\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
                         "Subject: x\r\n\r\n..dot\r\n.\r\nNOOP\nQUIT\r\n";
    int infd = mkstemp(inpath), outfd = mkstemp(outpath);
    struct sm_opts o;
    vstr *err = vstr_new(32);
    stream *in, *out;
    char buf[4096];
    ssize_t n;

    (void)state;
    assert_true(infd >= 0 && outfd >= 0);
    unlink(inpath);
    unlink(outpath);
    assert_int_equal(config_load_text("command_directory = /nonexistent/posthorn\n"
                                      "myhostname = test.example\n", "main.cf", err), 0);
    assert_int_equal(write(infd, script, strlen(script)), (ssize_t)strlen(script));
    lseek(infd, 0, SEEK_SET);
    sm_opts_init(&o);
    in = stream_fdopen(infd);
    out = stream_fdopen(outfd);
    assert_int_equal(sm_smtp_session(&o, in, out, "me", "Me"), 0);
    stream_flush(out);
    lseek(outfd, 0, SEEK_SET);
    n = read(outfd, buf, sizeof(buf) - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_true(strncmp(buf, "220 test.example", 16) == 0);
    assert_non_null(strstr(buf, "\r\n250-test.example\r\n"));
    assert_non_null(strstr(buf, "\r\n354 "));
    assert_non_null(strstr(buf, "\r\n451 4.3.0 "));
    assert_non_null(strstr(buf, "\r\n250 2.0.0 Ok\r\n221 "));
    for (char *p = strchr(buf, '\n'); p != NULL; p = strchr(p + 1, '\n'))
        assert_true(p > buf && p[-1] == '\r');
    stream_free(in);
    stream_free(out);
    close(infd);
    close(outfd);
    sm_opts_free(&o);
    vstr_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_basic),
        cmocka_unit_test(test_args_modes),
        cmocka_unit_test(test_args_legacy_and_errors),
        cmocka_unit_test(test_notify_ret),
        cmocka_unit_test(test_rcpt_and_sender),
        cmocka_unit_test(test_gecos),
        cmocka_unit_test(test_reader_dot_rule),
        cmocka_unit_test(test_reader_long_lines_and_limit),
        cmocka_unit_test(test_header_recipients),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_authorized),
        cmocka_unit_test(test_smtp_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

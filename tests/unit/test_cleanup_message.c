/* Unit tests for cleanup's record processing: envelope validation and
 * ordering, header completion for local submissions, content size and
 * message_size_limit, header_size_limit, and the Z record layout.  The
 * queue file is written to a temporary file and read back. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include "cleanup.h"
#include "record.h"
#include "stream.h"
#include "vstr.h"

struct fixture {
    int fd;
    stream *dst;
    cleanup_state *st;
};

static struct fixture fx;

static void start(long size_limit, long header_limit)
{
    struct cleanup_limits lim = {.message_size_limit = size_limit,
                                 .header_size_limit = header_limit,
                                 .myhostname = "host.example",
                                 .myorigin = "origin.example",
                                 .delay_warning_time = 3600};
    struct timeval tv = {1748959509, 42};
    char path[] = "/tmp/test_cleanup_XXXXXX";

    fx.fd = mkstemp(path);
    assert_true(fx.fd >= 0);
    unlink(path);
    fx.dst = stream_fdopen(fx.fd);
    fx.st = cleanup_state_new("0123456789ABCDE", &lim, tv.tv_sec);
    cleanup_begin(fx.st, fx.dst, &tv);
}

static void finish(void)
{
    cleanup_state_free(fx.st);
    stream_free(fx.dst);
    close(fx.fd);
}

static int put(int type, const char *data)
{
    return cleanup_record(fx.st, type, data, strlen(data));
}

/* Read the queue file back as "T:data\n" lines. */
static char *dump(void)
{
    vstr *out = vstr_new(256);
    vstr *data = vstr_new(64);
    stream *in;
    int type;

    assert_int_equal(stream_flush(fx.dst), 0);
    in = stream_fdopen(dup(fx.fd));
    assert_int_equal(stream_seek(in, 0), 0);
    while (rec_get(in, &type, data, NULL) == REC_OK) {
        vstr_putc(out, type);
        vstr_putc(out, ':');
        vstr_append(out, vstr_str(data), vstr_len(data));
        vstr_putc(out, '\n');
    }
    stream_close(in);
    vstr_free(data);
    return vstr_export(out);
}

static void envelope(const char *flags)
{
    assert_int_equal(put(REC_FLAGS, flags), 0);
    assert_int_equal(put(REC_SENDER, "a@example.org"), 0);
    assert_int_equal(put(REC_ATTR, "client_address=192.0.2.1"), 0);
    assert_int_equal(put(REC_ORCPT, "rfc822;b@host.example"), 0);
    assert_int_equal(put(REC_NOTIFY, "6"), 0);
    assert_int_equal(put(REC_RCPT, "b@host.example"), 0);
    assert_int_equal(put(REC_MESSAGE, ""), 0);
}

static void test_plain_message(void **state)
{
    char *d;

    (void)state;
    start(1000000, 102400);
    envelope("0");
    assert_int_equal(put(REC_LINE, "Subject: hi"), 0);
    assert_int_equal(put(REC_LINE, ""), 0);
    assert_int_equal(put(REC_CONT, "long "), 0);
    assert_int_equal(put(REC_LINE, "line"), 0);
    assert_int_equal(put(REC_END, ""), 1);
    assert_int_equal(fx.st->error, CLEANUP_OK);
    assert_int_equal(fx.st->rcpt_count, 1);
    assert_int_equal(fx.st->content_size, 13 + 2 + 5 + 6);
    d = dump();
    assert_non_null(strstr(d, "V:1\nZ:0 0 0 "));
    assert_non_null(strstr(d, "T:1748959509.000042\nW:1748963109          \nF:0\nS:a@example.org\n"));
    assert_non_null(strstr(d, "R:b@host.example\nM:\nL:Subject: hi\nL:\nC:long \nL:line\nX:\nE:\n"));
    assert_null(strstr(d, "Message-ID"));
    free(d);
    finish();
}

static void test_local_adds_headers(void **state)
{
    char *d, *mid, *date, *empty;

    (void)state;
    start(1000000, 102400);
    envelope("1");
    assert_int_equal(put(REC_LINE, "Received: from x"), 0);
    assert_int_equal(put(REC_LINE, "\tby y"), 0);
    assert_int_equal(put(REC_LINE, "From: a@example.org"), 0);
    assert_int_equal(put(REC_LINE, ""), 0);
    assert_int_equal(put(REC_LINE, "Message-ID: in body, not header"), 0);
    assert_int_equal(put(REC_END, ""), 1);
    d = dump();
    mid = strstr(d, "L:Message-ID: <20250603140509.0123456789ABCDE@host.example>\n");
    date = strstr(d, "L:Date: ");
    empty = strstr(d, "L:\n");
    assert_non_null(mid);
    assert_non_null(date);
    assert_non_null(empty);
    assert_true(strstr(d, "L:From: a@example.org") < mid);
    assert_true(mid < date && date < empty);
    free(d);
    finish();
}

static void test_local_keeps_existing(void **state)
{
    char *d;

    (void)state;
    start(1000000, 102400);
    envelope("1");
    assert_int_equal(put(REC_LINE, "message-id: <x@y>"), 0);
    assert_int_equal(put(REC_LINE, "DATE: Mon, 1 Jan 2024 00:00:00 +0000"), 0);
    assert_int_equal(put(REC_LINE, "from : Someone <s@example>"), 0);
    assert_int_equal(put(REC_LINE, "no header here"), 0);
    assert_int_equal(put(REC_END, ""), 1);
    d = dump();
    assert_null(strstr(d, "L:Message-ID:"));
    assert_null(strstr(d, "L:Date:"));
    assert_null(strstr(d, "L:From:"));
    assert_non_null(strstr(d, "L:DATE: Mon, 1 Jan 2024 00:00:00 +0000\nL:from : Someone <s@example>\nL:no header here\nX:"));
    free(d);
    finish();
}

static void test_header_ends_at_body_line(void **state)
{
    char *d;

    (void)state;
    start(1000000, 102400);
    envelope("1");
    assert_int_equal(put(REC_LINE, "Subject: x"), 0);
    assert_int_equal(put(REC_LINE, "this is body"), 0);
    assert_int_equal(put(REC_LINE, "Date: not a header any more"), 0);
    assert_int_equal(put(REC_END, ""), 1);
    d = dump();
    /* Added headers come before the body, separated by an empty line. */
    assert_non_null(strstr(d, "L:Subject: x\nL:Message-ID: <"));
    assert_non_null(strstr(d, "\nL:\nL:this is body\nL:Date: not a header any more\n"));
    free(d);
    finish();
}

static void test_header_only_message(void **state)
{
    char *d;

    (void)state;
    start(1000000, 102400);
    envelope("1");
    assert_int_equal(put(REC_LINE, "Subject: x"), 0);
    assert_int_equal(put(REC_END, ""), 1);
    d = dump();
    assert_non_null(strstr(d, "L:Subject: x\nL:Message-ID: <"));
    assert_non_null(strstr(d, "\nX:\nE:\n"));
    free(d);
    finish();
}

static void test_header_size_limit(void **state)
{
    char line[600];
    int i;

    (void)state;
    start(10000000, 1024);
    envelope("1");
    memset(line, 'a', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    memcpy(line, "X-Long: ", 8);
    for (i = 0; i < 5; i++)
        assert_int_equal(put(REC_LINE, line), 0);
    assert_int_equal(fx.st->in_header, 0);
    assert_true(vstr_len(fx.st->header_recs) == 0);
    assert_int_equal(put(REC_END, ""), 1);
    assert_int_equal(fx.st->error, CLEANUP_OK);
    finish();
}

static void test_size_limit(void **state)
{
    char line[1000];
    int i;

    (void)state;
    start(5000, 102400);
    envelope("0");
    memset(line, 'b', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    for (i = 0; i < 10; i++)
        assert_int_equal(put(REC_LINE, line), 0);
    assert_int_equal(put(REC_END, ""), 1);
    assert_int_equal(fx.st->error, CLEANUP_ERR_SIZE);
    finish();
}

static void test_bad_envelopes(void **state)
{
    (void)state;
    /* recipient before sender */
    start(100000, 102400);
    assert_int_equal(put(REC_RCPT, "b@x"), -1);
    assert_int_equal(fx.st->error, CLEANUP_ERR_PROTO);
    finish();
    /* two senders */
    start(100000, 102400);
    assert_int_equal(put(REC_SENDER, ""), 0);
    assert_int_equal(put(REC_SENDER, "a@x"), -1);
    finish();
    /* content without recipient */
    start(100000, 102400);
    assert_int_equal(put(REC_SENDER, ""), 0);
    assert_int_equal(put(REC_MESSAGE, ""), -1);
    finish();
    /* newline in a recipient */
    start(100000, 102400);
    assert_int_equal(put(REC_SENDER, ""), 0);
    assert_int_equal(put(REC_RCPT, "b@x\nR:evil@x"), -1);
    finish();
    /* NUL in sender */
    start(100000, 102400);
    assert_int_equal(cleanup_record(fx.st, REC_SENDER, "a\0b", 3), -1);
    finish();
    /* empty recipient, bad attribute, bad notify, bad flags */
    start(100000, 102400);
    assert_int_equal(put(REC_SENDER, ""), 0);
    assert_int_equal(put(REC_RCPT, ""), -1);
    finish();
    start(100000, 102400);
    assert_int_equal(put(REC_ATTR, "=value"), -1);
    finish();
    start(100000, 102400);
    assert_int_equal(put(REC_ATTR, "NoEquals"), -1);
    finish();
    start(100000, 102400);
    assert_int_equal(put(REC_NOTIFY, "99"), -1);
    finish();
    start(100000, 102400);
    assert_int_equal(put(REC_FLAGS, "1x"), -1);
    finish();
    /* O without its R before M */
    start(100000, 102400);
    assert_int_equal(put(REC_SENDER, ""), 0);
    assert_int_equal(put(REC_RCPT, "b@x"), 0);
    assert_int_equal(put(REC_ORCPT, "rfc822;c@x"), 0);
    assert_int_equal(put(REC_MESSAGE, ""), -1);
    finish();
    /* records a client may not send */
    start(100000, 102400);
    assert_int_equal(put(REC_TIME, "1.0"), -1);
    finish();
    start(100000, 102400);
    assert_int_equal(put(REC_DONE, "b@x"), -1);
    finish();
}

static void test_bad_content(void **state)
{
    (void)state;
    start(100000, 102400);
    envelope("0");
    assert_int_equal(put(REC_CONT, "piece"), 0);
    assert_int_equal(put(REC_END, ""), -1);
    finish();
    start(100000, 102400);
    envelope("0");
    assert_int_equal(put(REC_RCPT, "late@x"), -1);
    finish();
    start(100000, 102400);
    envelope("0");
    assert_int_equal(put(REC_XTRA, ""), 0);
    assert_int_equal(put(REC_LINE, "after X"), -1);
    finish();
    start(100000, 102400);
    envelope("0");
    assert_int_equal(put(REC_END, ""), 1);
    assert_int_equal(put(REC_END, ""), -1);
    finish();
}

static void test_size_data(void **state)
{
    vstr *v = vstr_new(64);

    (void)state;
    cleanup_size_data(v, 1234, 567, 3);
    assert_int_equal(vstr_len(v), REC_SIZE_WIDTH);
    assert_memory_equal(vstr_str(v), "1234 567 3 ", 11);
    assert_int_equal(vstr_str(v)[REC_SIZE_WIDTH - 1], ' ');
    vstr_free(v);
}

/* A sendmail -t style envelope: local client, extract flag, optional
 * command-line recipient. */
static void extract_envelope(const char *sender, const char *full_name, const char *rcpt)
{
    char flags[16];

    snprintf(flags, sizeof(flags), "%d", REC_FLAG_LOCAL_CLIENT | REC_FLAG_EXTRACT);
    assert_int_equal(put(REC_FLAGS, flags), 0);
    assert_int_equal(put(REC_SENDER, sender), 0);
    if (full_name != NULL) {
        vstr *a = vstr_new(32);

        vstr_printf(a, "full_name=%s", full_name);
        assert_int_equal(put(REC_ATTR, vstr_str(a)), 0);
        vstr_free(a);
    }
    if (rcpt != NULL)
        assert_int_equal(put(REC_RCPT, rcpt), 0);
    assert_int_equal(put(REC_MESSAGE, ""), 0);
}

static void test_extract_recipients(void **state)
{
    char *d, *x;
    long size;

    (void)state;
    start(1000000, 102400);
    extract_envelope("phtest", "Test User", "cmd@example");
    assert_int_equal(put(REC_LINE, "To: A <a@example>, b@example (B),"), 0);
    assert_int_equal(put(REC_LINE, "\tgroup: c@example, CMD@example;"), 0);
    assert_int_equal(put(REC_LINE, "Subject: hi"), 0);
    assert_int_equal(put(REC_LINE, "Bcc: hidden@example,"), 0);
    assert_int_equal(put(REC_LINE, " hidden2@example"), 0);
    assert_int_equal(put(REC_LINE, "cc: a@example, d@example"), 0);
    assert_int_equal(put(REC_LINE, ""), 0);
    assert_int_equal(put(REC_LINE, "To: body@example"), 0);
    assert_int_equal(put(REC_END, ""), 1);
    assert_int_equal(fx.st->error, CLEANUP_OK);
    assert_int_equal(fx.st->rcpt_count, 7);
    d = dump();
    x = strstr(d, "X:\n");
    assert_non_null(x);
    assert_string_equal(x, "X:\nR:a@example\nR:b@example\nR:c@example\nR:hidden@example\n"
                           "R:hidden2@example\nR:d@example\nE:\n");
    assert_null(strstr(d, "hidden@example\nL:"));
    assert_null(strstr(d, "Bcc"));
    /* The unqualified sender gets @$myorigin, in the envelope and in From:. */
    assert_non_null(strstr(d, "S:phtest@origin.example\n"));
    assert_non_null(strstr(d, "L:From: Test User <phtest@origin.example>\n"));
    assert_non_null(strstr(d, "L:Subject: hi\nL:cc: a@example, d@example\n"));
    /* The removed lines are not counted in the content size. */
    size = (long)strlen("To: A <a@example>, b@example (B),") + 2
           + (long)strlen("\tgroup: c@example, CMD@example;") + 2 + 11 + 2
           + (long)strlen("cc: a@example, d@example") + 2 + 2 + 16 + 2;
    assert_true(fx.st->content_size > size);
    assert_true(fx.st->content_size < size + 300);
    free(d);
    finish();
}

static void test_extract_resent(void **state)
{
    char *d;

    (void)state;
    start(1000000, 102400);
    extract_envelope("u@example", NULL, NULL);
    assert_int_equal(put(REC_LINE, "From: u@example"), 0);
    assert_int_equal(put(REC_LINE, "To: old@example"), 0);
    assert_int_equal(put(REC_LINE, "Resent-To: new@example"), 0);
    assert_int_equal(put(REC_LINE, "Resent-Bcc: secret@example"), 0);
    assert_int_equal(put(REC_LINE, "Bcc: oldsecret@example"), 0);
    assert_int_equal(put(REC_LINE, ""), 0);
    assert_int_equal(put(REC_LINE, "body"), 0);
    assert_int_equal(put(REC_XTRA, ""), 0);
    assert_int_equal(put(REC_END, ""), 1);
    assert_int_equal(fx.st->error, CLEANUP_OK);
    d = dump();
    assert_non_null(strstr(d, "X:\nR:new@example\nR:secret@example\nE:\n"));
    assert_null(strstr(d, "R:old@example"));
    assert_null(strstr(d, "secret@example\nL:"));
    assert_null(strstr(d, "L:Bcc"));
    assert_null(strstr(d, "L:Resent-Bcc"));
    assert_non_null(strstr(d, "L:From: u@example\n"));
    free(d);
    finish();
}

static void test_extract_no_recipients(void **state)
{
    const char *status, *reason;

    (void)state;
    start(1000000, 102400);
    extract_envelope("u", NULL, NULL);
    assert_int_equal(put(REC_LINE, "To: undisclosed-recipients:;"), 0);
    assert_int_equal(put(REC_LINE, "Subject: none"), 0);
    assert_int_equal(put(REC_END, ""), 1);
    assert_int_equal(fx.st->error, CLEANUP_ERR_NORCPT);
    cleanup_reply_text(fx.st, &status, &reason);
    assert_string_equal(status, "550");
    assert_string_equal(reason, "5.1.3 No recipient addresses found in message header");
    finish();
}

static void test_no_extract_keeps_bcc(void **state)
{
    char *d;

    (void)state;
    start(1000000, 102400);
    envelope("0");
    assert_int_equal(put(REC_LINE, "Bcc: x@example"), 0);
    assert_int_equal(put(REC_END, ""), 1);
    d = dump();
    assert_non_null(strstr(d, "L:Bcc: x@example\nX:\nE:\n"));
    free(d);
    finish();
    /* Without -t a message still needs an envelope recipient. */
    start(1000000, 102400);
    assert_int_equal(put(REC_FLAGS, "1"), 0);
    assert_int_equal(put(REC_SENDER, "u"), 0);
    assert_int_equal(put(REC_MESSAGE, ""), -1);
    finish();
}

static void test_from_full_name_quoted(void **state)
{
    char *d;
    const char *status, *reason;

    (void)state;
    start(1000000, 102400);
    extract_envelope("", "Doe, \"J\"", "r@example");
    assert_int_equal(put(REC_LINE, "Subject: s"), 0);
    assert_int_equal(put(REC_END, ""), 1);
    d = dump();
    assert_non_null(strstr(d, "L:From: MAILER-DAEMON\n"));
    free(d);
    finish();
    start(1000000, 102400);
    extract_envelope("me@example", "Doe, \"J\"", "r@example");
    assert_int_equal(put(REC_LINE, "Subject: s"), 0);
    assert_int_equal(put(REC_END, ""), 1);
    d = dump();
    assert_non_null(strstr(d, "L:From: \"Doe, \\\"J\\\"\" <me@example>\n"));
    assert_non_null(strstr(d, "X:\nE:\n"));
    cleanup_reply_text(fx.st, &status, &reason);
    assert_string_equal(status, "0");
    free(d);
    finish();
}

static void test_addr_field_kinds(void **state)
{
    const char *v;
    size_t n;

    (void)state;
    assert_int_equal(hdr_addr_field("To: a@b", 7, &v, &n), HDR_ADDR_TO);
    assert_int_equal(n, 4);
    assert_memory_equal(v, " a@b", 4);
    assert_int_equal(hdr_addr_field("CC : x", 6, &v, &n), HDR_ADDR_TO);
    assert_int_equal(hdr_addr_field("bcc:x", 5, &v, &n), HDR_ADDR_BCC);
    assert_int_equal(hdr_addr_field("Resent-To: x", 12, &v, &n), HDR_ADDR_RESENT_TO);
    assert_int_equal(hdr_addr_field("resent-cc: x", 12, &v, &n), HDR_ADDR_RESENT_TO);
    assert_int_equal(hdr_addr_field("RESENT-BCC: x", 13, &v, &n), HDR_ADDR_RESENT_BCC);
    assert_int_equal(hdr_addr_field("Resent-Date: x", 14, &v, &n), HDR_ADDR_RESENT_OTHER);
    assert_int_equal(hdr_addr_field("Tox: a", 6, &v, &n), HDR_ADDR_NONE);
    assert_int_equal(hdr_addr_field("Subject: to", 11, &v, &n), HDR_ADDR_NONE);
    assert_int_equal(hdr_addr_field("Resent", 6, &v, &n), HDR_ADDR_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_field_kinds),
        cmocka_unit_test(test_extract_recipients),
        cmocka_unit_test(test_extract_resent),
        cmocka_unit_test(test_extract_no_recipients),
        cmocka_unit_test(test_no_extract_keeps_bcc),
        cmocka_unit_test(test_from_full_name_quoted),
        cmocka_unit_test(test_plain_message),
        cmocka_unit_test(test_local_adds_headers),
        cmocka_unit_test(test_local_keeps_existing),
        cmocka_unit_test(test_header_ends_at_body_line),
        cmocka_unit_test(test_header_only_message),
        cmocka_unit_test(test_header_size_limit),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_bad_envelopes),
        cmocka_unit_test(test_bad_content),
        cmocka_unit_test(test_size_data),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

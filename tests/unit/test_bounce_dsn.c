/* Unit tests for bounce(8)'s pure parts: reading a queue file for a
 * notification, choosing the entries that get a notice (RFC 3461 NOTIFY),
 * and composing the RFC 3464 multipart/report (structure, fields, line
 * lengths, RET and bounce_size_limit). */
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
#include "bounce.h"
#include "record.h"
#include "status_log.h"
#include "stream.h"
#include "vstr.h"

#define ID "0123456789ABCDE"

/* A queue file image: sender, attributes, two recipients (the second done),
 * and content lines. */
static vstr *queue_image(const char *sender, const char *ret, const char *const *lines,
                         long long *offsets)
{
    vstr *q = vstr_new(1024);
    size_t i;

    rec_append(q, REC_VERSION, "1", 1);
    rec_append(q, REC_SIZE, "0 0 0", 5);
    rec_append(q, REC_TIME, "1700000000.123456", 17);
    rec_append(q, REC_FLAGS, "0", 1);
    rec_append(q, REC_SENDER, sender, strlen(sender));
    rec_append(q, REC_ATTR, "envid=ENV123", 12);
    if (ret != NULL) {
        vstr *a = vstr_new(16);

        vstr_printf(a, "ret=%s", ret);
        rec_append(q, REC_ATTR, vstr_str(a), vstr_len(a));
        vstr_free(a);
    }
    rec_append(q, REC_ORCPT, "rfc822;Orig@example.org", 23);
    rec_append(q, REC_NOTIFY, "12", 2);         /* FAILURE|DELAY */
    offsets[0] = (long long)vstr_len(q);
    rec_append(q, REC_RCPT, "one@example.org", 15);
    offsets[1] = (long long)vstr_len(q);
    rec_append(q, REC_DONE, "two@example.org", 15);
    rec_append(q, REC_MESSAGE, "", 0);
    for (i = 0; lines[i] != NULL; i++)
        rec_append(q, REC_LINE, lines[i], strlen(lines[i]));
    rec_append(q, REC_XTRA, "", 0);
    rec_append(q, REC_END, "", 0);
    return q;
}

static int read_image(const vstr *img, long limit, struct bounce_message *m, vstr *err)
{
    FILE *f = tmpfile();
    stream *s;
    int ret;

    assert_non_null(f);
    assert_int_equal(fwrite(vstr_str(img), 1, vstr_len(img), f), vstr_len(img));
    fflush(f);
    lseek(fileno(f), 0, SEEK_SET);
    s = stream_fdopen(fileno(f));
    ret = bounce_message_read(s, limit, m, err);
    stream_free(s);
    fclose(f);
    return ret;
}

/* Records to text with CRLF line ends (C pieces joined). */
static vstr *records_text(const vstr *recs)
{
    vstr *t = vstr_new(4096);
    size_t pos = 0, dl;
    const char *d;
    ssize_t used;
    int type;

    while (pos < vstr_len(recs)) {
        used = rec_parse(vstr_str(recs) + pos, vstr_len(recs) - pos, &type, &d, &dl);
        assert_true(used > 0);
        assert_true(type == REC_LINE || type == REC_CONT);
        vstr_append(t, d, dl);
        if (type == REC_LINE)
            vstr_puts(t, "\r\n");
        pos += (size_t)used;
    }
    return t;
}

static const char *const message_lines[] = {
    "Received: from client.example",
    "From: Someone <someone@localhost>",
    "Subject: hello",
    "",
    "Body line one.",
    "Body line two.",
    NULL,
};

static struct status_entry entry(const char *rcpt, long long offset, int notify,
                                 const char *action, const char *relay, const char *reason)
{
    struct status_entry e = {
        .rcpt = (char *)rcpt, .orcpt = (char *)"", .notify = notify, .offset = offset,
        .status = (char *)"5.1.1", .action = (char *)action, .relay = (char *)relay,
        .reason = (char *)reason, .when = 1700000100,
    };
    return e;
}

static void test_wanted(void **state)
{
    assert_true(dsn_entry_wanted(DSN_KIND_BOUNCE, 0));
    assert_true(dsn_entry_wanted(DSN_KIND_BOUNCE, DSN_NOTIFY_FAILURE));
    assert_false(dsn_entry_wanted(DSN_KIND_BOUNCE, DSN_NOTIFY_SUCCESS));
    assert_false(dsn_entry_wanted(DSN_KIND_BOUNCE, DSN_NOTIFY_NEVER));
    assert_true(dsn_entry_wanted(DSN_KIND_DELAY, 0));
    assert_true(dsn_entry_wanted(DSN_KIND_DELAY, DSN_NOTIFY_DELAY | DSN_NOTIFY_FAILURE));
    assert_false(dsn_entry_wanted(DSN_KIND_DELAY, DSN_NOTIFY_FAILURE));
    assert_false(dsn_entry_wanted(DSN_KIND_SUCCESS, 0));
    assert_true(dsn_entry_wanted(DSN_KIND_SUCCESS, DSN_NOTIFY_SUCCESS));
    assert_false(dsn_entry_wanted(DSN_KIND_SUCCESS, DSN_NOTIFY_NEVER | DSN_NOTIFY_SUCCESS));
}

static void test_queue_read(void **state)
{
    long long off[2];
    vstr *img = queue_image("someone@localhost", "HDRS", message_lines, off);
    struct bounce_message m;
    vstr *err = vstr_new(16);
    vstr *t;

    assert_int_equal(read_image(img, 50000, &m, err), 0);
    assert_int_equal(m.arrival, 1700000000);
    assert_string_equal(m.sender, "someone@localhost");
    assert_string_equal(m.envid, "ENV123");
    assert_string_equal(m.ret, "HDRS");
    assert_int_equal(m.nrcpt, 2);
    assert_int_equal(m.rcpts[0].offset, off[0]);
    assert_string_equal(m.rcpts[0].orcpt, "rfc822;Orig@example.org");
    assert_int_equal(m.rcpts[0].notify, 12);
    assert_false(m.rcpts[0].done);
    assert_true(m.rcpts[1].done);
    assert_ptr_equal(bounce_message_rcpt(&m, off[1]), &m.rcpts[1]);
    assert_null(bounce_message_rcpt(&m, 3));
    t = records_text(m.headers);
    assert_string_equal(vstr_str(t), "Received: from client.example\r\n"
                        "From: Someone <someone@localhost>\r\nSubject: hello\r\n");
    vstr_free(t);
    assert_false(m.truncated);
    bounce_message_free(&m);

    /* Over the limit: only the header is kept. */
    assert_int_equal(read_image(img, 40, &m, err), 0);
    assert_true(m.truncated);
    assert_int_equal(vstr_len(m.content), 0);
    assert_true(vstr_len(m.headers) > 0);
    bounce_message_free(&m);

    /* Every truncation of the file is an error, never a crash. */
    {
        size_t cut;
        vstr *part = vstr_new(1024);

        for (cut = 0; cut < vstr_len(img); cut++) {
            vstr_setn(part, vstr_str(img), cut);
            assert_int_equal(read_image(part, 50000, &m, err), -1);
            bounce_message_free(&m);
        }
        vstr_free(part);
    }
    vstr_free(img);
    vstr_free(err);
}

static void test_select(void **state)
{
    long long off[2];
    vstr *img = queue_image("s@localhost", NULL, message_lines, off);
    struct bounce_message m;
    vstr *err = vstr_new(16);
    struct status_entry e[4];
    const struct status_entry **sel;
    size_t n;

    assert_int_equal(read_image(img, 50000, &m, err), 0);
    e[0] = entry("one@example.org", off[0], 0, "delayed", "none", "first try");
    e[1] = entry("one@example.org", off[0], 0, "delayed", "none", "second try");
    e[2] = entry("two@example.org", off[1], 0, "delayed", "none", "done since");
    e[3] = entry("three@example.org", 999, DSN_NOTIFY_NEVER, "delayed", "none", "x");
    n = dsn_select(DSN_KIND_DELAY, &m, e, 4, &sel);
    assert_int_equal(n, 1);
    assert_string_equal(sel[0]->reason, "second try");
    free(sel);
    /* Interleaved repeats: the last entry of each recipient, in log order. */
    e[0] = entry("one@example.org", off[0], 0, "failed", "none", "one first");
    e[1] = entry("zz@example.org", 5, 0, "failed", "none", "zz only");
    e[2] = entry("one@example.org", off[0], 0, "failed", "none", "one last");
    e[3] = entry("aa@example.org", 5, 0, "failed", "none", "aa only");
    n = dsn_select(DSN_KIND_BOUNCE, &m, e, 4, &sel);
    assert_int_equal(n, 3);
    assert_string_equal(sel[0]->reason, "zz only");
    assert_string_equal(sel[1]->reason, "one last");
    assert_string_equal(sel[2]->reason, "aa only");
    free(sel);
    n = dsn_select(DSN_KIND_BOUNCE, &m, e, 0, &sel);
    assert_int_equal(n, 0);
    free(sel);
    e[0] = entry("one@example.org", off[0], 0, "delayed", "none", "first try");
    /* The queue file's notify mask applies when the entry has none:
     * one@ asked for FAILURE|DELAY, so no success report. */
    e[0].action = (char *)"delivered";
    n = dsn_select(DSN_KIND_SUCCESS, &m, e, 1, &sel);
    assert_int_equal(n, 0);
    free(sel);
    e[0].notify = DSN_NOTIFY_SUCCESS;
    n = dsn_select(DSN_KIND_SUCCESS, &m, e, 1, &sel);
    assert_int_equal(n, 1);
    free(sel);
    bounce_message_free(&m);
    vstr_free(img);
    vstr_free(err);
}

static void check_lines(const vstr *text)
{
    const char *p = vstr_str(text), *eol;

    while ((eol = strstr(p, "\r\n")) != NULL) {
        assert_true(eol - p <= 998);
        p = eol + 2;
    }
    assert_int_equal(*p, '\0');
}

static vstr *compose(enum dsn_kind kind, const struct bounce_message *m, struct status_entry *e,
                     size_t n, int *flags)
{
    const struct status_entry *sel[8];
    struct dsn_request req = {
        .kind = kind, .queue_id = ID, .myhostname = "mx.example.net", .to = m->sender,
        .postmaster = "postmaster@example.net", .now = 1700000200,
        .retry_until = 1700432000, .rnd = 0x1234,
    };
    vstr *recs = vstr_new(4096);
    vstr *t;
    size_t i;

    for (i = 0; i < n; i++)
        sel[i] = &e[i];
    *flags = dsn_compose(recs, &req, m, sel, n);
    t = records_text(recs);
    vstr_free(recs);
    check_lines(t);
    return t;
}

#define HAS(t, s) do { if (strstr(vstr_str(t), (s)) == NULL) fail_msg("missing: %s\n%s", (s), vstr_str(t)); } while (0)
#define LACKS(t, s) do { if (strstr(vstr_str(t), (s)) != NULL) fail_msg("unexpected: %s", (s)); } while (0)

static void test_compose_bounce(void **state)
{
    long long off[2];
    vstr *img = queue_image("someone@localhost", NULL, message_lines, off);
    struct bounce_message m;
    vstr *err = vstr_new(16);
    struct status_entry e[2];
    vstr *t;
    int flags;

    assert_int_equal(read_image(img, 50000, &m, err), 0);
    e[0] = entry("one@example.org", off[0], 0, "failed", "mx.example.org[192.0.2.1]:25",
                 "host mx.example.org[192.0.2.1] said: 550 5.1.1 <one@example.org>: "
                 "Recipient address rejected (in reply to RCPT TO command)");
    e[0].orcpt = (char *)"rfc822;Orig@example.org";
    e[1] = entry("nosuch@localhost", off[1], 0, "failed", "local", "unknown user: \"nosuch\"");
    t = compose(DSN_KIND_BOUNCE, &m, e, 2, &flags);
    assert_int_equal(flags, 0);
    HAS(t, "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n");
    HAS(t, "Subject: Undelivered Mail Returned to Sender\r\n");
    HAS(t, "To: someone@localhost\r\n");
    HAS(t, "Auto-Submitted: auto-replied\r\n");
    HAS(t, "MIME-Version: 1.0\r\n");
    HAS(t, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
           "\tboundary=\"" ID ".1700000200.00001234/mx.example.net\"\r\n");
    HAS(t, "\r\n--" ID ".1700000200.00001234/mx.example.net\r\n"
           "Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n");
    HAS(t, "<nosuch@localhost>: unknown user: \"nosuch\"\r\n");
    HAS(t, "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n"
           "X-Posthorn-Queue-ID: " ID "\r\n");
    HAS(t, "Original-Envelope-Id: ENV123\r\n");
    HAS(t, "Arrival-Date: ");
    HAS(t, "\r\n\r\nFinal-Recipient: rfc822; one@example.org\r\n"
           "Original-Recipient: rfc822;Orig@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
           "Remote-MTA: dns; mx.example.org\r\nDiagnostic-Code: smtp; 550 5.1.1");
    HAS(t, "Final-Recipient: rfc822; nosuch@localhost\r\nAction: failed\r\nStatus: 5.1.1\r\n"
           "Diagnostic-Code: x-unix; unknown user: \"nosuch\"\r\nLast-Attempt-Date: ");
    LACKS(t, "Will-Retry-Until");
    /* The whole message comes back (RET not given). */
    HAS(t, "Content-Type: message/rfc822\r\n\r\nReceived: from client.example\r\n");
    HAS(t, "Body line two.\r\n\r\n--" ID ".1700000200.00001234/mx.example.net--\r\n");
    vstr_free(t);
    bounce_message_free(&m);
    vstr_free(img);

    /* RET=HDRS: headers only. */
    img = queue_image("someone@localhost", "HDRS", message_lines, off);
    assert_int_equal(read_image(img, 50000, &m, err), 0);
    t = compose(DSN_KIND_BOUNCE, &m, e, 1, &flags);
    HAS(t, "Content-Type: text/rfc822-headers\r\n\r\nReceived: from client.example\r\n");
    LACKS(t, "Body line");
    LACKS(t, "message/rfc822");
    vstr_free(t);
    bounce_message_free(&m);

    /* Over bounce_size_limit: headers only too. */
    assert_int_equal(read_image(img, 10, &m, err), 0);
    free(m.ret);
    m.ret = strdup("");
    t = compose(DSN_KIND_BOUNCE, &m, e, 1, &flags);
    HAS(t, "text/rfc822-headers");
    LACKS(t, "Body line");
    vstr_free(t);
    bounce_message_free(&m);
    vstr_free(img);
    vstr_free(err);
}

static void test_compose_delay_success(void **state)
{
    long long off[2];
    vstr *img = queue_image("someone@localhost", NULL, message_lines, off);
    struct bounce_message m;
    vstr *err = vstr_new(16);
    struct status_entry e[1];
    vstr *t;
    int flags;

    assert_int_equal(read_image(img, 50000, &m, err), 0);
    e[0] = entry("one@example.org", off[0], 0, "delayed", "none", "connect to x: timed out");
    e[0].status = (char *)"bogus";
    t = compose(DSN_KIND_DELAY, &m, e, 1, &flags);
    HAS(t, "Subject: Delayed Mail (still being retried)\r\n");
    HAS(t, "Action: delayed\r\nStatus: 4.0.0\r\n");
    HAS(t, "Will-Retry-Until: ");
    HAS(t, "text/rfc822-headers");
    LACKS(t, "Body line");
    vstr_free(t);
    e[0].action = (char *)"relayed";
    e[0].status = (char *)"2.0.0";
    e[0].relay = (char *)"mx.example.org[192.0.2.1]:25";
    t = compose(DSN_KIND_SUCCESS, &m, e, 1, &flags);
    HAS(t, "Subject: Successful Mail Delivery Report\r\n");
    HAS(t, "Action: relayed\r\nStatus: 2.0.0\r\nRemote-MTA: dns; mx.example.org\r\n");
    LACKS(t, "Body line");
    vstr_free(t);
    bounce_message_free(&m);
    vstr_free(img);
    vstr_free(err);
}

static void test_compose_long_and_8bit(void **state)
{
    static const char *const lines8[] = {"Subject: caf\xc3\xa9", "", "body", NULL};
    long long off[2];
    vstr *img = queue_image("someone@localhost", NULL, lines8, off);
    struct bounce_message m;
    vstr *err = vstr_new(16);
    struct status_entry e[1];
    vstr *reason = vstr_new(8000);
    vstr *t;
    int flags, i;

    assert_int_equal(read_image(img, 50000, &m, err), 0);
    for (i = 0; i < 300; i++)
        vstr_puts(reason, "word ");
    vstr_puts(reason, "x");
    for (i = 0; i < 2000; i++)
        vstr_putc(reason, 'y');
    vstr_puts(reason, " \x01\xff end");
    e[0] = entry("one@example.org", off[0], 0, "failed", "local", vstr_str(reason));
    t = compose(DSN_KIND_BOUNCE, &m, e, 1, &flags);   /* check_lines: all <= 998 */
    assert_int_equal(flags, REC_FLAG_8BITMIME);
    HAS(t, "Content-Transfer-Encoding: 8bit\r\n");
    HAS(t, "Diagnostic-Code: x-unix; word word");
    HAS(t, "\r\n word word");           /* folded */
    HAS(t, " ?? end");
    vstr_free(t);
    bounce_message_free(&m);
    vstr_free(img);
    vstr_free(err);
    vstr_free(reason);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wanted),
        cmocka_unit_test(test_queue_read),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_compose_bounce),
        cmocka_unit_test(test_compose_delay_success),
        cmocka_unit_test(test_compose_long_and_8bit),
    };

    setenv("TZ", "UTC", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

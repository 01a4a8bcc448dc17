/* Unit tests of the queue manager's queue file reader: a well-formed file
 * with every record type, every truncation of it, and one file for each
 * structural rule it must enforce. */
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
#include "qmgr/qmgr_message.h"
#include "record.h"
#include "stream.h"
#include "vstr.h"

#define ID "0123456789ABCDE"

/* A temporary file holding bytes; returns its descriptor at offset 0. */
static int temp_file(const void *data, size_t len)
{
    char name[] = "/tmp/test_qmgr_msgXXXXXX";
    int fd = mkstemp(name);

    assert_true(fd >= 0);
    unlink(name);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static struct qmgr_message *read_buf(const void *data, size_t len, size_t max_rcpt, vstr *why)
{
    int fd = temp_file(data, len);
    stream *s = stream_fdopen(fd);
    struct qmgr_message *m = qmgr_message_read(s, ID, max_rcpt, why);

    stream_close(s);
    return m;
}

/* Z data for content at offset off. */
static void size_data(vstr *z, long long size, long long off, long long nrcpt)
{
    vstr_reset(z);
    vstr_printf(z, "%lld %lld %lld", size, off, nrcpt);
    while (vstr_len(z) < REC_SIZE_WIDTH)
        vstr_putc(z, ' ');
}

static void put(vstr *b, int type, const char *s)
{
    rec_append(b, type, s, strlen(s));
}

/* The envelope up to (not including) M, with the Z record fixed so that
 * the content starts right after it plus extra bytes. */
static void envelope(vstr *b, const char *extra_before_m, size_t extra_len)
{
    vstr *z = vstr_new(64);
    size_t zpos, zhdr;
    unsigned char hdr[5];

    vstr_reset(b);
    put(b, REC_VERSION, "1");
    zpos = vstr_len(b);
    size_data(z, 0, 0, 0);
    rec_append(b, REC_SIZE, vstr_str(z), vstr_len(z));
    put(b, REC_TIME, "1700000000.123456");
    put(b, REC_SENDER, "sender@example.org");
    put(b, REC_RCPT, "user@localhost");
    if (extra_before_m)
        vstr_append(b, extra_before_m, extra_len);
    zhdr = rec_header(hdr, REC_SIZE, REC_SIZE_WIDTH);
    size_data(z, 10, (long long) vstr_len(b), 1);
    memcpy(vstr_str(b) + zpos + zhdr, vstr_str(z), REC_SIZE_WIDTH);
    vstr_free(z);
}

static void content_and_end(vstr *b)
{
    put(b, REC_MESSAGE, "");
    put(b, REC_LINE, "Subject: hi");
    put(b, REC_LINE, "");
    put(b, REC_LINE, "body");
    put(b, REC_XTRA, "");
    put(b, REC_END, "");
}

/* The full file written with rec_put through a stream, as cleanup does. */
static vstr *good_file(void)
{
    char name[] = "/tmp/test_qmgr_goodXXXXXX";
    int fd = mkstemp(name);
    stream *s;
    vstr *z = vstr_new(64), *out = vstr_new(1024);
    off_t zoff, moff, end;
    unsigned char hdr[5];
    size_t zhdr = rec_header(hdr, REC_SIZE, REC_SIZE_WIDTH);

    assert_true(fd >= 0);
    unlink(name);
    s = stream_fdopen(fd);
    assert_int_equal(rec_puts(s, REC_VERSION, "1"), 0);
    zoff = stream_offset(s);
    size_data(z, 0, 0, 0);
    assert_int_equal(rec_put(s, REC_SIZE, vstr_str(z), vstr_len(z)), 0);
    assert_int_equal(rec_puts(s, REC_TIME, "1700000000.000042"), 0);
    assert_int_equal(rec_puts(s, REC_FLAGS, "1"), 0);
    assert_int_equal(rec_puts(s, REC_SENDER, "Sender@Example.ORG"), 0);
    assert_int_equal(rec_puts(s, REC_ATTR, "client_address=192.0.2.1"), 0);
    assert_int_equal(rec_puts(s, REC_ORCPT, "rfc822;one@localhost"), 0);
    assert_int_equal(rec_puts(s, REC_NOTIFY, "6"), 0);
    assert_int_equal(rec_puts(s, REC_RCPT, "one@localhost"), 0);
    assert_int_equal(rec_puts(s, REC_DONE, "done@localhost"), 0);
    moff = stream_offset(s);
    assert_int_equal(rec_puts(s, REC_MESSAGE, ""), 0);
    assert_int_equal(rec_puts(s, REC_LINE, "Subject: test"), 0);
    assert_int_equal(rec_puts(s, REC_CONT, "a long line, "), 0);
    assert_int_equal(rec_puts(s, REC_LINE, "continued"), 0);
    assert_int_equal(rec_puts(s, REC_XTRA, ""), 0);
    assert_int_equal(rec_puts(s, REC_RCPT, "two@example.com"), 0);
    assert_int_equal(rec_puts(s, REC_END, ""), 0);
    assert_int_equal(stream_flush(s), 0);
    end = lseek(fd, 0, SEEK_END);
    size_data(z, 13 + 2 + 22 + 2, (long long) moff, 3);
    assert_int_equal(pwrite(fd, vstr_str(z), REC_SIZE_WIDTH, zoff + (off_t) zhdr), REC_SIZE_WIDTH);
    vstr_reserve(out, (size_t) end);
    assert_int_equal(pread(fd, vstr_str(out), (size_t) end, 0), end);
    out->len = (size_t) end;
    stream_close(s);
    vstr_free(z);
    return out;
}

static void test_good_file(void **state)
{
    vstr *f = good_file(), *why = vstr_new(64);
    struct qmgr_message *m = read_buf(vstr_str(f), vstr_len(f), 0, why);

    assert_non_null(m);
    assert_string_equal(m->id, ID);
    assert_string_equal(m->sender, "Sender@Example.ORG");
    assert_string_equal(m->arrival, "1700000000.000042");
    assert_int_equal(m->arrival_sec, 1700000000);
    assert_int_equal(m->arrival_usec, 42);
    assert_int_equal(m->flags, 1);
    assert_int_equal(m->content_size, 39);
    assert_int_equal(m->rcpt_count, 3);
    assert_int_equal(m->nrcpt, 3);
    assert_int_equal(m->npending, 2);
    assert_string_equal(m->rcpts[0].address, "one@localhost");
    assert_string_equal(m->rcpts[0].orcpt, "rfc822;one@localhost");
    assert_int_equal(m->rcpts[0].notify, 6);
    assert_int_equal(m->rcpts[0].state, QMGR_RCPT_PENDING);
    assert_string_equal(m->rcpts[1].address, "done@localhost");
    assert_string_equal(m->rcpts[1].orcpt, "");
    assert_int_equal(m->rcpts[1].notify, 0);
    assert_int_equal(m->rcpts[1].state, QMGR_RCPT_DONE);
    assert_string_equal(m->rcpts[2].address, "two@example.com");
    assert_int_equal(m->rcpts[2].state, QMGR_RCPT_PENDING);
    /* Offsets point at the type bytes, for the in-place 'D'. */
    assert_int_equal(vstr_str(f)[m->rcpts[0].offset], 'R');
    assert_int_equal(vstr_str(f)[m->rcpts[1].offset], 'D');
    assert_int_equal(vstr_str(f)[m->rcpts[2].offset], 'R');
    assert_int_equal(vstr_str(f)[m->content_offset], 'M');
    qmgr_rcpt_set_reason(&m->rcpts[0], "4.4.0", "no route");
    qmgr_rcpt_set_reason(&m->rcpts[0], "4.3.0", "agent down");
    assert_string_equal(m->rcpts[0].reason, "agent down");
    qmgr_message_free(m);
    vstr_free(f);
    vstr_free(why);
}

/* Every proper prefix of a good file is corrupt, none crashes. */
static void test_every_truncation(void **state)
{
    vstr *f = good_file(), *why = vstr_new(64);
    size_t len;

    for (len = 0; len < vstr_len(f); len++) {
        struct qmgr_message *m = read_buf(vstr_str(f), len, 0, why);

        assert_null(m);
        assert_true(vstr_len(why) > 0);
    }
    vstr_free(f);
    vstr_free(why);
}

static void test_null_sender(void **state)
{
    vstr *b = vstr_new(256), *why = vstr_new(64);
    struct qmgr_message *m;

    vstr_reset(b);
    put(b, REC_VERSION, "1");
    {
        vstr *z = vstr_new(64);
        unsigned char hdr[5];
        size_t zpos = vstr_len(b), zhdr = rec_header(hdr, REC_SIZE, REC_SIZE_WIDTH);

        size_data(z, 0, 0, 0);
        rec_append(b, REC_SIZE, vstr_str(z), vstr_len(z));
        put(b, REC_TIME, "1.0");
        put(b, REC_SENDER, "");
        put(b, REC_RCPT, "postmaster");
        size_data(z, 0, (long long) vstr_len(b), 1);
        memcpy(vstr_str(b) + zpos + zhdr, vstr_str(z), REC_SIZE_WIDTH);
        vstr_free(z);
    }
    put(b, REC_MESSAGE, "");
    put(b, REC_XTRA, "");
    put(b, REC_END, "");
    m = read_buf(vstr_str(b), vstr_len(b), 0, why);
    assert_non_null(m);
    assert_string_equal(m->sender, "");
    assert_string_equal(m->rcpts[0].address, "postmaster");
    qmgr_message_free(m);
    vstr_free(b);
    vstr_free(why);
}

/* Check that the file in b is rejected with a reason containing word. */
static void expect_corrupt(vstr *b, size_t max_rcpt, const char *word)
{
    vstr *why = vstr_new(64);
    struct qmgr_message *m = read_buf(vstr_str(b), vstr_len(b), max_rcpt, why);

    if (m != NULL)
        fail_msg("accepted a corrupt file (expected \"%s\")", word);
    if (strstr(vstr_str(why), word) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", vstr_str(why), word);
    vstr_free(why);
}

static void test_corrupt_files(void **state)
{
    vstr *b = vstr_new(512), *r = vstr_new(64);

    /* Baseline: envelope + content is good. */
    envelope(b, NULL, 0);
    content_and_end(b);
    {
        vstr *why = vstr_new(64);
        struct qmgr_message *m = read_buf(vstr_str(b), vstr_len(b), 0, why);

        assert_non_null(m);
        qmgr_message_free(m);
        vstr_free(why);
    }

    vstr_reset(b);
    expect_corrupt(b, 0, "missing end record");

    vstr_reset(b);
    put(b, REC_SENDER, "x");
    expect_corrupt(b, 0, "not a version record");

    vstr_reset(b);
    put(b, REC_VERSION, "2");
    expect_corrupt(b, 0, "version");

    /* Unknown record type. */
    envelope(b, NULL, 0);
    content_and_end(b);
    vstr_str(b)[vstr_len(b) - 2] = 'Q';
    expect_corrupt(b, 0, "record");

    /* Data after E. */
    envelope(b, NULL, 0);
    content_and_end(b);
    put(b, REC_RCPT, "late@localhost");
    expect_corrupt(b, 0, "after the end");

    /* Missing E. */
    envelope(b, NULL, 0);
    content_and_end(b);
    vstr_truncate(b, vstr_len(b) - 2);
    expect_corrupt(b, 0, "missing end");

    /* Recipient inside the content. */
    envelope(b, NULL, 0);
    put(b, REC_MESSAGE, "");
    put(b, REC_RCPT, "x@localhost");
    put(b, REC_XTRA, "");
    put(b, REC_END, "");
    expect_corrupt(b, 0, "inside the content");

    /* Content ends inside a long line. */
    envelope(b, NULL, 0);
    put(b, REC_MESSAGE, "");
    put(b, REC_CONT, "piece");
    put(b, REC_XTRA, "");
    put(b, REC_END, "");
    expect_corrupt(b, 0, "inside a line");

    /* Content line in the envelope. */
    vstr_reset(r);
    rec_append(r, REC_LINE, "x", 1);
    envelope(b, vstr_str(r), vstr_len(r));
    content_and_end(b);
    expect_corrupt(b, 0, "outside the content");

    /* O not followed by a recipient. */
    vstr_reset(r);
    rec_append(r, REC_ORCPT, "rfc822;a@b", 10);
    envelope(b, vstr_str(r), vstr_len(r));
    content_and_end(b);
    expect_corrupt(b, 0, "not followed by a recipient");

    /* Two O records for one recipient. */
    vstr_reset(r);
    rec_append(r, REC_ORCPT, "a", 1);
    rec_append(r, REC_ORCPT, "b", 1);
    rec_append(r, REC_RCPT, "b@localhost", 11);
    envelope(b, vstr_str(r), vstr_len(r));
    content_and_end(b);
    expect_corrupt(b, 0, "duplicate original recipient");

    /* Bad notify mask. */
    vstr_reset(r);
    rec_append(r, REC_NOTIFY, "99", 2);
    rec_append(r, REC_RCPT, "b@localhost", 11);
    envelope(b, vstr_str(r), vstr_len(r));
    content_and_end(b);
    expect_corrupt(b, 0, "notify");

    /* Duplicate sender. */
    vstr_reset(r);
    rec_append(r, REC_SENDER, "x@y", 3);
    envelope(b, vstr_str(r), vstr_len(r));
    content_and_end(b);
    expect_corrupt(b, 0, "duplicate sender");

    /* Recipient with a line break. */
    vstr_reset(r);
    rec_append(r, REC_RCPT, "a@b\nR c@d", 9);
    envelope(b, vstr_str(r), vstr_len(r));
    content_and_end(b);
    expect_corrupt(b, 0, "malformed recipient");

    /* Empty recipient. */
    vstr_reset(r);
    rec_append(r, REC_RCPT, "", 0);
    envelope(b, vstr_str(r), vstr_len(r));
    content_and_end(b);
    expect_corrupt(b, 0, "malformed recipient");

    /* Attribute without '='. */
    vstr_reset(r);
    rec_append(r, REC_ATTR, "noequals", 8);
    envelope(b, vstr_str(r), vstr_len(r));
    content_and_end(b);
    expect_corrupt(b, 0, "attribute");

    /* Content offset in Z does not point at M. */
    vstr_reset(r);
    rec_append(r, REC_ATTR, "a=b", 3);
    envelope(b, NULL, 0);
    vstr_append(b, vstr_str(r), vstr_len(r));
    content_and_end(b);
    expect_corrupt(b, 0, "content offset");

    /* Too many recipients. */
    vstr_reset(r);
    rec_append(r, REC_RCPT, "b@localhost", 11);
    rec_append(r, REC_RCPT, "c@localhost", 11);
    envelope(b, vstr_str(r), vstr_len(r));
    content_and_end(b);
    expect_corrupt(b, 2, "more than 2 recipients");

    /* The size record was never fixed up: content offset 0. */
    vstr_reset(b);
    put(b, REC_VERSION, "1");
    {
        vstr *z = vstr_new(64);

        size_data(z, 0, 0, 0);
        rec_append(b, REC_SIZE, vstr_str(z), vstr_len(z));
        vstr_free(z);
    }
    put(b, REC_TIME, "1.0");
    put(b, REC_SENDER, "");
    put(b, REC_MESSAGE, "");
    expect_corrupt(b, 0, "content offset");

    /* M before the sender. */
    vstr_reset(b);
    put(b, REC_VERSION, "1");
    put(b, REC_MESSAGE, "");
    expect_corrupt(b, 0, "missing before the content");

    /* Malformed Z and T. */
    vstr_reset(b);
    put(b, REC_VERSION, "1");
    put(b, REC_SIZE, "12 x 1");
    expect_corrupt(b, 0, "malformed size");
    vstr_reset(b);
    put(b, REC_VERSION, "1");
    put(b, REC_TIME, "12");
    expect_corrupt(b, 0, "malformed arrival");
    vstr_reset(b);
    put(b, REC_VERSION, "1");
    put(b, REC_TIME, "12.1234567");
    expect_corrupt(b, 0, "malformed arrival");

    /* A length that runs past the end of the file. */
    vstr_reset(b);
    put(b, REC_VERSION, "1");
    vstr_append(b, "S\x7f" "abc", 5);
    expect_corrupt(b, 0, "record");

    vstr_free(b);
    vstr_free(r);
}

static void test_no_recipients(void **state)
{
    vstr *b = vstr_new(256), *z = vstr_new(64);
    unsigned char hdr[5];
    size_t zpos, zhdr = rec_header(hdr, REC_SIZE, REC_SIZE_WIDTH);

    put(b, REC_VERSION, "1");
    zpos = vstr_len(b);
    size_data(z, 0, 0, 0);
    rec_append(b, REC_SIZE, vstr_str(z), vstr_len(z));
    put(b, REC_TIME, "1.0");
    put(b, REC_SENDER, "a@b");
    size_data(z, 0, (long long) vstr_len(b), 0);
    memcpy(vstr_str(b) + zpos + zhdr, vstr_str(z), REC_SIZE_WIDTH);
    content_and_end(b);
    expect_corrupt(b, 0, "no recipients");
    vstr_free(b);
    vstr_free(z);
}


/* W: optional, fixed width, at most once, envelope only. */
static void test_warn_record(void **state)
{
    vstr *b = vstr_new(512), *w = vstr_new(64), *why = vstr_new(64);
    struct qmgr_message *m;

    /* Files without W (written before it existed) are fine. */
    envelope(b, NULL, 0);
    content_and_end(b);
    m = read_buf(vstr_str(b), vstr_len(b), 0, why);
    assert_non_null(m);
    assert_int_equal(m->warn_offset, -1);
    assert_int_equal(m->warn_time, 0);
    qmgr_message_free(m);

    vstr_printf(w, "%-*s", REC_WARN_WIDTH, "1700003600");
    vstr_reset(b);
    rec_append(b, REC_WARN, vstr_str(w), vstr_len(w));
    {
        vstr *rec = vstr_new(64);

        vstr_append(rec, vstr_str(b), vstr_len(b));
        envelope(b, vstr_str(rec), vstr_len(rec));
        content_and_end(b);
        m = read_buf(vstr_str(b), vstr_len(b), 0, why);
        assert_non_null(m);
        assert_int_equal(m->warn_time, 1700003600LL);
        assert_true(m->warn_offset > 0);
        assert_int_equal(vstr_str(b)[m->warn_offset], 'W');
        qmgr_message_free(m);

        /* Twice. */
        vstr_append(rec, vstr_str(rec), vstr_len(rec));
        envelope(b, vstr_str(rec), vstr_len(rec));
        content_and_end(b);
        expect_corrupt(b, 0, "duplicate delay warning");
        vstr_free(rec);
    }
    /* Wrong width, not a number, trailing junk. */
    {
        static const char *const bad[] = {"1700003600", "17000x3600          ",
                                          "1700003600         x", "                    ",
                                          NULL};
        int i;

        for (i = 0; bad[i]; i++) {
            vstr *rec = vstr_new(64);

            rec_append(rec, REC_WARN, bad[i], strlen(bad[i]));
            envelope(b, vstr_str(rec), vstr_len(rec));
            content_and_end(b);
            expect_corrupt(b, 0, "malformed delay warning");
            vstr_free(rec);
        }
    }
    /* After the content. */
    envelope(b, NULL, 0);
    put(b, REC_MESSAGE, "");
    put(b, REC_LINE, "x");
    put(b, REC_XTRA, "");
    rec_append(b, REC_WARN, vstr_str(w), vstr_len(w));
    put(b, REC_END, "");
    expect_corrupt(b, 0, "delay warning");
    vstr_free(b);
    vstr_free(w);
    vstr_free(why);
}

/* Slices: done recipients are counted, not kept; at most max_pending
 * pending ones from min_offset on; the rest is counted. */
static void test_slices(void **state)
{
    vstr *b = vstr_new(1024), *rec = vstr_new(256), *why = vstr_new(64);
    struct qmgr_message *m;
    int fd;
    stream *s;
    off_t next;

    put(rec, REC_DONE, "d1@x");
    put(rec, REC_RCPT, "r2@x");
    put(rec, REC_ORCPT, "rfc822;o3@x");
    put(rec, REC_RCPT, "r3@x");
    put(rec, REC_RCPT, "r4@x");
    put(rec, REC_DONE, "d5@x");
    put(rec, REC_RCPT, "r6@x");
    envelope(b, vstr_str(rec), vstr_len(rec));      /* + user@localhost first */
    content_and_end(b);

    fd = temp_file(vstr_str(b), vstr_len(b));
    s = stream_fdopen(fd);
    m = qmgr_message_read_slice(s, ID, 2, 0, why);
    stream_close(s);
    assert_non_null(m);
    assert_int_equal(m->rcpt_total, 7);
    assert_int_equal(m->nrcpt, 2);
    assert_int_equal(m->npending, 2);
    assert_string_equal(m->rcpts[0].address, "user@localhost");
    assert_string_equal(m->rcpts[1].address, "r2@x");
    assert_int_equal(m->unread_pending, 3);
    next = m->next_offset;
    assert_int_equal(vstr_str(b)[next], 'R');
    qmgr_message_free(m);

    fd = temp_file(vstr_str(b), vstr_len(b));
    s = stream_fdopen(fd);
    m = qmgr_message_read_slice(s, ID, 2, next, why);
    stream_close(s);
    assert_non_null(m);
    assert_int_equal(m->nrcpt, 2);
    assert_string_equal(m->rcpts[0].address, "r3@x");
    assert_string_equal(m->rcpts[0].orcpt, "rfc822;o3@x");
    assert_string_equal(m->rcpts[1].address, "r4@x");
    assert_int_equal(m->unread_pending, 1);
    next = m->next_offset;
    qmgr_message_free(m);

    fd = temp_file(vstr_str(b), vstr_len(b));
    s = stream_fdopen(fd);
    m = qmgr_message_read_slice(s, ID, 2, next, why);
    stream_close(s);
    assert_non_null(m);
    assert_int_equal(m->nrcpt, 1);
    assert_string_equal(m->rcpts[0].address, "r6@x");
    assert_int_equal(m->unread_pending, 0);
    qmgr_message_free(m);
    vstr_free(b);
    vstr_free(rec);
    vstr_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_null_sender),
        cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_no_recipients),
        cmocka_unit_test(test_warn_record),
        cmocka_unit_test(test_slices),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the maildrop file format (lib/maildrop.h): good
 * submissions and files, every kind of malformed input (order, types,
 * attributes, lengths, counts, sizes, text, truncation, trailing data),
 * the stream reader and the showq reader. */
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
#include "maildrop.h"
#include "record.h"
#include "stream.h"
#include "vstr.h"

static struct maildrop_limits lim;

static void add(vstr *b, int type, const char *s)
{
    rec_append(b, type, s, strlen(s));
}

static void add_header(vstr *b, const char *uid)
{
    add(b, REC_VERSION, MAILDROP_VERSION);
    add(b, REC_TIME, "1764043200.123456");
    add(b, REC_ATTR, uid);
}

/* A good submission with customizable pieces. */
static void add_envelope(vstr *b, const char *flags, const char *sender)
{
    add(b, REC_FLAGS, flags);
    add(b, REC_SENDER, sender);
}

static void add_content(vstr *b)
{
    add(b, REC_MESSAGE, "");
    add(b, REC_LINE, "Subject: test");
    add(b, REC_LINE, "");
    add(b, REC_CONT, "a long line ");
    add(b, REC_LINE, "ends here");
    add(b, REC_XTRA, "");
    add(b, REC_END, "");
}

static vstr *good_submission(void)
{
    vstr *b = vstr_new(256);

    add_envelope(b, "0", "user@example.org");
    add(b, REC_ATTR, "envid=abc+2Bdef");
    add(b, REC_ATTR, "ret=HDRS");
    add(b, REC_ATTR, "full_name=J\xc3\xbcrgen User");
    add(b, REC_ORCPT, "rfc822;a@example.org");
    add(b, REC_NOTIFY, "6");
    add(b, REC_RCPT, "a@example.org");
    add(b, REC_RCPT, "b@example.org");
    add_content(b);
    return b;
}

static int valid(const vstr *b, enum maildrop_mode mode)
{
    return maildrop_validate(vstr_str(b), vstr_len(b), mode, &lim, NULL) == 0;
}

static void expect_bad(vstr *b, enum maildrop_mode mode, const char *why_part)
{
    vstr *why = vstr_new(64);

    assert_int_equal(maildrop_validate(vstr_str(b), vstr_len(b), mode, &lim, why), -1);
    if (why_part != NULL && strstr(vstr_str(why), why_part) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", vstr_str(why), why_part);
    vstr_free(why);
    vstr_free(b);
}

static int setup(void **state)
{
    (void)state;
    maildrop_limits_init(&lim, 10240000);
    return 0;
}

static void test_good_submission_and_file(void **state)
{
    vstr *b = good_submission(), *f = vstr_new(256);

    (void)state;
    assert_true(valid(b, MAILDROP_SUBMISSION));
    assert_false(valid(b, MAILDROP_FILE));      /* lacks postdrop's header */
    add_header(f, "uid=1000");
    vstr_append(f, vstr_str(b), vstr_len(b));
    assert_true(valid(f, MAILDROP_FILE));
    assert_false(valid(f, MAILDROP_SUBMISSION));    /* a user cannot forge it */
    vstr_free(b);
    vstr_free(f);
}

static void test_null_sender_and_extract(void **state)
{
    vstr *b = vstr_new(64);

    (void)state;
    /* -t: no R records at all. */
    add_envelope(b, "8", "");
    add_content(b);
    assert_true(valid(b, MAILDROP_SUBMISSION));
    vstr_free(b);
    /* Without REC_FLAG_EXTRACT at least one recipient is needed. */
    b = vstr_new(64);
    add_envelope(b, "0", "");
    add_content(b);
    expect_bad(b, MAILDROP_SUBMISSION, "no recipients");
}

static void test_bad_order(void **state)
{
    vstr *b;

    (void)state;
    b = vstr_new(64);                   /* sender first */
    add(b, REC_SENDER, "a");
    add(b, REC_FLAGS, "0");
    expect_bad(b, MAILDROP_SUBMISSION, "flags");
    b = vstr_new(64);                   /* recipient before sender */
    add(b, REC_FLAGS, "0");
    add(b, REC_RCPT, "a@b");
    expect_bad(b, MAILDROP_SUBMISSION, "sender");
    b = vstr_new(64);                   /* content record in envelope */
    add_envelope(b, "0", "a");
    add(b, REC_RCPT, "a@b");
    add(b, REC_LINE, "x");
    expect_bad(b, MAILDROP_SUBMISSION, "not allowed in the envelope");
    b = vstr_new(64);                   /* R after content */
    add_envelope(b, "0", "a");
    add(b, REC_RCPT, "a@b");
    add(b, REC_MESSAGE, "");
    add(b, REC_XTRA, "");
    add(b, REC_RCPT, "c@d");
    expect_bad(b, MAILDROP_SUBMISSION, "after the end of content");
    b = vstr_new(64);                   /* orcpt without a recipient */
    add_envelope(b, "0", "a");
    add(b, REC_RCPT, "a@b");
    add(b, REC_ORCPT, "rfc822;x@y");
    add_content(b);
    expect_bad(b, MAILDROP_SUBMISSION, "without a recipient");
    b = vstr_new(64);                   /* a queue file's records */
    add_envelope(b, "0", "a");
    add(b, REC_TIME, "1.000000");
    expect_bad(b, MAILDROP_SUBMISSION, "not allowed");
    b = vstr_new(64);
    add_envelope(b, "0", "a");
    add(b, REC_RCPT, "a@b");
    add(b, REC_DONE, "a@b");
    expect_bad(b, MAILDROP_SUBMISSION, "not allowed");
    b = vstr_new(64);                   /* E inside content, no X */
    add_envelope(b, "0", "a");
    add(b, REC_RCPT, "a@b");
    add(b, REC_MESSAGE, "");
    add(b, REC_END, "");
    expect_bad(b, MAILDROP_SUBMISSION, "content");
    b = vstr_new(64);                   /* content ends inside a line */
    add_envelope(b, "0", "a");
    add(b, REC_RCPT, "a@b");
    add(b, REC_MESSAGE, "");
    add(b, REC_CONT, "piece");
    add(b, REC_XTRA, "");
    expect_bad(b, MAILDROP_SUBMISSION, "inside a line");
    b = vstr_new(64);                   /* many empty C pieces hit the raw cap */
    add_envelope(b, "0", "a");
    add(b, REC_RCPT, "a@b");
    add(b, REC_MESSAGE, "");
    {
        struct maildrop_limits tiny;
        long i;

        maildrop_limits_init(&tiny, 1024);
        for (i = 0; i < 40000; i++)
            add(b, REC_CONT, "");
        add(b, REC_LINE, "");
        add(b, REC_XTRA, "");
        add(b, REC_END, "");
        assert_int_equal(maildrop_validate(vstr_str(b), vstr_len(b), MAILDROP_SUBMISSION,
                                           &tiny, NULL), -1);
        assert_true(valid(b, MAILDROP_SUBMISSION));
    }
    vstr_free(b);
}

static void test_bad_header(void **state)
{
    vstr *b, *sub = good_submission();
    const char *bad_uids[] = {"uid=", "uid=-1", "uid=12345678901", "uid=1x", "gid=5",
                              "uid=4294967295"};
    const char *bad_times[] = {"", "1", "1.5", "x.000000", "1.0000001", "1.00000a"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_uids) / sizeof(bad_uids[0]); i++) {
        b = vstr_new(64);
        add_header(b, bad_uids[i]);
        vstr_append(b, vstr_str(sub), vstr_len(sub));
        expect_bad(b, MAILDROP_FILE, "uid");
    }
    for (i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
        b = vstr_new(64);
        add(b, REC_VERSION, MAILDROP_VERSION);
        add(b, REC_TIME, bad_times[i]);
        add(b, REC_ATTR, "uid=1");
        vstr_append(b, vstr_str(sub), vstr_len(sub));
        expect_bad(b, MAILDROP_FILE, "time");
    }
    b = vstr_new(64);
    add(b, REC_VERSION, "1");
    expect_bad(b, MAILDROP_FILE, "version");
    vstr_free(sub);
}

static void test_bad_flags_and_notify(void **state)
{
    const char *bad_flags[] = {"", "-1", "65536", "1a", " 1", "999999"};
    const char *bad_notify[] = {"", "0", "16", "3", "9", "x", "015"};
    vstr *b;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
        b = vstr_new(64);
        add_envelope(b, bad_flags[i], "a");
        expect_bad(b, MAILDROP_SUBMISSION, "flags");
    }
    for (i = 0; i < sizeof(bad_notify) / sizeof(bad_notify[0]); i++) {
        b = vstr_new(64);
        add_envelope(b, "0", "a");
        add(b, REC_NOTIFY, bad_notify[i]);
        add(b, REC_RCPT, "a@b");
        add_content(b);
        expect_bad(b, MAILDROP_SUBMISSION, "notify");
    }
    b = vstr_new(64);
    add_envelope(b, "0", "a");
    add(b, REC_NOTIFY, "1");
    add(b, REC_NOTIFY, "1");
    expect_bad(b, MAILDROP_SUBMISSION, "two notify");
}

static void test_bad_attributes(void **state)
{
    const char *bad[] = {"client_address=1.2.3.4", "uid=0", "log_ident=x", "ret=NONE",
                         "ret=", "envid=", "envid=tab\there", "envid=bad\xff",
                         "full_name=a\nb", "full_name=bad\xff", "=x", "noequals",
                         "protocol=ESMTP", "dsn_notify=", "dsn_notify=0", "dsn_notify=16",
                         "dsn_notify=5", "dsn_notify=x", "dsn_notify=012"};
    vstr *b;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        b = vstr_new(64);
        add_envelope(b, "0", "a");
        add(b, REC_ATTR, bad[i]);
        add(b, REC_RCPT, "a@b");
        add_content(b);
        expect_bad(b, MAILDROP_SUBMISSION, "attribute");
    }
    b = vstr_new(64);
    add_envelope(b, "0", "a");
    add(b, REC_ATTR, "ret=FULL");
    add(b, REC_ATTR, "ret=FULL");
    expect_bad(b, MAILDROP_SUBMISSION, "duplicate");
    b = vstr_new(64);                   /* -t -N: the mask of extracted recipients */
    add_envelope(b, "8", "a");
    add(b, REC_ATTR, "dsn_notify=6");
    add_content(b);
    assert_int_equal(valid(b, MAILDROP_SUBMISSION), 1);
    vstr_free(b);
    b = vstr_new(64);
    add_envelope(b, "8", "a");
    add(b, REC_ATTR, "dsn_notify=6");
    add(b, REC_ATTR, "dsn_notify=1");
    expect_bad(b, MAILDROP_SUBMISSION, "duplicate");
    b = vstr_new(64);                   /* envid longer than 100 */
    add_envelope(b, "0", "a");
    {
        char big[120];

        memcpy(big, "envid=", 6);
        memset(big + 6, 'e', 101);
        big[107] = '\0';
        add(b, REC_ATTR, big);
    }
    expect_bad(b, MAILDROP_SUBMISSION, "envid");
}

static void test_bad_text(void **state)
{
    const char *bad[] = {"a\nb@c", "a\rb", "tab\there", "del\x7f", "\xff@x", "\xc0\xaf@x",
                         "\xed\xa0\x80@x", "\xf4\x90\x80\x80@x", "\xe2\x82@x", "\xc3"};
    vstr *b;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        b = vstr_new(64);
        add_envelope(b, "0", bad[i]);
        expect_bad(b, MAILDROP_SUBMISSION, "sender");
        b = vstr_new(64);
        add_envelope(b, "0", "a");
        add(b, REC_RCPT, bad[i]);
        expect_bad(b, MAILDROP_SUBMISSION, "recipient");
    }
    /* NUL inside a sender. */
    b = vstr_new(64);
    add(b, REC_FLAGS, "0");
    rec_append(b, REC_SENDER, "a\0b", 3);
    expect_bad(b, MAILDROP_SUBMISSION, "sender");
    /* Good UTF-8 passes, and is noticed. */
    b = vstr_new(64);
    add_envelope(b, "0", "j\xc3\xbcrgen@b\xc3\xbc\x63her.example");
    add(b, REC_RCPT, "\xe2\x82\xac\xf0\x9f\x98\x80@example");
    add_content(b);
    assert_true(valid(b, MAILDROP_SUBMISSION));
    {
        maildrop_check *c = maildrop_check_new(MAILDROP_SUBMISSION, &lim, 0);

        assert_int_equal(maildrop_check_record(c, REC_FLAGS, "0", 1), MAILDROP_MORE);
        assert_int_equal(maildrop_check_record(c, REC_SENDER, "a", 1), MAILDROP_MORE);
        assert_int_equal(maildrop_check_info(c)->utf8_envelope, 0);
        assert_int_equal(maildrop_check_record(c, REC_RCPT, "\xc3\xbc@x", 4), MAILDROP_MORE);
        assert_int_equal(maildrop_check_info(c)->utf8_envelope, 1);
        maildrop_check_free(c);
    }
    vstr_free(b);
}

static void test_lengths_and_counts(void **state)
{
    char *big = malloc(MAILDROP_ADDR_MAX + 2);
    struct maildrop_limits small;
    vstr *b;
    long i;

    (void)state;
    memset(big, 'a', MAILDROP_ADDR_MAX + 1);
    big[MAILDROP_ADDR_MAX + 1] = '\0';
    b = vstr_new(64);
    add_envelope(b, "0", big);
    expect_bad(b, MAILDROP_SUBMISSION, "sender longer");
    big[MAILDROP_ADDR_MAX] = '\0';      /* exactly the maximum */
    b = vstr_new(64);
    add_envelope(b, "0", big);
    add(b, REC_RCPT, big);
    add_content(b);
    assert_true(valid(b, MAILDROP_SUBMISSION));
    vstr_free(b);
    b = vstr_new(64);                   /* empty recipient */
    add_envelope(b, "0", "a");
    add(b, REC_RCPT, "");
    expect_bad(b, MAILDROP_SUBMISSION, "recipient empty");
    free(big);

    small = lim;
    small.max_rcpts = 3;
    b = vstr_new(64);
    add_envelope(b, "0", "a");
    for (i = 0; i < 4; i++)
        add(b, REC_RCPT, "r@x");
    add_content(b);
    assert_int_equal(maildrop_validate(vstr_str(b), vstr_len(b), MAILDROP_SUBMISSION, &small,
                                       NULL), -1);
    vstr_free(b);

    /* Message size: envelope + content lines (+2 each), within the
     * limit less the headroom kept for what pickup and cleanup add. */
    maildrop_limits_init(&small, 100 + MAILDROP_HEADROOM);
    assert_true(small.max_size == 100);
    b = vstr_new(64);
    add_envelope(b, "0", "a");
    add(b, REC_RCPT, "r@x");
    add(b, REC_MESSAGE, "");
    for (i = 0; i < 20; i++)
        add(b, REC_LINE, "0123");
    add(b, REC_XTRA, "");
    add(b, REC_END, "");
    assert_int_equal(maildrop_validate(vstr_str(b), vstr_len(b), MAILDROP_SUBMISSION, &small,
                                       NULL), -1);
    vstr_free(b);
    assert_true(maildrop_raw_limit(&small) == 3 * 100 + 65536);
}

static void test_truncation_and_trailing_data(void **state)
{
    vstr *b = good_submission(), *t;
    size_t n;

    (void)state;
    /* Every proper prefix is invalid. */
    for (n = 0; n < vstr_len(b); n++)
        assert_int_equal(maildrop_validate(vstr_str(b), n, MAILDROP_SUBMISSION, &lim, NULL), -1);
    t = vstr_new(256);
    vstr_append(t, vstr_str(b), vstr_len(b));
    add(t, REC_END, "");
    expect_bad(t, MAILDROP_SUBMISSION, "after the end");
    t = vstr_new(256);
    vstr_append(t, vstr_str(b), vstr_len(b));
    vstr_putc(t, 'x');
    expect_bad(t, MAILDROP_SUBMISSION, "after the end");
    t = vstr_new(256);                  /* data in the E record */
    vstr_append(t, vstr_str(b), vstr_len(b) - 2);
    add(t, REC_END, "x");
    expect_bad(t, MAILDROP_SUBMISSION, "data in end");
    t = vstr_new(256);                  /* an invalid record type byte */
    vstr_append(t, vstr_str(b), 10);
    vstr_append(t, "Q\001x", 3);
    expect_bad(t, MAILDROP_SUBMISSION, NULL);
    t = vstr_new(256);                  /* a length beyond REC_MAX_LEN */
    add_envelope(t, "0", "a");
    vstr_append(t, "R\xff\xff\x7f", 4);
    expect_bad(t, MAILDROP_SUBMISSION, NULL);
    vstr_free(b);
}

/* A stream over a temporary file holding buf. */
static stream *stream_on(const vstr *buf, FILE **keep)
{
    FILE *f = tmpfile();

    assert_non_null(f);
    assert_int_equal(fwrite(vstr_str(buf), 1, vstr_len(buf), f), vstr_len(buf));
    fflush(f);
    rewind(f);
    *keep = f;
    return stream_fdopen(fileno(f));
}

static void test_stream_reader(void **state)
{
    vstr *b = good_submission(), *data = vstr_new(64);
    maildrop_check *c;
    FILE *f;
    stream *s;
    int type, st, n = 0;

    (void)state;
    s = stream_on(b, &f);
    c = maildrop_check_new(MAILDROP_SUBMISSION, &lim, 1);
    while ((st = maildrop_get(s, c, &type, data)) == MAILDROP_MORE)
        n++;
    assert_int_equal(st, MAILDROP_END);
    assert_int_equal(maildrop_expect_eof(s, c), MAILDROP_END);
    assert_int_equal(maildrop_check_info(c)->rcpt_count, 2);
    assert_string_equal(maildrop_check_info(c)->rcpts->v[1], "b@example.org");
    assert_string_equal(maildrop_check_info(c)->sender, "user@example.org");
    assert_true(maildrop_check_info(c)->size == (long long)vstr_len(b));
    maildrop_check_free(c);
    stream_free(s);
    fclose(f);

    /* Trailing byte after E. */
    vstr_putc(b, 'E');
    s = stream_on(b, &f);
    c = maildrop_check_new(MAILDROP_SUBMISSION, &lim, 0);
    while ((st = maildrop_get(s, c, &type, data)) == MAILDROP_MORE)
        ;
    assert_int_equal(st, MAILDROP_END);
    assert_int_equal(maildrop_expect_eof(s, c), MAILDROP_BAD);
    maildrop_check_free(c);
    stream_free(s);
    fclose(f);

    /* Truncated in the middle of a record. */
    vstr_truncate(b, vstr_len(b) - 6);
    s = stream_on(b, &f);
    c = maildrop_check_new(MAILDROP_SUBMISSION, &lim, 0);
    while ((st = maildrop_get(s, c, &type, data)) == MAILDROP_MORE)
        ;
    assert_int_equal(st, MAILDROP_BAD);
    assert_non_null(strstr(maildrop_check_why(c), "truncated"));
    /* Once bad, always bad. */
    assert_int_equal(maildrop_check_record(c, REC_END, "", 0), MAILDROP_BAD);
    maildrop_check_free(c);
    stream_free(s);
    fclose(f);
    vstr_free(b);
    vstr_free(data);
}

static void test_read_info(void **state)
{
    vstr *f = vstr_new(256), *sub = good_submission(), *why = vstr_new(64);
    struct maildrop_info info;
    FILE *tmp;
    stream *s;

    (void)state;
    add_header(f, "uid=1234");
    vstr_append(f, vstr_str(sub), vstr_len(sub));
    s = stream_on(f, &tmp);
    stream_free(s);
    assert_int_equal(maildrop_read_info(fileno(tmp), &lim, 10, &info, why), 0);
    assert_true(info.uid == 1234);
    assert_int_equal(info.utf8_envelope, 0);
    assert_true(info.time_sec == 1764043200LL);
    assert_int_equal(info.time_usec, 123456);
    assert_string_equal(info.sender, "user@example.org");
    assert_int_equal(info.rcpt_count, 2);
    assert_int_equal(info.rcpts->n, 2);
    assert_string_equal(info.rcpts->v[0], "a@example.org");
    assert_true(info.size == (long long)vstr_len(f));
    /* "Subject: test" + "" + "a long line " "ends here": (13+2)+(0+2)+(12+9+2) */
    assert_true(info.content_size == 40);
    maildrop_info_free(&info);
    fclose(tmp);

    vstr_truncate(f, vstr_len(f) - 2);
    s = stream_on(f, &tmp);
    stream_free(s);
    assert_int_equal(maildrop_read_info(fileno(tmp), &lim, 10, &info, why), -1);
    assert_non_null(strstr(vstr_str(why), "truncated"));
    fclose(tmp);
    vstr_free(f);
    vstr_free(sub);
    vstr_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_good_submission_and_file, setup),
        cmocka_unit_test_setup(test_null_sender_and_extract, setup),
        cmocka_unit_test_setup(test_bad_order, setup),
        cmocka_unit_test_setup(test_bad_header, setup),
        cmocka_unit_test_setup(test_bad_flags_and_notify, setup),
        cmocka_unit_test_setup(test_bad_attributes, setup),
        cmocka_unit_test_setup(test_bad_text, setup),
        cmocka_unit_test_setup(test_lengths_and_counts, setup),
        cmocka_unit_test_setup(test_truncation_and_trailing_data, setup),
        cmocka_unit_test_setup(test_stream_reader, setup),
        cmocka_unit_test_setup(test_read_info, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

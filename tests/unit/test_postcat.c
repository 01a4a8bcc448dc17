/* Unit tests of postcat's printer: the layout of every section, section
 * selection, long lines in pieces, hostile envelope text, and malformed
 * files (truncated, bad records, misplaced records) reported with their
 * offset and without a crash. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "postcat.h"
#include "record.h"
#include "stream.h"
#include "vstr.h"

static void put(vstr *f, int type, const char *s)
{
    rec_append(f, type, s, strlen(s));
}

/* A small queue file. */
static vstr *sample(void)
{
    vstr *f = vstr_new(512);

    put(f, REC_VERSION, "1");
    put(f, REC_SIZE, "42 100 2                                        ");
    put(f, REC_TIME, "1700000000.123456");
    put(f, REC_FLAGS, "1");
    put(f, REC_SENDER, "a@example.org");
    put(f, REC_ATTR, "protocol=ESMTP");
    put(f, REC_ORCPT, "rfc822;c@example.net");
    put(f, REC_RCPT, "c@example.net");
    put(f, REC_DONE, "d@example.net");
    put(f, REC_MESSAGE, "");
    put(f, REC_LINE, "Subject: hi");
    put(f, REC_LINE, "\tthere");
    put(f, REC_LINE, "From: a@example.org");
    put(f, REC_LINE, "");
    put(f, REC_CONT, "long ");
    put(f, REC_LINE, "line");
    put(f, REC_LINE, "Not: a header here");
    put(f, REC_XTRA, "");
    put(f, REC_RCPT, "e@example.net");
    put(f, REC_END, "");
    return f;
}

/* Run the printer on a file image; returns its status, output in out. */
static int run(const vstr *file, int sections, vstr *out, vstr *err)
{
    FILE *tmp = tmpfile();
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    stream *s;
    int ret;

    assert_non_null(tmp);
    assert_non_null(mem);
    if (vstr_len(file) > 0)
        assert_int_equal(fwrite(vstr_str(file), 1, vstr_len(file), tmp), vstr_len(file));
    fflush(tmp);
    rewind(tmp);
    s = stream_fdopen(dup(fileno(tmp)));
    vstr_reset(err);
    ret = postcat_print(s, mem, "deferred/X/ID", sections, err);
    stream_close(s);
    fclose(mem);
    fclose(tmp);
    vstr_setn(out, buf, len);
    free(buf);
    return ret;
}

static int setup(void **state)
{
    (void) state;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

static void test_all_sections(void **state)
{
    vstr *f = sample(), *out = vstr_new(512), *err = vstr_new(64);

    (void) state;
    assert_int_equal(run(f, POSTCAT_ALL, out, err), 0);
    assert_string_equal(vstr_str(out),
                        "*** ENVELOPE RECORDS deferred/X/ID ***\n"
                        "queue_file_version: 1\n"
                        "message_size: 42 100 2\n"
                        "message_arrival_time: Tue Nov 14 22:13:20 2023\n"
                        "message_flags: 1\n"
                        "sender: a@example.org\n"
                        "named_attribute: protocol=ESMTP\n"
                        "original_recipient: rfc822;c@example.net\n"
                        "recipient: c@example.net\n"
                        "done_recipient: d@example.net\n"
                        "*** MESSAGE CONTENTS deferred/X/ID ***\n"
                        "Subject: hi\n"
                        "\tthere\n"
                        "From: a@example.org\n"
                        "\n"
                        "long line\n"
                        "Not: a header here\n"
                        "*** HEADER EXTRACTED deferred/X/ID ***\n"
                        "recipient: e@example.net\n"
                        "*** MESSAGE FILE END deferred/X/ID ***\n");
    vstr_free(f);
    vstr_free(out);
    vstr_free(err);
}

static void test_sections(void **state)
{
    vstr *f = sample(), *out = vstr_new(512), *err = vstr_new(64);

    (void) state;
    assert_int_equal(run(f, POSTCAT_HEADER, out, err), 0);
    assert_string_equal(vstr_str(out), "Subject: hi\n\tthere\nFrom: a@example.org\n");
    assert_int_equal(run(f, POSTCAT_BODY, out, err), 0);
    assert_string_equal(vstr_str(out), "\nlong line\nNot: a header here\n");
    assert_int_equal(run(f, POSTCAT_HEADER | POSTCAT_BODY, out, err), 0);
    assert_string_equal(vstr_str(out), "Subject: hi\n\tthere\nFrom: a@example.org\n\n"
                                       "long line\nNot: a header here\n");
    assert_int_equal(run(f, POSTCAT_ENVELOPE, out, err), 0);
    assert_non_null(strstr(vstr_str(out), "sender: a@example.org\n"));
    assert_non_null(strstr(vstr_str(out), "*** MESSAGE FILE END deferred/X/ID ***\n"));
    assert_null(strstr(vstr_str(out), "Subject"));
    vstr_free(f);
    vstr_free(out);
    vstr_free(err);
}

static void test_hostile_envelope(void **state)
{
    vstr *f = vstr_new(256), *out = vstr_new(512), *err = vstr_new(64);

    (void) state;
    put(f, REC_SENDER, "a\x1b[2J@x\r\nrecipient: forged");
    put(f, REC_TIME, "not a time");
    put(f, REC_MESSAGE, "");
    put(f, REC_LINE, "no header line");
    put(f, REC_XTRA, "");
    put(f, REC_END, "");
    assert_int_equal(run(f, POSTCAT_ALL, out, err), 0);
    assert_non_null(strstr(vstr_str(out), "sender: a?[2J@x??recipient: forged\n"));
    assert_non_null(strstr(vstr_str(out), "message_arrival_time: not a time\n"));
    /* The first line is no header: everything is body. */
    assert_int_equal(run(f, POSTCAT_HEADER, out, err), 0);
    assert_string_equal(vstr_str(out), "");
    vstr_free(f);
    vstr_free(out);
    vstr_free(err);
}

static void expect_bad(const vstr *f, const char *what)
{
    vstr *out = vstr_new(512), *err = vstr_new(64);

    assert_int_equal(run(f, POSTCAT_ALL, out, err), -1);
    if (strstr(vstr_str(err), what) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", vstr_str(err), what);
    vstr_free(out);
    vstr_free(err);
}

static void test_malformed(void **state)
{
    vstr *full = sample(), *f = vstr_new(512);
    size_t cut;

    (void) state;
    /* Empty file, and every truncation of a good one. */
    expect_bad(f, "truncated");
    for (cut = 1; cut < vstr_len(full); cut++) {
        vstr_setn(f, vstr_str(full), cut);
        vstr *out = vstr_new(64), *err = vstr_new(64);

        assert_int_equal(run(f, POSTCAT_ALL, out, err), -1);
        assert_true(vstr_len(err) > 0);
        vstr_free(out);
        vstr_free(err);
    }
    /* A bad type byte: reported with its offset. */
    vstr_set(f, "");
    put(f, REC_SENDER, "a@b");
    vstr_append(f, "?\x01x", 3);
    expect_bad(f, "malformed record at offset 5");
    /* Content records outside the content, envelope records inside. */
    vstr_set(f, "");
    put(f, REC_LINE, "x");
    expect_bad(f, "outside the message content");
    vstr_set(f, "");
    put(f, REC_MESSAGE, "");
    put(f, REC_RCPT, "x@y");
    expect_bad(f, "inside the message content");
    /* Unfinished line, second M, E without content, data after E. */
    vstr_set(f, "");
    put(f, REC_MESSAGE, "");
    put(f, REC_CONT, "x");
    put(f, REC_XTRA, "");
    expect_bad(f, "unfinished content line");
    vstr_set(f, "");
    put(f, REC_MESSAGE, "");
    put(f, REC_XTRA, "");
    put(f, REC_MESSAGE, "");
    expect_bad(f, "second message content");
    vstr_set(f, "");
    put(f, REC_END, "");
    expect_bad(f, "end record without message content");
    vstr_set(f, vstr_str(full));
    vstr_setn(f, vstr_str(full), vstr_len(full));
    put(f, REC_RCPT, "late@x");
    expect_bad(f, "data after the end record");
    vstr_free(full);
    vstr_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_sections),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_hostile_envelope),
        cmocka_unit_test(test_malformed),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}

/* Unit tests for postqueue's showq stream reader (well-formed streams fed
 * whole and byte by byte, and malformed ones: bad order, missing or
 * extra attributes, overlong names and values, junk after the end) and
 * its output formats: the mailq listing and JSON with string escaping. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "showq_proto.h"
#include "flush.h"
#include "vstr.h"

struct collected {
    vstr *json;
    int count;
};

static void collect(const struct showq_entry *e, void *ctx)
{
    struct collected *c = ctx;

    c->count++;
    showq_json_entry(e, c->json);
}

/* Build a stream image from "name=value" items; "" ends a list. */
static void image(vstr *out, const char *const *items)
{
    for (; *items != NULL; items++) {
        const char *eq = strchr(*items, '=');

        if (**items == '\0') {
            vstr_putc(out, '\0');
        } else {
            vstr_append(out, *items, (size_t)(eq - *items));
            vstr_putc(out, '\0');
            vstr_puts(out, eq + 1);
            vstr_putc(out, '\0');
        }
    }
}

static const char *const good[] = {
    "protocol=mail_queue_list_protocol", "",
    "queue_name=deferred", "queue_id=1ABC", "time=1700000000", "size=2048",
    "forced_expire=0", "sender=a@example.org", "recipient=b@example.net",
    "reason=host said: 451 try later", "recipient=c@example.net", "reason=", "",
    "queue_name=active", "queue_id=2DEF", "time=1700000100", "size=100",
    "sender=", "",
    "",
    NULL,
};

static int parse(const vstr *img, struct collected *c, vstr *err, size_t step)
{
    showq_reader *r = showq_reader_new(collect, c);
    int status = 0;

    for (size_t off = 0; off < vstr_len(img) && status == 0; off += step) {
        size_t n = vstr_len(img) - off < step ? vstr_len(img) - off : step;

        status = showq_reader_feed(r, vstr_str(img) + off, n, err);
    }
    if (status == 1 && !showq_reader_done(r))
        status = -2;
    showq_reader_free(r);
    return status;
}

static void test_good_stream(void **state)
{
    vstr *img = vstr_new(256), *err = vstr_new(64);
    struct collected c = {vstr_new(256), 0};
    size_t steps[] = {1, 2, 7, 4096};

    (void)state;
    image(img, good);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        vstr_reset(c.json);
        c.count = 0;
        assert_int_equal(parse(img, &c, err, steps[i]), 1);
        assert_int_equal(c.count, 2);
        assert_string_equal(vstr_str(c.json),
            "{\"queue_name\": \"deferred\", \"queue_id\": \"1ABC\", \"arrival_time\": 1700000000, "
            "\"message_size\": 2048, \"forced_expire\": false, \"sender\": \"a@example.org\", "
            "\"recipients\": [{\"address\": \"b@example.net\", \"delay_reason\": \"host said: 451 "
            "try later\"}, {\"address\": \"c@example.net\"}]}\n"
            "{\"queue_name\": \"active\", \"queue_id\": \"2DEF\", \"arrival_time\": 1700000100, "
            "\"message_size\": 100, \"forced_expire\": false, \"sender\": \"\", \"recipients\": []}\n");
    }
    vstr_free(img);
    vstr_free(err);
    vstr_free(c.json);
}

static void expect_bad(const char *const *items, const char *why)
{
    vstr *img = vstr_new(256), *err = vstr_new(64);
    struct collected c = {vstr_new(256), 0};

    image(img, items);
    assert_int_not_equal(parse(img, &c, err, 4096), 1);
    if (why != NULL && strstr(vstr_str(err), why) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", vstr_str(err), why);
    vstr_free(img);
    vstr_free(err);
    vstr_free(c.json);
}

static void test_malformed_streams(void **state)
{
    static const char *const no_announce[] = {"queue_name=deferred", "", "", NULL};
    static const char *const wrong_proto[] = {"protocol=other", "", "", NULL};
    static const char *const announce_extra[] = {
        "protocol=mail_queue_list_protocol", "version=1", "", "", NULL};
    static const char *const bad_queue[] = {
        "protocol=mail_queue_list_protocol", "", "queue_name=../etc", "", "", NULL};
    static const char *const bad_id[] = {
        "protocol=mail_queue_list_protocol", "", "queue_name=hold", "queue_id=a/b", "", "", NULL};
    static const char *const bad_time[] = {
        "protocol=mail_queue_list_protocol", "", "queue_name=hold", "queue_id=A", "time=-1", "",
        "", NULL};
    static const char *const huge_size[] = {
        "protocol=mail_queue_list_protocol", "", "queue_name=hold", "queue_id=A", "time=1",
        "size=99999999999999999999", "", "", NULL};
    static const char *const no_sender[] = {
        "protocol=mail_queue_list_protocol", "", "queue_name=hold", "queue_id=A", "time=1",
        "size=1", "", "", NULL};
    static const char *const rcpt_no_reason[] = {
        "protocol=mail_queue_list_protocol", "", "queue_name=hold", "queue_id=A", "time=1",
        "size=1", "sender=", "recipient=x", "", "", NULL};
    static const char *const unknown_attr[] = {
        "protocol=mail_queue_list_protocol", "", "queue_name=hold", "queue_id=A", "time=1",
        "size=1", "sender=", "color=red", "", "", NULL};
    static const char *const two_expire[] = {
        "protocol=mail_queue_list_protocol", "", "queue_name=hold", "queue_id=A", "time=1",
        "size=1", "forced_expire=0", "forced_expire=1", "sender=", "", "", NULL};
    static const char *const bad_expire[] = {
        "protocol=mail_queue_list_protocol", "", "queue_name=hold", "queue_id=A", "time=1",
        "size=1", "forced_expire=yes", "sender=", "", "", NULL};
    static const char *const after_end[] = {
        "protocol=mail_queue_list_protocol", "", "", "queue_name=hold", NULL};
    static const char *const no_end[] = {"protocol=mail_queue_list_protocol", "", NULL};

    (void)state;
    expect_bad(no_announce, "not a mail_queue_list_protocol");
    expect_bad(wrong_proto, "not a mail_queue_list_protocol");
    expect_bad(announce_extra, NULL);
    expect_bad(bad_queue, "queue_name");
    expect_bad(bad_id, "queue_id");
    expect_bad(bad_time, "time");
    expect_bad(huge_size, "size");
    expect_bad(no_sender, "incomplete");
    expect_bad(rcpt_no_reason, "incomplete");
    expect_bad(unknown_attr, "unexpected");
    expect_bad(two_expire, "sender");
    expect_bad(bad_expire, "forced_expire");
    expect_bad(after_end, "after the end");
    expect_bad(no_end, NULL);
}

static void test_length_limits(void **state)
{
    vstr *img = vstr_new(1 << 17), *err = vstr_new(64);
    struct collected c = {vstr_new(256), 0};
    size_t i;

    (void)state;
    /* A name longer than the limit. */
    for (i = 0; i <= SHOWQ_MAX_NAME; i++)
        vstr_putc(img, 'n');
    assert_int_equal(parse(img, &c, err, 4096), -1);
    assert_non_null(strstr(vstr_str(err), "name too long"));
    /* A value longer than the limit, without any NUL. */
    vstr_reset(img);
    image(img, (const char *const[]){"protocol=mail_queue_list_protocol", "", NULL});
    vstr_append(img, "sender", 7);
    for (i = 0; i <= SHOWQ_MAX_VALUE; i++)
        vstr_putc(img, 'v');
    assert_int_equal(parse(img, &c, err, 4096), -1);
    assert_non_null(strstr(vstr_str(err), "value too long"));
    /* An error is sticky. */
    {
        showq_reader *r = showq_reader_new(collect, &c);

        assert_int_equal(showq_reader_feed(r, "x\0y\0\0", 5, err), -1);
        assert_int_equal(showq_reader_feed(r, "", 0, err), -1);
        showq_reader_free(r);
    }
    vstr_free(img);
    vstr_free(err);
    vstr_free(c.json);
}

static void test_json_escaping(void **state)
{
    vstr *out = vstr_new(64);

    (void)state;
    showq_json_string(out, "a\"b\\c\n\t\x01\x7f", 9);
    assert_string_equal(vstr_str(out), "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\"");
    vstr_reset(out);
    /* Valid UTF-8 passes; invalid bytes, overlongs and surrogates become
     * U+FFFD. */
    showq_json_string(out, "\xc3\xa9\xff\xc0\xaf\xed\xa0\x80\xf0\x9f\x98\x80", 12);
    assert_string_equal(vstr_str(out),
                        "\"\xc3\xa9\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\xf0\x9f\x98\x80\"");
    vstr_reset(out);
    showq_json_string(out, "\xe2\x82", 2);          /* truncated sequence */
    assert_string_equal(vstr_str(out), "\"\\ufffd\\ufffd\"");
    vstr_free(out);
}

static void test_listing_format(void **state)
{
    struct showq_rcpt rcpts[] = {
        {"b@example.net", "connect to x: refused"},
        {"c@example.net", "connect to x: refused"},
        {"d\x1b[31m@example.net", ""},
    };
    struct showq_entry e = {"active", "1LGCNRVI27NC4KC", 0, 1500, 0, "", rcpts, 3};
    showq_listing *l = showq_listing_new();
    vstr *out = vstr_new(256), *want = vstr_new(256);
    struct tm tm;
    char date[32];
    time_t when;

    (void)state;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = 123, tm.tm_mon = 1, tm.tm_mday = 4, tm.tm_hour = 13, tm.tm_min = 5;
    tm.tm_isdst = -1;
    when = mktime(&tm);
    e.arrival = (long long)when;
    strftime(date, sizeof(date), "%a %b %e %H:%M:%S", localtime(&when));
    showq_listing_entry(l, &e, out);
    e.queue_name = "hold";
    e.sender = "s@example.org";
    e.nrcpt = 0;
    e.size = 700;
    showq_listing_entry(l, &e, out);
    showq_listing_end(l, out);
    vstr_printf(want, "-Queue ID-       --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
                "1LGCNRVI27NC4KC*     1500 %s  MAILER-DAEMON\n"
                "(connect to x: refused)\n"
                "%47sb@example.net\n%47sc@example.net\n%47sd?[31m@example.net\n\n"
                "1LGCNRVI27NC4KC!      700 %s  s@example.org\n\n"
                "-- 3 Kbytes in 2 Requests.\n", date, "", "", "", date);
    assert_string_equal(vstr_str(out), vstr_str(want));
    showq_listing_free(l);

    l = showq_listing_new();
    vstr_reset(out);
    showq_listing_end(l, out);
    assert_string_equal(vstr_str(out), "Mail queue is empty\n");
    showq_listing_free(l);
    vstr_free(out);
    vstr_free(want);
}

static void test_flush_site_syntax(void **state)
{
    static const char *const good_sites[] = {
        "example.com", "a", "mx-1.example.org", "[192.0.2.1]", "[IPv6:2001:db8::1]", NULL,
    };
    static const char *const bad_sites[] = {
        "", "a..b", ".a", "a.", "[", "[]", "[x]", "[IPv6:]", "a b", "a;b", "a/b", "[1.2.3.4",
        "\x1b[31m", NULL,
    };
    char long_site[300], long_label[70];

    (void)state;
    for (int i = 0; good_sites[i] != NULL; i++)
        if (!flush_site_valid(good_sites[i]))
            fail_msg("refused %s", good_sites[i]);
    for (int i = 0; bad_sites[i] != NULL; i++)
        if (flush_site_valid(bad_sites[i]))
            fail_msg("accepted %s", bad_sites[i]);
    memset(long_site, 'a', sizeof(long_site) - 1);
    long_site[sizeof(long_site) - 1] = '\0';
    for (size_t i = 50; i < sizeof(long_site) - 1; i += 50)
        long_site[i] = '.';
    assert_false(flush_site_valid(long_site));
    memset(long_label, 'b', sizeof(long_label) - 1);
    long_label[sizeof(long_label) - 1] = '\0';
    assert_false(flush_site_valid(long_label));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_stream),
        cmocka_unit_test(test_malformed_streams),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_listing_format),
        cmocka_unit_test(test_flush_site_syntax),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

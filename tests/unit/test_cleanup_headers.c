/* Unit tests for cleanup's header helpers: line classification, field
 * matching, the header scanner (Message-ID/Date/From), and the Date: and
 * Message-ID: formats. */
#include "mail_date.h"
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include "cleanup_headers.h"
#include "vstr.h"

#define S(x) x, strlen(x)

static void test_line_kind(void **state)
{
    (void)state;
    assert_int_equal(hdr_line_kind(S("Subject: hi")), HDR_KIND_FIELD);
    assert_int_equal(hdr_line_kind(S("X-Empty:")), HDR_KIND_FIELD);
    assert_int_equal(hdr_line_kind(S("Subject : obsolete space")), HDR_KIND_FIELD);
    assert_int_equal(hdr_line_kind(S(" folded")), HDR_KIND_CONT);
    assert_int_equal(hdr_line_kind(S("\tfolded")), HDR_KIND_CONT);
    assert_int_equal(hdr_line_kind("", 0), HDR_KIND_EMPTY);
    assert_int_equal(hdr_line_kind(S("no colon here")), HDR_KIND_OTHER);
    assert_int_equal(hdr_line_kind(S(":starts with colon")), HDR_KIND_OTHER);
    assert_int_equal(hdr_line_kind(S("bad name: x")), HDR_KIND_OTHER);
    assert_int_equal(hdr_line_kind(S("From someone Tue Jun 3")), HDR_KIND_OTHER);
    assert_int_equal(hdr_line_kind(S("Na\x01me: x")), HDR_KIND_OTHER);
    assert_int_equal(hdr_line_kind(S("Name   ")), HDR_KIND_OTHER);
}

static void test_field_value(void **state)
{
    size_t vlen = 0;
    const char *v;

    (void)state;
    v = hdr_field_value(S("MESSAGE-ID: <a@b>"), "message-id", &vlen);
    assert_non_null(v);
    assert_int_equal(vlen, 6);
    assert_memory_equal(v, " <a@b>", 6);
    v = hdr_field_value(S("Date\t: x"), "date", &vlen);
    assert_non_null(v);
    assert_int_equal(vlen, 2);
    assert_null(hdr_field_value(S("Dated: x"), "date", &vlen));
    assert_null(hdr_field_value(S("Dat: x"), "date", &vlen));
    assert_null(hdr_field_value(S(" Date: x"), "date", &vlen));
    assert_null(hdr_field_value("", 0, "date", &vlen));
}

static void test_scan(void **state)
{
    hdr_scan h;

    (void)state;
    hdr_scan_init(&h);
    assert_int_equal(hdr_scan_line(&h, S("Received: from x")), HDR_KIND_FIELD);
    assert_int_equal(hdr_scan_line(&h, S("\tby y")), HDR_KIND_CONT);
    assert_int_equal(hdr_scan_line(&h, S("message-id:")), HDR_KIND_FIELD);
    assert_int_equal(hdr_scan_line(&h, S("  <abc@example.org>  ")), HDR_KIND_CONT);
    assert_int_equal(hdr_scan_line(&h, S("Message-ID: <second@x>")), HDR_KIND_FIELD);
    assert_int_equal(hdr_scan_line(&h, S("FROM: a@b")), HDR_KIND_FIELD);
    assert_int_equal(hdr_scan_line(&h, "", 0), HDR_KIND_EMPTY);
    assert_int_equal(h.seen, HDR_SEEN_MSGID | HDR_SEEN_FROM);
    assert_string_equal(hdr_scan_msgid(&h), "<abc@example.org>");
    hdr_scan_free(&h);

    hdr_scan_init(&h);
    /* A continuation line cannot start a header. */
    assert_int_equal(hdr_scan_line(&h, S(" leading space")), HDR_KIND_OTHER);
    assert_int_equal(hdr_scan_line(&h, S("Date: Mon, 1 Jan 2024 00:00:00 +0000")), HDR_KIND_FIELD);
    assert_int_equal(hdr_scan_line(&h, S("body text without colon")), HDR_KIND_OTHER);
    assert_int_equal(h.seen, HDR_SEEN_DATE);
    assert_string_equal(hdr_scan_msgid(&h), "");
    hdr_scan_free(&h);
}

static void test_scan_msgid_bounded(void **state)
{
    hdr_scan h;
    char *big = malloc(5000);
    int i;

    (void)state;
    memset(big, 'x', 5000);
    memcpy(big, "Message-ID: <", 13);
    hdr_scan_init(&h);
    assert_int_equal(hdr_scan_line(&h, big, 5000), HDR_KIND_FIELD);
    for (i = 0; i < 10; i++)
        assert_int_equal(hdr_scan_line(&h, S(" more more more")), HDR_KIND_CONT);
    assert_true(strlen(hdr_scan_msgid(&h)) <= HDR_MSGID_MAX);
    hdr_scan_free(&h);
    free(big);
}

static void test_date_format(void **state)
{
    struct tm tm;
    vstr *v = vstr_new(64);

    (void)state;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = 2025 - 1900;
    tm.tm_mon = 5;
    tm.tm_mday = 3;
    tm.tm_wday = 2;
    tm.tm_hour = 14;
    tm.tm_min = 5;
    tm.tm_sec = 9;
    mail_date_format_tm(v, &tm, 7200);
    assert_string_equal(vstr_str(v), "Tue, 3 Jun 2025 14:05:09 +0200");
    vstr_reset(v);
    mail_date_format_tm(v, &tm, -(3 * 3600 + 30 * 60));
    assert_string_equal(vstr_str(v), "Tue, 3 Jun 2025 14:05:09 -0330");
    vstr_reset(v);
    mail_date_format_tm(v, &tm, 0);
    assert_string_equal(vstr_str(v), "Tue, 3 Jun 2025 14:05:09 +0000");
    vstr_free(v);
}

static void test_date_now_parses(void **state)
{
    vstr *v = vstr_new(64);
    char wday[8], mon[8], zone[8];
    int day, year, hh, mm, ss, n = 0;

    (void)state;
    mail_date_format(v, time(NULL));
    assert_int_equal(sscanf(vstr_str(v), "%3s, %d %3s %d %2d:%2d:%2d %5s%n", wday, &day, mon,
                            &year, &hh, &mm, &ss, zone, &n), 8);
    assert_int_equal((size_t)n, vstr_len(v));
    assert_int_equal(wday[3], '\0');
    assert_int_equal(vstr_str(v)[3], ',');
    assert_true(zone[0] == '+' || zone[0] == '-');
    assert_int_equal(strlen(zone), 5);
    vstr_free(v);
}

static void test_msgid(void **state)
{
    vstr *v = vstr_new(64);

    (void)state;
    hdr_make_msgid(v, (time_t)1748959509, "0123456789ABCDE", "mail.example.org");
    assert_string_equal(vstr_str(v), "<20250603140509.0123456789ABCDE@mail.example.org>");
    vstr_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_kind),
        cmocka_unit_test(test_field_value),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_scan_msgid_bounded),
        cmocka_unit_test(test_date_format),
        cmocka_unit_test(test_date_now_parses),
        cmocka_unit_test(test_msgid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for lib/smtp_reply.c: remote server replies (single and
 * multi-line, enhanced status codes, malformed input, bounds) and the
 * EHLO extension keywords. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "smtp_reply.h"
#include "vstr.h"

static ssize_t parse(struct smtp_reply *r, const char *text, vstr *why)
{
    return smtp_reply_parse(r, text, strlen(text), why);
}

static void test_single_line(void **state)
{
    struct smtp_reply r;
    vstr *why = vstr_new(16), *st = vstr_new(16);

    smtp_reply_init(&r);
    assert_int_equal(parse(&r, "250 2.1.0 Ok\r\n", why), 14);
    assert_int_equal(r.code, 250);
    assert_string_equal(vstr_str(r.dsn), "2.1.0");
    assert_string_equal(vstr_str(r.text), "Ok");
    assert_string_equal(vstr_str(r.raw), "250 2.1.0 Ok");
    smtp_reply_status(&r, st);
    assert_string_equal(vstr_str(st), "2.1.0");

    /* Code alone, no enhanced code: status from the code's class. */
    assert_int_equal(parse(&r, "354\r\n", why), 5);
    assert_int_equal(r.code, 354);
    assert_string_equal(vstr_str(r.dsn), "");
    assert_int_equal(parse(&r, "550 no such user\n", why), 17);
    smtp_reply_status(&r, st);
    assert_string_equal(vstr_str(st), "5.0.0");
    /* An enhanced code of another class is text, not the status. */
    assert_true(parse(&r, "450 5.1.1 odd\r\n", why) > 0);
    assert_string_equal(vstr_str(r.dsn), "");
    smtp_reply_status(&r, st);
    assert_string_equal(vstr_str(st), "4.0.0");
    smtp_reply_free(&r);
    vstr_free(why);
    vstr_free(st);
    (void) state;
}

static void test_multi_line(void **state)
{
    struct smtp_reply r;
    vstr *why = vstr_new(16);
    const char *text = "550-5.1.1 The account\r\n550-5.1.1 does not\r\n550 5.1.1 exist\r\nNEXT";

    smtp_reply_init(&r);
    assert_int_equal(parse(&r, text, why), (ssize_t) (strlen(text) - 4));
    assert_int_equal(r.code, 550);
    assert_int_equal(r.nlines, 3);
    assert_string_equal(vstr_str(r.dsn), "5.1.1");
    assert_string_equal(vstr_str(r.raw), "550-5.1.1 The account 550-5.1.1 does not 550 5.1.1 exist");
    assert_string_equal(vstr_str(r.text), "The account\ndoes not\nexist");
    /* Incomplete: no final line yet. */
    assert_int_equal(parse(&r, "250-a\r\n250-b\r\n", why), 0);
    assert_int_equal(parse(&r, "250-a\r\n250 b", why), 0);
    smtp_reply_free(&r);
    vstr_free(why);
    (void) state;
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "\r\n",                         /* empty */
        "hello\r\n",                    /* no code */
        "25\r\n",                       /* short code */
        "2500 x\r\n",                   /* code followed by a digit */
        "250_x\r\n",                    /* bad separator */
        "099 x\r\n", "600 x\r\n", "160 x\r\n",  /* out of range */
        "260 x\r\n",                    /* second digit above 5 */
        "25a x\r\n",
        "250-a\r\n251 b\r\n",           /* mixed codes */
        "250-a\r\n550 b\r\n",
        "250-a\r\nbogus\r\n",
    };
    struct smtp_reply r;
    vstr *why = vstr_new(16);
    size_t i;

    smtp_reply_init(&r);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vstr_reset(why);
        assert_int_equal(parse(&r, bad[i], why), -1);
        assert_true(vstr_len(why) > 0);
    }
    /* Control bytes inside a line are shown as '?'. */
    assert_true(parse(&r, "550 a\rb\x1b[31m\r\n", why) > 0);
    assert_string_equal(vstr_str(r.raw), "550 a?b?[31m");
    /* NUL inside a line. */
    assert_int_equal(smtp_reply_parse(&r, "250 a\0b\r\n", 9, why), -1);
    /* Lines after the end are refused by the line interface. */
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_add_line(&r, "250 ok", 6, why), SMTP_REPLY_DONE);
    assert_int_equal(smtp_reply_add_line(&r, "250 ok", 6, why), SMTP_REPLY_BAD);
    smtp_reply_free(&r);
    vstr_free(why);
    (void) state;
}

static void test_bounds(void **state)
{
    struct smtp_reply r;
    vstr *why = vstr_new(16);
    vstr *text = vstr_new(8192);
    int i;

    smtp_reply_init(&r);
    /* A line of exactly the limit is fine; one byte more is not. */
    vstr_puts(text, "250 ");
    for (i = 4; i < SMTP_REPLY_LINE_MAX; i++)
        vstr_putc(text, 'x');
    assert_int_equal(smtp_reply_add_line(&r, vstr_str(text), vstr_len(text), why),
                     SMTP_REPLY_DONE);
    smtp_reply_reset(&r);
    vstr_putc(text, 'x');
    assert_int_equal(smtp_reply_add_line(&r, vstr_str(text), vstr_len(text), why),
                     SMTP_REPLY_BAD);
    /* In the buffer form, a long unterminated line is refused too. */
    assert_int_equal(smtp_reply_parse(&r, vstr_str(text), vstr_len(text), why), 0);
    vstr_putc(text, 'x');
    assert_int_equal(smtp_reply_parse(&r, vstr_str(text), vstr_len(text), why), -1);

    /* Too many lines. */
    vstr_reset(text);
    for (i = 0; i < SMTP_REPLY_LINES_MAX; i++)
        vstr_puts(text, "250-x\r\n");
    vstr_puts(text, "250 end\r\n");
    assert_int_equal(parse(&r, vstr_str(text), why), -1);
    assert_string_equal(vstr_str(why), "too many reply lines");
    /* One fewer is fine. */
    vstr_reset(text);
    for (i = 0; i < SMTP_REPLY_LINES_MAX - 1; i++)
        vstr_puts(text, "250-x\r\n");
    vstr_puts(text, "250 end\r\n");
    assert_true(parse(&r, vstr_str(text), why) > 0);
    smtp_reply_free(&r);
    vstr_free(why);
    vstr_free(text);
    (void) state;
}

static void test_dsn_prefix(void **state)
{
    assert_int_equal(smtp_dsn_prefix("5.1.1 x", 7), 5);
    assert_int_equal(smtp_dsn_prefix("4.7.100", 7), 7);
    assert_int_equal(smtp_dsn_prefix("2.123.456 ok", 12), 9);
    assert_int_equal(smtp_dsn_prefix("3.1.1 x", 7), 0);       /* bad class */
    assert_int_equal(smtp_dsn_prefix("5.1 x", 5), 0);
    assert_int_equal(smtp_dsn_prefix("5..1 x", 6), 0);
    assert_int_equal(smtp_dsn_prefix("5.1234.1", 8), 0);      /* too many digits */
    assert_int_equal(smtp_dsn_prefix("5.1.1x", 6), 0);        /* not followed by space */
    assert_int_equal(smtp_dsn_prefix("5.1.", 4), 0);
    assert_int_equal(smtp_dsn_prefix("5.a.1", 5), 0);
    (void) state;
}

static void test_ehlo(void **state)
{
    struct smtp_reply r;
    struct smtp_ext ext;
    vstr *why = vstr_new(16);

    smtp_reply_init(&r);
    assert_true(parse(&r,
                      "250-mx.example Hello\r\n250-pipelining\r\n250-SIZE 10240000\r\n"
                      "250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n"
                      "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 CHUNKING\r\n", why) > 0);
    smtp_ehlo_parse(&r, &ext);
    assert_int_equal(ext.flags, SMTP_EXT_PIPELINING | SMTP_EXT_SIZE | SMTP_EXT_8BITMIME
                                    | SMTP_EXT_SMTPUTF8 | SMTP_EXT_DSN
                                    | SMTP_EXT_ENHANCEDSTATUSCODES | SMTP_EXT_STARTTLS);
    assert_int_equal(ext.size, 10240000);

    /* The first line is the greeting: keywords there do not count. */
    assert_true(parse(&r, "250 PIPELINING\r\n", why) > 0);
    smtp_ehlo_parse(&r, &ext);
    assert_int_equal(ext.flags, 0);

    /* SIZE without a number, with garbage, and prefixes of keywords. */
    assert_true(parse(&r, "250-x\r\n250-SIZE\r\n250-PIPE\r\n250 DSNX\r\n", why) > 0);
    smtp_ehlo_parse(&r, &ext);
    assert_int_equal(ext.flags, SMTP_EXT_SIZE);
    assert_int_equal(ext.size, 0);
    assert_true(parse(&r, "250-x\r\n250 SIZE 12abc\r\n", why) > 0);
    smtp_ehlo_parse(&r, &ext);
    assert_int_equal(ext.flags, SMTP_EXT_SIZE);
    assert_int_equal(ext.size, 0);
    assert_true(parse(&r, "250-x\r\n250 SIZE 99999999999999999999999\r\n", why) > 0);
    smtp_ehlo_parse(&r, &ext);
    assert_int_equal(ext.size, 0);

    /* Only a 250 reply carries extensions. */
    assert_true(parse(&r, "502-x\r\n502 PIPELINING\r\n", why) > 0);
    smtp_ehlo_parse(&r, &ext);
    assert_int_equal(ext.flags, 0);
    smtp_reply_free(&r);
    vstr_free(why);
    (void) state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_line),
        cmocka_unit_test(test_multi_line),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_dsn_prefix),
        cmocka_unit_test(test_ehlo),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

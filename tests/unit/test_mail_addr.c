/* Unit tests for lib/mail_addr.c: RFC 5321 path parsing (well-formed and
 * hostile input), ESMTP parameter splitting, xtext, and the address
 * helpers. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "mail_addr.h"
#include "vstr.h"

/* Parse s; returns the result and leaves the address in *out. */
static int parse(const char *s, int flags, vstr *out, const char **rest)
{
    const char *why = NULL, *r = NULL;
    int ret = smtp_path_parse(s, strlen(s), flags, out, &r, &why);

    if (ret < 0)
        assert_non_null(why);
    if (rest)
        *rest = r;
    return ret;
}

static void expect_ok(const char *in, int flags, const char *want)
{
    vstr *v = vstr_new(16);
    const char *rest;

    if (parse(in, flags, v, &rest) != 0)
        fail_msg("expected \"%s\" to parse", in);
    assert_string_equal(vstr_str(v), want);
    vstr_free(v);
}

static void expect_bad(const char *in, int flags)
{
    vstr *v = vstr_new(16);

    if (parse(in, flags, v, NULL) == 0)
        fail_msg("expected \"%s\" to be rejected, got \"%s\"", in, vstr_str(v));
    vstr_free(v);
}

static void test_simple_paths(void **state)
{
    expect_ok("<user@example.com>", 0, "user@example.com");
    expect_ok("  <user@example.com>", 0, "user@example.com");
    expect_ok("<first.last+tag@sub.example.com>", 0, "first.last+tag@sub.example.com");
    expect_ok("<postmaster>", 0, "postmaster");
    expect_ok("<a!#$%&'*/=?^_`{|}~-@x.y>", 0, "a!#$%&'*/=?^_`{|}~-@x.y");
    expect_ok("<u@under_score.example>", 0, "u@under_score.example");
}

static void test_empty_path(void **state)
{
    expect_ok("<>", PATH_ALLOW_EMPTY, "");
    expect_bad("<>", 0);
    expect_bad("", PATH_ALLOW_EMPTY);
    expect_bad("   ", PATH_ALLOW_EMPTY | PATH_ALLOW_BARE);
}

static void test_quoted_local(void **state)
{
    expect_ok("<\"john doe\"@example.com>", 0, "\"john doe\"@example.com");
    expect_ok("<\"a\\\"b\"@x.org>", 0, "\"a\\\"b\"@x.org");
    expect_ok("<\"a@b\"@x.org>", 0, "\"a@b\"@x.org");
    expect_bad("<\"unterminated@x.org>", 0);
    expect_bad("<\"bad\\", 0);
    expect_bad("<\"tab\there\"@x.org>", 0);
}

static void test_source_route(void **state)
{
    expect_ok("<@a,@b:u@d>", 0, "u@d");
    expect_ok("<@relay.example:user@example.com>", 0, "user@example.com");
    expect_bad("<@a,b:u@d>", 0);
    expect_bad("<@a:>", 0);
    expect_bad("<@:u@d>", 0);
    expect_bad("<@a,@b u@d>", 0);
}

static void test_brackets(void **state)
{
    expect_bad("user@example.com", 0);
    expect_ok("user@example.com", PATH_ALLOW_BARE, "user@example.com");
    expect_bad("<user@example.com", 0);
    expect_bad("<user@example.com", PATH_ALLOW_BARE);
    expect_bad("user@example.com>", PATH_ALLOW_BARE);
    expect_bad("<<user@example.com>>", 0);
    expect_bad("<user@example.com>x", 0);
}

static void test_rest(void **state)
{
    vstr *v = vstr_new(16);
    const char *rest;
    const char *in = "<a@b.c> SIZE=100 BODY=8BITMIME";

    assert_int_equal(parse(in, 0, v, &rest), 0);
    assert_string_equal(rest, " SIZE=100 BODY=8BITMIME");
    assert_int_equal(parse("<a@b.c>", 0, v, &rest), 0);
    assert_string_equal(rest, "");
    vstr_free(v);
}

static void test_bad_syntax(void **state)
{
    expect_bad("<.user@x.org>", 0);
    expect_bad("<user.@x.org>", 0);
    expect_bad("<us..er@x.org>", 0);
    expect_bad("<user@>", 0);
    expect_bad("<@x.org>", 0);
    expect_bad("<user@x..org>", 0);
    expect_bad("<user@.x.org>", 0);
    expect_bad("<user@x.org.>", 0);
    expect_bad("<user name@x.org>", 0);
    expect_bad("<user@x.org@y.org>", 0);
    expect_bad("<user@x y>", 0);
    expect_bad("<(comment)user@x>", 0);
    expect_bad("<user@x\r>", 0);
}

static void test_nul(void **state)
{
    vstr *v = vstr_new(16);
    const char *rest, *why;
    const char in[] = "<us\0er@x.org>";

    assert_int_equal(smtp_path_parse(in, sizeof(in) - 1, 0, v, &rest, &why), -1);
    assert_int_equal(smtp_path_parse(in, sizeof(in) - 1, PATH_ALLOW_BARE, v, &rest, &why), -1);
    vstr_free(v);
}

static void test_ip_literals(void **state)
{
    expect_ok("<u@[1.2.3.4]>", 0, "u@[1.2.3.4]");
    expect_ok("<u@[IPv6:2001:db8::1]>", 0, "u@[IPv6:2001:db8::1]");
    expect_ok("<u@[ipv6:::1]>", 0, "u@[ipv6:::1]");
    expect_bad("<u@[1.2.3]>", 0);
    expect_bad("<u@[1.2.3.256]>", 0);
    expect_bad("<u@[2001:db8::1]>", 0);
    expect_bad("<u@[IPv6:zz::1]>", 0);
    expect_bad("<u@[]>", 0);
    expect_bad("<u@[1.2.3.4>", 0);
    expect_bad("<u@[1.2.3.4]x>", 0);
}

static void test_8bit(void **state)
{
    expect_bad("<j\xc3\xb6rg@example.com>", 0);
    expect_ok("<j\xc3\xb6rg@example.com>", PATH_SMTPUTF8, "j\xc3\xb6rg@example.com");
    expect_ok("<u@b\xc3\xbc\x63her.example>", PATH_SMTPUTF8, "u@b\xc3\xbc\x63her.example");
    /* Invalid UTF-8: lone continuation, overlong, truncated, surrogate. */
    expect_bad("<j\x80rg@example.com>", PATH_SMTPUTF8);
    expect_bad("<j\xc0\xafrg@example.com>", PATH_SMTPUTF8);
    expect_bad("<j\xc3@example.com>", PATH_SMTPUTF8);
    expect_bad("<\xed\xa0\x80@example.com>", PATH_SMTPUTF8);
    expect_bad("<\xff@example.com>", PATH_SMTPUTF8);
}

static void test_overlong(void **state)
{
    vstr *in = vstr_new(2048);
    vstr *v = vstr_new(16);
    const char *rest, *why;

    /* A 63-byte label is fine, 64 is not. */
    vstr_puts(in, "<u@");
    for (int i = 0; i < 63; i++)
        vstr_putc(in, 'a');
    vstr_puts(in, ".example>");
    assert_int_equal(smtp_path_parse(in->data, in->len, 0, v, &rest, &why), 0);
    vstr_set(in, "<u@");
    for (int i = 0; i < 64; i++)
        vstr_putc(in, 'a');
    vstr_puts(in, ">");
    assert_int_equal(smtp_path_parse(in->data, in->len, 0, v, &rest, &why), -1);
    /* Huge local part and huge domain. */
    vstr_set(in, "<");
    for (int i = 0; i < 1500; i++)
        vstr_putc(in, 'x');
    vstr_puts(in, "@example.com>");
    assert_int_equal(smtp_path_parse(in->data, in->len, 0, v, &rest, &why), -1);
    vstr_set(in, "<u@");
    for (int i = 0; i < 100; i++)
        vstr_puts(in, "abcdefgh.");
    vstr_puts(in, "com>");
    assert_int_equal(smtp_path_parse(in->data, in->len, 0, v, &rest, &why), -1);
    vstr_free(in);
    vstr_free(v);
}

/* Parameter splitting. */
struct seen {
    vstr *log;
    int stop_at;
    int count;
};

static int record_param(const char *key, const char *value, void *ctx)
{
    struct seen *s = ctx;

    vstr_printf(s->log, "[%s=%s]", key, value ? value : "(null)");
    if (++s->count == s->stop_at)
        return 7;
    return 0;
}

static int params(const char *in, size_t max, struct seen *s)
{
    vstr_reset(s->log);
    s->count = 0;
    return smtp_params_parse(in, strlen(in), max, record_param, s);
}

static void test_params(void **state)
{
    struct seen s = {vstr_new(64), 0, 0};

    assert_int_equal(params("", 10, &s), 0);
    assert_string_equal(vstr_str(s.log), "");
    assert_int_equal(params(" size=100 body=8BITMIME SMTPUTF8", 10, &s), 0);
    assert_string_equal(vstr_str(s.log), "[SIZE=100][BODY=8BITMIME][SMTPUTF8=(null)]");
    assert_int_equal(params("  A=1   B=2  ", 10, &s), 0);
    assert_string_equal(vstr_str(s.log), "[A=1][B=2]");
    assert_int_equal(params("X-FOO=bar", 10, &s), 0);
    assert_string_equal(vstr_str(s.log), "[X-FOO=bar]");
    /* syntax errors */
    assert_int_equal(params("=1", 10, &s), -1);
    assert_int_equal(params("A=", 10, &s), -1);
    assert_int_equal(params("A=b=c", 10, &s), -1);
    assert_int_equal(params("-A=1", 10, &s), -1);
    assert_int_equal(params("A\t=1", 10, &s), -1);
    assert_int_equal(params("A=\x01", 10, &s), -1);
    /* count limit */
    assert_int_equal(params("A B C", 2, &s), -1);
    assert_int_equal(params("A B", 2, &s), 0);
    /* callback result stops the parse */
    s.stop_at = 2;
    assert_int_equal(params("A B C", 10, &s), 7);
    assert_string_equal(vstr_str(s.log), "[A=(null)][B=(null)]");
    vstr_free(s.log);
}

static void test_xtext(void **state)
{
    vstr *v = vstr_new(16);

    assert_int_equal(xtext_decode(v, "abc+2Bdef+3D", 12), 0);
    assert_string_equal(vstr_str(v), "abc+def=");
    assert_int_equal(xtext_decode(v, "rfc822;a@b", 10), 0);
    assert_string_equal(vstr_str(v), "rfc822;a@b");
    assert_int_equal(xtext_decode(v, "a+2", 3), -1);
    assert_int_equal(xtext_decode(v, "a+", 2), -1);
    assert_int_equal(xtext_decode(v, "a+2b", 4), -1);    /* lower-case hex */
    assert_int_equal(xtext_decode(v, "a+GG", 4), -1);
    assert_int_equal(xtext_decode(v, "a=b", 3), -1);
    assert_int_equal(xtext_decode(v, "a b", 3), -1);
    vstr_reset(v);
    xtext_encode(v, "a+b=c d\x01", 8);
    assert_string_equal(vstr_str(v), "a+2Bb+3Dc+20d+01");
    vstr_free(v);
}

static void test_helpers(void **state)
{
    vstr *a = vstr_new(16), *b = vstr_new(16);
    char s[] = "MiXeD.Example";

    assert_string_equal(mail_addr_domain("u@x.org"), "x.org");
    assert_string_equal(mail_addr_domain("\"a@b\"@x.org"), "x.org");
    assert_string_equal(mail_addr_domain("postmaster"), "");
    mail_addr_local(a, "\"a@b\"@x.org");
    assert_string_equal(vstr_str(a), "\"a@b\"");
    mail_addr_local(a, "bare");
    assert_string_equal(vstr_str(a), "bare");
    lowercase(s);
    assert_string_equal(s, "mixed.example");

    mail_addr_split_ext("user+ext", "+", a, b);
    assert_string_equal(vstr_str(a), "user");
    assert_string_equal(vstr_str(b), "ext");
    mail_addr_split_ext("user-a+b", "+-", a, b);
    assert_string_equal(vstr_str(a), "user");
    assert_string_equal(vstr_str(b), "a+b");
    mail_addr_split_ext("user", "+", a, b);
    assert_string_equal(vstr_str(a), "user");
    assert_string_equal(vstr_str(b), "");
    mail_addr_split_ext("user+ext", "", a, NULL);
    assert_string_equal(vstr_str(a), "user+ext");
    mail_addr_split_ext("+ext", "+", a, b);
    assert_string_equal(vstr_str(a), "+ext");

    assert_true(utf8_valid("abc", 3));
    assert_true(utf8_valid("\xc3\xb6", 2));
    assert_true(utf8_valid("\xf0\x9f\x98\x80", 4));
    assert_false(utf8_valid("\xc3", 1));
    assert_false(utf8_valid("\xf4\x90\x80\x80", 4));   /* > U+10FFFF */
    assert_false(utf8_valid("\xe0\x80\xaf", 3));       /* overlong */
    assert_true(has_8bit("a\x80", 2));
    assert_false(has_8bit("abc", 3));
    vstr_free(a);
    vstr_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_paths),
        cmocka_unit_test(test_empty_path),
        cmocka_unit_test(test_quoted_local),
        cmocka_unit_test(test_source_route),
        cmocka_unit_test(test_brackets),
        cmocka_unit_test(test_rest),
        cmocka_unit_test(test_bad_syntax),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_ip_literals),
        cmocka_unit_test(test_8bit),
        cmocka_unit_test(test_overlong),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_xtext),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

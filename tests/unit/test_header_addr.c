/* Unit tests for lib/header_addr.c: RFC 5322 address lists (names,
 * comments, groups, quoted strings, obsolete forms) and malformed input. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "argv.h"
#include "header_addr.h"
#include "vstr.h"

/* Parse s and compare with the expected addresses joined by "|". */
static void check(const char *s, const char *want, size_t want_bad)
{
    argv_t *a = argv_new();
    vstr *got = vstr_new(64);
    size_t bad = 99, n;

    n = header_addr_parse(s, strlen(s), 100, a, &bad);
    assert_int_equal(n, a->n);
    for (size_t i = 0; i < a->n; i++) {
        if (i)
            vstr_putc(got, '|');
        vstr_puts(got, a->v[i]);
    }
    assert_string_equal(vstr_str(got), want);
    assert_int_equal(bad, want_bad);
    argv_free(a);
    vstr_free(got);
}

static void test_simple(void **state)
{
    (void)state;
    check("a@b", "a@b", 0);
    check("  a@b  ", "a@b", 0);
    check("a@b, c@d", "a@b|c@d", 0);
    check("user", "user", 0);
    check("", "", 0);
    check(" , ,, ", "", 0);
}

static void test_names_and_comments(void **state)
{
    (void)state;
    check("Name <a@b>, c@d (comment), group: x@y, z@w;", "a@b|c@d|x@y|z@w", 0);
    check("\"Last, First\" <f@x.example>", "f@x.example", 0);
    check("a@b (a (nested) comment, with comma), c@d", "a@b|c@d", 0);
    check("(only a comment)", "", 0);
    check("Joe Q. Public <john.q.public@example.com>", "john.q.public@example.com", 0);
    check("=?utf-8?q?J=C3=B6rg?= <j@example>", "j@example", 0);
}

static void test_groups(void **state)
{
    (void)state;
    check("undisclosed-recipients:;", "", 0);
    check("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;, x@y",
          "c@a.test|joe@where.test|jdoe@one.test|x@y", 0);
    check("g: ;", "", 0);
}

static void test_quoted_and_literal(void **state)
{
    (void)state;
    check("\"john doe\"@example.com", "\"john doe\"@example.com", 0);
    check("<\"a,b\"@x>", "\"a,b\"@x", 0);
    check("user@[192.0.2.1]", "user@[192.0.2.1]", 0);
    check("\"esc\\\"aped\"@x", "\"esc\\\"aped\"@x", 0);
}

static void test_obsolete(void **state)
{
    (void)state;
    check("john . doe @ example . com", "john.doe@example.com", 0);
    check("<@route1,@route2:user@example.com>", "user@example.com", 0);
    check("a@b\r\n\tc@d", "a@bc@d", 0);
    check("a@b,\r\n c@d", "a@b|c@d", 0);
    check("<a@b>junk", "a@b", 0);
}

static void test_malformed(void **state)
{
    vstr *big = vstr_new(2048);

    (void)state;
    check("<a@b", "", 1);
    check("\"unterminated@x, c@d", "", 1);
    check("a@[1.2.3.4, c@d", "", 1);
    check("<a<b>>", "", 1);
    check("a\001b@c, d@e", "d@e", 1);
    check("(unterminated comment a@b", "", 0);
    check(">a@b<", "", 1);
    check("x@y, <>", "x@y", 0);
    /* Too long address. */
    for (int i = 0; i < 600; i++)
        vstr_putc(big, 'a');
    vstr_puts(big, "@b, c@d");
    check(vstr_str(big), "c@d", 1);
    /* A long display name before <addr> is fine. */
    vstr_reset(big);
    for (int i = 0; i < 600; i++)
        vstr_putc(big, 'n');
    vstr_puts(big, " <x@y>");
    check(vstr_str(big), "x@y", 0);
    /* Deep comment nesting. */
    vstr_reset(big);
    for (int i = 0; i < 100; i++)
        vstr_putc(big, '(');
    vstr_puts(big, "a@b");
    check(vstr_str(big), "", 0);
    vstr_free(big);
}

static void test_max(void **state)
{
    argv_t *a = argv_new();
    size_t n;

    (void)state;
    n = header_addr_parse("a@b, c@d, e@f", 13, 2, a, NULL);
    assert_int_equal(n, 2);
    assert_int_equal(a->n, 2);
    argv_free(a);
}

static void test_quote_phrase(void **state)
{
    vstr *v = vstr_new(32);

    (void)state;
    header_addr_quote_phrase(v, "Test User");
    assert_string_equal(vstr_str(v), "Test User");
    vstr_reset(v);
    header_addr_quote_phrase(v, "User, Test");
    assert_string_equal(vstr_str(v), "\"User, Test\"");
    vstr_reset(v);
    header_addr_quote_phrase(v, "J. \"Q\" Back\\slash");
    assert_string_equal(vstr_str(v), "\"J. \\\"Q\\\" Back\\\\slash\"");
    vstr_reset(v);
    header_addr_quote_phrase(v, "bad\nline");
    assert_string_equal(vstr_str(v), "\"bad line\"");
    vstr_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_names_and_comments),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_quoted_and_literal),
        cmocka_unit_test(test_obsolete),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_max),
        cmocka_unit_test(test_quote_phrase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

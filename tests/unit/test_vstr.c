/* Unit tests for vstr (growable strings), argv lists and log_printable. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "argv.h"
#include "log.h"
#include "mem.h"
#include "vstr.h"

static void test_append_grow(void **state)
{
    vstr *v = vstr_new(0);
    size_t i;

    for (i = 0; i < 10000; i++)
        vstr_putc(v, 'a' + (int) (i % 26));
    assert_int_equal(vstr_len(v), 10000);
    assert_int_equal(strlen(vstr_str(v)), 10000);
    assert_true(v->cap >= v->len);
    vstr_truncate(v, 3);
    assert_string_equal(vstr_str(v), "abc");
    vstr_truncate(v, 100);      /* never grows */
    assert_int_equal(vstr_len(v), 3);
    vstr_reset(v);
    assert_int_equal(vstr_len(v), 0);
    assert_string_equal(vstr_str(v), "");
    vstr_free(v);
}

static void test_binary_data(void **state)
{
    vstr *v = vstr_new(4);

    vstr_append(v, "a\0b", 3);
    assert_int_equal(vstr_len(v), 3);
    assert_memory_equal(vstr_str(v), "a\0b", 3);
    assert_int_equal(vstr_str(v)[3], '\0');
    vstr_free(v);
}

static void test_printf(void **state)
{
    vstr *v = vstr_new(1);
    char big[5000];

    vstr_printf(v, "%d-%s", 42, "x");
    vstr_printf(v, "|%s", "y");
    assert_string_equal(vstr_str(v), "42-x|y");
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    vstr_reset(v);
    vstr_printf(v, "<%s>", big);
    assert_int_equal(vstr_len(v), sizeof(big) + 1);
    assert_int_equal(vstr_str(v)[0], '<');
    assert_int_equal(vstr_str(v)[vstr_len(v) - 1], '>');
    vstr_free(v);
}

static void test_set_export(void **state)
{
    vstr *v = vstr_new(8);
    char *s;

    vstr_set(v, "hello world");
    vstr_setn(v, vstr_str(v) + 6, 5);   /* overlapping source */
    assert_string_equal(vstr_str(v), "world");
    s = vstr_export(v);
    assert_string_equal(s, "world");
    free(s);
}

static void test_argv_split(void **state)
{
    argv_t *a = argv_split(" a,b ,, c\t\nd ", LIST_DELIMS);
    size_t i;

    assert_int_equal(a->n, 4);
    assert_string_equal(a->v[0], "a");
    assert_string_equal(a->v[3], "d");
    assert_null(a->v[4]);
    argv_free(a);
    a = argv_split(", ,", LIST_DELIMS);
    assert_int_equal(a->n, 0);
    assert_null(a->v[0]);
    for (i = 0; i < 100; i++)
        argv_addn(a, "xyz", 2);
    assert_int_equal(a->n, 100);
    assert_string_equal(a->v[99], "xy");
    assert_null(a->v[100]);
    argv_free(a);
}

static void test_log_printable(void **state)
{
    char buf[16];

    assert_string_equal(log_printable(buf, sizeof(buf), "ok", 2), "ok");
    assert_string_equal(log_printable(buf, sizeof(buf), "a\r\nb\x7f\xff", 6), "a??b??");
    assert_string_equal(log_printable(buf, sizeof(buf), "a\0b", 3), "a?b");
    /* 20 bytes into 16: 12 kept + "..." */
    assert_string_equal(log_printable(buf, sizeof(buf), "abcdefghijklmnopqrst", 20), "abcdefghijkl...");
    assert_string_equal(log_printable(buf, 3, "abcdef", 6), "ab");
    assert_string_equal(log_printable(buf, 1, "abcdef", 6), "");
}

static void test_xstrndup(void **state)
{
    char *s = xstrndup("abcdef", 3);

    assert_string_equal(s, "abc");
    xfree(s);
    assert_null(s);
    s = xstrndup("ab", 10);
    assert_string_equal(s, "ab");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grow),
        cmocka_unit_test(test_binary_data),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_set_export),
        cmocka_unit_test(test_argv_split),
        cmocka_unit_test(test_log_printable),
        cmocka_unit_test(test_xstrndup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the configuration text shape: logical lines, comments
 * inside continued values, orphan continuations, and the bounded file
 * read (size cap, NUL bytes, missing file). */
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
#include "config_text.h"
#include "vstr.h"

struct collect {
    vstr *out;
    int orphans;
    int stop_at;
    int calls;
};

static int collect_line(const char *line, int lineno, void *ctx)
{
    struct collect *c = ctx;

    vstr_printf(c->out, "%d:[%s]\n", lineno, line);
    return ++c->calls == c->stop_at ? 7 : 0;
}

static int collect_orphan(const char *line, int lineno, void *ctx)
{
    struct collect *c = ctx;

    assert_null(line);
    vstr_printf(c->out, "orphan %d\n", lineno);
    c->orphans++;
    return 0;
}

static void test_logical_lines(void **state)
{
    struct collect c = {vstr_new(64), 0, 0, 0};
    const char *text = "  orphan piece\n"
                       "# comment\n"
                       "a = 1   \n"
                       "   continued  \n"
                       "# a comment inside a continued value\n"
                       "\n"
                       "\t and more\n"
                       "b = 2\n"
                       "c = last without newline";

    assert_int_equal(config_text_lines(text, collect_line, collect_orphan, &c), 0);
    assert_string_equal(vstr_str(c.out), "orphan 1\n"
                                         "3:[a = 1 continued and more]\n"
                                         "8:[b = 2]\n"
                                         "9:[c = last without newline]\n");
    assert_int_equal(c.orphans, 1);
    vstr_free(c.out);
}

static void test_callback_stops_walk(void **state)
{
    struct collect c = {vstr_new(64), 0, 2, 0};

    assert_int_equal(config_text_lines("x\ny\nz\n", collect_line, NULL, &c), 7);
    assert_string_equal(vstr_str(c.out), "1:[x]\n2:[y]\n");
    /* An orphan without a handler is skipped silently. */
    vstr_reset(c.out);
    c.stop_at = 0;
    assert_int_equal(config_text_lines(" lonely\n", collect_line, NULL, &c), 0);
    assert_string_equal(vstr_str(c.out), "");
    vstr_free(c.out);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_read_bounds(void **state)
{
    char path[] = "/tmp/test_config_text.XXXXXX";
    int fd = mkstemp(path);
    vstr *out = vstr_new(16), *err = vstr_new(16);

    assert_true(fd >= 0);
    close(fd);
    write_file(path, "a = b\n", 6);
    assert_int_equal(config_text_read(path, 6, out, err), 0);
    assert_string_equal(vstr_str(out), "a = b\n");
    assert_int_equal(config_text_read(path, 5, out, err), -1);
    assert_non_null(strstr(vstr_str(err), "larger than 5 bytes"));
    vstr_reset(err);
    write_file(path, "a = \0b\n", 7);
    assert_int_equal(config_text_read(path, 100, out, err), -1);
    assert_non_null(strstr(vstr_str(err), "NUL byte"));
    unlink(path);
    vstr_reset(err);
    assert_int_equal(config_text_read(path, 100, out, err), -1);
    assert_non_null(strstr(vstr_str(err), "No such file"));
    vstr_free(out);
    vstr_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logical_lines),
        cmocka_unit_test(test_callback_stops_walk),
        cmocka_unit_test(test_read_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

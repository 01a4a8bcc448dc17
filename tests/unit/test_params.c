/* Unit tests for main.cf parsing, $name expansion, typed values,
 * validation and the choice of configuration directory. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "params.h"
#include "vstr.h"

static int load(const char *text, vstr *err)
{
    vstr_reset(err);
    return config_load_text(text, "main.cf", err);
}

static void test_basic_syntax(void **state)
{
    vstr *err = vstr_new(64);

    assert_int_equal(load("# comment\n\nmyhostname = mx.example.com   \n"
                          "mydestination = a,\n    b,\n\tc\n"
                          "   # indented comment\n"
                          "relay_domains=x.example\n"
                          "my_own_thing = 42\n", err), 0);
    assert_string_equal(config_raw("myhostname"), "mx.example.com");
    assert_string_equal(config_raw("mydestination"), "a, b, c");
    assert_string_equal(config_raw("relay_domains"), "x.example");
    assert_string_equal(config_raw("my_own_thing"), "42");
    assert_true(config_is_set("myhostname"));
    assert_false(config_is_set("myorigin"));
    assert_string_equal(config_set_name(0), "myhostname");
    assert_string_equal(config_set_name(1), "mydestination");
    assert_string_equal(config_set_name(3), "my_own_thing");
    assert_null(config_set_name(4));
    assert_string_equal(config_unknown_names(), "my_own_thing");
    assert_null(config_raw("no_such_parameter"));
    /* table defaults */
    assert_string_equal(config_raw("myorigin"), "$myhostname");
    assert_string_equal(config_str("myorigin"), "mx.example.com");
    assert_string_equal(config_str("mydomain"), "example.com");
    vstr_free(err);
}

static void test_duplicates_later_wins(void **state)
{
    vstr *err = vstr_new(64);

    assert_int_equal(load("max_use = 5\nmax_use = 7\n", err), 0);
    assert_int_equal(config_int("max_use"), 7);
    assert_string_equal(config_set_name(0), "max_use");
    assert_null(config_set_name(1));
    vstr_free(err);
}

static void test_malformed_lines(void **state)
{
    vstr *err = vstr_new(64);

    assert_int_equal(load("  leading = whitespace\n", err), -1);
    assert_non_null(strstr(vstr_str(err), "main.cf:1:"));
    assert_int_equal(load("good = 1\nno equals sign here\n", err), -1);
    assert_non_null(strstr(vstr_str(err), "main.cf:2: missing '='"));
    assert_string_equal(config_raw("good"), "1");    /* good lines still load */
    assert_int_equal(load("= value\n", err), -1);
    assert_non_null(strstr(vstr_str(err), "missing parameter name"));
    assert_int_equal(load("two words = value\n", err), -1);
    assert_int_equal(load("na$me = value\n", err), -1);
    /* several problems are all reported */
    assert_int_equal(load("a\nb\nc = 1\n", err), -1);
    assert_non_null(strstr(vstr_str(err), "main.cf:1:"));
    assert_non_null(strstr(vstr_str(err), "main.cf:2:"));
    /* no newline at the end, empty value */
    assert_int_equal(load("x =", err), 0);
    assert_string_equal(config_raw("x"), "");
    assert_int_equal(load("", err), 0);
    vstr_free(err);
}

static void test_expansion(void **state)
{
    vstr *err = vstr_new(64);
    vstr *out = vstr_new(64);

    assert_int_equal(load("a = A\nb = <$a>\nempty =\nc = ${a}$(a)$$a\n"
                          "self = $self\nloop1 = $loop2\nloop2 = $loop1\n", err), 0);
#define EXPANDS(text, want) do { vstr_reset(out); vstr_reset(err); \
        assert_int_equal(config_expand(out, text, err), 0); \
        assert_string_equal(vstr_str(out), want); } while (0)
#define FAILS(text, what) do { vstr_reset(out); vstr_reset(err); \
        assert_int_equal(config_expand(out, text, err), -1); \
        assert_non_null(strstr(vstr_str(err), what)); } while (0)
    EXPANDS("$b", "<A>");
    EXPANDS("$c", "AA$a");
    EXPANDS("x$nonexistent-y", "x-y");
    EXPANDS("${a?set}|${empty?set}", "set|");
    EXPANDS("${a:unset}|${empty:unset}", "|unset");
    EXPANDS("${a?{nested ${b}}}", "{nested <A>}");
    EXPANDS("$(a?x)", "x");
    EXPANDS("cost $ 5 and $", "cost $ 5 and $");
    EXPANDS("$$$$", "$$");
    FAILS("${a", "unterminated");
    FAILS("${a?text", "unterminated");
    FAILS("${", "missing parameter name");
    FAILS("${}", "missing parameter name");
    FAILS("${a b}", "bad character");
    FAILS("$self", "recursion");
    FAILS("$loop1", "recursion");
    vstr_free(err);
    vstr_free(out);
}

static void test_types(void **state)
{
    vstr *err = vstr_new(64);

    assert_int_equal(param_parse_time("300"), 300);
    assert_int_equal(param_parse_time("300s"), 300);
    assert_int_equal(param_parse_time("5m"), 300);
    assert_int_equal(param_parse_time("2h"), 7200);
    assert_int_equal(param_parse_time("1d"), 86400);
    assert_int_equal(param_parse_time("1w"), 604800);
    assert_int_equal(param_parse_time(""), -1);
    assert_int_equal(param_parse_time("s"), -1);
    assert_int_equal(param_parse_time("5 m"), -1);
    assert_int_equal(param_parse_time("5mm"), -1);
    assert_int_equal(param_parse_time("-5"), -1);
    assert_int_equal(param_parse_time("5x"), -1);
    assert_int_equal(param_parse_time("99999999999999999999999"), -1);
    assert_int_equal(param_parse_time("9999999999999999w"), -1);

    assert_int_equal(load("max_use = +12\nmax_idle = 2m\nsmtputf8_enable = FALSE\n"
                          "disable_vrfy_command = True\nmessage_size_limit = 2048\n"
                          "ten = 10\nline_length_limit = ${ten}00\n", err), 0);
    assert_int_equal(config_int("max_use"), 12);
    assert_int_equal(config_time("max_idle"), 120);
    assert_int_equal(config_bool("smtputf8_enable"), 0);
    assert_int_equal(config_bool("disable_vrfy_command"), 1);
    assert_int_equal(config_size("message_size_limit"), 2048);
    assert_int_equal(config_int("line_length_limit"), 1000);
    assert_int_equal(config_int("smtpd_recipient_limit"), 1000);   /* default */
    vstr_free(err);
}

static void test_validate(void **state)
{
    vstr *err = vstr_new(64);
    vstr *problems = vstr_new(64);

    assert_int_equal(load("myhostname = h.example\n", err), 0);
    assert_int_equal(config_validate(problems), 0);
    assert_int_equal(load("max_use = lots\nmax_idle = 3y\nsmtputf8_enable = maybe\n"
                          "message_size_limit = 10k\nsmtpd_recipient_limit = 0\n"
                          "smtpd_banner = ${myhostname\n"
                          "myhostname = h.example\n", err), 0);
    assert_int_equal(config_validate(problems), 6);
    assert_non_null(strstr(vstr_str(problems), "parameter max_use: bad integer"));
    assert_non_null(strstr(vstr_str(problems), "parameter max_idle: bad time"));
    assert_non_null(strstr(vstr_str(problems), "parameter smtputf8_enable: bad boolean"));
    assert_non_null(strstr(vstr_str(problems), "parameter message_size_limit: bad size"));
    assert_non_null(strstr(vstr_str(problems), "smtpd_recipient_limit: value 0 out of range"));
    assert_non_null(strstr(vstr_str(problems), "smtpd_banner: unterminated"));
    vstr_free(err);
    vstr_free(problems);
}

static void test_fatal_on_bad_value(void **state)
{
    vstr *err = vstr_new(64);
    pid_t pid;
    int status;

    assert_int_equal(load("max_use = lots\n", err), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        config_int("max_use");
        _exit(0);
    }
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
    vstr_free(err);
}

static void test_override_invalidates_cache(void **state)
{
    vstr *err = vstr_new(64);
    const char *old;

    assert_int_equal(load("myhostname = one.example\n", err), 0);
    old = config_str("smtpd_banner");
    assert_string_equal(old, "one.example ESMTP posthorn");
    config_set("myhostname", "two.example");
    assert_string_equal(config_str("smtpd_banner"), "two.example ESMTP posthorn");
    assert_string_equal(old, "one.example ESMTP posthorn");   /* still valid memory */
    assert_true(config_is_set("myhostname"));
    config_set("myhostname", NULL);
    assert_string_equal(config_str("myhostname"), "one.example");
    /* computed defaults */
    assert_int_equal(load("", err), 0);
    assert_non_null(strchr(config_str("myhostname"), '.'));
    config_set("myhostname", "localhost");
    assert_string_equal(config_str("mydomain"), "localdomain");
    config_set("myhostname", NULL);
    vstr_free(err);
}

static void test_config_dir(void **state)
{
    char dir[] = "/tmp/test_params.XXXXXX";
    vstr *err = vstr_new(64);
    vstr *path = vstr_new(64);
    FILE *fp;

    unsetenv("POSTHORN_CONFIG_DIR");
    assert_string_equal(config_dir_choose(NULL), DEF_CONFIG_DIR);
    setenv("POSTHORN_CONFIG_DIR", "/env/dir", 1);
    assert_string_equal(config_dir_choose(NULL), "/env/dir");
    assert_string_equal(config_dir_choose("/cmd/dir"), "/cmd/dir");
    assert_string_equal(config_dir(), "/cmd/dir");
    unsetenv("POSTHORN_CONFIG_DIR");

    assert_non_null(mkdtemp(dir));
    assert_int_equal(config_load(dir, err), -1);      /* no main.cf */
    vstr_printf(path, "%s/main.cf", dir);
    fp = fopen(vstr_str(path), "w");
    assert_non_null(fp);
    fputs("config_directory = /elsewhere\nqueue_directory = $config_directory/q\n", fp);
    fclose(fp);
    vstr_reset(err);
    assert_int_equal(config_load(dir, err), 0);
    assert_string_equal(config_str("config_directory"), dir);
    assert_string_equal(config_dir(), dir);
    unlink(vstr_str(path));
    rmdir(dir);
    vstr_free(err);
    vstr_free(path);
}

static void test_table_sane(void **state)
{
    vstr *problems = vstr_new(64);
    vstr *err = vstr_new(64);

    for (unsigned i = 0; i < param_table_size; i++) {
        assert_non_null(param_table[i].name);
        assert_non_null(param_table[i].doc);
        assert_ptr_equal(param_find(param_table[i].name), &param_table[i]);
    }
    assert_non_null(param_find("default_database_type"));
    /* every default is valid */
    assert_int_equal(load("", err), 0);
    assert_int_equal(config_validate(problems), 0);
    vstr_free(problems);
    vstr_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_syntax),
        cmocka_unit_test(test_duplicates_later_wins),
        cmocka_unit_test(test_malformed_lines),
        cmocka_unit_test(test_expansion),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_fatal_on_bad_value),
        cmocka_unit_test(test_override_invalidates_cache),
        cmocka_unit_test(test_config_dir),
        cmocka_unit_test(test_table_sane),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

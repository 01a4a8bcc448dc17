/* Unit tests for master.cf parsing: columns, defaults, continuation
 * lines, -o overrides, and every kind of malformed line. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "master_cf.h"
#include "vstr.h"

static const char *dev_master_cf =
    "# posthorn development instance\n"
    "127.0.0.1:2525 inet  n - y - - smtpd\n"
    "127.0.0.1:5870 inet  n - y - - smtpd\n"
    "  -o smtpd_helo_required=yes\n"
    "\n"
    "cleanup        unix  n - y - 0 cleanup\n"
    "qmgr           fifo  n - y 300 1 qmgr\n"
    "local          unix  - n n - - local\n";

static void test_dev_instance(void **state)
{
    struct master_service *s;
    size_t n;
    vstr *err = vstr_new(64);

    assert_int_equal(master_cf_parse_text(dev_master_cf, "master.cf", &s, &n, err), 0);
    assert_int_equal(n, 5);
    assert_string_equal(s[0].name, "127.0.0.1:2525");
    assert_string_equal(s[0].type, "inet");
    assert_int_equal(s[0].private_, 0);
    assert_int_equal(s[0].unpriv, 1);
    assert_int_equal(s[0].chroot, 1);
    assert_int_equal(s[0].wakeup, 0);
    assert_int_equal(s[0].maxproc, -1);
    assert_int_equal(s[0].lineno, 2);
    assert_int_equal(s[0].args->n, 1);
    assert_string_equal(s[0].args->v[0], "smtpd");
    assert_int_equal(s[1].args->n, 3);
    assert_string_equal(s[1].args->v[1], "-o");
    assert_string_equal(s[1].args->v[2], "smtpd_helo_required=yes");
    assert_int_equal(s[2].maxproc, 0);
    assert_int_equal(s[2].private_, 0);
    assert_string_equal(s[3].type, "fifo");
    assert_int_equal(s[3].wakeup, 300);
    assert_int_equal(s[3].wakeup_if_used, 0);
    assert_int_equal(s[3].maxproc, 1);
    assert_int_equal(s[4].private_, 1);
    assert_int_equal(s[4].unpriv, 0);
    assert_int_equal(s[4].chroot, 0);
    assert_int_equal(s[4].lineno, 8);
    master_cf_free(s, n);
    vstr_free(err);
}

static void test_variants(void **state)
{
    struct master_service *s;
    size_t n;
    vstr *err = vstr_new(64);

    assert_int_equal(master_cf_parse_text(
        "smtp inet n - n - - smtpd -v -o { smtpd_banner = $myhostname hi there } -osyslog_name=x\n"
        "[::1]:25 inet y - n 60? 5 smtpd\n"
        "25 inet n - n - - smtpd\n"
        "smtp unix - - n - - smtp\n"     /* same name, other type: fine */
        "pickup fifo n - y 60 1 /usr/lib/pickup\n",
        "master.cf", &s, &n, err), 0);
    assert_int_equal(n, 5);
    assert_int_equal(s[0].args->n, 6);
    assert_string_equal(s[0].args->v[1], "-v");
    assert_string_equal(s[0].args->v[3], "smtpd_banner=$myhostname hi there");
    assert_string_equal(s[0].args->v[4], "-o");
    assert_string_equal(s[0].args->v[5], "syslog_name=x");
    assert_int_equal(s[1].private_, 0);         /* inet is never private */
    assert_int_equal(s[1].wakeup, 60);
    assert_int_equal(s[1].wakeup_if_used, 1);
    assert_int_equal(s[1].maxproc, 5);
    master_cf_free(s, n);
    vstr_free(err);
}

static void expect_error(const char *text, const char *what)
{
    struct master_service *s = (void *) 1;
    size_t n = 99;
    vstr *err = vstr_new(64);

    assert_int_equal(master_cf_parse_text(text, "master.cf", &s, &n, err), -1);
    assert_null(s);
    assert_int_equal(n, 0);
    if (strstr(vstr_str(err), what) == NULL)
        fail_msg("error for \"%s\" is \"%s\", want \"%s\"", text, vstr_str(err), what);
    vstr_free(err);
}

static void test_malformed(void **state)
{
    expect_error("smtp inet n - n - - \n", "expected at least 8 fields");
    expect_error("smtp\n", "found 1");
    expect_error("smtp tcp n - n - - smtpd\n", "unsupported service type \"tcp\"");
    expect_error("smtp unix-dgram n - n - - smtpd\n", "unsupported service type");
    expect_error("smtp inet x - n - - smtpd\n", "private column");
    expect_error("smtp inet n yes! n - - smtpd\n", "unpriv column");
    expect_error("smtp inet n - maybe - - smtpd\n", "chroot column");
    expect_error("smtp inet n - n 1m - smtpd\n", "wakeup column");
    expect_error("smtp inet n - n 10?? - smtpd\n", "wakeup column");
    expect_error("smtp inet n - n -5 - smtpd\n", "wakeup column");
    expect_error("smtp inet n - n - 99999999999999999999 smtpd\n", "maxproc column");
    expect_error("smtp inet n - n - x smtpd\n", "maxproc column");
    expect_error("smtp inet n - n - - smtpd -o\n", "\"-o\" without");
    expect_error("smtp inet n - n - - smtpd -o novalue\n", "expected -o name=value");
    expect_error("smtp inet n - n - - smtpd -o =value\n", "expected -o name=value");
    expect_error("smtp inet n - n - - smtpd -o { x = y\n", "missing '}'");
    expect_error("smtp inet n - n - - smtpd\nsmtp inet n - n - - smtpd\n",
                 "master.cf:2: duplicate service smtp/inet (first defined on line 1)");
    expect_error("  -o x=y\nsmtp inet n - n - - smtpd\n", "master.cf:1: continuation");
    expect_error("[::1:25 inet n - n - - smtpd\n", "[address]:port");
    expect_error("::1:25 inet n - n - - smtpd\n", "need brackets");
    expect_error("host: inet n - n - - smtpd\n", "missing port");
    expect_error("../x unix n - n - - cleanup\n", "relative name");
    expect_error("/tmp/x unix n - n - - cleanup\n", "relative name");
    expect_error("x unix n - n - - -o a=b\n", "expected a program name");
    /* all problems are listed, with their lines */
    struct master_service *s;
    size_t n;
    vstr *err = vstr_new(64);
    assert_int_equal(master_cf_parse_text("a inet n - n - - smtpd\nb tcp n - n - - x\n"
                                          "c unix q - n - - x\n", "master.cf", &s, &n, err), -1);
    assert_non_null(strstr(vstr_str(err), "master.cf:2:"));
    assert_non_null(strstr(vstr_str(err), "master.cf:3:"));
    vstr_free(err);
}

static void test_file(void **state)
{
    struct master_service *s;
    size_t n;
    vstr *err = vstr_new(64);

    assert_int_equal(master_cf_parse("/nonexistent/master.cf", &s, &n, err), -1);
    assert_non_null(strstr(vstr_str(err), "/nonexistent/master.cf"));
    vstr_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dev_instance),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

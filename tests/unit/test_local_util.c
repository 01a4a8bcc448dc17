/* Unit tests for local(8)'s pure helpers: alias target classification and
 * splitting, luser_relay expansion (including unsafe values), mboxrd From_
 * quoting and From_ lines, Maildir name uniqueness, delay formatting. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/time.h>
#include "argv.h"
#include "local_util.h"
#include "vstr.h"

#define S(x) x, strlen(x)

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(alias_target_classify("/var/mail/bob/"), TARGET_MAILDIR);
    assert_int_equal(alias_target_classify("/var/mail/bob"), TARGET_MBOX);
    assert_int_equal(alias_target_classify("bob"), TARGET_ADDRESS);
    assert_int_equal(alias_target_classify("bob@example.org"), TARGET_ADDRESS);
    assert_int_equal(alias_target_classify("|/usr/bin/procmail"), TARGET_COMMAND);
    assert_int_equal(alias_target_classify(":include:/etc/list"), TARGET_INCLUDE);
    assert_int_equal(alias_target_classify(""), TARGET_INVALID);
    assert_int_equal(alias_target_classify("|"), TARGET_INVALID);
    assert_int_equal(alias_target_classify(":include:"), TARGET_INVALID);
    assert_int_equal(alias_target_classify("bob\n@x"), TARGET_INVALID);
    assert_int_equal(alias_target_classify("@x"), TARGET_INVALID);
    assert_int_equal(alias_target_classify("bob@"), TARGET_INVALID);
    assert_int_equal(alias_target_classify("two words"), TARGET_INVALID);
}

static void test_split(void **state)
{
    argv_t *a = argv_new();

    (void)state;
    assert_int_equal(alias_value_split(" bob, /m/x/ ,,\"|cmd a, b\" ,carol@x ", a), 0);
    assert_int_equal(a->n, 4);
    assert_string_equal(a->v[0], "bob");
    assert_string_equal(a->v[1], "/m/x/");
    assert_string_equal(a->v[2], "|cmd a, b");
    assert_string_equal(a->v[3], "carol@x");
    argv_free(a);
    a = argv_new();
    assert_int_equal(alias_value_split("\"unterminated, x", a), -1);
    argv_free(a);
    a = argv_new();
    assert_int_equal(alias_value_split("  , ,", a), 0);
    assert_int_equal(a->n, 0);
    argv_free(a);
}

static int fake_param(vstr *out, const char *name, size_t len)
{
    if (len == 10 && memcmp(name, "myhostname", 10) == 0) {
        vstr_puts(out, "host.example");
        return 0;
    }
    return -1;
}

static void test_luser_expand(void **state)
{
    struct luser_vars v = {"bob", "bob+tag", "tag", "bob+tag@localhost", "localhost", NULL};
    vstr *out = vstr_new(64);
    vstr *err = vstr_new(64);

    (void)state;
    assert_int_equal(luser_relay_expand(out, "/srv/mail/$user/", &v, err), 0);
    assert_string_equal(vstr_str(out), "/srv/mail/bob/");
    assert_int_equal(luser_relay_expand(out, "${local}-$extension@$domain, $recipient $$", &v, err), 0);
    assert_string_equal(vstr_str(out), "bob+tag-tag@localhost, bob+tag@localhost $");
    assert_int_equal(luser_relay_expand(out, "$nosuch", &v, err), -1);
    v.param = fake_param;
    assert_int_equal(luser_relay_expand(out, "$user@${myhostname}", &v, err), 0);
    assert_string_equal(vstr_str(out), "bob@host.example");
    assert_int_equal(luser_relay_expand(out, "$nosuch", &v, err), -1);
    assert_int_equal(luser_relay_expand(out, "$", &v, err), -1);
    assert_int_equal(luser_relay_expand(out, "${user", &v, err), -1);

    v.user = "../etc";
    assert_int_equal(luser_relay_expand(out, "/srv/mail/$user/", &v, err), -1);
    v.user = "a/b";
    assert_int_equal(luser_relay_expand(out, "/srv/mail/$user/", &v, err), -1);
    v.user = ".hidden";
    assert_int_equal(luser_relay_expand(out, "/srv/mail/$user/", &v, err), -1);
    v.user = "";
    assert_int_equal(luser_relay_expand(out, "/srv/mail/$user/", &v, err), -1);
    v.user = "bob";
    v.extension = "x/../../y";
    assert_int_equal(luser_relay_expand(out, "/m/$user$extension", &v, err), -1);
    /* Unsafe values not used by the pattern do not matter. */
    assert_int_equal(luser_relay_expand(out, "/m/$user/", &v, err), 0);
    v.extension = NULL;
    assert_int_equal(luser_relay_expand(out, "/m/$user$extension/", &v, err), 0);
    assert_string_equal(vstr_str(out), "/m/bob/");
    vstr_free(out);
    vstr_free(err);
}

static void test_mbox_quote(void **state)
{
    (void)state;
    assert_int_equal(mbox_quote_needed(S("From bob")), 1);
    assert_int_equal(mbox_quote_needed(S(">From bob")), 1);
    assert_int_equal(mbox_quote_needed(S(">>>From ")), 1);
    assert_int_equal(mbox_quote_needed(S("From")), 0);
    assert_int_equal(mbox_quote_needed(S("from bob")), 0);
    assert_int_equal(mbox_quote_needed(S(" From bob")), 0);
    assert_int_equal(mbox_quote_needed(S(">> From")), 0);
    assert_int_equal(mbox_quote_needed(S("Fromage")), 0);
    assert_int_equal(mbox_quote_needed("", 0), 0);
    assert_int_equal(mbox_quote_needed(S(">>>>")), 0);
}

static void test_from_line(void **state)
{
    vstr *v = vstr_new(64);

    (void)state;
    mbox_from_line(v, "a@example.org", (time_t)1748959509);
    assert_string_equal(vstr_str(v), "From a@example.org Tue Jun  3 14:05:09 2025\n");
    vstr_reset(v);
    mbox_from_line(v, "", (time_t)1748959509);
    assert_string_equal(vstr_str(v), "From MAILER-DAEMON Tue Jun  3 14:05:09 2025\n");
    vstr_free(v);
}

static void test_maildir_name(void **state)
{
    struct timeval tv = {1748959509, 7};
    vstr *a = vstr_new(64);
    vstr *b = vstr_new(64);

    (void)state;
    maildir_unique_name(a, &tv, 1234, 1, "host.example");
    assert_string_equal(vstr_str(a), "1748959509.M000007P1234Q1.host.example");
    maildir_unique_name(b, &tv, 1234, 2, "host.example");
    assert_string_not_equal(vstr_str(a), vstr_str(b));
    vstr_reset(b);
    maildir_unique_name(b, &tv, 1235, 1, "host.example");
    assert_string_not_equal(vstr_str(a), vstr_str(b));
    vstr_reset(b);
    maildir_unique_name(b, &tv, 1, 1, "we/ird:host");
    assert_string_equal(vstr_str(b), "1748959509.M000007P1Q1.we\\057ird\\072host");
    assert_null(strchr(vstr_str(b), '/'));
    vstr_free(a);
    vstr_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_luser_expand),
        cmocka_unit_test(test_mbox_quote),
        cmocka_unit_test(test_from_line),
        cmocka_unit_test(test_maildir_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

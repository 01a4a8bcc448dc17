/* Unit tests for the per-message status logs: append/read round trips,
 * hash subdirectories, atomic rewrite, removal, and malformed, truncated
 * and oversized logs. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "attr.h"
#include "queue.h"
#include "status_log.h"
#include "vstr.h"

#define ID "0123456789ABCDE"

static char tmpdir[64];

static int setup(void **state)
{
    strcpy(tmpdir, "/tmp/test_status_log.XXXXXX");
    if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) != 0)
        return -1;
    mkdir(QUEUE_BOUNCE_LOG, 0700);
    mkdir(QUEUE_DEFER_LOG, 0700);
    mkdir(QUEUE_TRACE_LOG, 0700);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    if (chdir("/") != 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct status_entry sample(const char *rcpt, long long offset, const char *reason)
{
    struct status_entry e = {
        .rcpt = (char *)rcpt,
        .orcpt = (char *)"rfc822;orig@example.org",
        .notify = 4,
        .offset = offset,
        .status = (char *)"5.1.1",
        .action = (char *)"failed",
        .relay = (char *)"mx.example.org[192.0.2.1]:25",
        .reason = (char *)reason,
        .when = 1700000000,
    };
    return e;
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void test_missing_is_empty(void **state)
{
    struct status_entry *e;
    size_t n = 99;
    vstr *err = vstr_new(16);

    assert_int_equal(status_log_read(QUEUE_BOUNCE_LOG, ID, &e, &n, err), 0);
    assert_int_equal(n, 0);
    assert_null(e);
    assert_int_equal(status_log_remove(QUEUE_BOUNCE_LOG, ID), 0);
    vstr_free(err);
}

static void test_append_read(void **state)
{
    struct status_entry a = sample("a@example.org", 120, "host said: 550 no\r\nInjected: x");
    struct status_entry b = sample("b@example.org", 200, "");
    struct status_entry *e;
    size_t n;
    vstr *err = vstr_new(16);
    struct stat st;

    b.notify = 0;
    b.orcpt = (char *)"";
    assert_int_equal(status_log_append(QUEUE_BOUNCE_LOG, ID, &a, 1), 0);
    /* The hash subdirectory was created, mode 0700. */
    assert_int_equal(stat(QUEUE_BOUNCE_LOG "/E", &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(QUEUE_BOUNCE_LOG "/E/" ID, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(status_log_append(QUEUE_BOUNCE_LOG, ID, &b, 0), 0);
    assert_int_equal(status_log_read(QUEUE_BOUNCE_LOG, ID, &e, &n, err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(e[0].rcpt, "a@example.org");
    assert_string_equal(e[0].orcpt, "rfc822;orig@example.org");
    assert_int_equal(e[0].notify, 4);
    assert_int_equal(e[0].offset, 120);
    assert_string_equal(e[0].status, "5.1.1");
    assert_string_equal(e[0].action, "failed");
    assert_string_equal(e[0].relay, "mx.example.org[192.0.2.1]:25");
    /* Line breaks cannot reach a reader. */
    assert_string_equal(e[0].reason, "host said: 550 no  Injected: x");
    assert_int_equal(e[0].when, 1700000000);
    assert_string_equal(e[1].rcpt, "b@example.org");
    assert_string_equal(e[1].orcpt, "");
    assert_int_equal(e[1].notify, 0);
    status_log_free(e, n);

    assert_int_equal(status_log_remove(QUEUE_BOUNCE_LOG, ID), 0);
    assert_int_equal(status_log_read(QUEUE_BOUNCE_LOG, ID, &e, &n, err), 0);
    assert_int_equal(n, 0);
    vstr_free(err);
}

static void test_rewrite(void **state)
{
    struct status_entry v[2];
    struct status_entry *e;
    size_t n;
    vstr *err = vstr_new(16);
    struct stat st;

    v[0] = sample("x@example.org", 1, "first");
    v[1] = sample("y@example.org", 2, "second");
    v[1].action = (char *)"delayed";
    assert_int_equal(status_log_append(QUEUE_DEFER_LOG, ID, &v[0], 0), 0);
    assert_int_equal(status_log_append(QUEUE_DEFER_LOG, ID, &v[0], 0), 0);
    assert_int_equal(status_log_rewrite(QUEUE_DEFER_LOG, ID, &v[1], 1), 0);
    assert_int_equal(status_log_read(QUEUE_DEFER_LOG, ID, &e, &n, err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].rcpt, "y@example.org");
    assert_string_equal(e[0].action, "delayed");
    status_log_free(e, n);
    /* No temp file is left behind. */
    assert_int_equal(stat(QUEUE_DEFER_LOG "/E/." ID ".tmp", &st), -1);
    /* Rewrite with no entries removes the log. */
    assert_int_equal(status_log_rewrite(QUEUE_DEFER_LOG, ID, v, 0), 0);
    assert_int_equal(stat(QUEUE_DEFER_LOG "/E/" ID, &st), -1);
    /* Rewrite creates a missing hash directory. */
    assert_int_equal(status_log_rewrite(QUEUE_TRACE_LOG, ID, v, 2), 0);
    assert_int_equal(status_log_read(QUEUE_TRACE_LOG, ID, &e, &n, err), 0);
    assert_int_equal(n, 2);
    status_log_free(e, n);
    vstr_free(err);
}

/* A log image holding the encoding of one sample entry. */
static vstr *one_entry(void)
{
    struct status_entry a = sample("a@example.org", 10, "why");
    vstr *v = vstr_new(128);

    status_log_encode(v, &a);
    return v;
}

static void expect_malformed(const void *buf, size_t len, const char *why)
{
    struct status_entry *e = (void *)1;
    size_t n = 7;
    vstr *err = vstr_new(16);

    assert_int_equal(status_log_parse(buf, len, &e, &n, err), -1);
    assert_null(e);
    assert_int_equal(n, 0);
    if (why != NULL && strstr(vstr_str(err), why) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", vstr_str(err), why);
    vstr_free(err);
}

static void test_malformed(void **state)
{
    vstr *v = one_entry();
    vstr *img = vstr_new(256);
    attr_list *l = attr_list_new();
    size_t cut;

    /* Every truncation of a valid entry is malformed. */
    for (cut = 1; cut < vstr_len(v); cut++)
        expect_malformed(vstr_str(v), cut, NULL);
    /* A good entry followed by a truncated one. */
    vstr_append(img, vstr_str(v), vstr_len(v));
    vstr_append(img, vstr_str(v), vstr_len(v) - 3);
    expect_malformed(vstr_str(img), vstr_len(img), "truncated");
    /* An empty list. */
    expect_malformed("", 1, "missing");
    /* Garbage. */
    expect_malformed("hello world\n", 12, NULL);
    /* Unknown attribute. */
    vstr_reset(img);
    attr_add(l, "rcpt", "a");
    attr_add(l, "bogus", "1");
    attr_encode(img, l);
    expect_malformed(vstr_str(img), vstr_len(img), "unexpected");
    /* Missing attribute. */
    attr_list_reset(l);
    vstr_reset(img);
    attr_add(l, "rcpt", "a");
    attr_encode(img, l);
    expect_malformed(vstr_str(img), vstr_len(img), "missing");
    /* Out-of-range numbers and an empty recipient. */
    {
        static const char *const bad[][2] = {
            {"notify", "16"}, {"notify", "x"}, {"offset", "-1"}, {"offset", ""},
            {"when", "99999999999999999999"}, {"rcpt", ""},
        };
        const char *names[] = {"rcpt", "orcpt", "notify", "offset", "status",
                               "action", "relay", "reason", "when"};
        const char *good[] = {"a", "", "0", "5", "5.0.0", "failed", "none", "r", "1"};
        size_t i, k;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            attr_list_reset(l);
            vstr_reset(img);
            for (k = 0; k < 9; k++)
                attr_add(l, names[k], strcmp(names[k], bad[i][0]) == 0 ? bad[i][1] : good[k]);
            assert_int_equal(attr_encode(img, l), 0);
            expect_malformed(vstr_str(img), vstr_len(img), "malformed entry");
        }
        /* And the good one parses. */
        {
            struct status_entry *e;
            size_t n;
            vstr *err = vstr_new(16);

            attr_list_reset(l);
            vstr_reset(img);
            for (k = 0; k < 9; k++)
                attr_add(l, names[k], good[k]);
            attr_encode(img, l);
            assert_int_equal(status_log_parse(vstr_str(img), vstr_len(img), &e, &n, err), 0);
            assert_int_equal(n, 1);
            status_log_free(e, n);
            vstr_free(err);
        }
    }
    /* Duplicate attribute. */
    vstr_reset(img);
    vstr_append(img, "rcpt\0a\0rcpt\0b\0\0", 15);
    expect_malformed(vstr_str(img), vstr_len(img), "duplicate");
    /* Oversized log: refused before it is looked at. */
    expect_malformed("", (size_t)STATUS_LOG_MAX_SIZE + 1, "too large");
    attr_list_free(l);
    vstr_free(v);
    vstr_free(img);
}

static void test_malformed_file(void **state)
{
    struct status_entry *e;
    size_t n;
    vstr *err = vstr_new(16);
    vstr *v = one_entry();

    mkdir(QUEUE_TRACE_LOG "/E", 0700);
    write_file(QUEUE_TRACE_LOG "/E/" ID, vstr_str(v), vstr_len(v) - 1);
    assert_int_equal(status_log_read(QUEUE_TRACE_LOG, ID, &e, &n, err), -1);
    assert_non_null(strstr(vstr_str(err), "truncated"));
    assert_int_equal(n, 0);
    /* An empty file is an empty log. */
    write_file(QUEUE_TRACE_LOG "/E/" ID, "", 0);
    assert_int_equal(status_log_read(QUEUE_TRACE_LOG, ID, &e, &n, err), 0);
    assert_int_equal(n, 0);
    /* A symlink is refused. */
    unlink(QUEUE_TRACE_LOG "/E/" ID);
    assert_int_equal(symlink("/etc/passwd", QUEUE_TRACE_LOG "/E/" ID), 0);
    assert_int_equal(status_log_read(QUEUE_TRACE_LOG, ID, &e, &n, err), -1);
    unlink(QUEUE_TRACE_LOG "/E/" ID);
    vstr_free(v);
    vstr_free(err);
}

static void test_many_entries(void **state)
{
    vstr *img = vstr_new(1 << 20);
    vstr *v = one_entry();
    struct status_entry *e;
    size_t n, i;
    vstr *err = vstr_new(16);

    for (i = 0; i < 5000; i++)
        vstr_append(img, vstr_str(v), vstr_len(v));
    assert_int_equal(status_log_parse(vstr_str(img), vstr_len(img), &e, &n, err), 0);
    assert_int_equal(n, 5000);
    status_log_free(e, n);
    vstr_free(img);
    vstr_free(v);
    vstr_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_is_empty),
        cmocka_unit_test(test_append_read),
        cmocka_unit_test(test_rewrite),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_malformed_file),
        cmocka_unit_test(test_many_entries),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

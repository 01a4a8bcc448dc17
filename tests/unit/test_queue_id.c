/* Unit tests for queue ids (layout, ordering, validity, uniqueness) and
 * queue paths, tree creation, scanning and moves. */
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
#include "queue.h"
#include "queue_id.h"
#include "vstr.h"

static void test_make_layout(void **state)
{
    char id[QUEUE_ID_LEN + 1];
    struct timeval tv = {0, 0};

    queue_id_make(id, &tv, 0);
    assert_string_equal(id, "000000000000000");
    tv.tv_sec = 1;
    tv.tv_usec = 999999;
    queue_id_make(id, &tv, 0xFFFFF);
    /* 999999 = 0xF423F = 11110 10000 10001 11111 -> U G H V */
    assert_string_equal(id, "0000001UGHVVVVV");
    assert_true(queue_id_valid(id));
    assert_int_equal(queue_id_time(id), 1);
    tv.tv_sec = 1700000000;
    tv.tv_usec = 123456;
    queue_id_make(id, &tv, 12345);
    assert_int_equal(strlen(id), QUEUE_ID_LEN);
    assert_int_equal(queue_id_time(id), 1700000000);
}

static void test_ordering(void **state)
{
    char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1];
    struct timeval ta = {1700000000, 999999}, tb = {1700000001, 0};

    queue_id_make(a, &ta, 0xFFFFF);
    queue_id_make(b, &tb, 0);
    assert_true(strcmp(a, b) < 0);
    ta.tv_sec = tb.tv_sec;
    ta.tv_usec = 5;
    tb.tv_usec = 6;
    queue_id_make(a, &ta, 0xFFFFF);
    queue_id_make(b, &tb, 0);
    assert_true(strcmp(a, b) < 0);
}

static void test_valid(void **state)
{
    assert_true(queue_id_valid("0123456789ABCDE"));
    assert_false(queue_id_valid(""));
    assert_false(queue_id_valid(NULL));
    assert_false(queue_id_valid("0123456789ABCD"));          /* short */
    assert_false(queue_id_valid("0123456789ABCDEF"));        /* long */
    assert_false(queue_id_valid("0123456789abcde"));         /* lower case */
    assert_false(queue_id_valid("0123456789ABCDW"));         /* W is not a digit */
    assert_false(queue_id_valid(".0123456789ABCD"));
    assert_false(queue_id_valid("0000000VVVV0000"));          /* usec >= 10^6 */
    assert_int_equal(queue_id_time("bad"), -1);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_unique_and_increasing(void **state)
{
    enum { N = 20000 };
    char (*ids)[QUEUE_ID_LEN + 1] = malloc(N * sizeof(*ids));
    int i;

    for (i = 0; i < N; i++) {
        queue_id_new(ids[i]);
        assert_true(queue_id_valid(ids[i]));
        /* time part strictly increases within a process */
        if (i > 0)
            assert_true(memcmp(ids[i - 1], ids[i], 11) < 0);
    }
    qsort(ids, N, sizeof(*ids), cmp_id);
    for (i = 1; i < N; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void test_paths(void **state)
{
    vstr *p = vstr_new(0);

    assert_true(queue_is_hashed(QUEUE_DEFERRED));
    assert_true(queue_is_hashed(QUEUE_TRACE_LOG));
    assert_false(queue_is_hashed(QUEUE_INCOMING));
    queue_path(p, QUEUE_INCOMING, "0123456789ABCDE");
    assert_string_equal(vstr_str(p), "incoming/0123456789ABCDE");
    queue_path(p, QUEUE_DEFERRED, "0123456789ABCDE");
    assert_string_equal(vstr_str(p), "deferred/E/0123456789ABCDE");
    queue_temp_path(p, "0123456789ABCDE");
    assert_string_equal(vstr_str(p), "incoming/.0123456789ABCDE");
    vstr_free(p);
}

static void touch(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY, 0600);

    assert_true(fd >= 0);
    close(fd);
}

static void test_tree_scan_move(void **state)
{
    char dir[] = "/tmp/test_queue.XXXXXX";
    char cwd[4096];
    vstr *err = vstr_new(0);
    vstr *path = vstr_new(0);
    char id[QUEUE_ID_LEN + 1];
    queue_scan *qs;
    const char *name;
    struct stat st;
    int count;

    assert_non_null(mkdtemp(dir));
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(queue_tree_create(dir, getuid(), getgid(), err), 0);
    assert_int_equal(queue_tree_check(dir, getuid(), err), 0);
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(stat("maildrop", &st), 0);
    assert_int_equal(st.st_mode & 07777, 01730);
    /* a wrong mode is reported with a fix */
    assert_int_equal(chmod("active", 0755), 0);
    assert_int_equal(queue_tree_check(".", getuid(), err), 1);
    assert_non_null(strstr(vstr_str(err), "chmod 0700"));
    assert_int_equal(queue_tree_create(".", getuid(), getgid(), err), 0);
    assert_int_equal(queue_tree_check(".", getuid(), err), 0);
    /* a missing directory is master's to create, not a problem */
    assert_int_equal(rmdir("hold"), 0);
    assert_int_equal(queue_tree_check(".", getuid(), err), 0);
    assert_int_equal(queue_tree_create(".", getuid(), getgid(), err), 0);

    /* incoming: only valid ids are listed */
    queue_id_new(id);
    queue_path(path, QUEUE_INCOMING, id);
    touch(vstr_str(path));
    queue_temp_path(path, "0123456789ABCDE");
    touch(vstr_str(path));
    touch("incoming/junk");
    qs = queue_scan_open(QUEUE_INCOMING);
    assert_non_null(qs);
    count = 0;
    while ((name = queue_scan_next(qs)) != NULL) {
        assert_string_equal(name, id);
        count++;
    }
    assert_int_equal(count, 1);
    queue_scan_close(qs);

    /* move to a hashed queue whose subdirectory is missing */
    queue_path(path, QUEUE_DEFERRED, id);
    *strrchr(vstr_str(path), '/') = '\0';
    assert_int_equal(rmdir(vstr_str(path)), 0);
    assert_int_equal(queue_move(QUEUE_INCOMING, QUEUE_DEFERRED, id), 0);
    queue_path(path, QUEUE_DEFERRED, id);
    assert_int_equal(stat(vstr_str(path), &st), 0);
    assert_int_equal(queue_move(QUEUE_INCOMING, QUEUE_DEFERRED, id), -1);
    touch("deferred/0/junk");
    qs = queue_scan_open(QUEUE_DEFERRED);
    count = 0;
    while ((name = queue_scan_next(qs)) != NULL) {
        assert_string_equal(name, id);
        count++;
    }
    assert_int_equal(count, 1);
    queue_scan_close(qs);
    assert_null(queue_scan_open("nonexistent"));

    assert_int_equal(chdir(cwd), 0);
    {
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
    }
    vstr_free(err);
    vstr_free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_layout),
        cmocka_unit_test(test_ordering),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_unique_and_increasing),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_tree_scan_move),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

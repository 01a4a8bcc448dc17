/* Unit tests of postsuper's pure decisions: id lists from untrusted
 * standard input, queue names per operation, what the structure check
 * does with each kind of directory entry, and which temporary files -p
 * may purge. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "argv.h"
#include "postsuper.h"
#include "queue_id.h"
#include "vstr.h"

static void make_id(char id[QUEUE_ID_LEN + 1], unsigned rnd)
{
    struct timeval tv = {1700000000, 123456};

    queue_id_make(id, &tv, rnd);
}

static void test_ids_parse(void **state)
{
    char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1];
    argv_t *ids = argv_new();
    vstr *text = vstr_new(128), *bad = vstr_new(64);

    (void) state;
    make_id(a, 1);
    make_id(b, 2);
    vstr_printf(text, "%s\n\n  %s \r\n", a, b);
    assert_int_equal(postsuper_ids_parse(vstr_str(text), vstr_len(text), ids, bad), 0);
    assert_int_equal(ids->n, 2);
    assert_string_equal(ids->v[0], a);
    assert_string_equal(ids->v[1], b);
    assert_int_equal(vstr_len(bad), 0);
    /* No final newline. */
    argv_free(ids);
    ids = argv_new();
    assert_int_equal(postsuper_ids_parse(a, strlen(a), ids, bad), 0);
    assert_int_equal(ids->n, 1);
    argv_free(ids);
    vstr_free(text);
    vstr_free(bad);
}

static void test_ids_parse_hostile(void **state)
{
    char a[QUEUE_ID_LEN + 1];
    argv_t *ids = argv_new();
    vstr *text = vstr_new(128), *bad = vstr_new(64);

    (void) state;
    make_id(a, 3);
    vstr_puts(text, "../../etc/passwd\n");
    vstr_puts(text, "ALL\n");
    vstr_append(text, "ABC\0DEF\n", 8);
    vstr_puts(text, "\x1b[31mred\n");
    vstr_puts(text, "0123456789abcde\n");   /* lower case: not an id */
    vstr_puts(text, a);
    vstr_puts(text, "X\n");                 /* one letter too long */
    vstr_puts(text, a);
    assert_int_equal(postsuper_ids_parse(vstr_str(text), vstr_len(text), ids, bad), 6);
    assert_int_equal(ids->n, 1);
    assert_string_equal(ids->v[0], a);
    /* The report is printable. */
    for (size_t i = 0; i < vstr_len(bad); i++)
        assert_true(vstr_str(bad)[i] == '\n' || (vstr_str(bad)[i] >= 32 && vstr_str(bad)[i] < 127));
    argv_free(ids);
    vstr_free(text);
    vstr_free(bad);
}

static void test_queue_allowed(void **state)
{
    (void) state;
    assert_true(postsuper_queue_allowed('d', "deferred"));
    assert_true(postsuper_queue_allowed('d', "maildrop"));
    assert_true(postsuper_queue_allowed('d', "corrupt"));
    assert_true(postsuper_queue_allowed('h', "active"));
    assert_false(postsuper_queue_allowed('h', "maildrop"));
    assert_false(postsuper_queue_allowed('r', "corrupt"));
    assert_true(postsuper_queue_allowed('H', "hold"));
    assert_false(postsuper_queue_allowed('H', "deferred"));
    assert_false(postsuper_queue_allowed('d', "defer"));
    assert_false(postsuper_queue_allowed('d', "../etc"));
    assert_false(postsuper_queue_allowed('d', ""));
}

static void test_classify(void **state)
{
    char id[QUEUE_ID_LEN + 1], right[2] = {0, 0}, wrong[2] = {0, 0};

    (void) state;
    make_id(id, 7);
    right[0] = id[QUEUE_ID_LEN - 1];
    wrong[0] = right[0] == 'A' ? 'B' : 'A';
    /* Hashed queue. */
    assert_int_equal(postsuper_classify("deferred", right, id, 0), FIX_NONE);
    assert_int_equal(postsuper_classify("deferred", wrong, id, 0), FIX_MOVE);
    assert_int_equal(postsuper_classify("deferred", "", id, 0), FIX_MOVE);
    assert_int_equal(postsuper_classify("deferred", "", "A", 1), FIX_SKIP);
    assert_int_equal(postsuper_classify("deferred", "", "junk", 1), FIX_UNKNOWN);
    assert_int_equal(postsuper_classify("deferred", right, "junk", 0), FIX_CORRUPT);
    /* Flat queue. */
    assert_int_equal(postsuper_classify("hold", "", id, 0), FIX_NONE);
    assert_int_equal(postsuper_classify("hold", right, id, 0), FIX_MOVE);
    assert_int_equal(postsuper_classify("incoming", "", "core", 0), FIX_CORRUPT);
    /* Temporary files are never touched by -s. */
    assert_int_equal(postsuper_classify("incoming", "", ".0123", 0), FIX_SKIP);
    /* Status logs: a bad name is reported, never moved to corrupt/. */
    assert_int_equal(postsuper_classify("defer", right, id, 0), FIX_NONE);
    assert_int_equal(postsuper_classify("bounce", wrong, id, 0), FIX_MOVE);
    assert_int_equal(postsuper_classify("trace", right, "junk", 0), FIX_UNKNOWN);
}

static void test_temp_stale(void **state)
{
    char id[QUEUE_ID_LEN + 1], name[64];
    time_t now = 1700000000;

    (void) state;
    make_id(id, 9);
    snprintf(name, sizeof(name), ".%s", id);
    assert_true(postsuper_temp_is_stale("incoming", name, now - 20000, now, 18000));
    assert_false(postsuper_temp_is_stale("incoming", name, now - 100, now, 18000));
    assert_false(postsuper_temp_is_stale("incoming", name, now + 100000, now, 18000));
    /* Not a temp name, or not ours. */
    assert_false(postsuper_temp_is_stale("incoming", id, now - 20000, now, 18000));
    assert_false(postsuper_temp_is_stale("incoming", ".junk", now - 20000, now, 18000));
    assert_false(postsuper_temp_is_stale("maildrop", name, now - 20000, now, 18000));
    assert_false(postsuper_temp_is_stale("deferred", name, now - 20000, now, 18000));
    snprintf(name, sizeof(name), ".%s.tmp", id);
    assert_true(postsuper_temp_is_stale("defer", name, now - 20000, now, 18000));
    assert_false(postsuper_temp_is_stale("incoming", name, now - 20000, now, 18000));
    snprintf(name, sizeof(name), ".%s.tmpx", id);
    assert_false(postsuper_temp_is_stale("defer", name, now - 20000, now, 18000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_parse),
        cmocka_unit_test(test_ids_parse_hostile),
        cmocka_unit_test(test_queue_allowed),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_temp_stale),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

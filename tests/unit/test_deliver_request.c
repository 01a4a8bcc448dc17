/* Unit tests for the delivery agents' request reader: recipient groups in
 * order, and the malformed requests it must refuse before any path is
 * built from them. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "deliver_request.h"
#include "queue_id.h"
#include "vstr.h"

static char good_id[QUEUE_ID_LEN + 1];

static attr_list *base(const char *queue_name, const char *id)
{
    attr_list *l = attr_list_new();

    attr_add(l, "queue_name", queue_name);
    attr_add(l, "queue_id", id);
    attr_add(l, "content_offset", "120");
    attr_add(l, "arrival_time", "1000.5");
    attr_add(l, "sender", "s@example.com");
    attr_add(l, "nexthop", "example.net");
    attr_add(l, "flags", "4");
    return l;
}

static void add_rcpt(attr_list *l, const char *off, const char *addr, const char *notify)
{
    attr_add(l, "rcpt_offset", off);
    attr_add(l, "rcpt_address", addr);
    attr_add(l, "rcpt_orcpt", "");
    attr_add(l, "rcpt_notify", notify);
}

static int parse(attr_list *l, vstr *why, struct deliver_request *req)
{
    memset(req, 0, sizeof(*req));
    req->attrs = l;
    return deliver_request_parse(req, 2000.0, why);
}

static void test_good_request(void **state)
{
    struct deliver_request req;
    vstr *why = vstr_new(32);
    attr_list *l = base("active", good_id);

    add_rcpt(l, "200", "a@example.net", "0");
    add_rcpt(l, "260", "b@example.net", "6");
    assert_int_equal(parse(l, why, &req), 0);
    assert_int_equal(req.nrcpt, 2);
    assert_string_equal(req.rcpts[1].address, "b@example.net");
    assert_string_equal(req.rcpts[1].offset, "260");
    assert_int_equal(req.rcpts[1].notify, 6);
    assert_int_equal(req.content_offset, 120);
    assert_int_equal(req.flags, 4);
    assert_true(req.arrival > 1000.4 && req.arrival < 1000.6);
    deliver_request_free(&req);
    /* An arrival in the future is clamped to now. */
    l = base("active", good_id);
    attr_list_reset(l);
    attr_add(l, "queue_name", "active");
    attr_add(l, "queue_id", good_id);
    attr_add(l, "content_offset", "1");
    attr_add(l, "arrival_time", "99999999");
    attr_add(l, "sender", "");
    attr_add(l, "nexthop", "");
    add_rcpt(l, "9", "c@example.net", "0");
    assert_int_equal(parse(l, why, &req), 0);
    assert_true(req.arrival == 2000.0);
    deliver_request_free(&req);
    vstr_free(why);
}

static void expect_bad(attr_list *l, const char *text)
{
    struct deliver_request req;
    vstr *why = vstr_new(32);

    assert_int_equal(parse(l, why, &req), -1);
    assert_non_null(strstr(vstr_str(why), text));
    deliver_request_free(&req);
    vstr_free(why);
}

static void test_bad_requests(void **state)
{
    attr_list *l;

    expect_bad(base("../etc", good_id), "queue name");
    expect_bad(base("active", "../../passwd"), "queue id");
    l = base("active", good_id);
    expect_bad(l, "no recipients");
    l = base("active", good_id);
    attr_add(l, "rcpt_address", "x@y");
    expect_bad(l, "before rcpt_offset");
    l = base("active", good_id);
    attr_add(l, "rcpt_offset", "1");
    attr_add(l, "rcpt_address", "x@y");
    attr_add(l, "rcpt_address", "z@y");
    expect_bad(l, "misplaced rcpt_address");
    l = base("active", good_id);
    attr_add(l, "rcpt_offset", "1");
    attr_add(l, "rcpt_address", "x@y");
    attr_add(l, "rcpt_notify", "0");
    expect_bad(l, "incomplete recipient #1");
    l = base("active", good_id);
    add_rcpt(l, "1", "x@y", "16");
    expect_bad(l, "bad rcpt_notify");
    l = base("active", good_id);
    add_rcpt(l, "1", "", "0");
    expect_bad(l, "incomplete recipient");
}

static int setup(void **state)
{
    queue_id_new(good_id);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_request),
        cmocka_unit_test(test_bad_requests),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}

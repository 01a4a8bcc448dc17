/* Unit tests for the attribute list codec: encoding, strict parsing from
 * buffers and streams (unknown, duplicate, missing, invalid, oversized and
 * truncated input), consumption of whole lists, and announcements. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "attr.h"
#include "stream.h"
#include "vstr.h"

static const struct attr_spec spec[] = {
    {"status", ATTR_REQUIRED},
    {"queue_id", 0},
    {"rcpt", ATTR_REPEAT},
    {NULL, 0},
};

#define L(s) s, sizeof(s) - 1

static ssize_t parse(const char *buf, size_t len, attr_list *l, const struct attr_spec *sp, vstr *err)
{
    return attr_parse(buf, len, l, sp, err);
}

static void test_encode_roundtrip(void **state)
{
    attr_list *l = attr_list_new(), *m = attr_list_new();
    vstr *buf = vstr_new(0), *err = vstr_new(0);
    long n;

    attr_add(l, "status", "0");
    attr_addf(l, "queue_id", "%s", "ABC");
    attr_add(l, "rcpt", "a@b");
    attr_add(l, "rcpt", "");
    assert_int_equal(attr_encode(buf, l), 0);
    assert_int_equal(vstr_len(buf), sizeof("status\0" "0\0queue_id\0ABC\0rcpt\0a@b\0rcpt\0\0"));
    assert_memory_equal(vstr_str(buf), "status\0" "0\0queue_id\0ABC\0rcpt\0a@b\0rcpt\0\0\0", vstr_len(buf));
    assert_int_equal(parse(vstr_str(buf), vstr_len(buf), m, spec, err), (ssize_t) vstr_len(buf));
    assert_int_equal(attr_count(m), 4);
    assert_string_equal(attr_name(m, 3), "rcpt");
    assert_string_equal(attr_value(m, 3), "");
    assert_string_equal(attr_get(m, "rcpt"), "a@b");
    assert_null(attr_get(m, "nope"));
    assert_null(attr_name(m, 4));
    assert_int_equal(attr_get_long(m, "status", 0, 10, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(attr_get_long(m, "queue_id", 0, 10, &n), -1);
    assert_int_equal(attr_get_long(m, "missing", 0, 10, &n), -1);
    attr_list_reset(m);
    attr_add_long(m, "v", -5);
    assert_int_equal(attr_get_long(m, "v", -10, 10, &n), 0);
    assert_int_equal(n, -5);
    assert_int_equal(attr_get_long(m, "v", 0, 10, &n), -1);
    attr_list_reset(m);
    attr_add(m, "v", "12x");
    assert_int_equal(attr_get_long(m, "v", 0, 100, &n), -1);
    attr_list_reset(m);
    attr_add(m, "v", " 12");
    assert_int_equal(attr_get_long(m, "v", 0, 100, &n), -1);
    attr_list_free(l);
    attr_list_free(m);
    vstr_free(buf);
    vstr_free(err);
}

static void test_encode_refuses(void **state)
{
    attr_list *l = attr_list_new();
    vstr *buf = vstr_new(0);

    attr_add(l, "ok", "value\nRCPT TO:<x>");
    assert_int_equal(attr_encode(buf, l), -1);
    assert_int_equal(vstr_len(buf), 0);
    attr_list_reset(l);
    attr_add(l, "ok", "a\rb");
    assert_int_equal(attr_encode(buf, l), -1);
    attr_list_reset(l);
    attr_add(l, "Bad", "x");
    assert_int_equal(attr_encode(buf, l), -1);
    attr_list_reset(l);
    attr_add(l, "", "x");
    assert_int_equal(attr_encode(buf, l), -1);
    attr_list_reset(l);
    assert_int_equal(attr_encode(buf, l), 0);   /* empty list: one NUL */
    assert_int_equal(vstr_len(buf), 1);
    attr_list_free(l);
    vstr_free(buf);
}

static void test_parse_errors(void **state)
{
    attr_list *l = attr_list_new();
    vstr *err = vstr_new(0);
    char *big;
    size_t biglen;

    /* incomplete lists need more input */
    assert_int_equal(parse("", 0, l, spec, err), 0);
    assert_int_equal(parse(L("status"), l, spec, err), 0);
    assert_int_equal(parse(L("status\0" "0"), l, spec, err), 0);
    assert_int_equal(parse(L("status\0" "0\0"), l, spec, err), 0);
    /* missing required */
    assert_int_equal(parse(L("queue_id\0x\0\0"), l, spec, err), -1);
    assert_non_null(strstr(vstr_str(err), "missing attribute \"status\""));
    /* unknown */
    assert_int_equal(parse(L("status\0" "0\0evil\0x\0\0"), l, spec, err), -1);
    assert_non_null(strstr(vstr_str(err), "unexpected attribute \"evil\""));
    /* ...but any name is fine without a spec */
    assert_int_equal(parse(L("status\0" "0\0evil\0x\0\0"), l, NULL, err), 17);
    /* duplicate */
    assert_int_equal(parse(L("status\0" "0\0status\0" "1\0\0"), l, spec, err), -1);
    assert_non_null(strstr(vstr_str(err), "duplicate attribute \"status\""));
    assert_int_equal(parse(L("a\0" "0\0a\0" "1\0\0"), l, NULL, err), -1);
    /* repeatable */
    assert_int_equal(parse(L("status\0" "0\0rcpt\0" "1\0rcpt\0" "2\0\0"), l, spec, err), 24);
    /* invalid names and values */
    assert_int_equal(parse(L("Status\0" "0\0\0"), l, NULL, err), -1);
    assert_non_null(strstr(vstr_str(err), "invalid attribute name"));
    assert_int_equal(parse(L("sta tus\0" "0\0\0"), l, NULL, err), -1);
    assert_int_equal(parse(L("status\0" "0\n\0\0"), l, spec, err), -1);
    assert_non_null(strstr(vstr_str(err), "invalid value"));
    assert_int_equal(parse(L("st\xff\0" "0\0\0"), l, NULL, err), -1);
    /* an error is only reported once the list is complete */
    assert_int_equal(parse(L("evil\0x\0status\0"), l, spec, err), 0);
    /* name too long: fatal at once, even without the rest */
    big = malloc(ATTR_MAX_VALUE + 100);
    memset(big, 'a', ATTR_MAX_NAME + 1);
    assert_int_equal(parse(big, ATTR_MAX_NAME + 1, l, NULL, err), -1);
    assert_non_null(strstr(vstr_str(err), "name too long"));
    assert_int_equal(parse(big, ATTR_MAX_NAME, l, NULL, err), 0);
    big[ATTR_MAX_NAME] = '\0';
    assert_int_equal(parse(big, ATTR_MAX_NAME + 1, l, NULL, err), 0);
    /* value too long */
    memcpy(big, "v\0", 2);
    memset(big + 2, 'x', ATTR_MAX_VALUE + 1);
    biglen = 2 + ATTR_MAX_VALUE + 1;
    assert_int_equal(parse(big, biglen, l, NULL, err), -1);
    assert_non_null(strstr(vstr_str(err), "value too long"));
    big[2 + ATTR_MAX_VALUE] = '\0';
    assert_int_equal(parse(big, biglen, l, NULL, err), 0);
    big[biglen] = '\0';
    assert_int_equal(parse(big, biglen + 1, l, NULL, err), (ssize_t) biglen + 1);
    assert_int_equal(strlen(attr_value(l, 0)), ATTR_MAX_VALUE);
    free(big);
    attr_list_free(l);
    vstr_free(err);
}

static void test_parse_count_cap(void **state)
{
    attr_list *l = attr_list_new();
    vstr *buf = vstr_new(0), *err = vstr_new(0);
    int i;

    for (i = 0; i < ATTR_MAX_COUNT; i++)
        vstr_append(buf, "r\0x\0", 4);
    vstr_putc(buf, '\0');
    assert_int_equal(parse(vstr_str(buf), vstr_len(buf), l, spec, err), -1);  /* "r" unknown */
    assert_int_equal(parse(vstr_str(buf), vstr_len(buf), l, NULL, err), -1);  /* duplicates */
    vstr_reset(buf);
    for (i = 0; i < ATTR_MAX_COUNT; i++)
        vstr_printf(buf, "a%d%cx%c", i, 0, 0);
    vstr_putc(buf, '\0');
    assert_int_equal(parse(vstr_str(buf), vstr_len(buf), l, NULL, err), (ssize_t) vstr_len(buf));
    assert_int_equal(attr_count(l), ATTR_MAX_COUNT);
    vstr_truncate(buf, vstr_len(buf) - 1);
    vstr_append(buf, "b\0y\0", 4);
    assert_int_equal(parse(vstr_str(buf), vstr_len(buf), l, NULL, err), -1);
    assert_non_null(strstr(vstr_str(err), "too many"));
    attr_list_free(l);
    vstr_free(buf);
    vstr_free(err);
}

static stream *peer_stream(int *peer)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *peer = sv[1];
    return stream_fdopen(sv[0]);
}

static void test_read_consumes_whole_list(void **state)
{
    attr_list *l = attr_list_new();
    vstr *err = vstr_new(0);
    int peer;
    stream *s = peer_stream(&peer);
    static const char wire[] = "status\0" "0\0evil\0x\0status\0" "1\0\0"   /* bad list */
                               "status\0" "0\0queue_id\0Q\0\0";         /* good list */

    stream_set_timeout(s, 5);
    assert_int_equal(write(peer, wire, sizeof(wire) - 1), (ssize_t) sizeof(wire) - 1);
    assert_int_equal(attr_read(s, l, spec, err), -1);
    assert_non_null(strstr(vstr_str(err), "evil"));
    /* the stream is still in step: the next list reads fine */
    assert_int_equal(attr_read(s, l, spec, err), 0);
    assert_string_equal(attr_get(l, "queue_id"), "Q");
    close(peer);
    assert_int_equal(attr_read(s, l, spec, err), STREAM_EOF);
    stream_close(s);
    attr_list_free(l);
    vstr_free(err);
}

static void test_read_malformed(void **state)
{
    attr_list *l = attr_list_new();
    vstr *err = vstr_new(0);
    char *big = malloc(ATTR_MAX_VALUE + 10);
    int peer;
    stream *s;

    /* truncated */
    s = peer_stream(&peer);
    assert_int_equal(write(peer, "status\0" "0", 8), 8);
    close(peer);
    assert_int_equal(attr_read(s, l, spec, err), STREAM_EOF);
    stream_close(s);
    /* timeout on an unfinished list */
    s = peer_stream(&peer);
    stream_set_timeout(s, 1);
    assert_int_equal(write(peer, "status\0", 7), 7);
    assert_int_equal(attr_read(s, l, spec, err), STREAM_TIMEOUT);
    close(peer);
    stream_close(s);
    /* oversized name and value */
    s = peer_stream(&peer);
    memset(big, 'n', ATTR_MAX_NAME + 1);
    assert_int_equal(write(peer, big, ATTR_MAX_NAME + 1), ATTR_MAX_NAME + 1);
    assert_int_equal(attr_read(s, l, NULL, err), -1);
    assert_non_null(strstr(vstr_str(err), "name too long"));
    close(peer);
    stream_close(s);
    s = peer_stream(&peer);
    if (fork() == 0) {
        stream_free(s);
        memset(big, 'v', ATTR_MAX_VALUE + 10);
        assert_int_equal(write(peer, "v\0", 2), 2);
        if (write(peer, big, ATTR_MAX_VALUE + 10) < 0)
            _exit(1);
        _exit(0);
    }
    assert_int_equal(attr_read(s, l, NULL, err), -1);
    assert_non_null(strstr(vstr_str(err), "value too long"));
    close(peer);
    stream_close(s);
    free(big);
    attr_list_free(l);
    vstr_free(err);
}

static void test_write_read(void **state)
{
    attr_list *l = attr_list_new();
    vstr *err = vstr_new(0);
    int peer;
    stream *s = peer_stream(&peer);
    stream *p = stream_fdopen(peer);

    attr_add(l, "status", "0");
    attr_add(l, "queue_id", "0123456789ABCDE");
    assert_int_equal(attr_write(p, l), 0);
    attr_list_reset(l);
    attr_add(l, "status", "bad\nline");
    assert_int_equal(attr_write(p, l), STREAM_ERROR);
    assert_int_equal(attr_read(s, l, spec, err), 0);
    assert_string_equal(attr_get(l, "queue_id"), "0123456789ABCDE");
    stream_close(p);
    stream_close(s);
    attr_list_free(l);
    vstr_free(err);
}

static void test_announce(void **state)
{
    vstr *err = vstr_new(0), *buf = vstr_new(0);
    attr_list *l = attr_list_new();
    int peer;
    stream *s = peer_stream(&peer);
    stream *p = stream_fdopen(peer);

    attr_announce_encode(buf, "cleanup", 1);
    assert_memory_equal(vstr_str(buf), "protocol\0cleanup\0version\0" "1\0\0", vstr_len(buf));
    assert_int_equal(parse(vstr_str(buf), vstr_len(buf), l, NULL, err), (ssize_t) vstr_len(buf));
    assert_int_equal(attr_check_announce(l, "cleanup", 1, err), 0);
    assert_int_equal(attr_check_announce(l, "cleanup", 2, err), -1);
    assert_int_equal(attr_check_announce(l, "delivery", 1, err), -1);
    assert_non_null(strstr(vstr_str(err), "delivery"));
    assert_int_equal(attr_announce(p, "cleanup", 1), 0);
    assert_int_equal(attr_announce(p, "delivery", 1), 0);
    assert_int_equal(attr_expect(s, "cleanup", 1, err), 0);
    assert_int_equal(attr_expect(s, "cleanup", 1, err), -1);
    stream_close(p);
    stream_close(s);
    attr_list_free(l);
    vstr_free(buf);
    vstr_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_roundtrip),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_count_cap),
        cmocka_unit_test(test_read_consumes_whole_list),
        cmocka_unit_test(test_read_malformed),
        cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_announce),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

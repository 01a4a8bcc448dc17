/* Unit tests for queue file records: encoding, round trips through a
 * stream, offsets, and truncated, oversized and invalid input. */
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
#include "record.h"
#include "stream.h"
#include "vstr.h"

static void test_header(void **state)
{
    unsigned char h[5];

    assert_int_equal(rec_header(h, 'L', 0), 2);
    assert_memory_equal(h, "L\x00", 2);
    assert_int_equal(rec_header(h, 'L', 127), 2);
    assert_int_equal(h[1], 127);
    assert_int_equal(rec_header(h, 'L', 128), 3);
    assert_memory_equal(h, "L\x80\x01", 3);
    assert_int_equal(rec_header(h, 'L', REC_MAX_LEN), 4);
    assert_memory_equal(h, "L\x80\x80\x04", 4);
}

static void test_type_valid(void **state)
{
    const char *valid = "VZTWFSAOYRDMLCXE";
    int c;

    for (c = 0; c < 256; c++)
        assert_int_equal(rec_type_valid(c), c != 0 && strchr(valid, c) != NULL);
}

static void test_parse_roundtrip(void **state)
{
    vstr *buf = vstr_new(0);
    char *big = malloc(REC_MAX_LEN);
    const char *data;
    size_t dlen, pos = 0, cut;
    ssize_t n;
    int type;

    memset(big, 'b', REC_MAX_LEN);
    rec_append(buf, REC_LINE, "hello", 5);
    rec_append(buf, REC_MESSAGE, "", 0);
    rec_append(buf, REC_CONT, big, REC_MAX_LEN);
    rec_append(buf, REC_END, "", 0);
    n = rec_parse(vstr_str(buf), vstr_len(buf), &type, &data, &dlen);
    assert_int_equal(n, 7);
    assert_int_equal(type, 'L');
    assert_int_equal(dlen, 5);
    assert_memory_equal(data, "hello", 5);
    pos = (size_t) n;
    n = rec_parse(vstr_str(buf) + pos, vstr_len(buf) - pos, &type, &data, &dlen);
    assert_int_equal(n, 2);
    assert_int_equal(type, 'M');
    assert_int_equal(dlen, 0);
    pos += (size_t) n;
    /* every truncation of the big record is "incomplete", never corrupt */
    for (cut = 0; cut < 4 + REC_MAX_LEN; cut += (cut < 10 ? 1 : 997))
        assert_int_equal(rec_parse(vstr_str(buf) + pos, cut, &type, &data, &dlen), 0);
    n = rec_parse(vstr_str(buf) + pos, vstr_len(buf) - pos, &type, &data, &dlen);
    assert_int_equal(n, 4 + REC_MAX_LEN);
    assert_int_equal(dlen, REC_MAX_LEN);
    pos += (size_t) n;
    n = rec_parse(vstr_str(buf) + pos, vstr_len(buf) - pos, &type, &data, &dlen);
    assert_int_equal(n, 2);
    assert_int_equal(type, 'E');
    pos += (size_t) n;
    assert_int_equal(pos, vstr_len(buf));
    free(big);
    vstr_free(buf);
}

static void test_parse_malformed(void **state)
{
    const char *data;
    size_t dlen;
    int type;

    /* unknown type */
    assert_int_equal(rec_parse("Q\x00", 2, &type, &data, &dlen), REC_CORRUPT);
    assert_int_equal(rec_parse("\x00\x00", 2, &type, &data, &dlen), REC_CORRUPT);
    assert_int_equal(rec_parse("l\x00", 2, &type, &data, &dlen), REC_CORRUPT);
    /* length just over the maximum */
    assert_int_equal(rec_parse("L\x81\x80\x04", 4, &type, &data, &dlen), REC_CORRUPT);
    /* oversized already from partial length bytes */
    assert_int_equal(rec_parse("L\xff\xff\xff", 4, &type, &data, &dlen), REC_CORRUPT);
    /* five length bytes */
    assert_int_equal(rec_parse("L\x80\x80\x80\x80\x00", 6, &type, &data, &dlen), REC_CORRUPT);
    /* truncated header and data: need more */
    assert_int_equal(rec_parse("L", 1, &type, &data, &dlen), 0);
    assert_int_equal(rec_parse("L\x80", 2, &type, &data, &dlen), 0);
    assert_int_equal(rec_parse("L\x05" "abc", 5, &type, &data, &dlen), 0);
    assert_int_equal(rec_parse("", 0, &type, &data, &dlen), 0);
    /* non-minimal length encoding is still unambiguous */
    assert_int_equal(rec_parse("L\x83\x00" "abc", 6, &type, &data, &dlen), 6);
}

static stream *pipe_stream(const void *bytes, size_t len)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], bytes, len), (ssize_t) len);
    close(sv[1]);
    return stream_fdopen(sv[0]);
}

static void test_stream_roundtrip(void **state)
{
    char path[] = "/tmp/test_record.XXXXXX";
    int fd = mkstemp(path);
    stream *s;
    vstr *data = vstr_new(0);
    off_t off;
    int type;

    assert_true(fd >= 0);
    unlink(path);
    s = stream_fdopen(fd);
    assert_int_equal(rec_puts(s, REC_VERSION, "1"), 0);
    assert_int_equal(rec_putf(s, REC_TIME, "%d.%06d", 1700000000, 5), 0);
    assert_int_equal(rec_puts(s, REC_RCPT, "user@example.com"), 0);
    assert_int_equal(rec_put(s, REC_END, NULL, 0), 0);
    assert_int_equal(rec_put(s, REC_LINE, "x", REC_MAX_LEN + 1), STREAM_TOOLONG);
    assert_int_equal(stream_seek(s, 0), 0);
    assert_int_equal(rec_get(s, &type, data, &off), REC_OK);
    assert_int_equal(type, 'V');
    assert_int_equal(off, 0);
    assert_string_equal(vstr_str(data), "1");
    assert_int_equal(rec_get(s, &type, data, &off), REC_OK);
    assert_int_equal(type, 'T');
    assert_int_equal(off, 3);
    assert_string_equal(vstr_str(data), "1700000000.000005");
    assert_int_equal(rec_get(s, &type, data, &off), REC_OK);
    assert_int_equal(type, 'R');
    assert_int_equal(off, 3 + 2 + 17);
    assert_string_equal(vstr_str(data), "user@example.com");
    assert_int_equal(rec_get(s, &type, data, NULL), REC_OK);
    assert_int_equal(type, 'E');
    assert_int_equal(vstr_len(data), 0);
    assert_int_equal(rec_get(s, &type, data, NULL), REC_EOF);
    stream_close(s);
    vstr_free(data);
}

static void test_stream_malformed(void **state)
{
    vstr *data = vstr_new(0);
    stream *s;
    int type;

    s = pipe_stream("L\x05" "ab", 4);       /* truncated data */
    assert_int_equal(rec_get(s, &type, data, NULL), REC_CORRUPT);
    stream_close(s);
    s = pipe_stream("L\x85", 2);            /* truncated length */
    assert_int_equal(rec_get(s, &type, data, NULL), REC_CORRUPT);
    stream_close(s);
    s = pipe_stream("?\x00", 2);            /* bad type */
    assert_int_equal(rec_get(s, &type, data, NULL), REC_CORRUPT);
    stream_close(s);
    s = pipe_stream("L\xff\xff\xff\x7f", 5); /* oversized */
    assert_int_equal(rec_get(s, &type, data, NULL), REC_CORRUPT);
    stream_close(s);
    s = pipe_stream("L\x80\x80\x80\x80\x01", 6); /* too many length bytes */
    assert_int_equal(rec_get(s, &type, data, NULL), REC_CORRUPT);
    stream_close(s);
    s = pipe_stream("", 0);
    assert_int_equal(rec_get(s, &type, data, NULL), REC_EOF);
    stream_close(s);
    vstr_free(data);
}

static void test_append_matches_put(void **state)
{
    vstr *buf = vstr_new(0);
    char *line = malloc(300);
    const char *data;
    size_t dlen;
    int type;

    memset(line, 'q', 300);
    rec_append(buf, REC_LINE, line, 300);
    assert_int_equal(vstr_len(buf), 303);
    assert_int_equal(rec_parse(vstr_str(buf), vstr_len(buf), &type, &data, &dlen), 303);
    assert_int_equal(dlen, 300);
    free(line);
    vstr_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_type_valid),
        cmocka_unit_test(test_parse_roundtrip),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_stream_roundtrip),
        cmocka_unit_test(test_stream_malformed),
        cmocka_unit_test(test_append_matches_put),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

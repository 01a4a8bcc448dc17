/* Unit tests for stream: lines with length limits, EOF handling, timeouts
 * on a socketpair, offsets and seeking on a file. */
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
#include "stream.h"
#include "vstr.h"

static void write_str(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t) strlen(s));
}

static void test_getline(void **state)
{
    int sv[2];
    stream *s;
    vstr *line = vstr_new(0);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    write_str(sv[1], "one\ntwo\r\nlast");
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    assert_int_equal(stream_getline(s, line, 100), STREAM_OK);
    assert_string_equal(vstr_str(line), "one\n");
    assert_int_equal(stream_getline(s, line, 100), STREAM_OK);
    assert_string_equal(vstr_str(line), "two\r\n");
    assert_int_equal(stream_getline(s, line, 100), STREAM_OK);
    assert_string_equal(vstr_str(line), "last");
    assert_int_equal(stream_getline(s, line, 100), STREAM_EOF);
    assert_int_equal(stream_offset(s), 13);
    stream_close(s);
    vstr_free(line);
}

static void test_overlong_line(void **state)
{
    int sv[2];
    stream *s;
    vstr *line = vstr_new(0);
    char big[70000];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 5);
    /* exactly maxlen bytes including "\n" fits */
    write_str(sv[1], "abcd\n");
    assert_int_equal(stream_getline(s, line, 5), STREAM_OK);
    assert_string_equal(vstr_str(line), "abcd\n");
    /* one more does not: first maxlen bytes, rest left unread */
    write_str(sv[1], "abcde\nnext\n");
    assert_int_equal(stream_getline(s, line, 5), STREAM_TOOLONG);
    assert_string_equal(vstr_str(line), "abcde");
    assert_int_equal(stream_skip_line(s), STREAM_OK);
    assert_int_equal(stream_getline(s, line, 5), STREAM_OK);
    assert_string_equal(vstr_str(line), "next\n");
    /* a line much longer than the stream buffer */
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\n';
    if (fork() == 0) {
        close(sv[0]);
        assert_int_equal(write(sv[1], big, sizeof(big)), (ssize_t) sizeof(big));
        write_str(sv[1], "ok\n");
        _exit(0);
    }
    assert_int_equal(stream_getline(s, line, 1000), STREAM_TOOLONG);
    assert_int_equal(vstr_len(line), 1000);
    assert_int_equal(stream_skip_line(s), STREAM_OK);
    assert_int_equal(stream_getline(s, line, 1000), STREAM_OK);
    assert_string_equal(vstr_str(line), "ok\n");
    stream_close(s);
    close(sv[1]);
    vstr_free(line);
}

static void test_timeout(void **state)
{
    int sv[2];
    stream *s;
    vstr *line = vstr_new(0);
    char buf[4];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 1);
    assert_int_equal(stream_getline(s, line, 100), STREAM_TIMEOUT);
    /* a partial line does not reset the deadline of the call */
    write_str(sv[1], "partial");
    assert_int_equal(stream_getline(s, line, 100), STREAM_TIMEOUT);
    assert_int_equal(stream_read_exact(s, buf, sizeof(buf)), STREAM_TIMEOUT);
    assert_int_equal(stream_getc(s), STREAM_TIMEOUT);
    stream_free(s);
    close(sv[0]);
    close(sv[1]);
    vstr_free(line);
}

static void test_write_timeout(void **state)
{
    int sv[2];
    stream *s;
    char chunk[65536];
    int st = STREAM_OK, i;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 1);
    memset(chunk, 'a', sizeof(chunk));
    /* nobody reads: the socket fills and the write times out */
    for (i = 0; i < 1000 && st == STREAM_OK; i++)
        st = stream_write(s, chunk, sizeof(chunk));
    assert_int_equal(st, STREAM_TIMEOUT);
    stream_free(s);
    close(sv[0]);
    close(sv[1]);
}

static void test_write_to_closed_peer(void **state)
{
    int sv[2];
    stream *s;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    assert_int_equal(stream_puts(s, "hello"), STREAM_OK);
    assert_int_equal(stream_flush(s), STREAM_ERROR);   /* EPIPE, no SIGPIPE */
    /* the failure is sticky */
    assert_int_equal(stream_puts(s, "more"), STREAM_ERROR);
    assert_int_not_equal(stream_close(s), 0);
}

static void test_read_exact_eof(void **state)
{
    int sv[2];
    stream *s;
    char buf[10];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    write_str(sv[1], "abc");
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    assert_int_equal(stream_getc(s), 'a');
    assert_int_equal(stream_buffered(s), 2);
    assert_int_equal(stream_read_exact(s, buf, 5), STREAM_EOF);
    assert_int_equal(stream_getc(s), STREAM_EOF);
    stream_close(s);
}

static void test_file_offset_seek(void **state)
{
    char path[] = "/tmp/test_stream.XXXXXX";
    int fd = mkstemp(path);
    stream *s;
    vstr *line = vstr_new(0);

    assert_true(fd >= 0);
    unlink(path);
    s = stream_fdopen(fd);
    assert_int_equal(stream_puts(s, "hello\n"), STREAM_OK);
    assert_int_equal(stream_printf(s, "n=%d\n", 7), STREAM_OK);
    assert_int_equal(stream_offset(s), 10);
    assert_int_equal(stream_seek(s, 6), STREAM_OK);
    assert_int_equal(stream_offset(s), 6);
    assert_int_equal(stream_getline(s, line, 100), STREAM_OK);
    assert_string_equal(vstr_str(line), "n=7\n");
    assert_int_equal(stream_offset(s), 10);
    assert_int_equal(stream_seek(s, 0), STREAM_OK);
    assert_int_equal(stream_getc(s), 'h');
    assert_int_equal(stream_offset(s), 1);
    assert_int_equal(stream_close(s), 0);
    vstr_free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_getline),
        cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_write_timeout),
        cmocka_unit_test(test_write_to_closed_peer),
        cmocka_unit_test(test_read_exact_eof),
        cmocka_unit_test(test_file_offset_seek),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for netbuf: line extraction, the input limit, compaction and
 * output flushing over a socketpair. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "netbuf.h"

static void nonblock_pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

static void test_lines(void **state)
{
    int sv[2];
    netbuf b;
    ssize_t n;

    nonblock_pair(sv);
    netbuf_init(&b, 1024);
    assert_int_equal(netbuf_line(&b, 100), 0);
    assert_int_equal(netbuf_fill(&b, sv[0]), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(write(sv[1], "HELO x\r\nMAIL", 12), 12);
    assert_int_equal(netbuf_fill(&b, sv[0]), 12);
    n = netbuf_line(&b, 100);
    assert_int_equal(n, 8);
    assert_memory_equal(netbuf_peek(&b), "HELO x\r\n", 8);
    netbuf_consume(&b, (size_t) n);
    assert_int_equal(netbuf_avail(&b), 4);
    assert_int_equal(netbuf_line(&b, 100), 0);     /* incomplete */
    assert_int_equal(netbuf_line(&b, 4), -1);      /* too long already */
    assert_int_equal(write(sv[1], " FROM:<>\n", 9), 9);
    assert_true(netbuf_fill(&b, sv[0]) > 0);
    assert_int_equal(netbuf_line(&b, 100), 13);
    assert_int_equal(netbuf_line(&b, 13), 13);      /* "\n" within maxlen */
    assert_int_equal(netbuf_line(&b, 12), -1);
    netbuf_consume(&b, 13);
    assert_int_equal(netbuf_avail(&b), 0);
    close(sv[1]);
    assert_int_equal(netbuf_fill(&b, sv[0]), 0);    /* EOF */
    close(sv[0]);
    netbuf_free(&b);
}

static void test_limit(void **state)
{
    int sv[2];
    netbuf b;
    char big[10000];
    ssize_t n;
    size_t total = 0;

    nonblock_pair(sv);
    netbuf_init(&b, 5000);
    memset(big, 'x', sizeof(big));
    assert_int_equal(write(sv[1], big, sizeof(big)), (ssize_t) sizeof(big));
    while ((n = netbuf_fill(&b, sv[0])) > 0)
        total += (size_t) n;
    assert_int_equal(n, -2);            /* full: never past the limit */
    assert_int_equal(total, 5000);
    assert_int_equal(netbuf_avail(&b), 5000);
    assert_int_equal(netbuf_line(&b, 1000), -1);
    /* consuming makes room again (compaction) */
    netbuf_consume(&b, 4000);
    n = netbuf_fill(&b, sv[0]);
    assert_int_equal(n, 4000);
    assert_int_equal(netbuf_avail(&b), 5000);
    assert_true(b.cap <= 5000);
    netbuf_consume(&b, 5000);
    assert_int_equal(netbuf_fill(&b, sv[0]), 1000);
    close(sv[0]);
    close(sv[1]);
    netbuf_free(&b);
}

static void test_output(void **state)
{
    int sv[2];
    netbuf out;
    char buf[100000];
    ssize_t n;
    size_t total = 0;
    int i;

    nonblock_pair(sv);
    netbuf_init(&out, 0);
    assert_int_equal(netbuf_flush(&out, sv[0]), 0);
    for (i = 0; i < 20000; i++)
        netbuf_append(&out, "250 OK\r\n", 8);
    assert_int_equal(netbuf_avail(&out), 160000);
    /* write until the socket is full */
    while ((n = netbuf_flush(&out, sv[0])) > 0)
        total += (size_t) n;
    assert_true(n == 0 || (n == -1 && errno == EAGAIN));
    /* drain and finish */
    while (netbuf_avail(&out) > 0) {
        ssize_t r = read(sv[1], buf, sizeof(buf));

        if (r > 0)
            total -= 0;
        n = netbuf_flush(&out, sv[0]);
        assert_true(n >= 0 || errno == EAGAIN);
    }
    close(sv[1]);
    netbuf_append(&out, "x", 1);
    assert_int_equal(netbuf_flush(&out, sv[0]), -1);  /* EPIPE, no SIGPIPE */
    assert_int_equal(errno, EPIPE);
    close(sv[0]);
    netbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_output),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

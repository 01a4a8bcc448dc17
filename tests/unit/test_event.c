/* Unit tests for the event loop: descriptor readiness with pipes, pausing
 * and deleting descriptors, timer ordering, cancel and re-arm, and a
 * callback that deletes a descriptor later in the same batch. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "event.h"

static int read_calls;
static int write_calls;
static char order[64];
static size_t order_len;

static void on_read(int fd, int events, void *ctx)
{
    char buf[16];

    assert_true(events & EV_READ);
    assert_int_equal(fd, *(int *) ctx);
    (void) !read(fd, buf, sizeof(buf));
    read_calls++;
}

static void on_write(int fd, int events, void *ctx)
{
    assert_true(events & EV_WRITE);
    write_calls++;
}

static void test_pipe_readiness(void **state)
{
    int p[2];

    assert_int_equal(pipe(p), 0);
    event_init();
    read_calls = 0;
    event_set(p[0], EV_READ, on_read, &p[0]);
    /* Nothing to read: times out without a callback. */
    assert_int_equal(event_run_once(10), 0);
    assert_int_equal(read_calls, 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(event_run_once(1000), 1);
    assert_int_equal(read_calls, 1);
    /* Paused: data waits, no callback. */
    event_set(p[0], 0, on_read, &p[0]);
    assert_int_equal(write(p[1], "y", 1), 1);
    assert_int_equal(event_run_once(10), 0);
    event_set(p[0], EV_READ, on_read, &p[0]);
    assert_int_equal(event_run_once(1000), 1);
    assert_int_equal(read_calls, 2);
    event_del(p[0]);
    assert_int_equal(write(p[1], "z", 1), 1);
    assert_int_equal(event_run_once(10), 0);
    close(p[0]);
    close(p[1]);
}

static void test_write_and_hangup(void **state)
{
    int p[2];

    assert_int_equal(pipe(p), 0);
    write_calls = 0;
    event_set(p[1], EV_WRITE, on_write, NULL);
    assert_int_equal(event_run_once(1000), 1);
    assert_int_equal(write_calls, 1);
    event_del(p[1]);
    close(p[1]);
    /* The writer is gone: the reader sees a hangup as readable. */
    read_calls = 0;
    event_set(p[0], EV_READ, on_read, &p[0]);
    assert_int_equal(event_run_once(1000), 1);
    assert_int_equal(read_calls, 1);
    event_del(p[0]);
    close(p[0]);
}

static void mark(void *ctx)
{
    order[order_len++] = *(char *) ctx;
}

static void test_timer_order(void **state)
{
    struct event_timer t[5];
    static char names[] = "abcde";
    long delays[] = {40, 10, 30, 20, 50};
    int i;

    memset(t, 0, sizeof(t));
    order_len = 0;
    for (i = 0; i < 5; i++)
        event_timer_set(&t[i], delays[i], mark, &names[i]);
    for (i = 0; i < 5; i++)
        assert_true(event_timer_pending(&t[i]));
    /* Cancel one, re-arm another later. */
    event_timer_cancel(&t[2]);
    assert_false(event_timer_pending(&t[2]));
    event_timer_set(&t[1], 60, mark, &names[1]);
    while (order_len < 4)
        event_run_once(-1);
    order[order_len] = 0;
    assert_string_equal(order, "daeb");
    for (i = 0; i < 5; i++)
        assert_false(event_timer_pending(&t[i]));
}

static void test_timer_many(void **state)
{
    enum { N = 200 };
    static struct event_timer t[N];
    static char c = 'x';
    int i;

    memset(t, 0, sizeof(t));
    order_len = 0;
    /* Heap property under many inserts and removals from the middle. */
    for (i = 0; i < N; i++)
        event_timer_set(&t[i], (i * 7919) % 37, mark, &c);
    for (i = 0; i < N; i += 3)
        event_timer_cancel(&t[i]);
    {
        long long start = event_now_ms();
        size_t fired = 0;

        while (fired < (size_t) (N - (N + 2) / 3)) {
            order_len = 0;
            event_run_once(-1);
            fired += order_len;
            assert_true(event_now_ms() - start < 5000);
        }
        assert_int_equal(fired, N - (N + 2) / 3);
    }
    for (i = 0; i < N; i++)
        assert_false(event_timer_pending(&t[i]));
}

struct pair {
    int a[2];
    int b[2];
    int calls;
};

/* The first callback deletes and closes the other descriptor; its event
 * from the same batch must not be dispatched. */
static void on_close_other(int fd, int events, void *ctx)
{
    struct pair *pr = ctx;
    int other = fd == pr->a[0] ? pr->b[0] : pr->a[0];

    pr->calls++;
    event_del(other);
    close(other);
    event_del(fd);
}

static void test_delete_in_batch(void **state)
{
    struct pair pr;

    memset(&pr, 0, sizeof(pr));
    assert_int_equal(pipe(pr.a), 0);
    assert_int_equal(pipe(pr.b), 0);
    event_set(pr.a[0], EV_READ, on_close_other, &pr);
    event_set(pr.b[0], EV_READ, on_close_other, &pr);
    assert_int_equal(write(pr.a[1], "x", 1), 1);
    assert_int_equal(write(pr.b[1], "x", 1), 1);
    assert_int_equal(event_run_once(1000), 1);
    assert_int_equal(pr.calls, 1);
    close(pr.a[1]);
    close(pr.b[1]);
}

static int loop_ticks;

static void stop_after(void *ctx)
{
    if (++loop_ticks == 3)
        event_stop();
    else
        event_timer_set(ctx, 1, stop_after, ctx);
}

static void test_loop_stop(void **state)
{
    struct event_timer t;

    memset(&t, 0, sizeof(t));
    loop_ticks = 0;
    event_timer_set(&t, 1, stop_after, &t);
    event_loop();
    assert_int_equal(loop_ticks, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipe_readiness),
        cmocka_unit_test(test_write_and_hangup),
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_timer_many),
        cmocka_unit_test(test_delete_in_batch),
        cmocka_unit_test(test_loop_stop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

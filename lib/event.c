/* The event loop: epoll for descriptors, a binary min-heap of timers whose
 * storage belongs to the caller (struct event_timer lives inside the
 * session or daemon state, so arming a timer never allocates), and a
 * monotonic millisecond clock read once per loop iteration. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include "event.h"
#include "log.h"
#include "mem.h"

/* Per-descriptor registration, indexed by fd. */
struct event_slot {
    event_fn fn;
    void *ctx;
    int events;         /* interest requested by the caller */
    int registered;     /* event_set was called and event_del not yet */
    int in_epoll;       /* known to epoll (not while paused with 0) */
};

static int epoll_fd = -1;
static struct event_slot *slots;
static size_t slot_count;

/* heap[1..heap_len]; heap_index 0 means "not in the heap". */
static struct event_timer **heap;
static size_t heap_len;
static size_t heap_cap;

static long long now_ms;
static int stop_requested;

#define EVENT_BATCH 256

static long long clock_read_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        msg_fatal("clock_gettime: %m");
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long event_now_ms(void)
{
    if (now_ms == 0)
        now_ms = clock_read_ms();
    return now_ms;
}

void event_init(void)
{
    if (epoll_fd >= 0)
        return;
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0)
        msg_fatal("epoll_create1: %m");
    now_ms = clock_read_ms();
}

static struct event_slot *slot_get(int fd)
{
    if (fd < 0)
        msg_panic("event: bad descriptor %d", fd);
    if ((size_t) fd >= slot_count) {
        size_t n = slot_count ? slot_count : 64;

        while (n <= (size_t) fd)
            n *= 2;
        slots = xreallocarray(slots, n, sizeof(*slots));
        memset(slots + slot_count, 0, (n - slot_count) * sizeof(*slots));
        slot_count = n;
    }
    return &slots[fd];
}

static unsigned epoll_mask(int events)
{
    unsigned mask = 0;

    if (events & EV_READ)
        mask |= EPOLLIN;
    if (events & EV_WRITE)
        mask |= EPOLLOUT;
    return mask;
}

void event_set(int fd, int events, event_fn fn, void *ctx)
{
    struct event_slot *s;
    struct epoll_event ev;

    event_init();
    s = slot_get(fd);
    memset(&ev, 0, sizeof(ev));
    ev.events = epoll_mask(events);
    ev.data.fd = fd;
    /* A paused descriptor leaves epoll: epoll would still report hangups
     * on it and the loop would spin. */
    if (events == 0) {
        if (s->in_epoll && epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL) < 0)
            msg_fatal("epoll_ctl del fd %d: %m", fd);
        s->in_epoll = 0;
    } else if (!s->in_epoll) {
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
            msg_fatal("epoll_ctl add fd %d: %m", fd);
        s->in_epoll = 1;
    } else if (s->events != events) {
        if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0)
            msg_fatal("epoll_ctl mod fd %d: %m", fd);
    }
    s->registered = 1;
    s->fn = fn;
    s->ctx = ctx;
    s->events = events;
}

void event_del(int fd)
{
    struct event_slot *s;

    if (fd < 0 || (size_t) fd >= slot_count || !slots[fd].registered)
        return;
    s = &slots[fd];
    if (s->in_epoll && epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF
        && errno != ENOENT)
        msg_warn("epoll_ctl del fd %d: %m", fd);
    memset(s, 0, sizeof(*s));
}

/* Timer heap. */

static void heap_place(size_t i, struct event_timer *t)
{
    heap[i] = t;
    t->heap_index = i;
}

static void heap_up(size_t i)
{
    struct event_timer *t = heap[i];

    while (i > 1 && heap[i / 2]->when_ms > t->when_ms) {
        heap_place(i, heap[i / 2]);
        i /= 2;
    }
    heap_place(i, t);
}

static void heap_down(size_t i)
{
    struct event_timer *t = heap[i];

    for (;;) {
        size_t c = 2 * i;

        if (c > heap_len)
            break;
        if (c + 1 <= heap_len && heap[c + 1]->when_ms < heap[c]->when_ms)
            c++;
        if (heap[c]->when_ms >= t->when_ms)
            break;
        heap_place(i, heap[c]);
        i = c;
    }
    heap_place(i, t);
}

static void heap_remove(struct event_timer *t)
{
    size_t i = t->heap_index;
    struct event_timer *last;

    if (i == 0 || i > heap_len || heap[i] != t)
        msg_panic("event: timer heap corrupted");
    t->heap_index = 0;
    last = heap[heap_len--];
    if (i > heap_len)
        return;
    heap_place(i, last);
    heap_up(i);
    heap_down(last->heap_index);
}

void event_timer_cancel(struct event_timer *t)
{
    if (t->heap_index != 0)
        heap_remove(t);
}

int event_timer_pending(const struct event_timer *t)
{
    return t->heap_index != 0;
}

void event_timer_set(struct event_timer *t, long ms, void (*fn)(void *ctx), void *ctx)
{
    event_timer_cancel(t);
    if (ms < 0)
        ms = 0;
    t->when_ms = event_now_ms() + ms;
    t->fn = fn;
    t->ctx = ctx;
    if (heap_len + 1 >= heap_cap) {
        heap_cap = heap_cap ? 2 * heap_cap : 64;
        heap = xreallocarray(heap, heap_cap, sizeof(*heap));
    }
    heap_len++;
    heap_place(heap_len, t);
    heap_up(heap_len);
}

/* Run every timer that is due; a callback may re-arm its own timer, which
 * then fires no earlier than the next iteration's clock. */
static int timers_run(void)
{
    int ran = 0;
    long long limit = now_ms;

    while (heap_len > 0 && heap[1]->when_ms <= limit) {
        struct event_timer *t = heap[1];

        heap_remove(t);
        t->fn(t->ctx);
        ran++;
    }
    return ran;
}

int event_run_once(int max_wait_ms)
{
    struct epoll_event evs[EVENT_BATCH];
    int timeout = max_wait_ms;
    int n, i, ran = 0;

    event_init();
    now_ms = clock_read_ms();
    if (heap_len > 0) {
        long long until = heap[1]->when_ms - now_ms;

        if (until < 0)
            until = 0;
        if (timeout < 0 || until < timeout)
            timeout = until > 86400000 ? 86400000 : (int) until;
    }
    n = epoll_wait(epoll_fd, evs, EVENT_BATCH, timeout);
    if (n < 0) {
        if (errno != EINTR)
            msg_fatal("epoll_wait: %m");
        n = 0;
    }
    now_ms = clock_read_ms();
    for (i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        int ready = 0;
        struct event_slot *s;

        /* A previous callback in this batch may have deleted (and closed)
         * this descriptor; skip it then. */
        if (fd < 0 || (size_t) fd >= slot_count || !slots[fd].in_epoll)
            continue;
        s = &slots[fd];
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            ready |= EV_READ;
        if (evs[i].events & (EPOLLOUT | EPOLLERR))
            ready |= EV_WRITE;
        /* Errors and hangups are reported to whatever the caller waits for. */
        if (evs[i].events & (EPOLLHUP | EPOLLERR))
            ready |= s->events;
        ready &= s->events;
        if (ready == 0 || s->fn == NULL)
            continue;
        s->fn(fd, ready, s->ctx);
        ran++;
    }
    ran += timers_run();
    return ran;
}

void event_loop(void)
{
    stop_requested = 0;
    while (!stop_requested)
        event_run_once(-1);
}

void event_stop(void)
{
    stop_requested = 1;
}

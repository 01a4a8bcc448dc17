/* The event loop of the event-driven daemons (smtpd, qmgr, master):
 * epoll for descriptors, a binary heap of timers with caller-owned
 * handles (no allocation per timer), and a cached clock. */
#ifndef POSTHORN_EVENT_H
#define POSTHORN_EVENT_H
#include <stddef.h>

enum { EV_READ = 1, EV_WRITE = 2 };

typedef void (*event_fn)(int fd, int events, void *ctx);

struct event_timer {
    long long when_ms;      /* absolute, event_now_ms() clock */
    size_t heap_index;      /* 0 = not scheduled; managed by event.c */
    void (*fn)(void *ctx);
    void *ctx;
};

void event_init(void);
/* Set the interest for fd (EV_READ|EV_WRITE, or 0 to pause); the first call
 * for a fd registers it.  fn is called with the ready events. */
void event_set(int fd, int events, event_fn fn, void *ctx);
void event_del(int fd);                         /* before close(fd) */
/* (Re)arm t to fire once after ms milliseconds. */
void event_timer_set(struct event_timer *t, long ms, void (*fn)(void *ctx), void *ctx);
void event_timer_cancel(struct event_timer *t);
int event_timer_pending(const struct event_timer *t);
/* Millisecond monotonic clock, refreshed once per loop iteration. */
long long event_now_ms(void);
/* Wait for events at most max_wait_ms (-1: until an event or timer) and
 * dispatch them.  Returns the number of callbacks run. */
int event_run_once(int max_wait_ms);
/* Run until event_stop() is called. */
void event_loop(void);
void event_stop(void);

#endif

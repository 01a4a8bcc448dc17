/* smtp(8) connection cache: after a clean transaction the session stays
 * open for the next delivery request this process serves to the same
 * next hop (checked with RSET before reuse).  Bounded three ways:
 * smtp_connection_cache_size sessions per process, idle at most
 * smtp_connection_cache_time_limit, reused only while younger than
 * smtp_connection_reuse_time_limit (and smtp_connection_reuse_count_limit
 * transactions).
 *
 * Between requests the process sits in the skeleton's accept loop, so an
 * interval timer (SIGALRM) closes idle sessions on time: its handler only
 * writes QUIT and closes descriptors (async-signal-safe calls) and marks
 * them closed; the timer is disarmed while a request is served, so the
 * handler never races the code that uses a session.  At exit (max_use,
 * max_idle, stop) every cached session gets QUIT. */
#include "config.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "mem.h"
#include "smtp.h"
#include "stream.h"

#define CACHE_SLOTS_MAX 100     /* the parameter's upper bound */

static struct smtp_session *cache[CACHE_SLOTS_MAX];
static size_t cache_slots;
/* What the signal handler may touch. */
static volatile int slot_fd[CACHE_SLOTS_MAX];
static volatile long long slot_deadline[CACHE_SLOTS_MAX];
static volatile sig_atomic_t slot_closed[CACHE_SLOTS_MAX];

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void timer_set(long long ms)
{
    struct itimerval it;

    memset(&it, 0, sizeof(it));
    if (ms > 0) {
        it.it_value.tv_sec = (time_t) (ms / 1000);
        it.it_value.tv_usec = (suseconds_t) (ms % 1000) * 1000;
    }
    setitimer(ITIMER_REAL, &it, NULL);
}

/* Arm the timer for the earliest idle deadline among open slots. */
static void timer_rearm(long long now)
{
    long long first = 0;
    size_t i;

    for (i = 0; i < cache_slots; i++) {
        if (slot_fd[i] < 0 || slot_closed[i])
            continue;
        if (first == 0 || slot_deadline[i] < first)
            first = slot_deadline[i];
    }
    if (first != 0)
        timer_set(first > now ? first - now : 1);
}

static void idle_alarm(int sig)
{
    static const char quit[] = "QUIT\r\n";
    long long now = now_ms();
    size_t i;
    int saved = errno;

    (void) sig;
    for (i = 0; i < cache_slots; i++) {
        if (slot_fd[i] < 0 || slot_closed[i] || slot_deadline[i] > now)
            continue;
        (void) !write(slot_fd[i], quit, sizeof(quit) - 1);
        close(slot_fd[i]);
        slot_closed[i] = 1;
    }
    timer_rearm(now);
    errno = saved;
}

/* Release slot i: a session the handler already closed is only freed. */
static struct smtp_session *slot_release(size_t i)
{
    struct smtp_session *ss = cache[i];

    cache[i] = NULL;
    slot_fd[i] = -1;
    if (ss != NULL && slot_closed[i]) {
        stream_free(ss->s);
        ss->s = NULL;
        smtp_session_close(ss, 0);
        ss = NULL;
    }
    slot_closed[i] = 0;
    return ss;
}

void smtp_cache_close_all(void)
{
    struct smtp_session *ss;
    size_t i;

    smtp_cache_idle_disarm();
    for (i = 0; i < cache_slots; i++)
        if ((ss = slot_release(i)) != NULL)
            smtp_session_close(ss, 1);
}

void smtp_cache_init(void)
{
    struct sigaction sa;
    size_t i;

    cache_slots = smtp_cfg.cache_on_demand ? (size_t) smtp_cfg.cache_size : 0;
    if (cache_slots > CACHE_SLOTS_MAX)
        cache_slots = CACHE_SLOTS_MAX;
    for (i = 0; i < CACHE_SLOTS_MAX; i++)
        slot_fd[i] = -1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = idle_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGALRM, &sa, NULL) < 0)
        msg_fatal("sigaction SIGALRM: %m");
    atexit(smtp_cache_close_all);
}

void smtp_cache_idle_disarm(void)
{
    timer_set(0);
}

void smtp_cache_idle_arm(void)
{
    timer_rearm(now_ms());
}

static int worn_out(const struct smtp_session *ss, long long now)
{
    return now - ss->opened_ms >= smtp_cfg.reuse_time_limit * 1000LL
           || (smtp_cfg.reuse_count_limit > 0 && ss->use_count >= smtp_cfg.reuse_count_limit);
}

void smtp_cache_expire(void)
{
    long long now = now_ms();
    struct smtp_session *ss;
    size_t i;

    for (i = 0; i < cache_slots; i++) {
        if (cache[i] == NULL)
            continue;
        if (slot_closed[i] || now - cache[i]->idle_since_ms >= smtp_cfg.cache_time_limit * 1000LL
            || worn_out(cache[i], now)) {
            if ((ss = slot_release(i)) != NULL)
                smtp_session_close(ss, 1);
        }
    }
}

struct smtp_session *smtp_cache_take(const char *dest)
{
    size_t i;

    smtp_cache_expire();
    for (i = 0; i < cache_slots; i++)
        if (cache[i] != NULL && strcmp(cache[i]->dest, dest) == 0)
            return slot_release(i);
    return NULL;
}

void smtp_cache_put(struct smtp_session *ss)
{
    long long now = now_ms();
    size_t i, free_slot = cache_slots, oldest = cache_slots;

    if (cache_slots == 0 || ss->broken || worn_out(ss, now)) {
        smtp_session_close(ss, 1);
        return;
    }
    for (i = 0; i < cache_slots; i++) {
        if (cache[i] == NULL) {
            if (free_slot == cache_slots)
                free_slot = i;
        } else if (oldest == cache_slots
                   || cache[i]->idle_since_ms < cache[oldest]->idle_since_ms) {
            oldest = i;
        }
    }
    if (free_slot == cache_slots) {
        struct smtp_session *old = slot_release(oldest);

        if (old != NULL)
            smtp_session_close(old, 1);
        free_slot = oldest;
    }
    ss->idle_since_ms = now;
    cache[free_slot] = ss;
    slot_closed[free_slot] = 0;
    slot_deadline[free_slot] = now + smtp_cfg.cache_time_limit * 1000LL;
    slot_fd[free_slot] = stream_fd(ss->s);
}

/* Delivery scheduling of the queue manager.  Each transport has a set of
 * destinations (next hops), each with a FIFO of jobs; a job is one
 * message and up to <transport>_destination_recipient_limit of its
 * recipients.  Jobs start while the destination is below its concurrency
 * window and the transport below default_process_limit; destinations are
 * served round-robin (the one that just got a job goes to the back), so a
 * slow or dead destination never starves the others.
 *
 * The window starts at initial_destination_concurrency, grows by one per
 * job that reached the destination up to
 * <transport>_destination_concurrency_limit and shrinks by one per
 * destination failure: a job whose every recipient was deferred with a
 * 4.4.x status (connection and routing problems).  Failures count in
 * pseudo-cohorts (qmgr_policy.c); after
 * <transport>_destination_concurrency_failed_cohort_limit of them the
 * destination is dead: its queued and new jobs are deferred at once
 * ("delivery temporarily suspended: <last reason>") until
 * minimal_backoff_time has passed, then one probe job goes out.
 *
 * A job talks to private/<transport> without ever blocking: announcement,
 * request, reply (mail_proto.h).  When an agent cannot be reached or
 * fails, the job's recipients are deferred and the transport pauses for a
 * while, deferring what is queued for it, so that a crashing agent cannot
 * cause a retry storm. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "attr.h"
#include "event.h"
#include "log.h"
#include "mail_addr.h"
#include "mail_proto.h"
#include "mem.h"
#include "netbuf.h"
#include "params.h"
#include "qmgr.h"
#include "qmgr_policy.h"
#include "skeleton.h"
#include "vstr.h"

/* Replies carry four attributes per recipient within ATTR_MAX_COUNT. */
#define QMGR_JOB_MAX_RCPT 1000
/* Largest reply we accept from an agent. */
#define QMGR_REPLY_LIMIT (4 * 1024 * 1024)
/* Pause before connecting again to an agent whose listen queue was full. */
#define QMGR_BUSY_RETRY_MS 200

enum job_state { JOB_QUEUED, JOB_ANNOUNCE, JOB_SEND, JOB_REPLY };

struct job;

/* A destination is what concurrency is counted against: the next hop, or
 * for transports that take one recipient per delivery (local), the
 * recipient itself, as in Postfix, so that one busy mailbox does not hold
 * up every other local delivery. */
struct dest {
    char *key;
    struct transport *tp;
    int active;                 /* running jobs */
    struct qmgr_window win;     /* concurrency window, dead flag */
    struct event_timer dead_timer;  /* pending while dead */
    char *dead_dsn;             /* last failure, for the deferrals */
    char *dead_reason;
    struct job *head, *tail;    /* queued jobs */
    struct dest *next;
};

struct transport {
    char *name;
    long rcpt_limit;
    long conc_limit;
    long cohort_limit;
    long proc_limit;
    int active;                 /* running jobs, all destinations */
    long long throttle_until;   /* event_now_ms() clock; 0: running */
    int busy;                   /* listen queue full: wait for the retry */
    struct dest *dests;
    struct transport *next;
};

struct job {
    struct qmgr_msg *msg;
    struct transport *tp;
    struct dest *dest;
    char *nexthop;
    size_t *rcpt;
    size_t nrcpt;
    enum job_state state;
    int fd;
    netbuf in, out;
    struct event_timer timer;
    double start_time;          /* wall clock at connect */
    struct job *next;
};

static struct transport *transports;
static struct event_timer schedule_timer;

static void schedule_kick(void);
static void schedule_run(void *ctx);

long qmgr_transport_limit(const char *transport, const char *suffix)
{
    vstr *name = vstr_new(64);
    const char *raw;
    long value = -1;

    vstr_printf(name, "%s_%s", transport, suffix);
    if (param_find(vstr_str(name)) != NULL) {
        value = config_int(vstr_str(name));
    } else if ((raw = config_raw(vstr_str(name))) != NULL) {
        char *end;

        errno = 0;
        value = strtol(raw, &end, 10);
        if (errno || end == raw || *end != 0 || value < 0) {
            msg_warn("%s: bad value \"%s\"; using default_%s", vstr_str(name), raw, suffix);
            value = -1;
        }
    }
    if (value < 0) {
        vstr_reset(name);
        vstr_printf(name, "default_%s", suffix);
        value = config_int(vstr_str(name));
    }
    vstr_free(name);
    return value;
}

static struct transport *transport_find(const char *name)
{
    struct transport *tp;

    for (tp = transports; tp; tp = tp->next)
        if (strcmp(tp->name, name) == 0)
            return tp;
    tp = xcalloc(1, sizeof(*tp));
    tp->name = xstrdup(name);
    tp->rcpt_limit = qmgr_transport_limit(name, "destination_recipient_limit");
    if (tp->rcpt_limit < 1)
        tp->rcpt_limit = 1;
    if (tp->rcpt_limit > QMGR_JOB_MAX_RCPT)
        tp->rcpt_limit = QMGR_JOB_MAX_RCPT;
    tp->conc_limit = qmgr_transport_limit(name, "destination_concurrency_limit");
    if (tp->conc_limit < 1)
        tp->conc_limit = 1;
    tp->cohort_limit = qmgr_transport_limit(name, "destination_concurrency_failed_cohort_limit");
    if (tp->cohort_limit < 1)
        tp->cohort_limit = 1;
    tp->proc_limit = qmgr_conf.process_limit > 0 ? qmgr_conf.process_limit : 1;
    tp->next = transports;
    transports = tp;
    return tp;
}

static struct dest *dest_find(struct transport *tp, const char *key)
{
    struct dest *d, **pp;

    for (d = tp->dests; d; d = d->next)
        if (strcmp(d->key, key) == 0)
            return d;
    d = xcalloc(1, sizeof(*d));
    d->key = xstrdup(key);
    d->tp = tp;
    qmgr_window_init(&d->win, qmgr_conf.initial_concurrency, tp->conc_limit);
    /* New destinations go to the back of the round-robin order. */
    pp = &tp->dests;
    while (*pp)
        pp = &(*pp)->next;
    *pp = d;
    return d;
}

/* Move d to the back of its transport's round-robin order. */
static void dest_to_back(struct dest *d)
{
    struct dest **pp = &d->tp->dests;

    while (*pp != d)
        pp = &(*pp)->next;
    *pp = d->next;
    d->next = NULL;
    while (*pp)
        pp = &(*pp)->next;
    *pp = d;
}

/* Forget destinations with nothing queued or running, unless dead (the
 * dead state must outlive its jobs). */
static void dest_cleanup(struct transport *tp)
{
    struct dest **pp = &tp->dests, *d;

    while ((d = *pp) != NULL) {
        if (d->active == 0 && d->head == NULL && !d->win.dead) {
            *pp = d->next;
            event_timer_cancel(&d->dead_timer);
            free(d->dead_dsn);
            free(d->dead_reason);
            free(d->key);
            free(d);
        } else {
            pp = &d->next;
        }
    }
}

static void job_queue(struct qmgr_msg *msg, struct transport *tp, struct dest *d,
                      const char *nexthop, const size_t *rcpt, size_t k)
{
    struct job *job = xcalloc(1, sizeof(*job));

    job->msg = msg;
    job->tp = tp;
    job->dest = d;
    job->nexthop = xstrdup(nexthop);
    job->rcpt = xreallocarray(NULL, k, sizeof(*job->rcpt));
    memcpy(job->rcpt, rcpt, k * sizeof(*job->rcpt));
    job->nrcpt = k;
    job->fd = -1;
    job->state = JOB_QUEUED;
    if (d->tail)
        d->tail->next = job;
    else
        d->head = job;
    d->tail = job;
    msg->jobs++;
}

void qmgr_deliver_submit(struct qmgr_msg *msg, const char *transport, const char *nexthop,
                         const size_t *rcpt, size_t n)
{
    struct transport *tp = transport_find(transport);
    size_t done, k;

    for (done = 0; done < n; done += k) {
        k = n - done;
        if (k > (size_t) tp->rcpt_limit)
            k = (size_t) tp->rcpt_limit;
        if (tp->rcpt_limit == 1) {
            vstr *key = vstr_new(64);

            vstr_puts(key, msg->m->rcpts[rcpt[done]].address);
            lowercase(vstr_str(key));
            job_queue(msg, tp, dest_find(tp, vstr_str(key)), nexthop, rcpt + done, k);
            vstr_free(key);
        } else {
            job_queue(msg, tp, dest_find(tp, nexthop), nexthop, rcpt + done, k);
        }
    }
    schedule_kick();
}

/* Release a job; its message may finish. */
static void job_done(struct job *job)
{
    struct qmgr_msg *msg = job->msg;

    if (job->fd >= 0) {
        event_del(job->fd);
        close(job->fd);
    }
    event_timer_cancel(&job->timer);
    if (job->state != JOB_QUEUED) {
        job->dest->active--;
        job->tp->active--;
    }
    netbuf_free(&job->in);
    netbuf_free(&job->out);
    free(job->rcpt);
    free(job->nexthop);
    free(job);
    qmgr_msg_job_done(msg);
    schedule_kick();
}

/* Defer every recipient of the job with qmgr's own reason. */
static void job_defer_all(struct job *job, const char *dsn, const char *reason)
{
    size_t i;

    for (i = 0; i < job->nrcpt; i++)
        qmgr_msg_defer(job->msg, job->rcpt[i], "none", job->start_time, dsn, reason);
}

/* The agent could not be used: defer the job, pause the transport. */
static void job_fail(struct job *job, const char *why)
{
    vstr *reason = vstr_new(64);
    struct transport *tp = job->tp;

    msg_warn("%s: delivery agent %s: %s", job->msg->m->id, tp->name, why);
    if (tp->throttle_until <= event_now_ms())
        msg_warn("transport %s: delivery suspended for %lds", tp->name, qmgr_conf.throttle_time);
    tp->throttle_until = event_now_ms() + qmgr_conf.throttle_time * 1000;
    vstr_printf(reason, "delivery agent %s unavailable", tp->name);
    job_defer_all(job, "4.3.0", vstr_str(reason));
    vstr_free(reason);
    job_done(job);
}

/* The dead time is over: one probe job may go out. */
static void dest_probe(void *ctx)
{
    struct dest *d = ctx;

    qmgr_window_probe(&d->win, d->tp->cohort_limit);
    if (msg_verbose)
        msg_info("transport %s: destination %s: probing", d->tp->name, d->key);
    schedule_kick();
}

static void dest_mark_dead(struct dest *d, const char *dsn, const char *reason)
{
    char buf[512];

    free(d->dead_dsn);
    free(d->dead_reason);
    d->dead_dsn = xstrdup(dsn && strncmp(dsn, "4.", 2) == 0 ? dsn : "4.4.1");
    d->dead_reason = xstrdup(reason ? reason : "destination not responding");
    log_printable(buf, sizeof(buf), d->dead_reason, strlen(d->dead_reason));
    msg_info("transport %s: destination %s: delivery suspended for %lds: %s", d->tp->name,
             d->key, qmgr_conf.dead_time, buf);
    event_timer_set(&d->dead_timer, qmgr_conf.dead_time * 1000, dest_probe, d);
    schedule_kick();
}

/* Concurrency feedback from one finished job. */
static void dest_feedback(struct dest *d, int site_failed, const struct qmgr_outcome *o,
                          size_t n)
{
    int *deferred = xcalloc(n ? n : 1, sizeof(*deferred));
    const char **dsns = xcalloc(n ? n : 1, sizeof(*dsns));
    size_t i;

    for (i = 0; i < n; i++) {
        deferred[i] = o[i].status == QMGR_DEFERRED;
        dsns[i] = o[i].dsn;
    }
    if (!qmgr_dest_failure(site_failed, deferred, (const char *const *) dsns, n))
        qmgr_window_success(&d->win, d->tp->conc_limit);
    else if (qmgr_window_failure(&d->win, d->tp->cohort_limit))
        dest_mark_dead(d, o[0].dsn, o[0].reason);
    free(deferred);
    free(dsns);
}

static void job_timeout(void *ctx)
{
    struct job *job = ctx;

    job_fail(job, job->state == JOB_REPLY ? "timeout waiting for the delivery status"
                                          : "timeout waiting for the agent");
}

static void encode_request(struct job *job, vstr *out)
{
    struct qmgr_message *m = job->msg->m;
    attr_list *l = attr_list_new();
    size_t i;

    attr_add(l, "queue_name", "active");
    attr_add(l, "queue_id", m->id);
    attr_addf(l, "content_offset", "%lld", m->content_offset);
    attr_add(l, "arrival_time", m->arrival);
    attr_add(l, "sender", m->sender);
    attr_add(l, "nexthop", job->nexthop);
    attr_add_long(l, "flags", m->flags);
    for (i = 0; i < job->nrcpt; i++) {
        struct qmgr_rcpt *r = &m->rcpts[job->rcpt[i]];

        attr_addf(l, "rcpt_offset", "%lld", (long long) r->offset);
        attr_add(l, "rcpt_address", r->address);
        attr_add(l, "rcpt_orcpt", r->orcpt);
        attr_add_long(l, "rcpt_notify", r->notify);
    }
    if (attr_encode(out, l) < 0)
        vstr_reset(out);
    attr_list_free(l);
}

/* Check a reply against the request and record the outcomes.  Returns 0,
 * or -1 with the problem in err (nothing recorded). */
static int job_reply(struct job *job, const attr_list *l, vstr *err)
{
    struct qmgr_message *m = job->msg->m;
    struct qmgr_outcome *o = xcalloc(job->nrcpt, sizeof(*o));
    size_t k[6] = {0, 0, 0, 0, 0, 0};
    size_t i, n = attr_count(l);
    const char *site;
    int ret = -1;

    for (i = 0; i < n; i++) {
        const char *name = attr_name(l, i), *value = attr_value(l, i);
        size_t slot;

        if (strcmp(name, "rcpt_offset") == 0)
            slot = 0;
        else if (strcmp(name, "rcpt_status") == 0)
            slot = 1;
        else if (strcmp(name, "rcpt_dsn") == 0)
            slot = 2;
        else if (strcmp(name, "rcpt_reason") == 0)
            slot = 3;
        else if (strcmp(name, "rcpt_action") == 0)
            slot = 4;
        else if (strcmp(name, "rcpt_relay") == 0)
            slot = 5;
        else
            continue;
        if (k[slot] >= job->nrcpt) {
            vstr_printf(err, "more statuses than recipients");
            goto out;
        }
        switch (slot) {
        case 0: {
            char *end;
            long long off;

            errno = 0;
            off = strtoll(value, &end, 10);
            /* Only offsets we asked about may be marked done. */
            if (errno || *value == 0 || *end != 0
                || off != (long long) m->rcpts[job->rcpt[k[0]]].offset) {
                vstr_printf(err, "unexpected rcpt_offset \"%.20s\"", value);
                goto out;
            }
            o[k[0]].rcpt = job->rcpt[k[0]];
            break;
        }
        case 1:
            if (strcmp(value, "sent") == 0)
                o[k[1]].status = QMGR_SENT;
            else if (strcmp(value, "deferred") == 0)
                o[k[1]].status = QMGR_DEFERRED;
            else if (strcmp(value, "bounced") == 0)
                o[k[1]].status = QMGR_BOUNCED;
            else {
                vstr_printf(err, "bad rcpt_status \"%.20s\"", value);
                goto out;
            }
            break;
        case 2:
            o[k[2]].dsn = value;
            break;
        case 3:
            o[k[3]].reason = value;
            break;
        case 4:
            if (strcmp(value, "delivered") != 0 && strcmp(value, "relayed") != 0
                && strcmp(value, "failed") != 0 && strcmp(value, "delayed") != 0
                && strcmp(value, "expanded") != 0 && strcmp(value, "passed") != 0) {
                vstr_printf(err, "bad rcpt_action \"%.20s\"", value);
                goto out;
            }
            o[k[4]].action = value;
            break;
        case 5:
            o[k[5]].relay = value;
            break;
        }
        k[slot]++;
    }
    for (i = 0; i < 6; i++)
        if (k[i] != job->nrcpt) {
            vstr_printf(err, "%zu statuses for %zu recipients", k[i], job->nrcpt);
            goto out;
        }
    site = attr_get(l, "site_failed");
    if (site != NULL && strcmp(site, "0") != 0 && strcmp(site, "1") != 0) {
        vstr_printf(err, "bad site_failed \"%.20s\"", site);
        goto out;
    }
    qmgr_msg_outcomes(job->msg, o, job->nrcpt);
    dest_feedback(job->dest, site ? *site - '0' : -1, o, job->nrcpt);
    ret = 0;
out:
    free(o);
    return ret;
}

/* Read what is there; returns 1 with a parsed list, 0 to wait, -1 after
 * failing the job. */
static int job_read_list(struct job *job, attr_list *l, const struct attr_spec *spec)
{
    vstr *err = vstr_new(64);
    ssize_t n = netbuf_fill(&job->in, job->fd);
    ssize_t used;

    if (n == 0 && netbuf_avail(&job->in) == 0) {
        job_fail(job, job->state == JOB_REPLY ? "agent exited without a delivery status"
                                              : "agent closed the connection");
        vstr_free(err);
        return -1;
    }
    if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        vstr_printf(err, "read: %s", strerror(errno));
        job_fail(job, vstr_str(err));
        vstr_free(err);
        return -1;
    }
    if (n == -2) {
        job_fail(job, "reply too long");
        vstr_free(err);
        return -1;
    }
    used = attr_parse(netbuf_peek(&job->in), netbuf_avail(&job->in), l, spec, err);
    if (used < 0) {
        vstr *why = vstr_new(64);

        vstr_printf(why, "protocol error: %s", vstr_str(err));
        job_fail(job, vstr_str(why));
        vstr_free(why);
        vstr_free(err);
        return -1;
    }
    if (used == 0) {
        if (n == 0) {
            job_fail(job, "agent closed the connection in mid-reply");
            vstr_free(err);
            return -1;
        }
        vstr_free(err);
        return 0;
    }
    netbuf_consume(&job->in, (size_t) used);
    vstr_free(err);
    return 1;
}

static void job_event(int fd, int events, void *ctx);

static void job_send(struct job *job)
{
    ssize_t n = netbuf_flush(&job->out, job->fd);

    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        vstr *why = vstr_new(64);

        vstr_printf(why, "write: %s", strerror(errno));
        job_fail(job, vstr_str(why));
        vstr_free(why);
        return;
    }
    if (netbuf_avail(&job->out) > 0) {
        event_set(job->fd, EV_WRITE, job_event, job);
        return;
    }
    job->state = JOB_REPLY;
    event_set(job->fd, EV_READ, job_event, job);
    event_timer_set(&job->timer, qmgr_conf.reply_timeout * 1000, job_timeout, job);
}

static void job_event(int fd, int events, void *ctx)
{
    (void) events;
    (void) fd;
    struct job *job = ctx;
    attr_list *l = attr_list_new();
    vstr *err = vstr_new(64);
    int r;

    switch (job->state) {
    case JOB_ANNOUNCE:
        if ((r = job_read_list(job, l, NULL)) <= 0)
            break;
        if (attr_check_announce(l, PROTO_DELIVERY, PROTO_VERSION, err) < 0) {
            vstr *why = vstr_new(64);

            vstr_printf(why, "protocol error: %s", vstr_str(err));
            job_fail(job, vstr_str(why));
            vstr_free(why);
            break;
        }
        {
            vstr *req = vstr_new(256);

            encode_request(job, req);
            if (vstr_len(req) == 0) {
                vstr_free(req);
                job_fail(job, "cannot encode the delivery request");
                break;
            }
            netbuf_append(&job->out, vstr_str(req), vstr_len(req));
            vstr_free(req);
        }
        job->state = JOB_SEND;
        job_send(job);
        break;
    case JOB_SEND:
        job_send(job);
        break;
    case JOB_REPLY:
        if ((r = job_read_list(job, l, delivery_reply_spec)) <= 0)
            break;
        if (job_reply(job, l, err) < 0) {
            vstr *why = vstr_new(64);

            vstr_printf(why, "protocol error: %s", vstr_str(err));
            job_fail(job, vstr_str(why));
            vstr_free(why);
            break;
        }
        job_done(job);
        break;
    case JOB_QUEUED:
        msg_panic("qmgr: event for a queued job");
    }
    attr_list_free(l);
    vstr_free(err);
}

/* Connect to the agent; on failure the job is failed (and released). */
static void job_start(struct job *job)
{
    vstr *path = vstr_new(32);

    job->state = JOB_ANNOUNCE;
    job->dest->active++;
    job->tp->active++;
    job->start_time = qmgr_wall_now();
    netbuf_init(&job->in, QMGR_REPLY_LIMIT);
    netbuf_init(&job->out, QMGR_REPLY_LIMIT);
    vstr_printf(path, "private/%s", job->tp->name);
    if ((job->fd = service_connect(vstr_str(path), 1)) < 0 && errno == EAGAIN) {
        /* The agent's listen queue is full: busy, not broken.  Requeue
         * and try again shortly. */
        struct dest *d = job->dest;

        job->state = JOB_QUEUED;
        d->active--;
        job->tp->active--;
        netbuf_free(&job->in);
        netbuf_free(&job->out);
        job->next = d->head;
        d->head = job;
        if (d->tail == NULL)
            d->tail = job;
        job->tp->busy = 1;
        if (!event_timer_pending(&schedule_timer))
            event_timer_set(&schedule_timer, QMGR_BUSY_RETRY_MS, schedule_run, NULL);
    } else if (job->fd < 0) {
        vstr *why = vstr_new(64);

        vstr_printf(why, "connect to %s: %s", vstr_str(path), strerror(errno));
        job_fail(job, vstr_str(why));
        vstr_free(why);
    } else {
        event_set(job->fd, EV_READ, job_event, job);
        event_timer_set(&job->timer, qmgr_conf.announce_timeout * 1000, job_timeout, job);
    }
    vstr_free(path);
}

static struct job *dest_pop(struct dest *d)
{
    struct job *job = d->head;

    if (job) {
        d->head = job->next;
        if (d->head == NULL)
            d->tail = NULL;
        job->next = NULL;
    }
    return job;
}

/* Defer every queued job of d with reason. */
static void dest_defer_queued(struct dest *d, const char *dsn, const char *reason)
{
    struct job *job;

    while ((job = dest_pop(d)) != NULL) {
        job_defer_all(job, dsn, reason);
        job_done(job);
    }
}

static void transport_schedule(struct transport *tp)
{
    struct dest *d;
    vstr *reason = vstr_new(64);

    for (;;) {
        if (tp->throttle_until > event_now_ms()) {
            /* Paused: what is queued waits in deferred/ instead. */
            vstr_reset(reason);
            vstr_printf(reason, "delivery agent %s unavailable", tp->name);
            for (d = tp->dests; d; d = d->next)
                dest_defer_queued(d, "4.3.0", vstr_str(reason));
            break;
        }
        /* Dead destinations: no new connections. */
        for (d = tp->dests; d; d = d->next) {
            if (!d->win.dead || d->head == NULL)
                continue;
            vstr_reset(reason);
            vstr_printf(reason, "delivery temporarily suspended: %s", d->dead_reason);
            dest_defer_queued(d, d->dead_dsn, vstr_str(reason));
        }
        if (tp->active >= tp->proc_limit || tp->busy)
            break;
        /* Round-robin: the first destination with work and room, which
         * then goes to the back of the line. */
        for (d = tp->dests; d; d = d->next)
            if (d->head != NULL && !d->win.dead && d->active < d->win.window)
                break;
        if (d == NULL)
            break;
        dest_to_back(d);
        job_start(dest_pop(d));
    }
    vstr_free(reason);
    dest_cleanup(tp);
}

static void schedule_run(void *ctx)
{
    (void) ctx;
    struct transport *tp;

    for (tp = transports; tp; tp = tp->next) {
        tp->busy = 0;
        transport_schedule(tp);
    }
}

/* Schedule from the event loop, never from inside a callback chain. */
static void schedule_kick(void)
{
    if (!event_timer_pending(&schedule_timer))
        event_timer_set(&schedule_timer, 0, schedule_run, NULL);
}

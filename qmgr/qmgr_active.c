/* Active messages of the queue manager: taking a queue file into active/,
 * reading it (corrupt files go to corrupt/) in slices of at most
 * qmgr_message_recipient_limit pending recipients, resolving them and
 * handing them to delivery; recording each recipient's outcome durably
 * (status logs, then the done mark); and, once every job of the last
 * slice is finished: expiry of pending recipients of a message older than
 * its lifetime, the defer/ log, the notifications bounce(8) owes (bounce,
 * success, delay), and only then removal of the file, or its move to
 * deferred/ with the next retry time as mtime.
 *
 * postsuper may rename or remove an active file under us (hold, release,
 * requeue, delete).  Every such change is one rename or unlink, so the
 * file is either gone or the same inode in hold/, incoming/ or deferred/:
 * done marks follow it there, a message whose file left active/ is
 * forgotten without touching it again, and an id still held in memory is
 * never activated a second time (the active table below). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "event.h"
#include "delivery_log.h"
#include "log.h"
#include "mem.h"
#include "qmgr.h"
#include "skeleton.h"
#include "qmgr_backoff.h"
#include "qmgr_policy.h"
#include "qmgr_resolve.h"
#include "queue.h"
#include "record.h"
#include "safe_file.h"
#include "status_log.h"
#include "stream.h"
#include "vstr.h"

struct qmgr_config qmgr_conf;

static int active_count;

/* Ids of the messages in memory, so that a file released or requeued by
 * postsuper while its old copy is still being finished is left alone. */
#define ACTIVE_HASH_SIZE 4096
static struct qmgr_msg *active_hash[ACTIVE_HASH_SIZE];

static unsigned active_hash_index(const char *id)
{
    unsigned h = 2166136261u;

    for (; *id; id++)
        h = (h ^ (unsigned char) *id) * 16777619u;
    return h % ACTIVE_HASH_SIZE;
}

static struct qmgr_msg *active_find(const char *id)
{
    struct qmgr_msg *msg;

    for (msg = active_hash[active_hash_index(id)]; msg != NULL; msg = msg->hash_next)
        if (strcmp(msg->id, id) == 0)
            return msg;
    return NULL;
}

static void active_add(struct qmgr_msg *msg)
{
    unsigned h = active_hash_index(msg->id);

    msg->hash_next = active_hash[h];
    active_hash[h] = msg;
}

static void active_remove(struct qmgr_msg *msg)
{
    struct qmgr_msg **pp;

    for (pp = &active_hash[active_hash_index(msg->id)]; *pp != NULL; pp = &(*pp)->hash_next) {
        if (*pp == msg) {
            *pp = msg->hash_next;
            return;
        }
    }
}

/* Where an administrator may have moved an active file (one rename). */
static const char *const moved_queues[] = {
    QUEUE_ACTIVE, QUEUE_HOLD, QUEUE_INCOMING, QUEUE_DEFERRED, NULL,
};

/* Open the queue file of id in active/ or, when postsuper moved it,
 * where it went (from moved_queues[first] on).  Two passes, because a
 * file may move again between the tries.  fd with its path in path and
 * its queue in *queue, or -1 (errno ENOENT: deleted). */
static int queue_file_locate(const char *id, int first, int flags, vstr *path,
                             const char **queue)
{
    int pass, i, fd;

    for (pass = 0; pass < 2; pass++) {
        for (i = first; moved_queues[i] != NULL; i++) {
            queue_path(path, moved_queues[i], id);
            if ((fd = safe_open_existing(vstr_str(path), flags)) >= 0) {
                *queue = moved_queues[i];
                return fd;
            }
            if (errno != ENOENT)
                return -1;
        }
    }
    errno = ENOENT;
    return -1;
}

/* Is active/id still there? */
static int active_file_exists(const char *id)
{
    vstr *path = vstr_new(64);
    struct stat st;
    int ret;

    queue_path(path, QUEUE_ACTIVE, id);
    ret = lstat(vstr_str(path), &st) == 0 || errno != ENOENT;
    vstr_free(path);
    return ret;
}

static void msg_slice_end(struct qmgr_msg *msg);
static void msg_route(struct qmgr_msg *msg);

double qmgr_wall_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

int qmgr_active_count(void)
{
    return active_count;
}

/* A lookup table changed (qmgr.c): take no new messages, finish the
 * active ones with the routing they started with, then make way for a
 * qmgr that reads the new tables. */
static int draining;

void qmgr_drain(void)
{
    draining = 1;
    msg_info("finishing %d active message%s before the restart", active_count,
             active_count == 1 ? "" : "s");
    if (active_count == 0)
        trigger_server_restart();
}

int qmgr_active_room(void)
{
    long room = qmgr_conf.active_limit - active_count;

    if (draining)
        return 0;
    return room > 0 ? (int) room : 0;
}

static double arrival_of(const struct qmgr_message *m)
{
    return m->arrival_sec + m->arrival_usec / 1e6;
}

/* Printable, bounded copy of untrusted text for a log line. */
static const char *printable(vstr *buf, const char *s)
{
    size_t len = strlen(s);

    vstr_reserve(buf, 1024);
    log_printable(vstr_str(buf), 1024, s, len);
    return vstr_str(buf);
}

/* Log "ID: to=<rcpt>, relay=R, delay=..., delays=..., dsn=D, status=WHAT
 * (reason)" for an outcome qmgr decides itself. */
static void log_rcpt(struct qmgr_msg *msg, size_t rcpt, const char *relay, double conn_start,
                     const char *dsn, const char *status, const char *reason)
{
    struct qmgr_message *m = msg->m;
    double now = qmgr_wall_now(), arrival = arrival_of(m);
    struct delivery_log l = {
        .queue_id = m->id,
        .rcpt = m->rcpts[rcpt].address,
        .orcpt = m->rcpts[rcpt].orcpt,
        .relay = relay,
        .delay = now - arrival,
        .delays = {msg->active_time - arrival,
                   (conn_start > 0 ? conn_start : now) - msg->active_time,
                   conn_start > 0 ? now - conn_start : 0, 0},
        .dsn = dsn,
        .status = status,
        .reason = reason,
    };

    delivery_log_status(&l);
}

void qmgr_msg_defer(struct qmgr_msg *msg, size_t rcpt, const char *relay, double conn_start,
                    const char *dsn, const char *reason)
{
    log_rcpt(msg, rcpt, relay, conn_start, dsn, "deferred", reason);
    qmgr_rcpt_set_reason(&msg->m->rcpts[rcpt], dsn, reason);
}

/* A status log entry for recipient r (the strings are only borrowed). */
static void entry_fill(struct status_entry *e, const struct qmgr_rcpt *r, const char *dsn,
                       const char *action, const char *relay, const char *reason)
{
    memset(e, 0, sizeof(*e));
    e->rcpt = r->address;
    e->orcpt = r->orcpt;
    e->notify = r->notify;
    e->offset = (long long) r->offset;
    e->status = (char *) (dsn ? dsn : "4.0.0");
    e->action = (char *) action;
    e->relay = (char *) (relay ? relay : "none");
    e->reason = (char *) (reason ? reason : "");
    e->when = (long long) qmgr_wall_now();
}

/* Done marks: the file is opened once per batch of marks. */
struct marker {
    struct qmgr_message *m;
    int fd;
    vstr *path;
};

static void marker_open(struct marker *mk, struct qmgr_message *m)
{
    mk->m = m;
    mk->fd = -1;
    mk->path = vstr_new(64);
}

static void marker_mark(struct marker *mk, struct qmgr_rcpt *r)
{
    const char *queue;

    /* Follow a file postsuper moved (the same inode, so the mark is
     * right); a deleted one has nothing left to mark. */
    if (mk->fd < 0 && vstr_len(mk->path) == 0) {
        mk->fd = queue_file_locate(mk->m->id, 0, O_RDWR | O_CLOEXEC, mk->path, &queue);
        if (mk->fd < 0 && errno != ENOENT)
            msg_warn("%s: open %s: %m", mk->m->id, vstr_str(mk->path));
        if (mk->fd < 0 && vstr_len(mk->path) == 0)
            vstr_set(mk->path, "-");
    }
    /* Mark done in place; should that fail the outcome is recorded
     * anyway, so memory says done and no retry repeats it. */
    if (mk->fd >= 0 && pwrite(mk->fd, "D", 1, r->offset) != 1)
        msg_warn("%s: mark recipient done in %s: %m", mk->m->id, vstr_str(mk->path));
    r->state = QMGR_RCPT_DONE;
    mk->m->npending--;
}

/* The marks are synced only when the file stays queued (msg_dispose): a
 * file whose recipients are all done is removed anyway. */
static void marker_close(struct marker *mk)
{
    if (mk->fd >= 0)
        close(mk->fd);
    vstr_free(mk->path);
}

void qmgr_msg_outcomes(struct qmgr_msg *msg, const struct qmgr_outcome *o, size_t n)
{
    struct qmgr_message *m = msg->m;
    struct status_entry e;
    struct marker mk;
    size_t i;

    marker_open(&mk, m);
    for (i = 0; i < n; i++) {
        struct qmgr_rcpt *r = &m->rcpts[o[i].rcpt];

        if (r->state != QMGR_RCPT_PENDING)
            continue;
        switch (o[i].status) {
        case QMGR_DEFERRED:
            qmgr_rcpt_set_reason(r, o[i].dsn ? o[i].dsn : "4.0.0",
                                 o[i].reason ? o[i].reason : "delivery deferred");
            continue;
        case QMGR_BOUNCED:
            /* The reason must be on disk before the recipient is done:
             * otherwise the sender would never learn of the failure. */
            entry_fill(&e, r, o[i].dsn ? o[i].dsn : "5.0.0", "failed", o[i].relay,
                       o[i].reason);
            if (status_log_append(QUEUE_BOUNCE_LOG, m->id, &e, 1) < 0) {
                msg_warn("%s: append to %s/ log: %m", m->id, QUEUE_BOUNCE_LOG);
                qmgr_rcpt_set_reason(r, "4.3.0", "cannot record the bounce reason");
                continue;
            }
            break;
        case QMGR_SENT:
            /* "passed": the next hop took the DSN request and reports. */
            if ((r->notify & DSN_NOTIFY_SUCCESS)
                && !(o[i].action && strcmp(o[i].action, "passed") == 0)) {
                const char *action = o[i].action ? o[i].action : "delivered";

                entry_fill(&e, r, o[i].dsn ? o[i].dsn : "2.0.0", action, o[i].relay,
                           o[i].reason);
                /* The mail went out: a lost success notice must not
                 * cause a second delivery, so the mark follows anyway. */
                if (status_log_append(QUEUE_TRACE_LOG, m->id, &e, 1) < 0)
                    msg_warn("%s: append to %s/ log: %m", m->id, QUEUE_TRACE_LOG);
            }
            break;
        }
        marker_mark(&mk, r);
    }
    marker_close(&mk);
}

/* Make the done marks of a file that stays queued durable, so that its
 * next attempt never repeats a finished recipient. */
static int queue_file_sync(const char *path)
{
    int fd = safe_open_existing(path, O_RDONLY | O_CLOEXEC);
    int ret;

    if (fd < 0)
        return -1;
    ret = fsync(fd);
    close(fd);
    return ret;
}

/* The message is too old: every pending recipient of this slice is
 * returned to the sender with its last deferral reason. */
static void msg_expire(struct qmgr_msg *msg)
{
    struct qmgr_message *m = msg->m;
    struct status_entry e;
    struct marker mk;
    vstr *p1 = vstr_new(1024);
    size_t i, n = 0;

    marker_open(&mk, m);
    for (i = 0; i < m->nrcpt; i++) {
        struct qmgr_rcpt *r = &m->rcpts[i];

        if (r->state != QMGR_RCPT_PENDING)
            continue;
        entry_fill(&e, r, r->dsn && r->dsn[0] == '4' ? r->dsn : "4.4.7", "failed", "none",
                   r->reason ? r->reason : "delivery time expired");
        if (status_log_append(QUEUE_BOUNCE_LOG, m->id, &e, 1) < 0) {
            msg_warn("%s: append to %s/ log: %m", m->id, QUEUE_BOUNCE_LOG);
            continue;
        }
        marker_mark(&mk, r);
        n++;
    }
    marker_close(&mk);
    if (n > 0 && !msg->expired_logged) {
        msg_info("%s: from=<%s>, status=expired, returned to sender", m->id,
                 printable(p1, m->sender));
        msg->expired_logged = 1;
    }
    vstr_free(p1);
}

/* defer/ID says why each pending recipient waits (bounce(8) reads it for
 * delay notifications, the queue listing for its reasons).  The first
 * slice of a pass replaces the log, later slices add to it. */
static void defer_log_update(struct qmgr_msg *msg)
{
    struct qmgr_message *m = msg->m;
    struct status_entry *ents = xcalloc(m->npending ? m->npending : 1, sizeof(*ents));
    size_t i, n = 0;
    int bad = 0;

    for (i = 0; i < m->nrcpt; i++) {
        struct qmgr_rcpt *r = &m->rcpts[i];

        if (r->state == QMGR_RCPT_PENDING)
            entry_fill(&ents[n++], r, r->dsn, "delayed", "none",
                       r->reason ? r->reason : "delivery deferred");
    }
    if (!msg->defer_log_started) {
        bad = status_log_rewrite(QUEUE_DEFER_LOG, m->id, ents, n) < 0;
        msg->defer_log_started = 1;
    } else {
        for (i = 0; i < n && !bad; i++)
            bad = status_log_append(QUEUE_DEFER_LOG, m->id, &ents[i], 0) < 0;
    }
    if (bad)
        msg_warn("%s: write %s/ log: %m", m->id, QUEUE_DEFER_LOG);
    free(ents);
}

static void msg_free(struct qmgr_msg *msg)
{
    active_remove(msg);
    free(msg->id);
    qmgr_message_free(msg->m);
    free(msg);
    active_count--;
    if (draining && active_count == 0)
        trigger_server_restart();
    qmgr_scan_resume();
}

/* Is LOG/ID there and not empty? */
static int log_nonempty(const char *log, const char *id)
{
    vstr *path = vstr_new(64);
    struct stat st;
    int ret;

    queue_path(path, log, id);
    ret = stat(vstr_str(path), &st) == 0 && st.st_size > 0;
    vstr_free(path);
    return ret;
}

/* The delay warning went out: W = 0 in place, durably. */
static void warn_record_clear(struct qmgr_message *m)
{
    unsigned char hdr[5];
    size_t hlen = rec_header(hdr, REC_WARN, REC_WARN_WIDTH);
    vstr *path = vstr_new(64), *data = vstr_new(REC_WARN_WIDTH + 1);
    const char *queue;
    int fd;

    vstr_printf(data, "%-*d", REC_WARN_WIDTH, 0);
    /* Where postsuper may have moved it meanwhile. */
    if ((fd = queue_file_locate(m->id, 0, O_RDWR | O_CLOEXEC, path, &queue)) < 0
        || pwrite(fd, vstr_str(data), REC_WARN_WIDTH, m->warn_offset + (off_t) hlen)
               != REC_WARN_WIDTH
        || fsync(fd) < 0)
        msg_warn("%s: cannot record that the delay warning was sent: %m", m->id);
    else
        m->warn_time = 0;
    if (fd >= 0)
        close(fd);
    vstr_free(path);
    vstr_free(data);
}

/* postsuper took the file out of active/ (held, released, requeued or
 * deleted it): make the done marks that followed it durable and forget
 * the message; its new place decides what happens next.  Status logs
 * written for a deleted message would be orphans: remove them. */
static void msg_vanished(struct qmgr_msg *msg)
{
    const char *id = msg->id, *queue = NULL;
    vstr *path = vstr_new(64);
    int fd = queue_file_locate(id, 1, O_RDONLY | O_CLOEXEC, path, &queue);

    if (fd >= 0) {
        if (fsync(fd) < 0)
            msg_warn("%s: fsync %s: %m", id, vstr_str(path));
        close(fd);
        msg_info("%s: moved out of the active queue to %s/ by postsuper", id, queue);
        qmgr_scan_later(queue);
    } else {
        (void) status_log_remove(QUEUE_DEFER_LOG, id);
        (void) status_log_remove(QUEUE_BOUNCE_LOG, id);
        (void) status_log_remove(QUEUE_TRACE_LOG, id);
        msg_info("%s: deleted by postsuper while in the active queue", id);
    }
    vstr_free(path);
    msg_free(msg);
}

/* Remove the file, or move it to deferred/ with its retry time. */
static void msg_dispose(struct qmgr_msg *msg)
{
    struct qmgr_message *m = msg->m;
    vstr *path = vstr_new(64);
    size_t pending = msg->deferred_before;

    queue_path(path, QUEUE_ACTIVE, m->id);
    if (!active_file_exists(m->id)) {
        vstr_free(path);
        msg_vanished(msg);
        return;
    }
    if (pending == 0 && !msg->flush_failed) {
        if (unlink(vstr_str(path)) < 0) {
            if (errno == ENOENT) {
                vstr_free(path);
                msg_vanished(msg);
                return;
            }
            msg_warn("%s: remove %s: %m", m->id, vstr_str(path));
        }
        if (status_log_remove(QUEUE_DEFER_LOG, m->id) < 0)
            msg_warn("%s: remove %s/ log: %m", m->id, QUEUE_DEFER_LOG);
        msg_info("%s: removed", m->id);
    } else {
        double now = qmgr_wall_now();
        long backoff = qmgr_backoff(now, arrival_of(m), qmgr_conf.minimal_backoff,
                                    qmgr_conf.maximal_backoff);
        struct timeval tv[2];

        /* A notification is owed: try again soon, not after the backoff
         * of the message. */
        if (msg->flush_failed && (pending == 0 || qmgr_conf.bounce_retry < backoff))
            backoff = qmgr_conf.bounce_retry > 0 ? qmgr_conf.bounce_retry : 1;
        if (pending == 0 && status_log_remove(QUEUE_DEFER_LOG, m->id) < 0)
            msg_warn("%s: remove %s/ log: %m", m->id, QUEUE_DEFER_LOG);
        if (queue_file_sync(vstr_str(path)) < 0)
            msg_warn("%s: fsync %s: %m", m->id, vstr_str(path));
        /* Retry time first: should we stop between the two steps the file
         * is still in active/ and is recovered at the next start. */
        tv[0].tv_sec = (time_t) now;
        tv[0].tv_usec = 0;
        tv[1].tv_sec = (time_t) now + backoff;
        tv[1].tv_usec = 0;
        if (utimes(vstr_str(path), tv) < 0)
            msg_warn("%s: set retry time of %s: %m", m->id, vstr_str(path));
        if (queue_move(QUEUE_ACTIVE, QUEUE_DEFERRED, m->id) < 0) {
            if (errno == ENOENT) {
                vstr_free(path);
                msg_vanished(msg);
                return;
            }
            msg_warn("%s: move to %s: %m", m->id, QUEUE_DEFERRED);
        }
    }
    vstr_free(path);
    msg_free(msg);
}

/* Notifications, in this order: bounce (bounce/ log), success (trace/
 * log), delay (when the W time has come and recipients still wait). */
enum { FLUSH_BOUNCE, FLUSH_SUCCESS, FLUSH_DELAY, FLUSH_DONE };
static const char *const flush_kinds[] = {"bounce", "success", "delay"};

static int flush_needed(struct qmgr_msg *msg, int step)
{
    struct qmgr_message *m = msg->m;

    switch (step) {
    case FLUSH_BOUNCE:
        return log_nonempty(QUEUE_BOUNCE_LOG, m->id);
    case FLUSH_SUCCESS:
        return log_nonempty(QUEUE_TRACE_LOG, m->id);
    case FLUSH_DELAY:
        return msg->deferred_before > 0 && m->warn_offset >= 0
               && qmgr_delay_warning_due(m->warn_time, qmgr_wall_now(), m->sender);
    }
    return 0;
}

static void msg_flush_next(struct qmgr_msg *msg);

static void flush_done(void *ctx, int ok)
{
    struct qmgr_msg *msg = ctx;

    if (msg->flush_step == FLUSH_DELAY) {
        if (ok)
            warn_record_clear(msg->m);
    } else if (!ok) {
        msg->flush_failed = 1;
    }
    msg->flush_step++;
    msg_flush_next(msg);
}

static void msg_flush_next(struct qmgr_msg *msg)
{
    while (msg->flush_step < FLUSH_DONE && !flush_needed(msg, msg->flush_step))
        msg->flush_step++;
    if (msg->flush_step < FLUSH_DONE)
        qmgr_bounce_flush(msg->m->id, flush_kinds[msg->flush_step], flush_done, msg);
    else
        msg_dispose(msg);
}

/* Read the next slice of recipients into msg->m; 0 or -1. */
static int msg_next_slice(struct qmgr_msg *msg)
{
    struct qmgr_message *m = msg->m, *next;
    vstr *path = vstr_new(64), *why = vstr_new(64);
    stream *s;
    int fd, ret = -1;

    queue_path(path, QUEUE_ACTIVE, m->id);
    if ((fd = safe_open_existing(vstr_str(path), O_RDONLY | O_CLOEXEC)) < 0) {
        /* Gone: postsuper moved it; msg_dispose forgets the message. */
        if (errno != ENOENT)
            msg_warn("%s: open %s: %m", m->id, vstr_str(path));
        goto out;
    }
    s = stream_fdopen(fd);
    next = qmgr_message_read_slice(s, m->id, (size_t) qmgr_conf.rcpt_limit, m->next_offset, why);
    stream_close(s);
    if (next == NULL) {
        msg_warn("%s: read %s: %s", m->id, vstr_str(path), vstr_str(why));
        goto out;
    }
    qmgr_message_free(m);
    msg->m = next;
    ret = 0;
out:
    vstr_free(path);
    vstr_free(why);
    return ret;
}

/* Every job of the current slice is finished. */
static void msg_slice_end(struct qmgr_msg *msg)
{
    struct qmgr_message *m = msg->m;

    if (m->npending > 0
        && qmgr_message_expired(qmgr_wall_now(), arrival_of(m), m->sender,
                                qmgr_conf.max_lifetime, qmgr_conf.bounce_lifetime))
        msg_expire(msg);
    if (m->npending > 0)
        defer_log_update(msg);
    msg->deferred_before += m->npending;
    if (m->unread_pending > 0) {
        if (msg_next_slice(msg) == 0) {
            msg->jobs = 1;          /* held while routing */
            msg_route(msg);
            qmgr_msg_job_done(msg);
            return;
        }
        msg->deferred_before += m->unread_pending;
    }
    /* Moved or deleted by postsuper: no notification for a file that is
     * not here (a held file's logs stay with it for later). */
    if (!active_file_exists(m->id)) {
        msg_vanished(msg);
        return;
    }
    msg->flush_step = FLUSH_BOUNCE;
    msg_flush_next(msg);
}

void qmgr_msg_job_done(struct qmgr_msg *msg)
{
    if (--msg->jobs <= 0)
        msg_slice_end(msg);
}

/* Order for grouping recipients by transport and next hop. */
struct rcpt_route {
    size_t rcpt;
    char *transport;
    char *nexthop;
};

static int route_cmp(const void *a, const void *b)
{
    const struct rcpt_route *x = a, *y = b;
    int d = strcmp(x->transport, y->transport);

    if (d == 0)
        d = strcmp(x->nexthop, y->nexthop);
    if (d == 0)
        d = x->rcpt < y->rcpt ? -1 : x->rcpt > y->rcpt;
    return d;
}

/* Resolve every pending recipient and queue delivery jobs, one group per
 * transport and next hop. */
static void msg_route(struct qmgr_msg *msg)
{
    struct qmgr_message *m = msg->m;
    struct rcpt_route *routes = xreallocarray(NULL, m->npending ? m->npending : 1, sizeof(*routes));
    vstr *transport = vstr_new(16), *nexthop = vstr_new(64);
    size_t i, n = 0, start;
    size_t *idx;

    struct qmgr_outcome *own = xcalloc(m->npending ? m->npending : 1, sizeof(*own));
    vstr *dsn = vstr_new(16);
    size_t nown = 0;
    int r;

    for (i = 0; i < m->nrcpt; i++) {
        if (m->rcpts[i].state != QMGR_RCPT_PENDING)
            continue;
        r = qmgr_resolve(&qmgr_conf.resolver, m->rcpts[i].address, transport, nexthop);
        if (r < 0) {
            qmgr_msg_defer(msg, i, "none", 0, "4.3.0", "transport_maps lookup failure");
            continue;
        }
        if (r == 0 || strcmp(vstr_str(transport), QMGR_TRANSPORT_ERROR) == 0) {
            /* transport(5) "error:5.1.1 text": bounce with that text. */
            const char *text = r == 0 ? "5.1.3 bad address syntax" : vstr_str(nexthop);

            vstr_set(dsn, "5.0.0");
            if (strlen(text) >= 6 && (text[0] == '4' || text[0] == '5') && text[1] == '.'
                && strspn(text + 2, "0123456789.") >= 3 && strchr(text, ' ') != NULL) {
                vstr_setn(dsn, text, (size_t) (strchr(text, ' ') - text));
                text = strchr(text, ' ') + 1;
            }
            if (vstr_str(dsn)[0] == '4') {
                qmgr_msg_defer(msg, i, "none", 0, vstr_str(dsn), text);
                continue;
            }
            log_rcpt(msg, i, "none", 0, vstr_str(dsn), "bounced", text);
            own[nown].status = QMGR_BOUNCED;
            own[nown].dsn = xstrdup(vstr_str(dsn));
            own[nown].reason = xstrdup(text);
            own[nown].action = "failed";
            own[nown].relay = "none";
            own[nown++].rcpt = i;
            continue;
        }
        if (strcmp(vstr_str(transport), QMGR_TRANSPORT_DISCARD) == 0) {
            const char *text = vstr_len(nexthop) ? vstr_str(nexthop) : "discarded";

            log_rcpt(msg, i, "none", 0, "2.0.0", "sent", text);
            own[nown].status = QMGR_SENT;
            own[nown].dsn = xstrdup("2.0.0");
            own[nown].reason = xstrdup(text);
            own[nown].action = "delivered";
            own[nown].relay = "none";
            own[nown++].rcpt = i;
            continue;
        }
        routes[n].rcpt = i;
        routes[n].transport = xstrdup(vstr_str(transport));
        routes[n].nexthop = xstrdup(vstr_str(nexthop));
        n++;
    }
    if (nown > 0)
        qmgr_msg_outcomes(msg, own, nown);
    for (i = 0; i < nown; i++) {
        free((char *) own[i].dsn);
        free((char *) own[i].reason);
    }
    free(own);
    vstr_free(dsn);
    qsort(routes, n, sizeof(*routes), route_cmp);
    idx = xreallocarray(NULL, n ? n : 1, sizeof(*idx));
    for (start = 0; start < n; start = i) {
        for (i = start; i < n && strcmp(routes[i].transport, routes[start].transport) == 0
                        && strcmp(routes[i].nexthop, routes[start].nexthop) == 0;
             i++)
            idx[i - start] = routes[i].rcpt;
        qmgr_deliver_submit(msg, routes[start].transport, routes[start].nexthop, idx, i - start);
    }
    for (i = 0; i < n; i++) {
        free(routes[i].transport);
        free(routes[i].nexthop);
    }
    free(routes);
    free(idx);
    vstr_free(transport);
    vstr_free(nexthop);
}

static void move_to_corrupt(const char *id, const char *why)
{
    if (queue_move(QUEUE_ACTIVE, QUEUE_CORRUPT, id) < 0)
        msg_warn("%s: move to %s: %m", id, QUEUE_CORRUPT);
    msg_warn("%s: corrupt queue file: %s; moved to %s/", id, why, QUEUE_CORRUPT);
}

int qmgr_activate(const char *from_queue, const char *id)
{
    vstr *path = vstr_new(64), *why = vstr_new(64), *p1 = vstr_new(1024);
    struct qmgr_message *m;
    struct qmgr_msg *msg;
    stream *s;
    int fd, ret = 0;

    if (qmgr_active_room() <= 0) {
        ret = -1;
        goto out;
    }
    /* Its old copy is still being finished (postsuper released or
     * requeued the file meanwhile): take it once that copy is gone. */
    if (active_find(id) != NULL) {
        if (msg_verbose)
            msg_info("%s: still active, leaving %s/ alone for now", id, from_queue);
        ret = -1;
        goto out;
    }
    if (queue_move(from_queue, QUEUE_ACTIVE, id) < 0) {
        /* Gone meanwhile (postsuper, a second scan): not ours to take. */
        if (errno != ENOENT)
            msg_warn("%s: move from %s to %s: %m", id, from_queue, QUEUE_ACTIVE);
        ret = errno == ENOENT ? 0 : -1;
        goto out;
    }
    queue_path(path, QUEUE_ACTIVE, id);
    if ((fd = safe_open_existing(vstr_str(path), O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno == ENOENT) {
            msg_warn("%s: %s vanished", id, vstr_str(path));
        } else {
            vstr_printf(why, "open: %s", strerror(errno));
            move_to_corrupt(id, vstr_str(why));
        }
        goto out;
    }
    s = stream_fdopen(fd);
    m = qmgr_message_read_slice(s, id, (size_t) qmgr_conf.rcpt_limit, 0, why);
    stream_close(s);
    if (m == NULL) {
        move_to_corrupt(id, vstr_str(why));
        goto out;
    }
    msg = xcalloc(1, sizeof(*msg));
    msg->id = xstrdup(id);
    active_add(msg);
    msg->m = m;
    msg->jobs = 1;              /* held while routing */
    msg->active_time = qmgr_wall_now();
    active_count++;
    msg_info("%s: from=<%s>, size=%lld, nrcpt=%zu (queue active)", id, printable(p1, m->sender),
             m->content_size, m->rcpt_total);
    msg_route(msg);
    qmgr_msg_job_done(msg);
out:
    vstr_free(path);
    vstr_free(why);
    vstr_free(p1);
    return ret;
}

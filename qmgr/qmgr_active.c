/* Active messages of the queue manager: taking a queue file into active/,
 * reading it (corrupt files go to corrupt/), resolving its recipients and
 * handing them to delivery; recording each recipient's outcome durably;
 * and, once every job is finished, removing the file or moving it to
 * deferred/ with its next retry time as mtime and a defer log for mailq. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "event.h"
#include "log.h"
#include "mem.h"
#include "qmgr.h"
#include "qmgr_backoff.h"
#include "queue.h"
#include "record.h"
#include "safe_file.h"
#include "stream.h"
#include "vstr.h"

struct qmgr_config qmgr_conf;

static int active_count;

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

int qmgr_active_room(void)
{
    long room = qmgr_conf.active_limit - active_count;

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

static void append_clean(vstr *out, const char *s)
{
    for (; *s; s++)
        vstr_putc(out, (unsigned char) *s < 0x20 || *s == 0x7f ? ' ' : *s);
}

void qmgr_status_line(vstr *out, const char *address, const char *dsn, const char *reason)
{
    append_clean(out, address);
    vstr_putc(out, '\t');
    append_clean(out, dsn ? dsn : "4.0.0");
    vstr_putc(out, '\t');
    append_clean(out, reason ? reason : "");
    vstr_putc(out, '\n');
}

void qmgr_msg_defer(struct qmgr_msg *msg, size_t rcpt, const char *relay, double conn_start,
                    const char *dsn, const char *reason)
{
    struct qmgr_message *m = msg->m;
    struct qmgr_rcpt *r = &m->rcpts[rcpt];
    double now = qmgr_wall_now(), arrival = arrival_of(m);
    vstr *line = vstr_new(256), *p1 = vstr_new(1024), *p2 = vstr_new(1024);
    double b, c;

    if (conn_start <= 0) {
        b = now - msg->active_time;
        c = 0;
    } else {
        b = conn_start - msg->active_time;
        c = now - conn_start;
    }
    qmgr_format_delays(line, now - arrival, msg->active_time - arrival, b, c, 0);
    msg_info("%s: to=<%s>, relay=%s, %s, dsn=%s, status=deferred (%s)", m->id,
             printable(p1, r->address), relay, vstr_str(line), dsn, printable(p2, reason));
    qmgr_rcpt_set_reason(r, dsn, reason);
    vstr_free(line);
    vstr_free(p1);
    vstr_free(p2);
}

/* Append the bounce lines of this batch to bounce/X/ID and fsync them:
 * until DSNs exist, this is where a bounce reason is kept. 0 or -1. */
static int bounce_log_append(const char *id, const vstr *lines)
{
    vstr *path = vstr_new(64);
    const char *p = vstr_str(lines);
    size_t left = vstr_len(lines);
    int fd, ret = -1;

    queue_path(path, QUEUE_BOUNCE_LOG, id);
    fd = open(vstr_str(path), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
        /* The hash subdirectory may not exist yet. */
        vstr *dir = vstr_new(64);
        char *slash;

        vstr_set(dir, vstr_str(path));
        if ((slash = strrchr(vstr_str(dir), '/')) != NULL) {
            *slash = 0;
            (void) mkdir_p(vstr_str(dir), 0700);
        }
        vstr_free(dir);
        fd = open(vstr_str(path), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    }
    if (fd < 0) {
        msg_warn("%s: open %s: %m", id, vstr_str(path));
        goto out;
    }
    while (left > 0) {
        ssize_t n = write(fd, p, left);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            msg_warn("%s: write %s: %m", id, vstr_str(path));
            goto out;
        }
        p += n;
        left -= n;
    }
    if (fsync(fd) < 0) {
        msg_warn("%s: fsync %s: %m", id, vstr_str(path));
        goto out;
    }
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    vstr_free(path);
    return ret;
}

void qmgr_msg_outcomes(struct qmgr_msg *msg, const struct qmgr_outcome *o, size_t n)
{
    struct qmgr_message *m = msg->m;
    vstr *bounces = vstr_new(256), *path = vstr_new(64);
    int bounce_ok = 1, fd = -1;
    size_t i;

    for (i = 0; i < n; i++)
        if (o[i].status == QMGR_BOUNCED)
            qmgr_status_line(bounces, m->rcpts[o[i].rcpt].address, o[i].dsn, o[i].reason);
    if (vstr_len(bounces) > 0) {
        bounce_ok = bounce_log_append(m->id, bounces) == 0;
        if (bounce_ok)
            msg_info("%s: bounce reason kept in %s/ (no DSN sent yet)", m->id, QUEUE_BOUNCE_LOG);
    }
    for (i = 0; i < n; i++) {
        struct qmgr_rcpt *r = &m->rcpts[o[i].rcpt];

        if (r->state != QMGR_RCPT_PENDING)
            continue;
        if (o[i].status == QMGR_DEFERRED
            || (o[i].status == QMGR_BOUNCED && !bounce_ok)) {
            if (o[i].status == QMGR_DEFERRED)
                qmgr_rcpt_set_reason(r, o[i].dsn, o[i].reason);
            else
                qmgr_rcpt_set_reason(r, "4.3.0", "cannot record bounce reason");
            continue;
        }
        if (fd < 0) {
            queue_path(path, QUEUE_ACTIVE, m->id);
            if ((fd = safe_open_existing(vstr_str(path), O_RDWR | O_CLOEXEC)) < 0)
                msg_warn("%s: open %s: %m", m->id, vstr_str(path));
        }
        /* Mark done in place; should that fail the delivery still
         * happened, so memory says done and no retry repeats it. */
        if (fd >= 0 && pwrite(fd, "D", 1, r->offset) != 1)
            msg_warn("%s: mark recipient done in %s: %m", m->id, vstr_str(path));
        r->state = QMGR_RCPT_DONE;
        m->npending--;
    }
    /* The marks are synced only when the file stays queued (msg_finish):
     * a file whose recipients are all done is removed anyway. */
    if (fd >= 0)
        close(fd);
    vstr_free(bounces);
    vstr_free(path);
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

/* Overwrite defer/X/ID with one line per pending recipient. */
static void defer_log_write(struct qmgr_message *m)
{
    vstr *path = vstr_new(64), *text = vstr_new(256);
    size_t i;
    int fd;

    for (i = 0; i < m->nrcpt; i++)
        if (m->rcpts[i].state == QMGR_RCPT_PENDING)
            qmgr_status_line(text, m->rcpts[i].address, m->rcpts[i].dsn,
                             m->rcpts[i].reason ? m->rcpts[i].reason : "delivery deferred");
    queue_path(path, QUEUE_DEFER_LOG, m->id);
    fd = open(vstr_str(path), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
        char *slash = strrchr(vstr_str(path), '/');

        *slash = 0;
        (void) mkdir_p(vstr_str(path), 0700);
        *slash = '/';
        fd = open(vstr_str(path), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    }
    if (fd < 0) {
        msg_warn("%s: open %s: %m", m->id, vstr_str(path));
    } else {
        if (write(fd, vstr_str(text), vstr_len(text)) != (ssize_t) vstr_len(text))
            msg_warn("%s: write %s: %m", m->id, vstr_str(path));
        close(fd);
    }
    vstr_free(path);
    vstr_free(text);
}

static void msg_free(struct qmgr_msg *msg)
{
    qmgr_message_free(msg->m);
    free(msg);
    active_count--;
    qmgr_scan_resume();
}

/* Every job is finished: remove the file or defer it. */
static void msg_finish(struct qmgr_msg *msg)
{
    struct qmgr_message *m = msg->m;
    vstr *path = vstr_new(64);

    queue_path(path, QUEUE_ACTIVE, m->id);
    if (m->npending == 0) {
        if (unlink(vstr_str(path)) < 0 && errno != ENOENT)
            msg_warn("%s: remove %s: %m", m->id, vstr_str(path));
        queue_path(path, QUEUE_DEFER_LOG, m->id);
        if (unlink(vstr_str(path)) < 0 && errno != ENOENT)
            msg_warn("%s: remove %s: %m", m->id, vstr_str(path));
        msg_info("%s: removed", m->id);
    } else {
        double now = qmgr_wall_now();
        long backoff = qmgr_backoff(now, arrival_of(m), qmgr_conf.minimal_backoff,
                                    qmgr_conf.maximal_backoff);
        struct timeval tv[2];

        defer_log_write(m);
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
        if (queue_move(QUEUE_ACTIVE, QUEUE_DEFERRED, m->id) < 0)
            msg_warn("%s: move to %s: %m", m->id, QUEUE_DEFERRED);
    }
    vstr_free(path);
    msg_free(msg);
}

void qmgr_msg_job_done(struct qmgr_msg *msg)
{
    if (--msg->jobs <= 0)
        msg_finish(msg);
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

    for (i = 0; i < m->nrcpt; i++) {
        if (m->rcpts[i].state != QMGR_RCPT_PENDING)
            continue;
        if (!qmgr_resolve(&qmgr_conf.resolver, m->rcpts[i].address, transport, nexthop)) {
            qmgr_msg_defer(msg, i, "none", 0, "4.4.0", "no route to that destination yet");
            continue;
        }
        routes[n].rcpt = i;
        routes[n].transport = xstrdup(vstr_str(transport));
        routes[n].nexthop = xstrdup(vstr_str(nexthop));
        n++;
    }
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
    m = qmgr_message_read(s, id, 0, why);
    stream_close(s);
    if (m == NULL) {
        move_to_corrupt(id, vstr_str(why));
        goto out;
    }
    msg = xcalloc(1, sizeof(*msg));
    msg->m = m;
    msg->jobs = 1;              /* held while routing */
    msg->active_time = qmgr_wall_now();
    active_count++;
    msg_info("%s: from=<%s>, size=%lld, nrcpt=%zu (queue active)", id, printable(p1, m->sender),
             m->content_size, m->nrcpt);
    msg_route(msg);
    qmgr_msg_job_done(msg);
out:
    vstr_free(path);
    vstr_free(why);
    vstr_free(p1);
    return ret;
}

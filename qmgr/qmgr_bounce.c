/* The queue manager's client of bounce(8): one "flush" request per
 * connection to private/bounce (mail_proto.h), event-driven like the
 * delivery jobs: connect, read the announcement, send the request, read
 * the reply, all bounded by a timeout.  The caller learns the result
 * through its callback, always from the event loop (never from inside
 * qmgr_bounce_flush), and must not remove a queue file whose notification
 * was not confirmed with status "0". */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "attr.h"
#include "event.h"
#include "log.h"
#include "mail_proto.h"
#include "mem.h"
#include "netbuf.h"
#include "qmgr.h"
#include "skeleton.h"
#include "vstr.h"

/* Largest reply we accept from bounce. */
#define BOUNCE_REPLY_LIMIT 65536

enum flush_state { FLUSH_ANNOUNCE, FLUSH_SEND, FLUSH_REPLY, FLUSH_FAILED };

struct flush {
    char *id;
    char *kind;
    void (*done)(void *ctx, int ok);
    void *ctx;
    int fd;
    enum flush_state state;
    netbuf in, out;
    struct event_timer timer;
};

static void flush_end(struct flush *f, int ok)
{
    void (*done)(void *, int) = f->done;
    void *ctx = f->ctx;

    if (f->fd >= 0) {
        event_del(f->fd);
        close(f->fd);
    }
    event_timer_cancel(&f->timer);
    netbuf_free(&f->in);
    netbuf_free(&f->out);
    free(f->id);
    free(f->kind);
    free(f);
    done(ctx, ok);
}

static void flush_fail(struct flush *f, const char *why)
{
    msg_warn("%s: %s notification not sent: bounce service (%s): %s", f->id, f->kind,
             BOUNCE_SOCKET, why);
    flush_end(f, 0);
}

static void flush_timeout(void *ctx)
{
    struct flush *f = ctx;

    if (f->state == FLUSH_FAILED)
        flush_end(f, 0);
    else
        flush_fail(f, "timeout");
}

/* 1 with a list parsed, 0 to wait, -1 after failing. */
static int flush_read(struct flush *f, attr_list *l, const struct attr_spec *spec)
{
    vstr *err = vstr_new(64);
    ssize_t n = netbuf_fill(&f->in, f->fd);
    ssize_t used;
    int ret = 0;

    if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        vstr_printf(err, "read: %s", strerror(errno));
        flush_fail(f, vstr_str(err));
        ret = -1;
    } else if (n == -2) {
        flush_fail(f, "reply too long");
        ret = -1;
    } else if ((used = attr_parse(netbuf_peek(&f->in), netbuf_avail(&f->in), l, spec, err)) < 0) {
        vstr *why = vstr_new(64);

        vstr_printf(why, "protocol error: %s", vstr_str(err));
        flush_fail(f, vstr_str(why));
        vstr_free(why);
        ret = -1;
    } else if (used == 0) {
        if (n == 0) {
            flush_fail(f, "connection closed");
            ret = -1;
        }
    } else {
        netbuf_consume(&f->in, (size_t) used);
        ret = 1;
    }
    vstr_free(err);
    return ret;
}

static void flush_event(int fd, int events, void *ctx);

static void flush_send(struct flush *f)
{
    ssize_t n = netbuf_flush(&f->out, f->fd);

    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        vstr *why = vstr_new(64);

        vstr_printf(why, "write: %s", strerror(errno));
        flush_fail(f, vstr_str(why));
        vstr_free(why);
        return;
    }
    if (netbuf_avail(&f->out) > 0) {
        event_set(f->fd, EV_WRITE, flush_event, f);
        return;
    }
    f->state = FLUSH_REPLY;
    event_set(f->fd, EV_READ, flush_event, f);
}

static void flush_event(int fd, int events, void *ctx)
{
    struct flush *f = ctx;
    attr_list *l = attr_list_new();
    vstr *err = vstr_new(64);

    (void) fd;
    (void) events;
    switch (f->state) {
    case FLUSH_ANNOUNCE:
        if (flush_read(f, l, NULL) <= 0)
            break;
        if (attr_check_announce(l, PROTO_BOUNCE, PROTO_VERSION, err) < 0) {
            flush_fail(f, vstr_str(err));
            break;
        }
        attr_list_reset(l);
        attr_add(l, "request", "flush");
        attr_add(l, "queue_name", "active");
        attr_add(l, "queue_id", f->id);
        attr_add(l, "kind", f->kind);
        vstr_reset(err);
        if (attr_encode(err, l) < 0) {
            flush_fail(f, "cannot encode the request");
            break;
        }
        netbuf_append(&f->out, vstr_str(err), vstr_len(err));
        f->state = FLUSH_SEND;
        flush_send(f);
        break;
    case FLUSH_SEND:
        flush_send(f);
        break;
    case FLUSH_REPLY: {
        const char *status, *reason;
        char buf[512];

        if (flush_read(f, l, bounce_reply_spec) <= 0)
            break;
        status = attr_get(l, "status");
        if (status != NULL && strcmp(status, "0") == 0) {
            flush_end(f, 1);
            break;
        }
        reason = attr_get(l, "reason");
        if (reason == NULL)
            reason = "no reason given";
        log_printable(buf, sizeof(buf), reason, strlen(reason));
        flush_fail(f, buf);
        break;
    }
    case FLUSH_FAILED:
        break;
    }
    attr_list_free(l);
    vstr_free(err);
}

void qmgr_bounce_flush(const char *id, const char *kind, void (*done)(void *ctx, int ok),
                       void *ctx)
{
    struct flush *f = xcalloc(1, sizeof(*f));

    f->id = xstrdup(id);
    f->kind = xstrdup(kind);
    f->done = done;
    f->ctx = ctx;
    netbuf_init(&f->in, BOUNCE_REPLY_LIMIT);
    netbuf_init(&f->out, BOUNCE_REPLY_LIMIT);
    f->state = FLUSH_ANNOUNCE;
    if ((f->fd = service_connect(BOUNCE_SOCKET, 1)) < 0) {
        /* Report from the event loop, not from inside the caller. */
        msg_warn("%s: %s notification not sent: connect to %s: %m", id, kind, BOUNCE_SOCKET);
        f->state = FLUSH_FAILED;
        event_timer_set(&f->timer, 0, flush_timeout, f);
        return;
    }
    event_set(f->fd, EV_READ, flush_event, f);
    /* The bounce daemon writes a notification through cleanup: allow it
     * the time of one delivery. */
    event_timer_set(&f->timer, qmgr_conf.reply_timeout * 1000, flush_timeout, f);
}

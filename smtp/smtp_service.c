/* smtp(8) per-request service: reads one delivery request from qmgr,
 * reads the envelope of the queue file (size, DSN envid/ret) up to the
 * content, hands the recipients to smtp_deliver(), logs one Postfix-shaped
 * status line per recipient, and replies with every recipient's outcome
 * in one attribute list. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>
#include "attr.h"
#include "deliver_request.h"
#include "delivery_log.h"
#include "log.h"
#include "mail_addr.h"
#include "mail_proto.h"
#include "mem.h"
#include "queue.h"
#include "queue_id.h"
#include "record.h"
#include "safe_file.h"
#include "smtp.h"
#include "stream.h"
#include "vstr.h"

static double now_seconds(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double) tv.tv_sec + tv.tv_usec / 1e6;
}

static void rcpt_vset(struct smtp_rcpt *r, enum smtp_rcpt_status status, const char *dsn,
                      const char *relay, const char *fmt, va_list ap)
{
    r->status = status;
    vstr_set(r->dsn, dsn);
    vstr_set(r->relay, relay ? relay : "none");
    vstr_reset(r->reason);
    vstr_vprintf(r->reason, fmt, ap);
}

void smtp_rcpt_set(struct smtp_rcpt *r, enum smtp_rcpt_status status, const char *dsn,
                   const char *relay, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    rcpt_vset(r, status, dsn, relay, fmt, ap);
    va_end(ap);
}

void smtp_pending_set(struct smtp_delivery *d, enum smtp_rcpt_status status, const char *dsn,
                      const char *relay, const char *fmt, ...)
{
    va_list ap;
    size_t i;

    for (i = 0; i < d->nrcpt; i++) {
        if (d->rcpts[i].status != RCPT_PENDING)
            continue;
        va_start(ap, fmt);
        rcpt_vset(&d->rcpts[i], status, dsn, relay, fmt, ap);
        va_end(ap);
    }
}

size_t smtp_pending_count(const struct smtp_delivery *d)
{
    size_t i, n = 0;

    for (i = 0; i < d->nrcpt; i++)
        n += d->rcpts[i].status == RCPT_PENDING;
    return n;
}

/* Open the queue file and read its envelope up to the M record, which
 * must be at content_offset: size, flags, DSN envid and ret.  The stream
 * is left after the M record. */
static stream *open_queue_file(const char *queue_name, struct smtp_msg *msg, vstr *why)
{
    vstr *path = vstr_new(64);
    vstr *data = vstr_new(256);
    stream *qf = NULL;
    off_t offset = 0;
    int type = 0, st, fd;
    long long size, off, nrcpt;

    queue_path(path, queue_name, msg->queue_id);
    fd = safe_open_existing(vstr_str(path), O_RDONLY);
    if (fd < 0) {
        vstr_printf(why, "cannot open queue file %s: %s", vstr_str(path), strerror(errno));
        goto out;
    }
    qf = stream_fdopen(fd);
    for (;;) {
        st = rec_get(qf, &type, data, &offset);
        if (st != REC_OK) {
            vstr_printf(why, "queue file %s: %s before the message content", vstr_str(path),
                        st == REC_EOF ? "end of file" : "malformed record");
            goto fail;
        }
        if (type == REC_MESSAGE)
            break;
        if (type == REC_SIZE) {
            if (sscanf(vstr_str(data), "%lld %lld %lld", &size, &off, &nrcpt) == 3
                && size >= 0)
                msg->size = size;
        } else if (type == REC_ATTR) {
            const char *eq = strchr(vstr_str(data), '=');
            size_t nlen = eq ? (size_t) (eq - vstr_str(data)) : 0;

            if (eq == NULL)
                continue;
            if (nlen == strlen(ATTR_ENVID) && strncmp(vstr_str(data), ATTR_ENVID, nlen) == 0
                && eq[1] != '\0') {
                free(msg->envid);
                msg->envid = xstrdup(eq + 1);
            } else if (nlen == strlen(ATTR_RET) && strncmp(vstr_str(data), ATTR_RET, nlen) == 0
                       && (strcasecmp(eq + 1, "FULL") == 0 || strcasecmp(eq + 1, "HDRS") == 0)) {
                free(msg->ret);
                msg->ret = xstrdup(eq + 1);
            }
        }
    }
    if (offset != msg->content_offset) {
        vstr_printf(why, "queue file %s: message content at offset %lld, not %lld",
                    vstr_str(path), (long long) offset, (long long) msg->content_offset);
        goto fail;
    }
    goto out;
fail:
    stream_close(qf);
    qf = NULL;
out:
    vstr_free(path);
    vstr_free(data);
    return qf;
}

static const char *status_name(enum smtp_rcpt_status s)
{
    switch (s) {
    case RCPT_SENT:
        return "sent";
    case RCPT_BOUNCED:
        return "bounced";
    default:
        return "deferred";
    }
}

static void log_status(const char *queue_id, const struct smtp_rcpt *rc,
                       const struct smtp_delivery *d, double arrival, double received,
                       double finished)
{
    struct delivery_log l = {
        .queue_id = queue_id,
        .rcpt = rc->address,
        .orcpt = rc->orcpt,
        .relay = vstr_str(rc->relay),
        .conn_use = d->conn_use,
        .delay = finished - arrival,
        .delays = {received - arrival, 0, d->setup_secs, d->xfer_secs},
        .dsn = vstr_str(rc->dsn),
        .status = status_name(rc->status),
        .reason = vstr_str(rc->reason),
    };

    delivery_log_status(&l);
}

/* The connection cache key: the next hop and the mode. */
static void dest_key(vstr *key, const char *nexthop)
{
    vstr_reset(key);
    vstr_printf(key, "%s:%s", smtp_cfg.lmtp ? "lmtp" : "smtp", nexthop);
}

void smtp_service(stream *client, void *ctx)
{
    attr_list *reply = attr_list_new();
    vstr *why = vstr_new(64);
    vstr *key = vstr_new(64);
    vstr *nexthop_text = vstr_new(64);
    struct deliver_request req;
    struct smtp_rcpt *rcpts = NULL;
    struct smtp_msg msg;
    struct smtp_delivery d;
    struct smtp_nexthop nh;
    const char *queue_name;
    double arrival, received, finished;
    size_t n = 0, i;
    int have_nh = 0;

    (void) ctx;
    smtp_cache_idle_disarm();
    memset(&msg, 0, sizeof(msg));
    memset(&d, 0, sizeof(d));
    if (deliver_request_read(client, &req) < 0)
        goto out;
    smtp_cache_expire();
    queue_name = req.queue_name;
    received = req.received;
    arrival = req.arrival;
    msg.queue_id = req.queue_id;
    msg.sender = req.sender;
    msg.flags = (int) req.flags;
    msg.content_offset = req.content_offset;
    n = req.nrcpt;
    rcpts = xcalloc(n, sizeof(*rcpts));
    for (i = 0; i < n; i++) {
        rcpts[i].offset = req.rcpts[i].offset;
        rcpts[i].address = req.rcpts[i].address;
        rcpts[i].orcpt = req.rcpts[i].orcpt;
        rcpts[i].notify = req.rcpts[i].notify;
        rcpts[i].dsn = vstr_new(8);
        rcpts[i].reason = vstr_new(64);
        rcpts[i].relay = vstr_new(32);
        vstr_set(rcpts[i].relay, "none");
    }
    d.msg = &msg;
    d.rcpts = rcpts;
    d.nrcpt = n;

    /* No next hop: the domain of the (first) recipient. */
    vstr_set(nexthop_text, req.nexthop);
    if (vstr_len(nexthop_text) == 0)
        vstr_set(nexthop_text, mail_addr_domain(rcpts[0].address));
    msg.qf = open_queue_file(queue_name, &msg, why);
    if (msg.qf == NULL) {
        msg_warn("%s: %s", msg.queue_id, vstr_str(why));
        smtp_pending_set(&d, RCPT_DEFERRED, "4.3.0", NULL, "cannot read queue file");
    } else if (smtp_nexthop_parse(vstr_str(nexthop_text), smtp_cfg.lmtp,
                                  smtp_cfg.lmtp ? (int) smtp_cfg.lmtp_port : smtp_cfg.smtp_port, &nh,
                                  why) < 0) {
        char text[300];

        msg_warn("%s: bad next hop \"%s\": %s", msg.queue_id,
                 log_printable(text, sizeof(text), vstr_str(nexthop_text),
                               vstr_len(nexthop_text)),
                 vstr_str(why));
        smtp_pending_set(&d, RCPT_DEFERRED, "4.3.5", NULL,
                         "mail transport unavailable: bad next hop \"%s\": %s", text,
                         vstr_str(why));
    } else {
        have_nh = 1;
        dest_key(key, vstr_str(nexthop_text));
        smtp_deliver(&d, &nh, vstr_str(key));
    }
    /* Anything left undecided is a bug; never report it as delivered. */
    smtp_pending_set(&d, RCPT_DEFERRED, "4.3.0", NULL, "delivery status unknown");

    finished = now_seconds();
    for (i = 0; i < n; i++) {
        struct smtp_rcpt *rc = &rcpts[i];
        const char *action = rc->action;

        if (action == NULL)
            action = rc->status == RCPT_SENT ? "delivered"
                     : rc->status == RCPT_BOUNCED ? "failed" : "delayed";
        log_status(msg.queue_id, rc, &d, arrival, received, finished);
        attr_add(reply, "rcpt_offset", rc->offset);
        attr_add(reply, "rcpt_status", status_name(rc->status));
        attr_add(reply, "rcpt_dsn", vstr_str(rc->dsn));
        attr_add(reply, "rcpt_reason", vstr_str(rc->reason));
        attr_add(reply, "rcpt_action", action);
        attr_add(reply, "rcpt_relay", vstr_str(rc->relay));
    }
    attr_add(reply, "site_failed", d.site_failed ? "1" : "0");
    if (attr_write(client, reply) != 0)
        msg_warn("%s: cannot send delivery status to queue manager: %s", msg.queue_id,
                 strerror(errno));
out:
    if (have_nh)
        smtp_nexthop_free(&nh);
    if (msg.qf != NULL)
        stream_close(msg.qf);
    free(msg.envid);
    free(msg.ret);
    for (i = 0; rcpts != NULL && i < n; i++) {
        vstr_free(rcpts[i].dsn);
        vstr_free(rcpts[i].reason);
        vstr_free(rcpts[i].relay);
    }
    free(rcpts);
    deliver_request_free(&req);
    attr_list_free(reply);
    vstr_free(why);
    vstr_free(key);
    vstr_free(nexthop_text);
    smtp_cache_idle_arm();
}

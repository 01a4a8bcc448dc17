/* local(8) per-connection service: reads one delivery request from qmgr,
 * opens the queue file, resolves and delivers each recipient in order,
 * logs one Postfix-shaped status line per recipient, and replies with
 * every recipient's outcome in one attribute list. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>
#include "argv.h"
#include "attr.h"
#include "deliver_request.h"
#include "delivery_log.h"
#include "local.h"
#include "local_util.h"
#include "log.h"
#include "mail_proto.h"
#include "mem.h"
#include "queue.h"
#include "queue_id.h"
#include "record.h"
#include "safe_file.h"
#include "stream.h"
#include "vstr.h"

/* Set up by main()'s post-jail hook. */
extern struct local_config local_cfg;

static double tv_seconds(const struct timeval *tv)
{
    return (double)tv->tv_sec + tv->tv_usec / 1e6;
}

static double since(double later, double earlier)
{
    return later > earlier ? later - earlier : 0;
}

static const char *status_name(enum local_status s)
{
    switch (s) {
    case LOCAL_SENT:
        return "sent";
    case LOCAL_BOUNCED:
        return "bounced";
    default:
        return "deferred";
    }
}

static void log_status(const char *queue_id, const struct deliver_rcpt *rc, double arrival,
                       double received, double started, double finished,
                       const struct local_result *r)
{
    struct delivery_log l = {
        .queue_id = queue_id,
        .rcpt = rc->address,
        .orcpt = rc->orcpt,
        .relay = "local",
        .delay = since(finished, arrival),
        .delays = {since(received, arrival), 0, 0, since(finished, started)},
        .dsn = vstr_str(r->dsn),
        .status = status_name(r->status),
        .reason = vstr_str(r->reason),
    };

    delivery_log_status(&l);
}

/* Open the queue file and check that content_offset is its M record. */
static stream *open_queue_file(const char *queue_name, const char *queue_id, long offset,
                               vstr *why)
{
    vstr *path = vstr_new(64);
    vstr *data = vstr_new(16);
    stream *qf = NULL;
    int type = 0;
    int fd;

    queue_path(path, queue_name, queue_id);
    fd = safe_open_existing(vstr_str(path), O_RDONLY);
    if (fd < 0) {
        vstr_printf(why, "cannot open queue file %s: %s", vstr_str(path), strerror(errno));
        goto out;
    }
    qf = stream_fdopen(fd);
    if (stream_seek(qf, offset) != 0 || rec_get(qf, &type, data, NULL) != REC_OK
        || type != REC_MESSAGE) {
        vstr_printf(why, "queue file %s: no message content at offset %ld", vstr_str(path),
                    offset);
        stream_close(qf);
        qf = NULL;
    }
out:
    vstr_free(path);
    vstr_free(data);
    return qf;
}

void local_service(stream *client, void *ctx)
{
    attr_list *reply = attr_list_new();
    vstr *why = vstr_new(64);
    struct deliver_request req;
    struct local_message msg;
    struct local_result r;
    struct timeval tv;
    double started, finished;
    stream *qf = NULL;
    size_t i;

    (void)ctx;
    if (deliver_request_read(client, &req) < 0)
        goto out;
    qf = open_queue_file(req.queue_name, req.queue_id, req.content_offset, why);
    if (qf == NULL)
        msg_warn("%s: %s", req.queue_id, vstr_str(why));
    msg.queue_id = req.queue_id;
    msg.sender = req.sender;
    msg.qf = qf;
    msg.content_offset = req.content_offset;
    msg.delivered_to = NULL;
    msg.flags = req.flags;
    msg.delivered_list = argv_new();
    if (qf != NULL && local_collect_delivered(&msg) != 0)
        msg_warn("%s: malformed message content", req.queue_id);

    for (i = 0; i < req.nrcpt; i++) {
        const struct deliver_rcpt *rc = &req.rcpts[i];

        gettimeofday(&tv, NULL);
        started = tv_seconds(&tv);
        local_result_init(&r);
        /* ORIGINAL_RECIPIENT: the DSN original recipient, else the
         * address qmgr gave us. */
        if (strncasecmp(rc->orcpt, "rfc822;", 7) == 0 && rc->orcpt[7] != '\0')
            msg.orig_rcpt = rc->orcpt + 7;
        else
            msg.orig_rcpt = rc->address;
        msg.orcpt = rc->orcpt;
        msg.notify = rc->notify;
        if (qf == NULL)
            local_result_set(&r, LOCAL_DEFERRED, "4.3.0", "cannot read queue file");
        else
            local_deliver_recipient(&local_cfg, &msg, rc->address, &r);
        gettimeofday(&tv, NULL);
        finished = tv_seconds(&tv);
        log_status(req.queue_id, rc, req.arrival, req.received, started, finished, &r);
        attr_add(reply, "rcpt_offset", rc->offset);
        attr_add(reply, "rcpt_status", status_name(r.status));
        attr_add(reply, "rcpt_dsn", vstr_str(r.dsn));
        attr_add(reply, "rcpt_reason", vstr_str(r.reason));
        attr_add(reply, "rcpt_action", r.status == LOCAL_SENT ? "delivered"
                                       : r.status == LOCAL_BOUNCED ? "failed" : "delayed");
        attr_add(reply, "rcpt_relay", "local");
        local_result_free(&r);
    }
    if (attr_write(client, reply) != 0)
        msg_warn("%s: cannot send delivery status to queue manager: %s", req.queue_id,
                 strerror(errno));
    argv_free(msg.delivered_list);
out:
    if (qf != NULL)
        stream_close(qf);
    deliver_request_free(&req);
    attr_list_free(reply);
    vstr_free(why);
}

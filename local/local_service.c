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
#include "attr.h"
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

struct rcpt_req {
    const char *offset;
    const char *address;
    const char *orcpt;
    const char *notify;
};

static double tv_seconds(const struct timeval *tv)
{
    return (double)tv->tv_sec + tv->tv_usec / 1e6;
}

static double since(double later, double earlier)
{
    return later > earlier ? later - earlier : 0;
}

/* Collect the repeated recipient attributes in request order: each group
 * starts with rcpt_offset and has each other field once.  Returns the
 * count, or -1 when a group is incomplete or out of order. */
static long collect_recipients(const attr_list *req, struct rcpt_req **out)
{
    size_t i, n = attr_count(req);
    long count = 0;
    struct rcpt_req *rcpts = NULL;
    struct rcpt_req *cur = NULL;
    const char **field;
    const char *name;

    for (i = 0; i < n; i++) {
        name = attr_name(req, i);
        if (strcmp(name, "rcpt_offset") == 0) {
            rcpts = xreallocarray(rcpts, count + 1, sizeof(*rcpts));
            cur = &rcpts[count++];
            memset(cur, 0, sizeof(*cur));
            cur->offset = attr_value(req, i);
            continue;
        }
        if (strcmp(name, "rcpt_address") == 0)
            field = cur ? &cur->address : NULL;
        else if (strcmp(name, "rcpt_orcpt") == 0)
            field = cur ? &cur->orcpt : NULL;
        else if (strcmp(name, "rcpt_notify") == 0)
            field = cur ? &cur->notify : NULL;
        else
            continue;
        if (field == NULL || *field != NULL)
            goto bad;
        *field = attr_value(req, i);
    }
    for (i = 0; i < (size_t)count; i++)
        if (rcpts[i].address == NULL || rcpts[i].orcpt == NULL || rcpts[i].notify == NULL
            || rcpts[i].address[0] == '\0')
            goto bad;
    *out = rcpts;
    return count;
bad:
    free(rcpts);
    *out = NULL;
    return -1;
}

/* A queue name is a plain directory name. */
static int queue_name_ok(const char *name)
{
    const char *p;

    if (*name == '\0')
        return 0;
    for (p = name; *p; p++)
        if (*p < 'a' || *p > 'z')
            return 0;
    return 1;
}

/* The ORCPT address when it differs from the recipient ("rfc822;" cut). */
static const char *orig_to(const char *orcpt, const char *address)
{
    const char *semi;

    if (strncasecmp(orcpt, "rfc822;", 7) == 0)
        orcpt += 7;
    else if ((semi = strchr(orcpt, ';')) != NULL)
        orcpt = semi + 1;
    if (*orcpt == '\0' || strcasecmp(orcpt, address) == 0)
        return NULL;
    return orcpt;
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

static void log_status(const char *queue_id, const struct rcpt_req *rc, double arrival,
                       double received, double started, double finished,
                       const struct local_result *r)
{
    char to[300], orig[300], reason[600];
    const char *o = orig_to(rc->orcpt, rc->address);
    vstr *line = vstr_new(256);

    log_printable(to, sizeof(to), rc->address, strlen(rc->address));
    vstr_printf(line, "%s: to=<%s>, ", queue_id, to);
    if (o != NULL)
        vstr_printf(line, "orig_to=<%s>, ", log_printable(orig, sizeof(orig), o, strlen(o)));
    vstr_puts(line, "relay=local, delay=");
    delay_format(line, since(finished, arrival));
    vstr_puts(line, ", delays=");
    delay_format(line, since(received, arrival));
    vstr_puts(line, "/0/0/");
    delay_format(line, since(finished, started));
    vstr_printf(line, ", dsn=%s, status=%s (%s)", vstr_str(r->dsn), status_name(r->status),
                log_printable(reason, sizeof(reason), vstr_str(r->reason), vstr_len(r->reason)));
    msg_info("%s", vstr_str(line));
    vstr_free(line);
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
    attr_list *req = attr_list_new();
    attr_list *reply = attr_list_new();
    vstr *err = vstr_new(64);
    vstr *why = vstr_new(64);
    struct rcpt_req *rcpts = NULL;
    struct local_message msg;
    struct local_result r;
    struct timeval tv;
    const char *queue_name, *queue_id, *arrival_text;
    double arrival, received, started, finished;
    long content_offset, n, i;
    stream *qf = NULL;
    int status;

    (void)ctx;
    if (attr_announce(client, PROTO_DELIVERY, PROTO_VERSION) != 0) {
        msg_warn("cannot announce to queue manager: %s", strerror(errno));
        goto out;
    }
    status = attr_read(client, req, delivery_request_spec, err);
    if (status != 0) {
        msg_warn("bad delivery request: %s",
                 status == -1 ? vstr_str(err) : stream_strerror(status));
        goto out;
    }
    gettimeofday(&tv, NULL);
    received = tv_seconds(&tv);
    queue_name = attr_get(req, "queue_name");
    queue_id = attr_get(req, "queue_id");
    arrival_text = attr_get(req, "arrival_time");
    if (!queue_name_ok(queue_name) || !queue_id_valid(queue_id)
        || attr_get_long(req, "content_offset", 0, 0x7fffffffL, &content_offset) != 0
        || (n = collect_recipients(req, &rcpts)) <= 0) {
        msg_warn("bad delivery request: bad queue name, queue id, offset or recipients");
        goto out;
    }
    arrival = strtod(arrival_text, NULL);
    if (arrival <= 0 || arrival > received + 86400)
        arrival = received;

    qf = open_queue_file(queue_name, queue_id, content_offset, why);
    if (qf == NULL)
        msg_warn("%s: %s", queue_id, vstr_str(why));
    msg.queue_id = queue_id;
    msg.sender = attr_get(req, "sender");
    msg.qf = qf;
    msg.content_offset = content_offset;
    msg.delivered_to = NULL;

    for (i = 0; i < n; i++) {
        gettimeofday(&tv, NULL);
        started = tv_seconds(&tv);
        local_result_init(&r);
        if (qf == NULL)
            local_result_set(&r, LOCAL_DEFERRED, "4.3.0", "cannot read queue file");
        else
            local_deliver_recipient(&local_cfg, &msg, rcpts[i].address, &r);
        gettimeofday(&tv, NULL);
        finished = tv_seconds(&tv);
        log_status(queue_id, &rcpts[i], arrival, received, started, finished, &r);
        attr_add(reply, "rcpt_offset", rcpts[i].offset);
        attr_add(reply, "rcpt_status", status_name(r.status));
        attr_add(reply, "rcpt_dsn", vstr_str(r.dsn));
        attr_add(reply, "rcpt_reason", vstr_str(r.reason));
        attr_add(reply, "rcpt_action", r.status == LOCAL_SENT ? "delivered"
                                       : r.status == LOCAL_BOUNCED ? "failed" : "delayed");
        attr_add(reply, "rcpt_relay", "local");
        local_result_free(&r);
    }
    if (attr_write(client, reply) != 0)
        msg_warn("%s: cannot send delivery status to queue manager: %s", queue_id,
                 strerror(errno));
out:
    if (qf != NULL)
        stream_close(qf);
    free(rcpts);
    attr_list_free(req);
    attr_list_free(reply);
    vstr_free(err);
    vstr_free(why);
}

/* bounce(8): one flush request.  Reads the queue file and the status log
 * of the requested kind, decides who gets a notice (the sender; for mail
 * from the null sender a double bounce to the postmaster, or nothing),
 * posts the notification through cleanup, adds the postmaster copies
 * notify_classes asks for, and removes the bounce/ or trace/ log only once
 * the notification is safely queued. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "argv.h"
#include "bounce.h"
#include "log.h"
#include "mem.h"
#include "params.h"
#include "queue.h"
#include "queue_id.h"
#include "safe_file.h"
#include "status_log.h"
#include "stream.h"
#include "vstr.h"

/* Used when the queue manager's parameter is not known (Postfix's
 * default maximal_queue_lifetime). */
#define DEFAULT_QUEUE_LIFETIME (5L * 86400)

static const char *status_log_of(enum dsn_kind kind)
{
    return kind == DSN_KIND_BOUNCE ? QUEUE_BOUNCE_LOG
         : kind == DSN_KIND_DELAY ? QUEUE_DEFER_LOG : QUEUE_TRACE_LOG;
}

/* Queues a flush may name: never a path of the client's choosing. */
static int message_queue_ok(const char *q)
{
    return strcmp(q, QUEUE_INCOMING) == 0 || strcmp(q, QUEUE_ACTIVE) == 0
           || strcmp(q, QUEUE_DEFERRED) == 0 || strcmp(q, QUEUE_HOLD) == 0;
}

/* An address as configured ("postmaster") made fully qualified. */
static void qualify(vstr *out, const char *addr)
{
    vstr_set(out, addr);
    if (strchr(addr, '@') == NULL) {
        vstr_putc(out, '@');
        vstr_puts(out, config_str("myorigin"));
    }
}

static int notify_class(const char *name)
{
    argv_t *classes = argv_split(config_str("notify_classes"), LIST_DELIMS);
    size_t i;
    int found = 0;

    for (i = 0; i < classes->n && !found; i++)
        found = strcasecmp(classes->v[i], name) == 0;
    argv_free(classes);
    return found;
}

static long queue_lifetime(void)
{
    const char *raw = param_find("maximal_queue_lifetime") ? config_raw("maximal_queue_lifetime")
                                                           : NULL;
    long t;

    if (raw == NULL)
        return DEFAULT_QUEUE_LIFETIME;
    t = config_time("maximal_queue_lifetime");
    return t > 0 ? t : DEFAULT_QUEUE_LIFETIME;
}

static const char *notice_name(enum dsn_kind kind)
{
    return kind == DSN_KIND_BOUNCE ? "non-delivery notification"
         : kind == DSN_KIND_DELAY ? "delay notification" : "delivery status notification";
}

/* Compose and post one notice; 0 with its id, or -1 with why. */
static int post_notice(const struct dsn_request *req, const struct bounce_message *m,
                       const struct status_entry *const *sel, size_t n, const char *env_sender,
                       vstr *dsn_id, vstr *why)
{
    vstr *recs = vstr_new(8192);
    int flags, ret;

    flags = dsn_compose(recs, req, m, sel, n);
    ret = bounce_post(env_sender, req->to, flags, req->queue_id, recs, dsn_id, why);
    vstr_free(recs);
    return ret;
}

static void drop_log(enum dsn_kind kind, const char *id)
{
    /* A delay warning leaves the defer log: the reasons still apply. */
    if (kind != DSN_KIND_DELAY && status_log_remove(status_log_of(kind), id) != 0)
        msg_warn("%s: cannot remove %s/ log: %s", id, status_log_of(kind), strerror(errno));
}

int bounce_flush(const char *queue_name, const char *queue_id, enum dsn_kind kind,
                 vstr *dsn_id, vstr *reason)
{
    struct bounce_message m;
    struct status_entry *entries = NULL;
    const struct status_entry **sel = NULL;
    struct dsn_request req;
    vstr *path = vstr_new(64), *err = vstr_new(64), *to = vstr_new(64);
    vstr *db_sender = vstr_new(64), *pm = vstr_new(64), *copy_id = vstr_new(32);
    const char *copy_param = NULL;
    size_t n = 0, count;
    stream *s;
    int fd, ret = -1, have_msg = 0;

    vstr_reset(dsn_id);
    if (!message_queue_ok(queue_name) || !queue_id_valid(queue_id)) {
        vstr_set(reason, "5.5.4 invalid queue name or queue id");
        goto out;
    }
    queue_path(path, queue_name, queue_id);
    if ((fd = safe_open_existing(vstr_str(path), O_RDONLY)) < 0) {
        vstr_reset(reason);
        vstr_printf(reason, "4.3.0 cannot open queue file %s: %s", vstr_str(path), strerror(errno));
        msg_warn("%s: %s", queue_id, vstr_str(reason) + 6);
        goto out;
    }
    s = stream_fdopen(fd);
    ret = bounce_message_read(s, config_size("bounce_size_limit"), &m, err);
    stream_close(s);
    have_msg = 1;
    if (ret != 0) {
        vstr_reset(reason);
        vstr_printf(reason, "4.3.0 malformed queue file %s: %s", vstr_str(path), vstr_str(err));
        msg_warn("%s: %s", queue_id, vstr_str(reason) + 6);
        ret = -1;
        goto out;
    }
    ret = -1;
    if (status_log_read(status_log_of(kind), queue_id, &entries, &n, err) != 0) {
        vstr_reset(reason);
        vstr_printf(reason, "4.3.0 malformed %s/ log: %s", status_log_of(kind), vstr_str(err));
        msg_warn("%s: %s", queue_id, vstr_str(reason) + 6);
        goto out;
    }
    count = dsn_select(kind, &m, entries, n, &sel);

    qualify(db_sender, config_str("double_bounce_sender"));
    memset(&req, 0, sizeof(req));
    req.kind = kind;
    req.queue_id = queue_id;
    req.myhostname = config_str("myhostname");
    req.now = time(NULL);
    req.retry_until = m.arrival + queue_lifetime();
    req.rnd = arc4random();
    qualify(pm, "postmaster");
    req.postmaster = vstr_str(pm);

    if (count == 0) {
        ret = 0;
    } else if (strcasecmp(m.sender, vstr_str(db_sender)) == 0
               || strcasecmp(m.sender, config_str("double_bounce_sender")) == 0) {
        /* A postmaster notice that failed: another one would loop. */
        msg_info("%s: undeliverable postmaster notification discarded", queue_id);
        ret = 0;
    } else if (*m.sender == '\0') {
        if (kind == DSN_KIND_BOUNCE && notify_class("2bounce")) {
            qualify(to, config_str("2bounce_notice_recipient"));
            req.to = vstr_str(to);
            req.double_bounce = 1;
            if (post_notice(&req, &m, sel, count, vstr_str(db_sender), dsn_id, reason) != 0)
                goto out;
            msg_info("%s: postmaster non-delivery notification: %s", queue_id, vstr_str(dsn_id));
        } else if (kind == DSN_KIND_BOUNCE) {
            msg_info("%s: undeliverable mail from the null sender: no notification "
                     "(notify_classes has no 2bounce)", queue_id);
        }
        ret = 0;
    } else {
        req.to = m.sender;
        if (post_notice(&req, &m, sel, count, "", dsn_id, reason) != 0)
            goto out;
        msg_info("%s: sender %s: %s", queue_id, notice_name(kind), vstr_str(dsn_id));
        if (kind == DSN_KIND_BOUNCE && notify_class("bounce"))
            copy_param = "bounce_notice_recipient";
        else if (kind == DSN_KIND_DELAY && notify_class("delay"))
            copy_param = "delay_notice_recipient";
        if (copy_param != NULL) {
            qualify(to, config_str(copy_param));
            req.to = vstr_str(to);
            req.postmaster_copy = 1;
            /* Best effort: the sender's notice is queued already. */
            if (post_notice(&req, &m, sel, count, vstr_str(db_sender), copy_id, err) != 0)
                msg_warn("%s: postmaster copy not sent: %s", queue_id, vstr_str(err));
            else
                msg_info("%s: postmaster %s: %s", queue_id, notice_name(kind), vstr_str(copy_id));
        }
        ret = 0;
    }
    if (ret == 0)
        drop_log(kind, queue_id);
out:
    if (have_msg)
        bounce_message_free(&m);
    status_log_free(entries, n);
    free(sel);
    vstr_free(path);
    vstr_free(err);
    vstr_free(to);
    vstr_free(db_sender);
    vstr_free(pm);
    vstr_free(copy_id);
    return ret;
}

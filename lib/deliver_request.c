/* One strict reader of delivery requests for every delivery agent
 * (deliver_request.h): recipient groups in request order, queue name and
 * id checked before any path is built from them. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "deliver_request.h"
#include "log.h"
#include "mail_proto.h"
#include "mem.h"
#include "queue_id.h"

/* A queue name is a plain directory name: never a path. */
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

static int notify_parse(const char *value, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || errno || v < 0 || v > 15)
        return -1;
    *out = (int) v;
    return 0;
}

/* The repeated recipient attributes, in request order: each group starts
 * with rcpt_offset and has every other field exactly once. */
static int collect_recipients(struct deliver_request *req, vstr *why)
{
    size_t i, n = attr_count(req->attrs);
    struct deliver_rcpt *cur = NULL;

    for (i = 0; i < n; i++) {
        const char *name = attr_name(req->attrs, i), *value = attr_value(req->attrs, i);

        if (strcmp(name, "rcpt_offset") == 0) {
            if (req->nrcpt >= DELIVER_RCPT_MAX) {
                vstr_printf(why, "more than %d recipients", DELIVER_RCPT_MAX);
                return -1;
            }
            req->rcpts = xreallocarray(req->rcpts, req->nrcpt + 1, sizeof(*req->rcpts));
            cur = &req->rcpts[req->nrcpt++];
            memset(cur, 0, sizeof(*cur));
            cur->offset = value;
            cur->notify = -1;
        } else if (strncmp(name, "rcpt_", 5) != 0) {
            continue;
        } else if (cur == NULL) {
            vstr_printf(why, "%s before rcpt_offset", name);
            return -1;
        } else if (strcmp(name, "rcpt_address") == 0 && cur->address == NULL) {
            cur->address = value;
        } else if (strcmp(name, "rcpt_orcpt") == 0 && cur->orcpt == NULL) {
            cur->orcpt = value;
        } else if (strcmp(name, "rcpt_notify") == 0 && cur->notify == -1) {
            if (notify_parse(value, &cur->notify) < 0) {
                vstr_printf(why, "bad rcpt_notify");
                return -1;
            }
        } else {
            vstr_printf(why, "misplaced %s", name);
            return -1;
        }
    }
    if (req->nrcpt == 0) {
        vstr_printf(why, "no recipients");
        return -1;
    }
    for (i = 0; i < req->nrcpt; i++)
        if (req->rcpts[i].address == NULL || req->rcpts[i].orcpt == NULL
            || req->rcpts[i].notify < 0 || req->rcpts[i].address[0] == '\0') {
            vstr_printf(why, "incomplete recipient #%zu", i + 1);
            return -1;
        }
    return 0;
}

int deliver_request_parse(struct deliver_request *req, double now, vstr *why)
{
    const char *flags = attr_get(req->attrs, "flags");

    req->queue_name = attr_get(req->attrs, "queue_name");
    req->queue_id = attr_get(req->attrs, "queue_id");
    req->sender = attr_get(req->attrs, "sender");
    req->nexthop = attr_get(req->attrs, "nexthop");
    req->received = now;
    if (req->queue_name == NULL || !queue_name_ok(req->queue_name)) {
        vstr_printf(why, "bad queue name");
        return -1;
    }
    if (req->queue_id == NULL || !queue_id_valid(req->queue_id)) {
        vstr_printf(why, "bad queue id");
        return -1;
    }
    if (req->sender == NULL || req->nexthop == NULL
        || attr_get_long(req->attrs, "content_offset", 0, 0x7fffffffL, &req->content_offset) != 0
        || (flags != NULL && attr_get_long(req->attrs, "flags", 0, 0xffff, &req->flags) != 0)) {
        vstr_printf(why, "bad sender, nexthop, content_offset or flags");
        return -1;
    }
    /* A clock step must not make delays negative or absurd. */
    req->arrival = strtod(attr_get(req->attrs, "arrival_time") ?: "0", NULL);
    if (!(req->arrival > 0) || req->arrival > now)
        req->arrival = now;
    return collect_recipients(req, why);
}

int deliver_request_read(stream *client, struct deliver_request *req)
{
    vstr *err = vstr_new(64);
    struct timeval tv;
    int status, ret = -1;

    memset(req, 0, sizeof(*req));
    req->attrs = attr_list_new();
    if (attr_announce(client, PROTO_DELIVERY, PROTO_VERSION) != 0) {
        msg_warn("cannot announce to queue manager: %s", strerror(errno));
        goto out;
    }
    status = attr_read(client, req->attrs, delivery_request_spec, err);
    if (status != 0) {
        msg_warn("bad delivery request: %s",
                 status == -1 ? vstr_str(err) : stream_strerror(status));
        goto out;
    }
    gettimeofday(&tv, NULL);
    if (deliver_request_parse(req, (double) tv.tv_sec + tv.tv_usec / 1e6, err) < 0) {
        msg_warn("bad delivery request: %s", vstr_str(err));
        goto out;
    }
    ret = 0;
out:
    vstr_free(err);
    return ret;
}

void deliver_request_free(struct deliver_request *req)
{
    attr_list_free(req->attrs);
    free(req->rcpts);
    memset(req, 0, sizeof(*req));
}

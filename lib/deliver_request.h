/* The delivery agents' side of the delivery protocol (mail_proto.h):
 * announce, read one request from qmgr, check it and take it apart, so
 * that local(8), smtp(8) and later agents share one strict reader. */
#ifndef POSTHORN_DELIVER_REQUEST_H
#define POSTHORN_DELIVER_REQUEST_H
#include <stddef.h>
#include "attr.h"
#include "stream.h"

#define DELIVER_RCPT_MAX 10000      /* recipients in one request */

struct deliver_rcpt {
    const char *offset;     /* echoed in the reply as rcpt_offset */
    const char *address;
    const char *orcpt;      /* "type;address" or "" */
    int notify;             /* DSN_NOTIFY_* mask, 0 = not given */
};

struct deliver_request {
    attr_list *attrs;       /* owns every string below */
    const char *queue_name; /* a plain queue directory name */
    const char *queue_id;   /* a valid queue id */
    const char *sender;
    const char *nexthop;
    long content_offset;
    long flags;             /* REC_FLAG_* */
    double arrival;         /* when the message arrived (never in the future) */
    double received;        /* when this request was read */
    struct deliver_rcpt *rcpts;
    size_t nrcpt;
};

/* Announce the protocol, read one request and check it.  0, or -1 after
 * logging why (the caller then just closes the connection). */
int deliver_request_read(stream *client, struct deliver_request *req);
void deliver_request_free(struct deliver_request *req);
/* Take a request apart from an attribute list already read (tests,
 * fuzzing).  0, or -1 with the problem in why. */
int deliver_request_parse(struct deliver_request *req, double now, vstr *why);

#endif

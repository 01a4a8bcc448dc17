/* The protocols between posthorn's daemons, named in one place.
 *
 * cleanup (private/cleanup), one message per connection:
 *   server: announce {protocol=cleanup, version=1}
 *   client: records (record.h): F flags, S sender, A attributes,
 *           then per recipient [O orcpt] [Y notify] R address, then M,
 *           the content as L/C records (line terminators removed, the
 *           client's dot-unstuffing done), and E.  The client may send
 *           everything without waiting for the announcement.
 *   server: after E, one attribute list {status, queue_id, reason}: status
 *           "0" means the queue file is complete and durable (file and
 *           directory fsynced); otherwise status is an SMTP reply code
 *           ("451", "552", ...) and reason starts with an enhanced status
 *           code ("4.3.0 Queue file write error").
 *
 * delivery agents (private/local, private/smtp, ...), one request per
 * connection:
 *   server: announce {protocol=delivery, version=1}
 *   qmgr:   {queue_name, queue_id, content_offset, arrival_time, sender,
 *           nexthop, flags, then per recipient in order: rcpt_offset,
 *           rcpt_address, rcpt_orcpt, rcpt_notify}
 *   agent:  {for every recipient, in request order: rcpt_offset,
 *           rcpt_status ("sent" | "deferred" | "bounced"), rcpt_dsn
 *           ("2.0.0"), rcpt_reason (text for logs and DSNs: for a remote
 *           reply "host mx.example[192.0.2.1] said: 550 5.1.1 ..."),
 *           rcpt_action (the RFC 3464 action: "delivered", "relayed" (sent
 *           on to a next hop without DSN support), "failed", "delayed"; or
 *           "passed": sent on, with the DSN request, to a next hop that
 *           supports DSN and so reports success itself (RFC 3461)),
 *           rcpt_relay (who took it: "mx.example[192.0.2.1]:25", "local",
 *           or "none"); and once per reply, optionally, site_failed ("1":
 *           no usable session with any host of the destination: the
 *           scheduler counts it against the destination; "0" or absent:
 *           the destination answered)}
 *   The agent logs each recipient's status line itself; qmgr records the
 *   outcome in the queue file and in the message's status logs
 *   (status_log.h).
 *
 * bounce (private/bounce), one request per connection:
 *   server: announce {protocol=bounce, version=1}
 *   qmgr:   {request = "flush", queue_name, queue_id, kind = "bounce" |
 *           "delay" | "success"}
 *   bounce: reads the queue file and the status log of that kind
 *           (bounce/ for "bounce", defer/ for "delay", trace/ for
 *           "success"), writes one RFC 3464 delivery status notification
 *           through cleanup (a double bounce to 2bounce_notice_recipient
 *           when the original sender is the null sender), and only once
 *           cleanup has it durably, replies {status = "0", queue_id = the
 *           notification's id ("" when none was due: NOTIFY=NEVER, ...)}
 *           and removes the bounce/ or trace/ log; status != "0" (with
 *           reason) means nothing was sent and qmgr must retry later.
 */
#ifndef POSTHORN_MAIL_PROTO_H
#define POSTHORN_MAIL_PROTO_H
#include "attr.h"

#define CLEANUP_SOCKET "private/cleanup"
#define QMGR_TRIGGER "public/qmgr"
#define BOUNCE_SOCKET "private/bounce"
#define PICKUP_TRIGGER "public/pickup"
#define SHOWQ_SOCKET "public/showq"
#define FLUSH_SOCKET "public/flush"
#define PROTO_CLEANUP "cleanup"
#define PROTO_DELIVERY "delivery"
#define PROTO_BOUNCE "bounce"
#define PROTO_VERSION 1

/* 'A' record names in queue files. */
#define ATTR_CLIENT_ADDRESS "client_address"
#define ATTR_CLIENT_NAME "client_name"
#define ATTR_HELO_NAME "helo_name"
#define ATTR_PROTOCOL "protocol"
#define ATTR_ENVID "envid"
#define ATTR_RET "ret"              /* FULL or HDRS */
#define ATTR_LOG_IDENT "log_ident"
#define ATTR_DSN_NOTIFY "dsn_notify"    /* sendmail -t -N: the DSN notify mask
                                         * (decimal) of the recipients cleanup
                                         * takes from the header */

extern const struct attr_spec cleanup_reply_spec[];
extern const struct attr_spec delivery_request_spec[];
extern const struct attr_spec delivery_reply_spec[];
extern const struct attr_spec bounce_request_spec[];
extern const struct attr_spec bounce_reply_spec[];

#endif

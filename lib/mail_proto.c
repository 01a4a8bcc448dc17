/* Attribute specifications of the inter-daemon protocols (mail_proto.h). */
#include "config.h"
#include <stddef.h>
#include "mail_proto.h"

const struct attr_spec cleanup_reply_spec[] = {
    {"status", ATTR_REQUIRED},
    {"queue_id", 0},
    {"reason", 0},
    {NULL, 0},
};

const struct attr_spec delivery_request_spec[] = {
    {"queue_name", ATTR_REQUIRED},
    {"queue_id", ATTR_REQUIRED},
    {"content_offset", ATTR_REQUIRED},
    {"arrival_time", ATTR_REQUIRED},
    {"sender", ATTR_REQUIRED},
    {"nexthop", ATTR_REQUIRED},
    {"flags", 0},
    {"rcpt_offset", ATTR_REQUIRED | ATTR_REPEAT},
    {"rcpt_address", ATTR_REQUIRED | ATTR_REPEAT},
    {"rcpt_orcpt", ATTR_REQUIRED | ATTR_REPEAT},
    {"rcpt_notify", ATTR_REQUIRED | ATTR_REPEAT},
    {NULL, 0},
};

const struct attr_spec delivery_reply_spec[] = {
    {"rcpt_offset", ATTR_REQUIRED | ATTR_REPEAT},
    {"rcpt_status", ATTR_REQUIRED | ATTR_REPEAT},
    {"rcpt_dsn", ATTR_REQUIRED | ATTR_REPEAT},
    {"rcpt_reason", ATTR_REQUIRED | ATTR_REPEAT},
    {"rcpt_action", ATTR_REQUIRED | ATTR_REPEAT},
    {"rcpt_relay", ATTR_REQUIRED | ATTR_REPEAT},
    {"site_failed", 0},
    {NULL, 0},
};

const struct attr_spec bounce_request_spec[] = {
    {"request", ATTR_REQUIRED},
    {"queue_name", ATTR_REQUIRED},
    {"queue_id", ATTR_REQUIRED},
    {"kind", ATTR_REQUIRED},
    {NULL, 0},
};

const struct attr_spec bounce_reply_spec[] = {
    {"status", ATTR_REQUIRED},
    {"queue_id", 0},
    {"reason", 0},
    {NULL, 0},
};

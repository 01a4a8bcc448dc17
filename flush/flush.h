/* The fast flush service, public/flush: postqueue -i and -s ask it to
 * make deferred mail due now.  Protocol (attr.h), one request per
 * connection:
 *   server: announce {protocol = "flush", version = 1}
 *   client: {request = "flush_id", queue_id = ID}
 *        or {request = "flush_site", site = DOMAIN or [ADDRESS]}
 *   server: {status, reason}: status FLUSH_STAT_OK ("0", reason says what
 *           was done), FLUSH_STAT_FAIL (no such message, or a temporary
 *           problem), FLUSH_STAT_BAD (malformed request),
 *           FLUSH_STAT_DENY (the site is not eligible: fast_flush_domains).
 */
#ifndef POSTHORN_FLUSH_H
#define POSTHORN_FLUSH_H
#include <string.h>
#include <strings.h>
#include "attr.h"

#define FLUSH_SOCKET "public/flush"
#define PROTO_FLUSH "flush"
#define FLUSH_VERSION 1

#define FLUSH_REQ_ID "flush_id"
#define FLUSH_REQ_SITE "flush_site"

#define FLUSH_STAT_OK "0"
#define FLUSH_STAT_FAIL "1"
#define FLUSH_STAT_BAD "2"
#define FLUSH_STAT_DENY "3"

/* Longest site name accepted. */
#define FLUSH_MAX_SITE 255

static const struct attr_spec flush_request_spec[] __attribute__((unused)) = {
    {"request", ATTR_REQUIRED}, {"queue_id", 0}, {"site", 0}, {NULL, 0},
};
static const struct attr_spec flush_reply_spec[] __attribute__((unused)) = {
    {"status", ATTR_REQUIRED}, {"reason", ATTR_REQUIRED}, {NULL, 0},
};

/* Site syntax: a domain name (letters, digits, '-', dot-separated
 * non-empty labels) or an address literal "[192.0.2.1]" /
 * "[IPv6:2001:db8::1]".  Untrusted text from any local user. */
static inline int flush_site_valid(const char *site)
{
    size_t len = strlen(site), i, label = 0;

    if (len == 0 || len > FLUSH_MAX_SITE)
        return 0;
    if (site[0] == '[') {
        const char *p = site + 1;

        if (len < 3 || site[len - 1] != ']')
            return 0;
        if (strncasecmp(p, "IPv6:", 5) == 0)
            p += 5;
        if (p == site + len - 1)
            return 0;
        for (; p < site + len - 1; p++)
            if (!strchr("0123456789abcdefABCDEF:.", *p))
                return 0;
        return 1;
    }
    for (i = 0; i < len; i++) {
        char c = site[i];

        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                   || c == '-') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0;
}

#endif

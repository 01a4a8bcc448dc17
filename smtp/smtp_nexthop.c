/* Next-hop syntax of smtp(8): what qmgr hands over in the nexthop
 * attribute (from relayhost, transport_maps or the recipient domain),
 * turned into "look up MX records", "connect to this host" or "connect to
 * this UNIX socket", with the port.  Untrusted in the sense that it comes
 * from configuration tables: every malformed form is refused. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mem.h"
#include "smtp.h"

#define NEXTHOP_MAX 1024

/* A host name or address literal: printable ASCII without the characters
 * that would make it ambiguous here. */
static int host_ok(const char *h, size_t len)
{
    size_t i;

    if (len == 0 || len > 255)
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) h[i];

        if (c <= ' ' || c >= 0x7f || c == '[' || c == ']' || c == '/' || c == '@')
            return 0;
    }
    return 1;
}

static int port_parse(const char *p, int *port)
{
    char *end;
    long v;

    if (*p == '\0' || !isdigit((unsigned char) *p))
        return -1;
    errno = 0;
    v = strtol(p, &end, 10);
    if (*end != '\0' || errno != 0 || v < 1 || v > 65535)
        return -1;
    *port = (int) v;
    return 0;
}

/* "[host]" or "[host]:port" at s: host (the "ipv6:" tag removed) and port. */
static int bracket_parse(const char *s, char **host, int *port, vstr *why)
{
    const char *close = strchr(s, ']');
    const char *h = s + 1;
    size_t len;

    if (close == NULL) {
        vstr_set(why, "missing \"]\"");
        return -1;
    }
    if (close[1] != '\0' && (close[1] != ':' || port_parse(close + 2, port) < 0)) {
        vstr_set(why, "bad port after \"]\"");
        return -1;
    }
    len = (size_t) (close - h);
    if (len > 5 && strncasecmp(h, "ipv6:", 5) == 0) {
        h += 5;
        len -= 5;
    }
    if (!host_ok(h, len)) {
        vstr_set(why, "bad host name or address in brackets");
        return -1;
    }
    *host = xstrndup(h, len);
    return 0;
}

/* "host" or "host:port" (no brackets: one colon at most). */
static int plain_parse(const char *s, char **host, int *port, vstr *why)
{
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t) (colon - s) : strlen(s);

    if (colon != NULL && port_parse(colon + 1, port) < 0) {
        vstr_set(why, "bad port");
        return -1;
    }
    if (!host_ok(s, len)) {
        vstr_set(why, "bad host or domain name");
        return -1;
    }
    *host = xstrndup(s, len);
    return 0;
}

int smtp_nexthop_parse(const char *text, int lmtp, int default_port, struct smtp_nexthop *nh,
                       vstr *why)
{
    const char *s = text;
    int port = default_port;
    char *host = NULL;
    size_t len = strlen(text);

    memset(nh, 0, sizeof(*nh));
    vstr_reset(why);
    if (len == 0 || len > NEXTHOP_MAX) {
        vstr_set(why, len == 0 ? "empty next hop" : "next hop too long");
        return -1;
    }
    if (lmtp && strncmp(s, "unix:", 5) == 0) {
        const char *path = s + 5;
        size_t i;

        if (*path == '\0') {
            vstr_set(why, "empty socket path");
            return -1;
        }
        for (i = 0; path[i]; i++) {
            if ((unsigned char) path[i] < ' ' || path[i] == 0x7f) {
                vstr_set(why, "control character in socket path");
                return -1;
            }
        }
        if (i >= 108) {         /* sun_path */
            vstr_set(why, "socket path too long");
            return -1;
        }
        nh->kind = NEXTHOP_UNIX;
        nh->host = xstrdup(path);
        nh->port = 0;
        return 0;
    }
    if (lmtp && strncmp(s, "inet:", 5) == 0)
        s += 5;
    if (*s == '[') {
        if (bracket_parse(s, &host, &port, why) < 0)
            return -1;
        nh->kind = NEXTHOP_HOST;
    } else {
        if (plain_parse(s, &host, &port, why) < 0)
            return -1;
        /* LMTP never looks up MX records (it delivers to a mailbox
         * server, not to a mail domain). */
        nh->kind = lmtp ? NEXTHOP_HOST : NEXTHOP_MX;
    }
    nh->host = host;
    nh->port = port;
    return 0;
}

void smtp_nexthop_free(struct smtp_nexthop *nh)
{
    xfree(nh->host);
}

/* smtp(8) from next hop to session: a cached connection when there is
 * one; else the MX lookup (or the host itself), the A/AAAA lookups in
 * preference order bounded by smtp_mx_address_limit, non-blocking
 * connects bounded by smtp_connect_timeout, and the next address on a
 * connection failure, a 4XX (or, by default, 5XX) greeting or a lost
 * session, at most smtp_mx_session_limit sessions.  DNS results decide
 * bounces (NXDOMAIN, null MX) and deferrals (SERVFAIL, timeouts). */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "dns.h"
#include "log.h"
#include "mem.h"
#include "smtp.h"
#include "vstr.h"

long long smtp_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One address to try. */
struct target {
    char *host;
    struct dns_addr addr;
};

/* Finish a non-blocking connect within timeout seconds; the socket is
 * made blocking again (the stream layer bounds every later wait).  fd, or
 * -1 with errno. */
static int connect_finish(int fd, const struct sockaddr *sa, socklen_t len, long timeout)
{
    struct pollfd pfd;
    int err = 0, n;
    socklen_t elen = sizeof(err);
    long long deadline = smtp_now_ms() + timeout * 1000;

    if (connect(fd, sa, len) < 0) {
        if (errno != EINPROGRESS && errno != EINTR)
            goto fail;
        pfd.fd = fd;
        pfd.events = POLLOUT;
        for (;;) {
            long long left = deadline - smtp_now_ms();

            if (left <= 0) {
                errno = ETIMEDOUT;
                goto fail;
            }
            n = poll(&pfd, 1, (int) left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                goto fail;
            if (n > 0)
                break;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            goto fail;
        if (err != 0) {
            errno = err;
            goto fail;
        }
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

static int connect_inet(const struct dns_addr *a, int port, long timeout)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (a->family == AF_INET) {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons((unsigned short) port);
        sin.sin_addr = a->a.v4;
        return connect_finish(fd, (struct sockaddr *) &sin, sizeof(sin), timeout);
    }
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons((unsigned short) port);
    sin6.sin6_addr = a->a.v6;
    return connect_finish(fd, (struct sockaddr *) &sin6, sizeof(sin6), timeout);
}

static int connect_unix(const char *path, long timeout)
{
    struct sockaddr_un sun;
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    return connect_finish(fd, (struct sockaddr *) &sun, sizeof(sun), timeout);
}

/* A numeric address (the inside of "[...]"), if it is one. */
static int numeric_addr(const char *host, struct dns_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, host, &a->a.v4) == 1)
        a->family = AF_INET;
    else if (inet_pton(AF_INET6, host, &a->a.v6) == 1)
        a->family = AF_INET6;
    else
        return 0;
    inet_ntop(a->family, &a->a, a->text, sizeof(a->text));
    return 1;
}

/* Order one host's addresses as smtp_address_preference says. */
static void order_addrs(struct dns_addr *v, size_t n)
{
    size_t i, j, k = 0;
    struct dns_addr tmp;
    int first;

    if (n < 2)
        return;
    if (smtp_cfg.prefer == 0) {
        for (i = n - 1; i > 0; i--) {
            j = arc4random_uniform((unsigned) (i + 1));
            tmp = v[i];
            v[i] = v[j];
            v[j] = tmp;
        }
        return;
    }
    first = smtp_cfg.prefer == 6 ? AF_INET6 : AF_INET;
    for (i = 0; i < n; i++) {           /* stable partition */
        if (v[i].family != first)
            continue;
        tmp = v[i];
        memmove(&v[k + 1], &v[k], (i - k) * sizeof(*v));
        v[k++] = tmp;
    }
}

static int family_allowed(int family)
{
    return (family == AF_INET && (smtp_cfg.families & DNS_FAMILY_V4))
           || (family == AF_INET6 && (smtp_cfg.families & DNS_FAMILY_V6));
}

/* Build the address list.  Returns the count (> 0), or 0 when the
 * recipients' outcome is already decided (DNS failure). */
static size_t find_targets(struct smtp_delivery *d, const struct smtp_nexthop *nh,
                           struct target **out)
{
    struct dns_mx *mx = NULL;
    size_t nmx = 0, i, k, naddr, count = 0;
    struct dns_addr *addrs, one;
    struct target *t = NULL;
    vstr *why = vstr_new(64);
    vstr *last = vstr_new(64);
    int st, tempfail = 0, implicit = 0;
    long limit = smtp_cfg.mx_address_limit;

    *out = NULL;
    if (nh->kind == NEXTHOP_MX) {
        st = dns_mx_lookup(nh->host, &mx, &nmx, why);
        switch (st) {
        case DNS_OK:
            break;
        case DNS_NODATA:        /* RFC 5321 5.1: the domain is its own MX */
            mx = xcalloc(1, sizeof(*mx));
            mx[0].host = xstrdup(nh->host);
            nmx = 1;
            implicit = 1;
            break;
        case DNS_NULLMX:
            smtp_pending_set(d, RCPT_BOUNCED, "5.1.10", NULL, "%s", vstr_str(why));
            goto out;
        case DNS_NOTFOUND:
        case DNS_INVALID:
            smtp_pending_set(d, RCPT_BOUNCED, "5.1.2", NULL, "%s", vstr_str(why));
            goto out;
        default:
            smtp_pending_set(d, RCPT_DEFERRED, "4.4.3", NULL, "%s", vstr_str(why));
            goto out;
        }
    } else {
        mx = xcalloc(1, sizeof(*mx));
        mx[0].host = xstrdup(nh->host);
        nmx = 1;
        implicit = 1;
    }
    for (i = 0; i < nmx && (limit == 0 || (long) count < limit); i++) {
        if (numeric_addr(mx[i].host, &one)) {
            if (!family_allowed(one.family)) {
                vstr_reset(last);
                vstr_printf(last, "address %s: its protocol is disabled by inet_protocols",
                            one.text);
                continue;
            }
            addrs = xmalloc(sizeof(*addrs));
            addrs[0] = one;
            naddr = 1;
        } else {
            st = dns_addr_lookup(mx[i].host, smtp_cfg.families, &addrs, &naddr, why);
            if (st != DNS_OK) {
                tempfail |= st == DNS_TEMPFAIL;
                vstr_set(last, vstr_str(why));
                continue;
            }
            order_addrs(addrs, naddr);
        }
        for (k = 0; k < naddr && (limit == 0 || (long) count < limit); k++) {
            t = xreallocarray(t, count + 1, sizeof(*t));
            t[count].host = xstrdup(mx[i].host);
            t[count].addr = addrs[k];
            count++;
        }
        dns_addr_free(addrs);
    }
    if (count == 0) {
        /* No address at all: permanent only when every lookup said so. */
        if (tempfail)
            smtp_pending_set(d, RCPT_DEFERRED, "4.4.3", NULL, "%s", vstr_str(last));
        else
            smtp_pending_set(d, RCPT_BOUNCED, implicit ? "5.1.2" : "5.4.4", NULL, "%s",
                             vstr_str(last));
    }
out:
    dns_mx_free(mx, nmx);
    vstr_free(why);
    vstr_free(last);
    *out = t;
    return count;
}

/* Run the transaction on a started session and dispose of it. */
static void run_session(struct smtp_session *ss, struct smtp_delivery *d, long long setup_start)
{
    long long t = smtp_now_ms();
    int step;

    d->setup_secs = (double) (t - setup_start) / 1000.0;
    d->conn_use = ss->use_count + 1;
    step = smtp_transaction(ss, d);
    d->xfer_secs = (double) (smtp_now_ms() - t) / 1000.0;
    if (step == STEP_OK && !ss->broken)
        smtp_cache_put(ss);
    else
        smtp_session_close(ss, 0);
}

void smtp_deliver(struct smtp_delivery *d, const struct smtp_nexthop *nh, const char *dest)
{
    long long start = smtp_now_ms();
    struct smtp_session *ss;
    struct target *targets = NULL;
    size_t ntargets = 0, i;
    vstr *why = vstr_new(64);
    vstr *dsn = vstr_new(16);
    vstr *relay = vstr_new(64);
    long sessions = 0;
    int fd, step, permanent = 0;
    char addrtext[300];

    /* A connection kept open by an earlier delivery to this next hop. */
    while ((ss = smtp_cache_take(dest)) != NULL) {
        if (smtp_session_rset(ss) == 0) {
            run_session(ss, d, start);
            goto out;
        }
        smtp_session_close(ss, 0);
    }

    if (nh->kind == NEXTHOP_UNIX) {
        fd = connect_unix(nh->host, smtp_cfg.connect_timeout);
        if (fd < 0) {
            smtp_pending_set(d, RCPT_DEFERRED, "4.4.1", NULL, "connect to %s: %s",
                             log_printable(addrtext, sizeof(addrtext), nh->host,
                                           strlen(nh->host)),
                             strerror(errno));
            d->site_failed = 1;
            goto out;
        }
        ss = smtp_session_new(fd, smtp_cfg.myhostname, nh->host, 0, dest);
        step = smtp_session_start(ss, d, why, dsn, &permanent);
        if (step == STEP_OK) {
            run_session(ss, d, start);
        } else {
            if (step == STEP_NEXT_HOST) {
                smtp_pending_set(d, RCPT_DEFERRED, vstr_str(dsn), vstr_str(ss->label), "%s",
                                 vstr_str(why));
                d->site_failed = 1;
            }
            smtp_session_close(ss, 1);
        }
        goto out;
    }

    ntargets = find_targets(d, nh, &targets);
    /* No address to try while recipients wait: a temporary DNS failure. */
    if (ntargets == 0 && smtp_pending_count(d) == 0 && d->nrcpt > 0) {
        for (i = 0; i < d->nrcpt; i++)
            if (d->rcpts[i].status == RCPT_DEFERRED)
                d->site_failed = 1;
    }
    for (i = 0; i < ntargets; i++) {
        struct target *t = &targets[i];

        fd = connect_inet(&t->addr, nh->port, smtp_cfg.connect_timeout);
        if (fd < 0) {
            vstr_reset(why);
            vstr_printf(why, "connect to %s[%s]:%d: %s", t->host, t->addr.text, nh->port,
                        errno == ETIMEDOUT ? "Connection timed out" : strerror(errno));
            vstr_set(dsn, "4.4.1");
            vstr_reset(relay);
            permanent = 0;
            if (msg_verbose)
                msg_info("%s", vstr_str(why));
            continue;
        }
        ss = smtp_session_new(fd, t->host, t->addr.text, nh->port, dest);
        sessions++;
        step = smtp_session_start(ss, d, why, dsn, &permanent);
        if (step == STEP_OK) {
            run_session(ss, d, start);
            goto out;
        }
        vstr_set(relay, vstr_str(ss->label));
        smtp_session_close(ss, 1);
        if (step == STEP_FINAL)
            goto out;
        if (smtp_cfg.mx_session_limit > 0 && sessions >= smtp_cfg.mx_session_limit)
            break;
    }
    if (ntargets > 0 && smtp_pending_count(d) > 0) {
        /* Every host failed: try again later (a 5XX greeting too, as the
         * next attempt may reach a host that works). */
        char *code = xstrdup(vstr_len(dsn) ? vstr_str(dsn) : "4.4.1");

        code[0] = '4';
        smtp_pending_set(d, RCPT_DEFERRED, code, vstr_len(relay) ? vstr_str(relay) : NULL, "%s",
                         vstr_str(why));
        free(code);
        d->site_failed = 1;
    }
out:
    for (i = 0; i < ntargets; i++)
        free(targets[i].host);
    free(targets);
    vstr_free(why);
    vstr_free(dsn);
    vstr_free(relay);
}

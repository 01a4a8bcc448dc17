/* DNS through c-ares for the blocking delivery agents (dns.h): one channel
 * set up before the chroot, queries driven with poll() until they are
 * answered or the lookup's time limit is up, and the result classes a
 * mail client needs (NXDOMAIN and null MX are permanent; SERVFAIL and
 * timeouts are temporary). */
#include "config.h"
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "argv.h"
#include "dns.h"
#include "log.h"
#include "mem.h"

#define DNS_MX_MAX 100          /* MX records kept per domain */
#define DNS_ADDR_MAX 16         /* addresses kept per family */
#define DNS_NAME_MAX 253

static ares_channel dns_channel;
static int dns_ready;
static long dns_timeout_ms = 10000;
static const struct dns_resolver *dns_hooks;

void dns_set_resolver(const struct dns_resolver *r)
{
    dns_hooks = r;
}

int dns_classify(int ares_status)
{
    switch (ares_status) {
    case ARES_SUCCESS:
        return DNS_OK;
    case ARES_ENOTFOUND:
        return DNS_NOTFOUND;
    case ARES_ENODATA:
        return DNS_NODATA;
    case ARES_EBADNAME:
        return DNS_INVALID;
    default:                    /* SERVFAIL, REFUSED, timeouts, no memory ... */
        return DNS_TEMPFAIL;
    }
}

const char *dns_status_name(int status)
{
    switch (status) {
    case DNS_OK:
        return "ok";
    case DNS_NOTFOUND:
        return "host or domain name not found";
    case DNS_NODATA:
        return "no records of the requested type";
    case DNS_NULLMX:
        return "null MX";
    case DNS_INVALID:
        return "malformed name or answer";
    default:
        return "temporary failure";
    }
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "addr", "addr:port", "[addr]", "[addr]:port"; a bare IPv6 address has
 * more than one colon. */
static int server_one(const char *item, vstr *csv, vstr *err)
{
    const char *host = item, *port = NULL, *close;
    char *h;
    unsigned char buf[sizeof(struct in6_addr)];
    int v6 = 0, ok;
    long p = 53;

    if (*item == '[') {
        close = strchr(item, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            goto bad;
        h = xstrndup(item + 1, (size_t) (close - item - 1));
        if (close[1] == ':')
            port = close + 2;
    } else {
        const char *colon = strchr(item, ':');

        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            h = xstrndup(item, (size_t) (colon - item));
            port = colon + 1;
        } else {
            h = xstrdup(host);
        }
    }
    if (inet_pton(AF_INET, h, buf) == 1)
        ok = 1;
    else if (inet_pton(AF_INET6, h, buf) == 1)
        ok = v6 = 1;
    else
        ok = 0;
    if (ok && port != NULL) {
        char *end;

        errno = 0;
        p = strtol(port, &end, 10);
        if (*port == '\0' || *end != '\0' || errno || p < 1 || p > 65535)
            ok = 0;
    }
    if (!ok) {
        free(h);
        goto bad;
    }
    if (vstr_len(csv) > 0)
        vstr_putc(csv, ',');
    if (v6)
        vstr_printf(csv, "[%s]:%ld", h, p);
    else
        vstr_printf(csv, "%s:%ld", h, p);
    free(h);
    return 0;
bad:
    vstr_printf(err, "dns_servers: bad server \"%s\" (expected addr, addr:port or [addr]:port)",
                item);
    return -1;
}

int dns_servers_csv(const char *servers, vstr *csv, vstr *err)
{
    argv_t *items = argv_split(servers, LIST_DELIMS);
    size_t i;
    int ret = 0;

    vstr_reset(csv);
    for (i = 0; i < items->n && ret == 0; i++)
        ret = server_one(items->v[i], csv, err);
    argv_free(items);
    return ret;
}

int dns_init(const char *servers, long timeout_ms, vstr *err)
{
    struct ares_options opts;
    vstr *csv = vstr_new(64);
    int st, ret = -1;

    if (timeout_ms > 0)
        dns_timeout_ms = timeout_ms;
    if (dns_servers_csv(servers ? servers : "", csv, err) < 0)
        goto out;
    if ((st = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
        vstr_printf(err, "c-ares initialisation: %s", ares_strerror(st));
        goto out;
    }
    if (dns_ready) {
        ares_destroy(dns_channel);
        dns_ready = 0;
    }
    memset(&opts, 0, sizeof(opts));
    /* Each try gets a share of the lookup's limit; c-ares doubles it per
     * round, and our poll loop enforces the total anyway. */
    opts.timeout = (int) (dns_timeout_ms / 4 < 500 ? 500
                          : dns_timeout_ms / 4 > 5000 ? 5000 : dns_timeout_ms / 4);
    opts.tries = 2;
    opts.flags = ARES_FLAG_NOSEARCH;
    st = ares_init_options(&dns_channel, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES
                           | ARES_OPT_FLAGS);
    if (st != ARES_SUCCESS) {
        vstr_printf(err, "c-ares channel: %s", ares_strerror(st));
        goto out;
    }
    if (vstr_len(csv) > 0
        && (st = ares_set_servers_ports_csv(dns_channel, vstr_str(csv))) != ARES_SUCCESS) {
        vstr_printf(err, "dns_servers \"%s\": %s", servers, ares_strerror(st));
        ares_destroy(dns_channel);
        goto out;
    }
    dns_ready = 1;
    ret = 0;
out:
    vstr_free(csv);
    return ret;
}

void dns_shutdown(void)
{
    if (dns_ready) {
        ares_destroy(dns_channel);
        dns_ready = 0;
        ares_library_cleanup();
    }
}

/* One outstanding query and its answer. */
struct dns_query {
    int done;
    int status;
    unsigned char *answer;
    int alen;
};

static void query_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct dns_query *q = arg;

    (void) timeouts;
    q->done = 1;
    q->status = status;
    if (status == ARES_SUCCESS && abuf != NULL && alen > 0) {
        q->answer = xmalloc((size_t) alen);
        memcpy(q->answer, abuf, (size_t) alen);
        q->alen = alen;
    }
}

/* Drive the channel until every query is done or the time limit is up;
 * then the rest are cancelled (their callbacks run with ARES_ECANCELLED). */
static void dns_run(struct dns_query *q, size_t nq)
{
    long long deadline = mono_ms() + dns_timeout_ms;
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    struct pollfd pfd[ARES_GETSOCK_MAXNUM];
    struct timeval maxtv, tv, *tvp;
    size_t i;
    int bits, n, k, wait_ms;
    long long now;

    for (;;) {
        for (i = 0; i < nq && q[i].done; i++)
            continue;
        if (i == nq)
            return;
        now = mono_ms();
        if (now >= deadline)
            break;
        bits = ares_getsock(dns_channel, socks, ARES_GETSOCK_MAXNUM);
        for (n = 0, k = 0; k < ARES_GETSOCK_MAXNUM; k++) {
            if (!ARES_GETSOCK_READABLE(bits, k) && !ARES_GETSOCK_WRITABLE(bits, k))
                continue;
            pfd[n].fd = socks[k];
            pfd[n].events = (ARES_GETSOCK_READABLE(bits, k) ? POLLIN : 0)
                            | (ARES_GETSOCK_WRITABLE(bits, k) ? POLLOUT : 0);
            pfd[n].revents = 0;
            n++;
        }
        if (n == 0)
            break;              /* nothing in flight, yet not done: give up */
        maxtv.tv_sec = (deadline - now) / 1000;
        maxtv.tv_usec = (long) ((deadline - now) % 1000) * 1000;
        tvp = ares_timeout(dns_channel, &maxtv, &tv);
        wait_ms = (int) (tvp->tv_sec * 1000 + tvp->tv_usec / 1000);
        if (poll(pfd, (nfds_t) n, wait_ms + 1) < 0) {
            if (errno == EINTR)
                continue;
            msg_warn("dns: poll: %m");
            break;
        }
        for (k = 0; k < n; k++)
            ares_process_fd(dns_channel,
                            pfd[k].revents & (POLLIN | POLLERR | POLLHUP) ? pfd[k].fd
                                                                          : ARES_SOCKET_BAD,
                            pfd[k].revents & POLLOUT ? pfd[k].fd : ARES_SOCKET_BAD);
        /* Timeouts and retransmissions happen on a call without sockets. */
        ares_process_fd(dns_channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
    ares_cancel(dns_channel);
    for (i = 0; i < nq; i++) {
        if (!q[i].done) {       /* not expected after ares_cancel */
            q[i].done = 1;
            q[i].status = ARES_ETIMEOUT;
        } else if (q[i].status == ARES_ECANCELLED) {
            q[i].status = ARES_ETIMEOUT;
        }
    }
}

/* Reject what no resolver should see: empty, over-long, control or
 * non-ASCII characters (IDN conversion is not done here). */
static int name_ok(const char *name, vstr *why)
{
    size_t len = strlen(name);
    const unsigned char *p;

    if (len == 0 || len > DNS_NAME_MAX) {
        vstr_set(why, "malformed domain name");
        return 0;
    }
    for (p = (const unsigned char *) name; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            vstr_set(why, *p >= 0x80 ? "non-ASCII domain name" : "malformed domain name");
            return 0;
        }
    }
    return 1;
}

static void why_status(vstr *why, const char *name, const char *type, int ares_status)
{
    vstr_reset(why);
    if (ares_status == ARES_ENOTFOUND)
        vstr_printf(why, "Host or domain name not found. Name service error for name=%s type=%s: Host not found",
                    name, type);
    else if (ares_status == ARES_ETIMEOUT || ares_status == ARES_ECANCELLED)
        vstr_printf(why, "Host or domain name not found. Name service error for name=%s type=%s: timeout",
                    name, type);
    else
        vstr_printf(why, "Host or domain name not found. Name service error for name=%s type=%s: %s",
                    name, type, ares_strerror(ares_status));
}

static int mx_cmp(const void *a, const void *b)
{
    const struct dns_mx *x = a, *y = b;

    return (x->pref > y->pref) - (x->pref < y->pref);
}

static unsigned default_rnd(unsigned bound)
{
    return arc4random_uniform(bound);
}

void dns_mx_sort(struct dns_mx *list, size_t n, unsigned (*rnd)(unsigned bound))
{
    size_t start, end, i, j;
    struct dns_mx tmp;

    if (n < 2)
        return;
    if (rnd == NULL)
        rnd = default_rnd;
    qsort(list, n, sizeof(*list), mx_cmp);
    for (start = 0; start < n; start = end) {
        for (end = start + 1; end < n && list[end].pref == list[start].pref; end++)
            continue;
        for (i = end - 1; i > start; i--) {     /* Fisher-Yates within the run */
            j = start + rnd((unsigned) (i - start + 1));
            tmp = list[i];
            list[i] = list[j];
            list[j] = tmp;
        }
    }
}

void dns_mx_free(struct dns_mx *list, size_t n)
{
    size_t i;

    for (i = 0; list != NULL && i < n; i++)
        free(list[i].host);
    free(list);
}

void dns_addr_free(struct dns_addr *list)
{
    free(list);
}

static int channel_ok(vstr *why)
{
    if (!dns_ready) {
        vstr_set(why, "DNS resolver not initialised");
        return 0;
    }
    return 1;
}

static int real_mx_lookup(const char *domain, struct dns_mx **list, size_t *n, vstr *why)
{
    struct dns_query q = {0, 0, NULL, 0};
    struct ares_mx_reply *mx = NULL, *p;
    struct dns_mx *out = NULL;
    size_t count = 0, nulls = 0;
    int st, ret;

    *list = NULL;
    *n = 0;
    if (!name_ok(domain, why))
        return DNS_INVALID;
    if (!channel_ok(why))
        return DNS_TEMPFAIL;
    ares_query(dns_channel, domain, ns_c_in, ns_t_mx, query_done, &q);
    dns_run(&q, 1);
    if (q.status != ARES_SUCCESS) {
        why_status(why, domain, "MX", q.status);
        free(q.answer);
        return dns_classify(q.status);
    }
    st = ares_parse_mx_reply(q.answer, q.alen, &mx);
    free(q.answer);
    if (st == ARES_ENODATA) {
        why_status(why, domain, "MX", st);
        return DNS_NODATA;
    }
    if (st != ARES_SUCCESS) {
        vstr_reset(why);
        vstr_printf(why, "malformed DNS reply for name=%s type=MX: %s", domain,
                    ares_strerror(st));
        return DNS_TEMPFAIL;
    }
    for (p = mx; p != NULL && count < DNS_MX_MAX; p = p->next) {
        const char *h = p->host ? p->host : "";
        size_t hl = strlen(h);

        if (hl > 0 && h[hl - 1] == '.')
            hl--;
        if (hl == 0) {          /* RFC 7505 null MX */
            nulls++;
            continue;
        }
        out = xreallocarray(out, count + 1, sizeof(*out));
        out[count].host = xstrndup(h, hl);
        out[count].pref = p->priority;
        count++;
    }
    ares_free_data(mx);
    if (count == 0) {
        vstr_reset(why);
        if (nulls > 0) {
            vstr_printf(why, "recipient domain %s does not accept mail (null MX)", domain);
            ret = DNS_NULLMX;
        } else {
            why_status(why, domain, "MX", ARES_ENODATA);
            ret = DNS_NODATA;
        }
        free(out);
        return ret;
    }
    dns_mx_sort(out, count, NULL);
    *list = out;
    *n = count;
    return DNS_OK;
}

static size_t add_v4(struct dns_addr **out, size_t n, const struct ares_addrttl *a, int na)
{
    int i;

    for (i = 0; i < na; i++) {
        *out = xreallocarray(*out, n + 1, sizeof(**out));
        memset(&(*out)[n], 0, sizeof(**out));
        (*out)[n].family = AF_INET;
        (*out)[n].a.v4 = a[i].ipaddr;
        inet_ntop(AF_INET, &a[i].ipaddr, (*out)[n].text, sizeof((*out)[n].text));
        n++;
    }
    return n;
}

static size_t add_v6(struct dns_addr **out, size_t n, const struct ares_addr6ttl *a, int na)
{
    int i;

    for (i = 0; i < na; i++) {
        *out = xreallocarray(*out, n + 1, sizeof(**out));
        memset(&(*out)[n], 0, sizeof(**out));
        (*out)[n].family = AF_INET6;
        memcpy(&(*out)[n].a.v6, &a[i].ip6addr, sizeof(struct in6_addr));
        inet_ntop(AF_INET6, &a[i].ip6addr, (*out)[n].text, sizeof((*out)[n].text));
        n++;
    }
    return n;
}

/* Keep the most serious failure of the A and AAAA lookups (TEMPFAIL >
 * INVALID > NODATA > NOTFOUND) and its reason. */
static void note_failure(vstr *why, const char *host, const char *type, int ares_status,
                         int *worst)
{
    static const int rank[] = {[DNS_OK] = -1, [DNS_NOTFOUND] = 0, [DNS_NODATA] = 1,
                               [DNS_NULLMX] = 1, [DNS_TEMPFAIL] = 3, [DNS_INVALID] = 2};
    int cls = dns_classify(ares_status);

    if (cls == DNS_OK)
        return;
    if (*worst < 0 || rank[cls] > rank[*worst]) {
        why_status(why, host, type, ares_status);
        *worst = cls;
    }
}

static int real_addr_lookup(const char *host, int families, struct dns_addr **list, size_t *n,
                            vstr *why)
{
    struct dns_query q[2] = {{0, 0, NULL, 0}, {0, 0, NULL, 0}};
    struct ares_addrttl v4[DNS_ADDR_MAX];
    struct ares_addr6ttl v6[DNS_ADDR_MAX];
    struct dns_addr *out = NULL;
    size_t count = 0;
    int n4 = DNS_ADDR_MAX, n6 = DNS_ADDR_MAX;
    int want6 = (families & DNS_FAMILY_V6) != 0, want4 = (families & DNS_FAMILY_V4) != 0;
    int st, worst = -1;

    *list = NULL;
    *n = 0;
    if (!name_ok(host, why))
        return DNS_INVALID;
    if (!want4 && !want6) {
        vstr_set(why, "no address family enabled (inet_protocols)");
        return DNS_INVALID;
    }
    if (!channel_ok(why))
        return DNS_TEMPFAIL;
    if (want6)
        ares_query(dns_channel, host, ns_c_in, ns_t_aaaa, query_done, &q[0]);
    else
        q[0].done = 1;
    if (want4)
        ares_query(dns_channel, host, ns_c_in, ns_t_a, query_done, &q[1]);
    else
        q[1].done = 1;
    dns_run(q, 2);
    if (want6) {
        if (q[0].status == ARES_SUCCESS
            && (st = ares_parse_aaaa_reply(q[0].answer, q[0].alen, NULL, v6, &n6))
                   == ARES_SUCCESS)
            count = add_v6(&out, count, v6, n6);
        else
            st = q[0].status;
        note_failure(why, host, "AAAA", st, &worst);
    }
    if (want4) {
        if (q[1].status == ARES_SUCCESS
            && (st = ares_parse_a_reply(q[1].answer, q[1].alen, NULL, v4, &n4)) == ARES_SUCCESS)
            count = add_v4(&out, count, v4, n4);
        else
            st = q[1].status;
        note_failure(why, host, "A", st, &worst);
    }
    free(q[0].answer);
    free(q[1].answer);
    if (count > 0) {
        *list = out;
        *n = count;
        return DNS_OK;
    }
    free(out);
    if (worst < 0) {
        vstr_reset(why);
        vstr_printf(why, "no address records for %s", host);
        return DNS_NODATA;
    }
    return worst;
}

int dns_mx_lookup(const char *domain, struct dns_mx **list, size_t *n, vstr *why)
{
    if (dns_hooks != NULL && dns_hooks->mx != NULL)
        return dns_hooks->mx(domain, list, n, why);
    return real_mx_lookup(domain, list, n, why);
}

int dns_addr_lookup(const char *host, int families, struct dns_addr **list, size_t *n,
                    vstr *why)
{
    if (dns_hooks != NULL && dns_hooks->addr != NULL)
        return dns_hooks->addr(host, families, list, n, why);
    return real_addr_lookup(host, families, list, n, why);
}

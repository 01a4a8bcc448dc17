/* DNS lookups for the delivery agents, through c-ares: MX records (sorted
 * by preference, shuffled within one preference) and A/AAAA addresses.
 * Each lookup is bounded by a total time limit; the blocking callers
 * drive c-ares with poll() until it is done or the time is up.
 *
 * dns_init() must run before the chroot (it reads /etc/resolv.conf, or
 * takes the servers from dns_servers); the channel it creates is kept for
 * the life of the process.  The lookup functions are a seam: tests may
 * replace them through dns_set_resolver(). */
#ifndef POSTHORN_DNS_H
#define POSTHORN_DNS_H
#include <netinet/in.h>
#include <stddef.h>
#include "vstr.h"

enum dns_status {
    DNS_OK = 0,
    DNS_NOTFOUND = 1,       /* NXDOMAIN: the name does not exist (permanent) */
    DNS_NODATA = 2,         /* the name exists, without records of that type */
    DNS_NULLMX = 3,         /* RFC 7505: the domain accepts no mail */
    DNS_TEMPFAIL = 4,       /* SERVFAIL, timeout, refused, no servers ... */
    DNS_INVALID = 5,        /* malformed name or answer (permanent) */
};

struct dns_mx {
    char *host;             /* target, without the trailing dot */
    int pref;
};

struct dns_addr {
    int family;             /* AF_INET or AF_INET6 */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } a;
    char text[46];          /* numeric form (INET6_ADDRSTRLEN) */
};

#define DNS_FAMILY_V4 1
#define DNS_FAMILY_V6 2

/* Set up c-ares; servers is the dns_servers parameter ("" = resolv.conf;
 * else "addr", "addr:port", "[v6addr]:port", separated by commas or
 * spaces); timeout_ms bounds every lookup.  0, or -1 with the reason in
 * err. */
int dns_init(const char *servers, long timeout_ms, vstr *err);
void dns_shutdown(void);

/* Convert the dns_servers syntax to c-ares' "host:port" CSV form with
 * every address checked: 0, or -1 with the reason in err. */
int dns_servers_csv(const char *servers, vstr *csv, vstr *err);

/* MX lookup.  DNS_OK with *list sorted (dns_mx_sort); DNS_NODATA when the
 * domain has no MX (the caller uses the domain itself: implicit MX);
 * DNS_NULLMX for a single MX whose target is "."; DNS_NOTFOUND,
 * DNS_TEMPFAIL, DNS_INVALID otherwise, with the reason in why. */
int dns_mx_lookup(const char *domain, struct dns_mx **list, size_t *n, vstr *why);
/* A and/or AAAA records (families: DNS_FAMILY_* mask), AAAA first when
 * both.  DNS_OK when at least one address was found; DNS_TEMPFAIL when
 * one family failed temporarily and the other found nothing. */
int dns_addr_lookup(const char *host, int families, struct dns_addr **list, size_t *n,
                    vstr *why);
void dns_mx_free(struct dns_mx *list, size_t n);
void dns_addr_free(struct dns_addr *list);

/* Sort by preference and shuffle records of equal preference, using rnd
 * (returns a value in [0, bound)); NULL uses arc4random_uniform. */
void dns_mx_sort(struct dns_mx *list, size_t n, unsigned (*rnd)(unsigned bound));
/* Map a c-ares status (ARES_*) to DNS_*. */
int dns_classify(int ares_status);
const char *dns_status_name(int status);

/* Seam for tests: replace the MX and address lookups (NULL restores). */
struct dns_resolver {
    int (*mx)(const char *domain, struct dns_mx **list, size_t *n, vstr *why);
    int (*addr)(const char *host, int families, struct dns_addr **list, size_t *n, vstr *why);
};
void dns_set_resolver(const struct dns_resolver *r);

#endif

/* Recipient resolution: which transport delivers an address and to which
 * next hop, the way Postfix's trivial-rewrite(8) does it: the address
 * class (local: the domain is in mydestination; relay: in relay_domains;
 * default: anything else) gives local_transport, relay_transport or
 * default_transport, and relayhost the next hop of relay and default
 * mail; then transport_maps may override the transport, the next hop or
 * both. */
#ifndef POSTHORN_QMGR_RESOLVE_H
#define POSTHORN_QMGR_RESOLVE_H
#include "match_list.h"
#include "table.h"
#include "vstr.h"

struct qmgr_resolver {
    const match_list *mydestination;
    const char *myorigin;           /* domain for unqualified addresses */
    const match_list *relay_domains;    /* NULL: none */
    table_list *transport_maps;     /* NULL: none */
    const char *local_transport;    /* "transport[:nexthop]"; NULL: "local" */
    const char *relay_transport;    /* NULL: "relay" */
    const char *default_transport;  /* NULL: "smtp" */
    const char *relayhost;          /* NULL or "": none */
};

/* Transports qmgr handles itself: the next hop is the text. */
#define QMGR_TRANSPORT_ERROR "error"       /* bounce the recipient */
#define QMGR_TRANSPORT_DISCARD "discard"   /* drop it, as if delivered */

/* 1: routable, transport and nexthop set; 0: no route (an empty domain);
 * -1: transport_maps lookup failed (defer, try later). */
int qmgr_resolve(const struct qmgr_resolver *res, const char *address, vstr *transport,
                 vstr *nexthop);
/* The domain of an address, lowercased, one trailing dot removed; the
 * fallback when there is no "@" or nothing after it. */
void qmgr_address_domain(vstr *out, const char *address, const char *fallback);
/* Split a "transport:nexthop" value: an empty part leaves the output as
 * it is; a value starting with '[' is a next hop only. */
void qmgr_route_split(const char *value, vstr *transport, vstr *nexthop);

#endif

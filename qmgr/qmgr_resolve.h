/* Recipient resolution: which transport delivers an address and to which
 * next hop.  For now: domains in mydestination (and unqualified
 * addresses) go to the "local" transport; everything else has no route. */
#ifndef POSTHORN_QMGR_RESOLVE_H
#define POSTHORN_QMGR_RESOLVE_H
#include "match_list.h"
#include "vstr.h"

struct qmgr_resolver {
    const match_list *mydestination;
    const char *myorigin;       /* domain for unqualified addresses */
};

/* 1: routable, transport and nexthop set; 0: no route (nothing set). */
int qmgr_resolve(const struct qmgr_resolver *res, const char *address, vstr *transport,
                 vstr *nexthop);
/* The domain of an address, lowercased, one trailing dot removed; the
 * fallback when there is no "@" or nothing after it. */
void qmgr_address_domain(vstr *out, const char *address, const char *fallback);

#endif

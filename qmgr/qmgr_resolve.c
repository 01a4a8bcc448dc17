/* Recipient resolution for the queue manager: the domain of an address
 * (lowercased, trailing dot dropped; myorigin for unqualified addresses)
 * decides the transport and the next hop.  Local domains are those of
 * mydestination; there is no relay transport yet. */
#include "config.h"
#include <string.h>
#include "mail_addr.h"
#include "match_list.h"
#include "qmgr_resolve.h"
#include "vstr.h"

void qmgr_address_domain(vstr *out, const char *address, const char *fallback)
{
    const char *at = strrchr(address, '@');

    if (at == NULL || at[1] == 0)
        vstr_set(out, fallback ? fallback : "");
    else
        vstr_set(out, at + 1);
    lowercase(vstr_str(out));
    if (vstr_len(out) > 0 && vstr_str(out)[vstr_len(out) - 1] == '.')
        vstr_truncate(out, vstr_len(out) - 1);
}

int qmgr_resolve(const struct qmgr_resolver *res, const char *address, vstr *transport,
                 vstr *nexthop)
{
    const char *at = strrchr(address, '@');
    vstr *domain = vstr_new(64);
    int routable;

    qmgr_address_domain(domain, address, res->myorigin);
    /* An unqualified address belongs to this system (myorigin). */
    if (at == NULL || at[1] == 0)
        routable = 1;
    else
        routable = vstr_len(domain) > 0 && res->mydestination != NULL
                   && match_list_match_domain(res->mydestination, vstr_str(domain));
    if (routable) {
        vstr_set(transport, "local");
        vstr_set(nexthop, vstr_str(domain));
    }
    vstr_free(domain);
    return routable;
}

/* Recipient resolution for the queue manager (see qmgr_resolve.h): the
 * address class from mydestination and relay_domains, the class's
 * transport and next hop, relayhost, and transport_maps overrides searched
 * in transport(5) order: the full address, the domain, then its parent
 * domains as ".parent" entries, then "*". */
#include "config.h"
#include <string.h>
#include "mail_addr.h"
#include "match_list.h"
#include "qmgr_resolve.h"
#include "table.h"
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

void qmgr_route_split(const char *value, vstr *transport, vstr *nexthop)
{
    const char *colon;

    if (value[0] == '[') {
        vstr_set(nexthop, value);
        return;
    }
    if ((colon = strchr(value, ':')) == NULL) {
        if (*value)
            vstr_set(transport, value);
        return;
    }
    if (colon > value)
        vstr_setn(transport, value, (size_t) (colon - value));
    if (colon[1])
        vstr_set(nexthop, colon + 1);
}

/* transport_maps: 1 found (value), 0 not found, -1 lookup error. */
static int transport_lookup(table_list *maps, const char *address, const char *domain,
                            vstr *value)
{
    vstr *key = vstr_new(64);
    const char *p;
    int r;

    /* The full address, but only when it has a domain of its own. */
    vstr_set(key, address);
    lowercase(vstr_str(key));
    if (strchr(address, '@') != NULL && (r = table_list_lookup(maps, vstr_str(key), value)) != 0)
        goto out;
    if ((r = table_list_lookup(maps, domain, value)) != 0)
        goto out;
    for (p = strchr(domain, '.'); p != NULL; p = strchr(p + 1, '.'))
        if ((r = table_list_lookup(maps, p, value)) != 0)
            goto out;
    r = table_list_lookup(maps, "*", value);
out:
    vstr_free(key);
    return r;
}

int qmgr_resolve(const struct qmgr_resolver *res, const char *address, vstr *transport,
                 vstr *nexthop)
{
    vstr *domain = vstr_new(64), *value = vstr_new(64);
    const char *class_transport;
    int ret = 1, found;

    qmgr_address_domain(domain, address, res->myorigin);
    if (vstr_len(domain) == 0) {
        ret = 0;
        goto out;
    }
    vstr_set(nexthop, vstr_str(domain));
    if (res->mydestination != NULL
        && match_list_match_domain(res->mydestination, vstr_str(domain))) {
        vstr_set(transport, "local");
        class_transport = res->local_transport;
    } else if (res->relay_domains != NULL
               && match_list_match_domain(res->relay_domains, vstr_str(domain))) {
        vstr_set(transport, "relay");
        class_transport = res->relay_transport;
        if (res->relayhost && *res->relayhost)
            vstr_set(nexthop, res->relayhost);
    } else {
        vstr_set(transport, "smtp");
        class_transport = res->default_transport;
        if (res->relayhost && *res->relayhost)
            vstr_set(nexthop, res->relayhost);
    }
    if (class_transport != NULL)
        qmgr_route_split(class_transport, transport, nexthop);
    if (res->transport_maps != NULL) {
        found = transport_lookup(res->transport_maps, address, vstr_str(domain), value);
        if (found < 0)
            ret = -1;
        else if (found > 0)
            qmgr_route_split(vstr_str(value), transport, nexthop);
    }
out:
    vstr_free(domain);
    vstr_free(value);
    return ret;
}

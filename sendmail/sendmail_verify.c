/* sendmail -bv: report what would happen to each address without
 * sending mail: the transport and next hop exactly as qmgr routes it
 * (qmgr/qmgr_resolve.c, linked in), and for local recipients whether the
 * alias table expands them.  Exit 0 when every address is deliverable,
 * EX_NOUSER otherwise. */
#include "config.h"
#include <string.h>
#include <sysexits.h>
#include "argv.h"
#include "mail_addr.h"
#include "match_list.h"
#include "params.h"
#include "qmgr_resolve.h"
#include "sendmail.h"
#include "stream.h"
#include "table.h"
#include "vstr.h"

static int list_has(const char *list, const char *name)
{
    argv_t *a = argv_split(list, LIST_DELIMS);
    int found = 0;

    for (size_t i = 0; i < a->n && !found; i++)
        found = strcmp(a->v[i], name) == 0;
    argv_free(a);
    return found;
}

int sm_verify(const struct sm_opts *o, const argv_t *rcpts, stream *out)
{
    struct qmgr_resolver res;
    vstr *err = vstr_new(64), *transport = vstr_new(32), *nexthop = vstr_new(64);
    vstr *local = vstr_new(64), *value = vstr_new(128), *user = vstr_new(64);
    match_list *mydest, *relay;
    table_list *aliases = NULL;
    int status = 0, r;

    memset(&res, 0, sizeof(res));
    if ((mydest = match_list_domain(config_str("mydestination"), 0, err)) == NULL)
        sm_fatal(EX_CONFIG, "mydestination: %s", vstr_str(err));
    relay = match_list_domain(config_str("relay_domains"),
                              list_has(config_str("parent_domain_matches_subdomains"),
                                       "relay_domains"), err);
    if (relay == NULL)
        sm_fatal(EX_CONFIG, "relay_domains: %s", vstr_str(err));
    res.mydestination = mydest;
    res.myorigin = config_str("myorigin");
    res.relay_domains = relay;
    if (*config_str("transport_maps")
        && (res.transport_maps = table_list_open(config_str("transport_maps"), 0, err)) == NULL)
        sm_fatal(EX_CONFIG, "transport_maps: %s", vstr_str(err));
    res.local_transport = config_str("local_transport");
    res.relay_transport = config_str("relay_transport");
    res.default_transport = config_str("default_transport");
    res.relayhost = config_str("relayhost");
    /* The alias table may be unreadable for an unprivileged user. */
    if (*config_str("alias_maps")) {
        vstr_reset(err);
        aliases = table_list_open(config_str("alias_maps"), TABLE_ALIASES, err);
        if (aliases == NULL)
            sm_verbose(o, "alias_maps not readable: %s", vstr_str(err));
    }

    for (size_t i = 0; i < rcpts->n; i++) {
        const char *addr = rcpts->v[i];

        if (*addr == '@' || addr[strlen(addr) - 1] == '@') {
            stream_printf(out, "%s: undeliverable: bad address syntax\n", addr);
            status = EX_NOUSER;
            continue;
        }
        r = qmgr_resolve(&res, addr, transport, nexthop);
        if (r < 0) {
            stream_printf(out, "%s: deferred: transport_maps lookup failed\n", addr);
            status = EX_NOUSER;
            continue;
        }
        if (r == 0) {
            stream_printf(out, "%s: undeliverable: no route to the destination\n", addr);
            status = EX_NOUSER;
            continue;
        }
        if (strcmp(vstr_str(transport), QMGR_TRANSPORT_ERROR) == 0) {
            stream_printf(out, "%s: undeliverable: %s\n", addr, vstr_str(nexthop));
            status = EX_NOUSER;
            continue;
        }
        stream_printf(out, "%s: deliverable: transport=%s nexthop=%s", addr,
                      vstr_str(transport), vstr_str(nexthop));
        if (strcmp(vstr_str(transport), "local") == 0 && aliases != NULL) {
            mail_addr_local(local, addr);
            mail_addr_split_ext(vstr_str(local), config_str("recipient_delimiter"), user, NULL);
            lowercase(user->data);
            if (table_list_lookup(aliases, vstr_str(user), value) == 1)
                stream_printf(out, " alias=%s", vstr_str(value));
        }
        stream_puts(out, "\n");
    }
    if (aliases != NULL)
        table_list_close(aliases);
    if (res.transport_maps != NULL)
        table_list_close(res.transport_maps);
    match_list_free(mydest);
    match_list_free(relay);
    vstr_free(err);
    vstr_free(transport);
    vstr_free(nexthop);
    vstr_free(local);
    vstr_free(value);
    vstr_free(user);
    return status;
}

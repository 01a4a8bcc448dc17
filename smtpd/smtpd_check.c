/* Relay policy of the SMTP server: evaluates smtpd_relay_restrictions for
 * one recipient, first match wins, like Postfix's restriction lists.  A
 * recipient is accepted when no restriction rejects it. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "argv.h"
#include "log.h"
#include "mail_addr.h"
#include "match_list.h"
#include "mem.h"
#include "smtpd_check.h"
#include "vstr.h"

static match_list *list_or_die(const char *name, const char *spec, int domain, int parent)
{
    vstr *err = vstr_new(64);
    match_list *l = domain ? match_list_domain(spec, parent, err) : match_list_addr(spec, err);

    if (l == NULL)
        msg_fatal("%s: %s", name, vstr_str(err));
    vstr_free(err);
    return l;
}

struct smtpd_policy *smtpd_policy_new(const char *restrictions, const char *mynetworks,
                                      const char *mydestination, const char *relay_domains,
                                      int relay_parent_matches)
{
    struct smtpd_policy *p = xcalloc(1, sizeof(*p));

    p->restrictions = argv_split(restrictions, LIST_DELIMS);
    p->mynetworks = list_or_die("mynetworks", mynetworks, 0, 0);
    p->mydestination = list_or_die("mydestination", mydestination, 1, 0);
    p->relay_domains = list_or_die("relay_domains", relay_domains, 1, relay_parent_matches);
    return p;
}

void smtpd_policy_free(struct smtpd_policy *p)
{
    if (p == NULL)
        return;
    argv_free(p->restrictions);
    match_list_free(p->mynetworks);
    match_list_free(p->mydestination);
    match_list_free(p->relay_domains);
    free(p);
}

int smtpd_check_mynetworks(const struct smtpd_policy *p, const char *client_addr)
{
    return client_addr != NULL && match_list_match_addr(p->mynetworks, client_addr) == 1;
}

/* Is the recipient's domain one we accept mail for from anyone? */
static int local_or_relay_domain(const struct smtpd_policy *p, const char *rcpt)
{
    char *domain = xstrdup(mail_addr_domain(rcpt));
    size_t n = strlen(domain);
    int ok;

    /* "user@example.com." names the same domain. */
    if (n > 0 && domain[n - 1] == '.')
        domain[n - 1] = 0;
    lowercase(domain);
    ok = *domain != 0 && (match_list_match_domain(p->mydestination, domain) == 1
                          || match_list_match_domain(p->relay_domains, domain) == 1);
    free(domain);
    return ok;
}

int smtpd_check_rcpt(const struct smtpd_policy *p, const char *client_addr, const char *rcpt,
                     vstr *reply)
{
    vstr_reset(reply);
    for (size_t i = 0; i < p->restrictions->n; i++) {
        const char *r = p->restrictions->v[i];

        if (strcmp(r, "permit_mynetworks") == 0) {
            if (smtpd_check_mynetworks(p, client_addr))
                return 0;
        } else if (strcmp(r, "reject_unauth_destination") == 0) {
            if (!local_or_relay_domain(p, rcpt)) {
                vstr_printf(reply, "554 5.7.1 <%s>: Relay access denied", rcpt);
                return -1;
            }
        } else if (strcmp(r, "permit") == 0) {
            return 0;
        } else if (strcmp(r, "reject") == 0) {
            vstr_printf(reply, "554 5.7.1 <%s>: Recipient address rejected: Access denied", rcpt);
            return -1;
        } else {
            msg_warn("unknown smtpd_relay_restrictions feature \"%s\"; fix main.cf", r);
            vstr_puts(reply, "451 4.3.5 Server configuration error");
            return -1;
        }
    }
    return 0;
}

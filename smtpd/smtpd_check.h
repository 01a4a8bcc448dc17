/* The SMTP server's relay policy: smtpd_relay_restrictions evaluated for
 * each recipient (permit_mynetworks, reject_unauth_destination, permit,
 * reject).  Tables are opened once, before the chroot. */
#ifndef POSTHORN_SMTPD_CHECK_H
#define POSTHORN_SMTPD_CHECK_H
#include "argv.h"
#include "match_list.h"
#include "vstr.h"

struct smtpd_policy {
    argv_t *restrictions;       /* smtpd_relay_restrictions */
    match_list *mynetworks;
    match_list *mydestination;
    match_list *relay_domains;
};

/* Build from explicit values (tests) -- fatal on a bad list. */
struct smtpd_policy *smtpd_policy_new(const char *restrictions, const char *mynetworks,
                                      const char *mydestination, const char *relay_domains,
                                      int relay_parent_matches);
void smtpd_policy_free(struct smtpd_policy *p);

/* Is the (numeric) client address in mynetworks? */
int smtpd_check_mynetworks(const struct smtpd_policy *p, const char *client_addr);

/* Check recipient rcpt ("local@domain") from the client: 0 = accept, or -1
 * with the reply line (no CRLF) in reply. */
int smtpd_check_rcpt(const struct smtpd_policy *p, const char *client_addr, const char *rcpt,
                     vstr *reply);

#endif

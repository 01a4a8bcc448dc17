/* smtp(8): the SMTP and LMTP delivery agent.  main() hands the
 * single_server skeleton the per-request service (smtp_service.c); the
 * pre-jail hook sets up DNS (resolv.conf is outside the jail), the
 * post-jail hook reads the settings.
 *
 * LMTP mode: when the master.cf service is named "lmtp" (or the program
 * is invoked under the name "lmtp"), the agent speaks LHLO and takes
 * next hops "unix:/path" and "inet:host[:port]". */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "argv.h"
#include "dns.h"
#include "log.h"
#include "params.h"
#include "skeleton.h"
#include "smtp.h"
#include "vstr.h"

struct smtp_config smtp_cfg;
static int invoked_as_lmtp;

static int families_from_config(void)
{
    argv_t *list = argv_split(config_str("inet_protocols"), LIST_DELIMS);
    int families = 0;
    size_t i;

    for (i = 0; i < list->n; i++) {
        if (strcasecmp(list->v[i], "all") == 0)
            families |= DNS_FAMILY_V4 | DNS_FAMILY_V6;
        else if (strcasecmp(list->v[i], "ipv4") == 0)
            families |= DNS_FAMILY_V4;
        else if (strcasecmp(list->v[i], "ipv6") == 0)
            families |= DNS_FAMILY_V6;
        else
            msg_fatal("inet_protocols: unknown protocol \"%s\" (all, ipv4, ipv6)", list->v[i]);
    }
    argv_free(list);
    if (families == 0)
        msg_fatal("inet_protocols: no protocol enabled");
    return families;
}

/* As root, before the chroot: c-ares reads /etc/resolv.conf now and keeps
 * its servers for the life of the process. */
static void smtp_pre_jail(void *ctx)
{
    vstr *err = vstr_new(64);
    const char *port = config_str("smtp_tcp_port");
    struct servent *se;
    char *end;
    long v;

    (void) ctx;
    /* /etc/services is not in the jail. */
    errno = 0;
    v = strtol(port, &end, 10);
    if (*port != '\0' && *end == '\0' && errno == 0 && v >= 1 && v <= 65535)
        smtp_cfg.smtp_port = (int) v;
    else if ((se = getservbyname(port, "tcp")) != NULL)
        smtp_cfg.smtp_port = ntohs((unsigned short) se->s_port);
    else if (strcmp(port, "smtp") == 0)
        smtp_cfg.smtp_port = 25;
    else
        msg_fatal("smtp_tcp_port: unknown port \"%s\"", port);
    if (dns_init(config_str("dns_servers"), config_time("dns_timeout") * 1000, err) < 0)
        msg_fatal("%s", vstr_str(err));
    vstr_free(err);
}

static void smtp_post_jail(void *ctx)
{
    const char *pref;

    (void) ctx;
    signal(SIGPIPE, SIG_IGN);
    smtp_cfg.lmtp = invoked_as_lmtp || strcmp(server_service_name(), "lmtp") == 0;
    smtp_cfg.myhostname = config_str("myhostname");
    smtp_cfg.helo_name = config_str(smtp_cfg.lmtp ? "lmtp_lhlo_name" : "smtp_helo_name");
    smtp_cfg.connect_timeout = config_time("smtp_connect_timeout");
    smtp_cfg.helo_timeout = config_time("smtp_helo_timeout");
    smtp_cfg.mail_timeout = config_time("smtp_mail_timeout");
    smtp_cfg.rcpt_timeout = config_time("smtp_rcpt_timeout");
    smtp_cfg.data_init_timeout = config_time("smtp_data_init_timeout");
    smtp_cfg.data_xfer_timeout = config_time("smtp_data_xfer_timeout");
    smtp_cfg.data_done_timeout = config_time("smtp_data_done_timeout");
    smtp_cfg.rset_timeout = config_time("smtp_rset_timeout");
    smtp_cfg.quit_timeout = config_time("smtp_quit_timeout");
    smtp_cfg.mx_address_limit = config_int("smtp_mx_address_limit");
    smtp_cfg.mx_session_limit = config_int("smtp_mx_session_limit");
    smtp_cfg.families = families_from_config();
    pref = config_str("smtp_address_preference");
    if (strcasecmp(pref, "ipv6") == 0)
        smtp_cfg.prefer = 6;
    else if (strcasecmp(pref, "ipv4") == 0)
        smtp_cfg.prefer = 4;
    else if (strcasecmp(pref, "any") == 0)
        smtp_cfg.prefer = 0;
    else
        msg_fatal("smtp_address_preference: \"%s\" is not ipv6, ipv4 or any", pref);
    smtp_cfg.skip_5xx_greeting = config_bool("smtp_skip_5xx_greeting");
    smtp_cfg.line_length_limit = config_int("smtp_line_length_limit");
    smtp_cfg.lmtp_port = config_int("lmtp_tcp_port");
    smtp_cfg.cache_on_demand = config_bool("smtp_connection_cache_on_demand");
    smtp_cfg.cache_size = config_int("smtp_connection_cache_size");
    smtp_cfg.cache_time_limit = config_time("smtp_connection_cache_time_limit");
    smtp_cfg.reuse_time_limit = config_time("smtp_connection_reuse_time_limit");
    smtp_cfg.reuse_count_limit = config_int("smtp_connection_reuse_count_limit");
    smtp_cache_init();
}

int main(int argc, char **argv)
{
    static const struct server_hooks hooks = {
        .pre_jail = smtp_pre_jail,
        .post_jail = smtp_post_jail,
    };
    const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

    invoked_as_lmtp = strcmp(prog, "lmtp") == 0;
    return single_server_main(argc, argv, smtp_service, &hooks);
}

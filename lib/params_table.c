/* The parameter table: every main.cf parameter posthorn knows, declared
 * once.  Parsing, validation, postconf and posthorn.conf(5) all read this
 * table; nothing else may define a parameter. */
#include "config.h"
#include <stddef.h>
#include "params.h"

#define YEAR (365L * 86400)

const struct param_def param_table[] = {
    /* Identity and paths */
    {"mail_name", PARAM_STR, "posthorn", 0, 0,
     "The mail system name, shown in the SMTP greeting and in Received: headers."},
    {"mail_version", PARAM_STR, PACKAGE_VERSION, 0, 0,
     "The version of posthorn (read-only; set at build time)."},
    {"myhostname", PARAM_STR, NULL, 0, 0,
     "The fully-qualified name of this host. Default: the system host name."},
    {"mydomain", PARAM_STR, NULL, 0, 0,
     "The domain of this host. Default: $myhostname without its first label."},
    {"myorigin", PARAM_STR, "$myhostname", 0, 0,
     "The domain appended to unqualified addresses in locally submitted mail."},
    {"config_directory", PARAM_STR, DEF_CONFIG_DIR, 0, 0,
     "The directory with main.cf and master.cf (set with -c or POSTHORN_CONFIG_DIR)."},
    {"queue_directory", PARAM_STR, DEF_QUEUE_DIR, 0, 0,
     "The root of the mail queue; also the chroot directory of chrooted services."},
    {"daemon_directory", PARAM_STR, DEF_DAEMON_DIR, 0, 0,
     "The directory with the daemon programs that master(8) starts."},
    {"command_directory", PARAM_STR, DEF_COMMAND_DIR, 0, 0,
     "The directory with the administrative commands."},
    {"data_directory", PARAM_STR, DEF_DATA_DIR, 0, 0,
     "The directory for writable data that is not queue (caches, locks)."},
    {"process_id_directory", PARAM_STR, "pid", 0, 0,
     "Where master's pid and lock file live, relative to queue_directory."},
    {"mail_owner", PARAM_STR, DEF_MAIL_OWNER, 0, 0,
     "The unprivileged account that owns the queue and runs every daemon but master and local. It must not be root or share its uid with another account."},
    {"setgid_group", PARAM_STR, "posthorndrop", 0, 0,
     "The group of the setgid postdrop and postqueue commands, which owns maildrop/ and public/."},
    {"default_privs", PARAM_STR, "nobody", 0, 0,
     "The account local(8) uses for deliveries to files and directories named in root-owned alias tables, and for luser_relay. Never root."},

    /* Logging */
    {"maillog_file", PARAM_STR, "", 0, 0,
     "When set, log to this file instead of syslog."},
    {"syslog_facility", PARAM_STR, "mail", 0, 0,
     "The syslog facility of posthorn's log lines."},
    {"syslog_name", PARAM_STR, "posthorn", 0, 0,
     "The prefix of program names in log lines (posthorn/smtpd[1234])."},

    /* Process management */
    {"default_process_limit", PARAM_INT, "100", 1, 100000,
     "The default maximal number of processes of a service (master.cf maxproc \"-\")."},
    {"max_use", PARAM_INT, "100", 1, 1000000,
     "How many clients a daemon process serves before it exits and is replaced."},
    {"max_idle", PARAM_TIME, "100s", 1, 86400,
     "How long an idle daemon process waits for a client before it exits."},
    {"ipc_timeout", PARAM_TIME, "3600s", 1, 86400,
     "Time limit for one read or write on an internal connection between daemons."},
    {"service_throttle_time", PARAM_TIME, "60s", 1, 86400,
     "How long master(8) waits before it starts a service again after it failed at start-up or crashed repeatedly."},
    {"daemon_timeout", PARAM_TIME, "18000s", 1, 864000,
     "How long a daemon may work on one request before it is killed."},

    /* Network and addressing */
    {"inet_interfaces", PARAM_LIST, "all", 0, 0,
     "The addresses that inet services without an explicit host in master.cf listen on: all, loopback-only, or a list of addresses."},
    {"inet_protocols", PARAM_LIST, "all", 0, 0,
     "The IP protocols to use: all, ipv4, ipv6, or ipv4, ipv6."},
    {"mydestination", PARAM_LIST, "$myhostname, localhost.$mydomain, localhost", 0, 0,
     "The domains delivered by the local(8) transport."},
    {"relay_domains", PARAM_LIST, "", 0, 0,
     "Domains this host relays mail to from any client (besides $mydestination)."},
    {"mynetworks", PARAM_LIST, "127.0.0.0/8 [::1]/128", 0, 0,
     "The trusted client networks: permit_mynetworks lets them relay. Addresses, networks in CIDR form, IPv6 in [brackets], /file names and type:table lookups."},
    {"parent_domain_matches_subdomains", PARAM_LIST, "relay_domains", 0, 0,
     "Parameters whose bare domain entries also match subdomains."},
    {"recipient_delimiter", PARAM_STR, "", 0, 0,
     "Characters that separate a user name from an address extension (user+ext)."},
    {"strict_rfc821_envelopes", PARAM_BOOL, "no", 0, 0,
     "Require angle brackets around MAIL FROM and RCPT TO addresses."},

    /* SMTP server */
    {"smtpd_banner", PARAM_STR, "$myhostname ESMTP $mail_name", 0, 0,
     "The text after the 220 code of the SMTP greeting."},
    {"smtpd_timeout", PARAM_TIME, "300s", 1, 3600,
     "How long the SMTP server waits for a client command or data, and for output to drain."},
    {"smtpd_recipient_limit", PARAM_INT, "1000", 1, 1000000,
     "Recipients accepted per message; more get 452."},
    {"smtpd_hard_error_limit", PARAM_INT, "20", 1, 1000,
     "Errors in one session after which the SMTP server disconnects."},
    {"smtpd_soft_error_limit", PARAM_INT, "10", 0, 1000,
     "Errors after which the SMTP server delays every reply by smtpd_error_sleep_time."},
    {"smtpd_error_sleep_time", PARAM_TIME, "1s", 0, 60,
     "The delay before replies once smtpd_soft_error_limit is reached."},
    {"smtpd_relay_restrictions", PARAM_LIST, "permit_mynetworks, reject_unauth_destination", 0, 0,
     "Relay policy applied at RCPT TO: permit_mynetworks, reject_unauth_destination, permit, reject."},
    {"smtpd_forbid_bare_newline", PARAM_STR, "normalize", 0, 0,
     "What to do with lines ending in a bare LF: normalize (accept as a line end inside commands and content; only CR LF . CR LF ends DATA), reject (reply smtpd_forbid_bare_newline_reject_code and disconnect), or no (same as normalize)."},
    {"smtpd_forbid_bare_newline_reject_code", PARAM_INT, "550", 500, 599,
     "The reply code for smtpd_forbid_bare_newline = reject."},
    {"smtpd_forbid_bare_newline_exclusions", PARAM_LIST, "$mynetworks", 0, 0,
     "Clients exempt from smtpd_forbid_bare_newline = reject."},
    {"smtpd_process_session_limit", PARAM_INT, "2000", 1, 100000,
     "How many SMTP sessions one smtpd process serves at once; 1 gives one client per process."},
    {"disable_vrfy_command", PARAM_BOOL, "no", 0, 0,
     "Reject VRFY with 502 instead of answering 252."},
    {"smtputf8_enable", PARAM_BOOL, "yes", 0, 0,
     "Announce and accept SMTPUTF8 (RFC 6531)."},
    {"smtpd_helo_required", PARAM_BOOL, "no", 0, 0,
     "Require HELO or EHLO before MAIL FROM."},
    {"line_length_limit", PARAM_INT, "2048", 512, 1048576,
     "The longest SMTP command line accepted; longer message lines are stored in pieces."},
    {"message_size_limit", PARAM_SIZE, "10240000", 1024, 2147483647L,
     "The largest message accepted, in bytes, including the envelope; announced with SIZE."},
    {"header_size_limit", PARAM_SIZE, "102400", 1024, 104857600L,
     "The largest message header (all header lines together) cleanup keeps as header; the rest goes to the body."},
    {"local_header_rewrite_clients", PARAM_LIST, "permit_inet_interfaces", 0, 0,
     "Clients whose mail gets missing Date: and Message-ID: headers added: permit_inet_interfaces, permit_mynetworks, static:all."},
    {"always_add_missing_headers", PARAM_BOOL, "no", 0, 0,
     "Add missing Date: and Message-ID: headers to mail from every client."},

    /* Queue manager */
    {"queue_run_delay", PARAM_TIME, "300s", 1, 86400,
     "How often the queue manager scans the deferred queue."},
    {"minimal_backoff_time", PARAM_TIME, "300s", 1, 86400,
     "The shortest time a deferred message waits before it is retried."},
    {"maximal_backoff_time", PARAM_TIME, "4000s", 1, 864000,
     "The longest time a deferred message waits before it is retried."},
    {"qmgr_message_active_limit", PARAM_INT, "20000", 1, 10000000,
     "How many messages the active queue holds at most."},
    {"default_destination_concurrency_limit", PARAM_INT, "20", 1, 10000,
     "Parallel deliveries to one destination, unless a transport-specific limit says otherwise."},
    {"local_destination_concurrency_limit", PARAM_INT, "2", 1, 10000,
     "Parallel deliveries by local(8) to the same recipient."},
    {"default_destination_recipient_limit", PARAM_INT, "50", 1, 100000,
     "Recipients per delivery request, unless a transport-specific limit says otherwise."},
    {"local_destination_recipient_limit", PARAM_INT, "1", 1, 100000,
     "Recipients per local(8) delivery request."},

    /* Local delivery */
    {"alias_maps", PARAM_LIST, "hash:/etc/aliases", 0, 0,
     "Alias tables local(8) consults, in order (aliases(5) syntax for text tables)."},
    {"default_database_type", PARAM_STR, "hash", 0, 0,
     "The table type postalias and postmap build when a file name has no type: prefix (hash or btree)."},
    {"alias_database", PARAM_LIST, "hash:/etc/aliases", 0, 0,
     "The alias tables postalias and newaliases rebuild."},
    {"home_mailbox", PARAM_STR, "", 0, 0,
     "Mailbox relative to the recipient's home directory: a name ending in / is a Maildir, otherwise an mbox file. Empty: use mail_spool_directory."},
    {"mail_spool_directory", PARAM_STR, "/var/mail", 0, 0,
     "The directory of UNIX mbox files named after users; ending in / means Maildirs there."},
    {"luser_relay", PARAM_STR, "", 0, 0,
     "Where mail for unknown local users goes, as an alias target ($user, $local, $extension, $recipient, $domain expanded). Empty: bounce it."},
    {"mailbox_size_limit", PARAM_SIZE, "51200000", 0, 2147483647L,
     "The largest mbox file local(8) appends to (0: no limit)."},

    /* Outbound SMTP/LMTP client and DNS (smtp) */

    /* Routing and scheduling (qmgr) */

    /* Delivery status notifications (bounce) */

    {NULL, 0, NULL, 0, 0, NULL},
};

const unsigned param_table_size = sizeof(param_table) / sizeof(param_table[0]) - 1;

/* qmgr: the queue manager daemon.  A single-instance trigger server: wakeup
 * triggers (from cleanup, and the master's wakeup timer) scan incoming/, a
 * flush trigger makes all deferred mail due now, and a timer scans
 * deferred/ every queue_run_delay.  The work itself lives in
 * qmgr_scan.c, qmgr_active.c and qmgr_deliver.c. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "argv.h"
#include "event.h"
#include "log.h"
#include "master_proto.h"
#include "match_list.h"
#include "mem.h"
#include "params.h"
#include "qmgr.h"
#include "skeleton.h"
#include "table.h"
#include "vstr.h"

static struct event_timer deferred_timer;
static struct event_timer start_timer;
static char *myorigin;

/* Time to wait for an agent's announcement (it is local and idle). */
#define QMGR_ANNOUNCE_TIMEOUT 60
/* Pause of a transport whose agent failed. */
#define QMGR_THROTTLE_TIME 10
/* Retry of a message whose bounce/success notification could not be
 * handed to bounce(8). */
#define QMGR_BOUNCE_RETRY 60

/* Is word one of the items of a main.cf list? */
static int list_has(const char *list, const char *word)
{
    argv_t *a = argv_split(list, LIST_DELIMS);
    size_t i;
    int found = 0;

    for (i = 0; i < a->n; i++)
        if (strcmp(a->v[i], word) == 0)
            found = 1;
    argv_free(a);
    return found;
}

static void deferred_run(void *ctx)
{
    (void) ctx;
    qmgr_scan_deferred();
    event_timer_set(&deferred_timer, qmgr_conf.queue_run_delay * 1000, deferred_run, NULL);
}

static void start_run(void *ctx)
{
    (void) ctx;
    qmgr_scan_incoming();
    deferred_run(NULL);
}

/* Before the jail: mydestination may name files and tables outside it. */
static void qmgr_pre_jail(void *ctx)
{
    (void) ctx;
    vstr *err = vstr_new(64);
    match_list *mydest, *relay;

    qmgr_conf.active_limit = config_int("qmgr_message_active_limit");
    qmgr_conf.queue_run_delay = config_time("queue_run_delay");
    qmgr_conf.minimal_backoff = config_time("minimal_backoff_time");
    qmgr_conf.maximal_backoff = config_time("maximal_backoff_time");
    qmgr_conf.process_limit = config_int("default_process_limit");
    qmgr_conf.announce_timeout = config_time("ipc_timeout");
    if (qmgr_conf.announce_timeout > QMGR_ANNOUNCE_TIMEOUT)
        qmgr_conf.announce_timeout = QMGR_ANNOUNCE_TIMEOUT;
    qmgr_conf.reply_timeout = config_time("daemon_timeout");
    qmgr_conf.throttle_time = QMGR_THROTTLE_TIME;
    if (qmgr_conf.active_limit < 1)
        qmgr_conf.active_limit = 1;
    if (qmgr_conf.queue_run_delay < 1)
        qmgr_conf.queue_run_delay = 1;
    if (qmgr_conf.announce_timeout < 1)
        qmgr_conf.announce_timeout = 1;
    if (qmgr_conf.reply_timeout < 1)
        qmgr_conf.reply_timeout = 1;
    qmgr_conf.initial_concurrency = config_int("initial_destination_concurrency");
    qmgr_conf.dead_time = qmgr_conf.minimal_backoff;
    qmgr_conf.max_lifetime = config_time("maximal_queue_lifetime");
    qmgr_conf.bounce_lifetime = config_time("bounce_queue_lifetime");
    qmgr_conf.rcpt_limit = config_int("qmgr_message_recipient_limit");
    qmgr_conf.bounce_retry = QMGR_BOUNCE_RETRY;
    mydest = match_list_domain(config_str("mydestination"), 0, err);
    if (mydest == NULL)
        msg_fatal("mydestination: %s", vstr_str(err));
    myorigin = xstrdup(config_str("myorigin"));
    qmgr_conf.resolver.mydestination = mydest;
    qmgr_conf.resolver.myorigin = myorigin;
    relay = match_list_domain(config_str("relay_domains"),
                              list_has(config_str("parent_domain_matches_subdomains"),
                                       "relay_domains"),
                              err);
    if (relay == NULL)
        msg_fatal("relay_domains: %s", vstr_str(err));
    qmgr_conf.resolver.relay_domains = relay;
    /* Tables are opened before the jail: they may live outside it. */
    if (*config_str("transport_maps")) {
        qmgr_conf.resolver.transport_maps = table_list_open(config_str("transport_maps"), 0, err);
        if (qmgr_conf.resolver.transport_maps == NULL)
            msg_fatal("transport_maps: %s", vstr_str(err));
    }
    qmgr_conf.resolver.local_transport = xstrdup(config_str("local_transport"));
    qmgr_conf.resolver.relay_transport = xstrdup(config_str("relay_transport"));
    qmgr_conf.resolver.default_transport = xstrdup(config_str("default_transport"));
    qmgr_conf.resolver.relayhost = xstrdup(config_str("relayhost"));
    vstr_free(err);
}

/* After the jail: recover from a crash, then start scanning from the
 * event loop. */
static void qmgr_post_jail(void *ctx)
{
    (void) ctx;
    qmgr_recover();
    event_timer_set(&start_timer, 0, start_run, NULL);
}

/* transport_maps changed and the jail hides the new file. */
static void qmgr_tables_changed(void *ctx)
{
    (void) ctx;
    qmgr_drain();
}

static void qmgr_on_trigger(const char *buf, size_t len, void *ctx)
{
    (void) ctx;
    int wakeup = 0, flush = 0, deferred = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        if (buf[i] == TRIGGER_WAKEUP)
            wakeup = 1;
        else if (buf[i] == TRIGGER_FLUSH)
            flush = 1;
        else if (buf[i] == TRIGGER_DEFERRED)
            deferred = 1;
        else if (msg_verbose)
            msg_info("ignoring unknown trigger 0x%02x", (unsigned char) buf[i]);
    }
    if (wakeup)
        qmgr_scan_incoming();
    if (flush)
        qmgr_flush();
    else if (deferred)
        qmgr_scan_deferred();
}

int main(int argc, char **argv)
{
    struct server_hooks hooks = {0};

    hooks.pre_jail = qmgr_pre_jail;
    hooks.post_jail = qmgr_post_jail;
    hooks.single_instance = 1;
    hooks.tables_changed = qmgr_tables_changed;
    return trigger_server_main(argc, argv, qmgr_on_trigger, &hooks);
}

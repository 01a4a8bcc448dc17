/* qmgr: the queue manager daemon.  A single-instance trigger server: wakeup
 * triggers (from cleanup, and the master's wakeup timer) scan incoming/, a
 * flush trigger makes all deferred mail due now, and a timer scans
 * deferred/ every queue_run_delay.  The work itself lives in
 * qmgr_scan.c, qmgr_active.c and qmgr_deliver.c. */
#include "config.h"
#include <stdlib.h>
#include "event.h"
#include "log.h"
#include "master_proto.h"
#include "match_list.h"
#include "mem.h"
#include "params.h"
#include "qmgr.h"
#include "skeleton.h"
#include "vstr.h"

static struct event_timer deferred_timer;
static struct event_timer start_timer;
static char *myorigin;

/* Time to wait for an agent's announcement (it is local and idle). */
#define QMGR_ANNOUNCE_TIMEOUT 60
/* Pause of a transport whose agent failed. */
#define QMGR_THROTTLE_TIME 10

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
    match_list *mydest;

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
    mydest = match_list_domain(config_str("mydestination"), 0, err);
    if (mydest == NULL)
        msg_fatal("mydestination: %s", vstr_str(err));
    myorigin = xstrdup(config_str("myorigin"));
    qmgr_conf.resolver.mydestination = mydest;
    qmgr_conf.resolver.myorigin = myorigin;
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

static void qmgr_on_trigger(const char *buf, size_t len, void *ctx)
{
    (void) ctx;
    int wakeup = 0, flush = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        if (buf[i] == TRIGGER_WAKEUP)
            wakeup = 1;
        else if (buf[i] == TRIGGER_FLUSH)
            flush = 1;
        else if (msg_verbose)
            msg_info("ignoring unknown trigger 0x%02x", (unsigned char) buf[i]);
    }
    if (wakeup)
        qmgr_scan_incoming();
    if (flush)
        qmgr_flush();
}

int main(int argc, char **argv)
{
    struct server_hooks hooks = {0};

    hooks.pre_jail = qmgr_pre_jail;
    hooks.post_jail = qmgr_post_jail;
    hooks.single_instance = 1;
    return trigger_server_main(argc, argv, qmgr_on_trigger, &hooks);
}

/* pickup(8): the daemon that moves locally submitted mail from maildrop/
 * into cleanup.  A single-instance trigger server: postdrop's wakeup
 * triggers and the master's periodic wakeup (master.cf wakeup column)
 * start a scan of maildrop/.  A scan handles at most PICKUP_BATCH files
 * and then yields to the event loop, so a flood of files never starves
 * it; the work on each file is in pickup_file.c. */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <time.h>
#include "event.h"
#include "log.h"
#include "master_proto.h"
#include "mem.h"
#include "params.h"
#include "pickup.h"
#include "queue.h"
#include "skeleton.h"

#define PICKUP_BATCH 100
/* Upper bound of one exchange with cleanup (it is local). */
#define PICKUP_IPC_TIMEOUT_MAX 300

struct pickup_conf pickup_conf;
static struct event_timer scan_timer;

static void pickup_scan(void);

static void scan_again(void *ctx)
{
    (void)ctx;
    pickup_scan();
}

static void pickup_scan(void)
{
    queue_scan *qs;
    const char *id;
    int handled = 0, progress = 0, more = 0;

    if ((qs = queue_scan_open(QUEUE_MAILDROP)) == NULL) {
        msg_warn("cannot scan %s: %s", QUEUE_MAILDROP, strerror(errno));
        return;
    }
    while ((id = queue_scan_next(qs)) != NULL) {
        enum pickup_result r;

        if (handled >= PICKUP_BATCH) {
            more = 1;
            break;
        }
        handled++;
        r = pickup_file(id);
        if (r == PICKUP_RETRY_LATER)
            break;
        if (r == PICKUP_DONE || r == PICKUP_QUARANTINED)
            progress = 1;
    }
    queue_scan_close(qs);
    /* Continue from the event loop; only after progress, so files that
     * cannot be read right now never make us spin. */
    if (more && progress)
        event_timer_set(&scan_timer, 0, scan_again, NULL);
}

static void pickup_on_trigger(const char *buf, size_t len, void *ctx)
{
    size_t i;
    int wakeup = 0;

    (void)ctx;
    for (i = 0; i < len; i++) {
        if (buf[i] == TRIGGER_WAKEUP)
            wakeup = 1;
        else if (msg_verbose)
            msg_info("ignoring unknown trigger 0x%02x", (unsigned char)buf[i]);
    }
    if (wakeup && !event_timer_pending(&scan_timer))
        pickup_scan();
}

/* Before the jail: configuration, and the time zone (its files are
 * outside the chroot). */
static void pickup_pre_jail(void *ctx)
{
    long t;

    (void)ctx;
    tzset();
    pickup_conf.message_size_limit = config_size("message_size_limit");
    pickup_conf.myhostname = xstrdup(config_str("myhostname"));
    t = config_time("ipc_timeout");
    if (t > PICKUP_IPC_TIMEOUT_MAX)
        t = PICKUP_IPC_TIMEOUT_MAX;
    if (t < 1)
        t = 1;
    pickup_conf.ipc_timeout = (int)t;
}

/* Mail may have arrived while we were not running. */
static void pickup_post_jail(void *ctx)
{
    (void)ctx;
    event_timer_set(&scan_timer, 0, scan_again, NULL);
}

int main(int argc, char **argv)
{
    struct server_hooks hooks = {0};

    hooks.pre_jail = pickup_pre_jail;
    hooks.post_jail = pickup_post_jail;
    hooks.single_instance = 1;
    return trigger_server_main(argc, argv, pickup_on_trigger, &hooks);
}

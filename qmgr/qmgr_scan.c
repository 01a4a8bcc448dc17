/* Queue scans of the queue manager: after a restart, files left in
 * active/ go back to incoming/; incoming/ is taken oldest first (queue ids
 * sort by time) and deferred/ when a file's mtime (its next retry time)
 * has come, both only while there is room under
 * qmgr_message_active_limit.  A scan that stopped for lack of room is
 * resumed when a message finishes. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include "event.h"
#include "log.h"
#include "mem.h"
#include "qmgr.h"
#include "queue.h"
#include "queue_id.h"
#include "vstr.h"

static int incoming_more;       /* incoming/ had more than there was room for */
static int deferred_more;
static struct event_timer resume_timer;

/* The oldest ids of a queue, at most max of them; *more says whether
 * candidates were left out.  Keeps at most 2 * max ids in memory. */
struct id_set {
    char **ids;
    size_t n;
    size_t max;
    int more;
};

static int id_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static void id_set_trim(struct id_set *set)
{
    size_t i;

    qsort(set->ids, set->n, sizeof(*set->ids), id_cmp);
    if (set->n > set->max) {
        for (i = set->max; i < set->n; i++)
            free(set->ids[i]);
        set->n = set->max;
        set->more = 1;
    }
}

static void id_set_add(struct id_set *set, const char *id)
{
    if (set->n == 2 * set->max)
        id_set_trim(set);
    set->ids[set->n++] = xstrdup(id);
}

static void id_set_free(struct id_set *set)
{
    size_t i;

    for (i = 0; i < set->n; i++)
        free(set->ids[i]);
    free(set->ids);
}

/* Collect the ids of queue; with due_only, only those whose mtime has
 * passed. */
static int queue_collect(const char *queue, int due_only, struct id_set *set)
{
    queue_scan *qs = queue_scan_open(queue);
    vstr *path = vstr_new(64);
    time_t now = time(NULL);
    const char *id;

    set->max = (size_t) qmgr_active_room();
    set->n = 0;
    set->more = 0;
    set->ids = xreallocarray(NULL, 2 * set->max + 1, sizeof(*set->ids));
    if (qs == NULL) {
        msg_warn("scan %s: %m", queue);
        vstr_free(path);
        return -1;
    }
    while ((id = queue_scan_next(qs)) != NULL) {
        if (due_only) {
            struct stat st;

            queue_path(path, queue, id);
            if (stat(vstr_str(path), &st) < 0 || st.st_mtime > now)
                continue;
        }
        if (set->max == 0) {
            set->more = 1;
            break;
        }
        id_set_add(set, id);
    }
    queue_scan_close(qs);
    id_set_trim(set);
    vstr_free(path);
    return 0;
}

static void scan_queue(const char *queue, int due_only, int *more)
{
    struct id_set set;
    size_t i;

    *more = 0;
    if (queue_collect(queue, due_only, &set) < 0) {
        id_set_free(&set);
        return;
    }
    for (i = 0; i < set.n; i++) {
        /* -1: no room, or the id is still active in memory (postsuper
         * released or requeued it meanwhile): scan again later. */
        if (qmgr_activate(queue, set.ids[i]) < 0) {
            set.more = 1;
            if (qmgr_active_room() == 0)
                break;
        }
    }
    *more = set.more;
    id_set_free(&set);
}

void qmgr_recover(void)
{
    queue_scan *qs = queue_scan_open(QUEUE_ACTIVE);
    const char *id;
    int n = 0;

    if (qs == NULL) {
        msg_warn("scan %s: %m", QUEUE_ACTIVE);
        return;
    }
    while ((id = queue_scan_next(qs)) != NULL) {
        if (queue_move(QUEUE_ACTIVE, QUEUE_INCOMING, id) < 0)
            msg_warn("%s: move from %s to %s: %m", id, QUEUE_ACTIVE, QUEUE_INCOMING);
        else
            n++;
    }
    queue_scan_close(qs);
    if (n > 0)
        msg_info("recovered %d message%s from %s/ after a restart", n, n == 1 ? "" : "s",
                 QUEUE_ACTIVE);
}

void qmgr_scan_incoming(void)
{
    scan_queue(QUEUE_INCOMING, 0, &incoming_more);
}

void qmgr_scan_deferred(void)
{
    scan_queue(QUEUE_DEFERRED, 1, &deferred_more);
}

void qmgr_flush(void)
{
    queue_scan *qs = queue_scan_open(QUEUE_DEFERRED);
    vstr *path = vstr_new(64);
    const char *id;

    if (qs == NULL) {
        msg_warn("scan %s: %m", QUEUE_DEFERRED);
    } else {
        while ((id = queue_scan_next(qs)) != NULL) {
            queue_path(path, QUEUE_DEFERRED, id);
            /* mtime = now: due at once; atime stays as is. */
            if (utimes(vstr_str(path), NULL) < 0 && errno != ENOENT)
                msg_warn("%s: set retry time of %s: %m", id, vstr_str(path));
        }
        queue_scan_close(qs);
    }
    vstr_free(path);
    qmgr_scan_deferred();
}

static void resume_run(void *ctx)
{
    (void) ctx;
    if (incoming_more && qmgr_active_room() > 0)
        qmgr_scan_incoming();
    if (deferred_more && qmgr_active_room() > 0)
        qmgr_scan_deferred();
}

void qmgr_scan_later(const char *queue)
{
    if (strcmp(queue, QUEUE_INCOMING) == 0)
        incoming_more = 1;
    else if (strcmp(queue, QUEUE_DEFERRED) == 0)
        deferred_more = 1;
}

void qmgr_scan_resume(void)
{
    if ((incoming_more || deferred_more) && !event_timer_pending(&resume_timer))
        event_timer_set(&resume_timer, 0, resume_run, NULL);
}

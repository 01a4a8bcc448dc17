/* The master's service list: built from master.cf, kept across reloads
 * (a service that stays keeps its listeners, so no connection is refused
 * during a reload), and the policy of when to watch a listener: only while
 * no child of the service is available and the process limit allows
 * another child. */
#include "config.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1     /* pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "argv.h"
#include "log.h"
#include "master.h"
#include "master_cf.h"
#include "master_proto.h"
#include "mem.h"
#include "params.h"
#include "skeleton.h"
#include "vstr.h"

struct master_svc *master_services;

static void listener_ready(int fd, int events, void *ctx)
{
    (void) events;
    (void) fd;
    struct master_svc *svc = ctx;

    master_spawn(svc);
    master_service_update(svc);
}

/* Watch the listeners exactly when a connection there would need a new
 * child. */
void master_service_update(struct master_svc *svc)
{
    int want = !master_stopping && !svc->removed && !svc->throttled && svc->avail == 0
        && (svc->max_proc == 0 || svc->total < svc->max_proc);
    int i;

    if (want == svc->listening)
        return;
    for (i = 0; i < svc->listen_count; i++)
        event_set(svc->listen_fds[i], want ? EV_READ : 0, listener_ready, svc);
    svc->listening = want;
}

static void svc_configure(struct master_svc *svc, const struct master_service *cf)
{
    size_t i;

    svc->private_ = cf->private_;
    svc->unpriv = cf->unpriv;
    svc->chroot_ = cf->chroot;
    svc->wakeup = cf->wakeup;
    svc->wakeup_if_used = cf->wakeup_if_used;
    svc->max_proc = cf->maxproc < 0 ? (int) config_int("default_process_limit") : cf->maxproc;
    if (svc->args)
        argv_free(svc->args);
    svc->args = argv_new();
    for (i = 0; i < cf->args->n; i++)
        argv_add(svc->args, cf->args->v[i]);
}

static struct master_svc *svc_new(const struct master_service *cf, vstr *err)
{
    struct master_svc *svc = xcalloc(1, sizeof(*svc));

    svc->name = xstrdup(cf->name);
    svc->type = xstrdup(cf->type);
    svc_configure(svc, cf);
    if (strcmp(svc->type, "inet") != 0) {
        vstr *p = vstr_new(64);

        vstr_printf(p, "%s/%s", svc->private_ ? "private" : "public", svc->name);
        svc->path = vstr_export(p);
    }
    svc->status_fd[0] = svc->status_fd[1] = -1;
    if (master_listen_open(svc, err) < 0) {
        master_service_free(svc);
        return NULL;
    }
    if (pipe2(svc->status_fd, O_CLOEXEC) < 0)
        msg_fatal("pipe: %m");
    fcntl(svc->status_fd[0], F_SETFL, O_NONBLOCK);
    event_set(svc->status_fd[0], EV_READ, master_status_ready, svc);
    return svc;
}

void master_service_free(struct master_svc *svc)
{
    master_listen_close(svc);
    if (svc->status_fd[0] >= 0) {
        event_del(svc->status_fd[0]);
        close(svc->status_fd[0]);
        close(svc->status_fd[1]);
    }
    event_timer_cancel(&svc->throttle_timer);
    event_timer_cancel(&svc->wakeup_timer);
    xfree(svc->name);
    xfree(svc->type);
    xfree(svc->path);
    if (svc->args)
        argv_free(svc->args);
    free(svc);
}

/* Wake a trigger service (qmgr) every svc->wakeup seconds.  The FIFO is
 * open read-write in the master, so a write to our own descriptor will do;
 * a socket is reached like any client would. */
static void wakeup_fire(void *ctx)
{
    struct master_svc *svc = ctx;
    char c = TRIGGER_WAKEUP;

    if (svc->removed || master_stopping)
        return;
    if (!svc->wakeup_if_used || svc->used) {
        if (strcmp(svc->type, "fifo") == 0 && svc->listen_count > 0) {
            if (write(svc->listen_fds[0], &c, 1) < 0 && errno != EAGAIN)
                msg_warn("wakeup %s: %m", svc->path);
        } else if (svc->path != NULL) {
            if (trigger_send(svc->path, c) < 0 && errno != EAGAIN)
                msg_warn("wakeup %s: %m", svc->path);
        }
    }
    event_timer_set(&svc->wakeup_timer, svc->wakeup * 1000L, wakeup_fire, svc);
}

/* Wake a trigger service at once (its process died with work possibly
 * left in active/): the wakeup makes the listener readable, so a new
 * process is started and recovers. */
void master_wakeup_now(struct master_svc *svc)
{
    if (svc->wakeup > 0 && svc->path != NULL) {
        event_timer_cancel(&svc->wakeup_timer);
        event_timer_set(&svc->wakeup_timer, 0, wakeup_fire, svc);
    }
}

void master_wakeup_start(struct master_svc *svc)
{
    if (svc->wakeup > 0 && svc->path != NULL && !event_timer_pending(&svc->wakeup_timer))
        event_timer_set(&svc->wakeup_timer, 0, wakeup_fire, svc);
    else if (svc->wakeup <= 0)
        event_timer_cancel(&svc->wakeup_timer);
}

int master_services_load(const char *path, vstr *err)
{
    struct master_service *cf;
    size_t n, i;
    struct master_svc **tail = &master_services;

    if (master_cf_parse(path, &cf, &n, err) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        struct master_svc *svc = svc_new(&cf[i], err);

        if (svc == NULL) {
            master_cf_free(cf, n);
            return -1;
        }
        *tail = svc;
        tail = &svc->next;
    }
    master_cf_free(cf, n);
    for (struct master_svc *s = master_services; s; s = s->next) {
        master_service_update(s);
        master_wakeup_start(s);
    }
    return 0;
}

static struct master_svc *svc_find(const char *name, const char *type)
{
    struct master_svc *svc;

    for (svc = master_services; svc; svc = svc->next)
        if (!svc->removed && strcmp(svc->name, name) == 0 && strcmp(svc->type, type) == 0)
            return svc;
    return NULL;
}

/* SIGHUP: services that stay keep their listeners and get new settings;
 * removed ones close their listeners; new ones open theirs.  Every
 * running child is told to finish (SIGTERM: the skeleton completes its
 * current client first), so the next child starts with the new
 * configuration. */
void master_services_reload(const char *path)
{
    struct master_service *cf;
    size_t n, i;
    vstr *err = vstr_new(100);
    struct master_svc *svc, **tail;

    if (master_cf_parse(path, &cf, &n, err) < 0) {
        msg_warn("reload: %s: keeping the old services", vstr_str(err));
        vstr_free(err);
        return;
    }
    for (svc = master_services; svc; svc = svc->next) {
        int keep = 0;

        for (i = 0; i < n && !keep; i++)
            keep = strcmp(cf[i].name, svc->name) == 0 && strcmp(cf[i].type, svc->type) == 0;
        if (!keep) {
            svc->removed = 1;
            master_listen_close(svc);
            if (svc->path != NULL && unlink(svc->path) < 0 && errno != ENOENT)
                msg_warn("remove %s: %m", svc->path);
            event_timer_cancel(&svc->wakeup_timer);
        }
        master_signal_children(svc, SIGTERM);
    }
    for (tail = &master_services; *tail; tail = &(*tail)->next)
        ;
    for (i = 0; i < n; i++) {
        svc = svc_find(cf[i].name, cf[i].type);
        if (svc != NULL) {
            svc_configure(svc, &cf[i]);
        } else {
            vstr_reset(err);
            svc = svc_new(&cf[i], err);
            if (svc == NULL) {
                msg_warn("reload: %s", vstr_str(err));
                continue;
            }
            *tail = svc;
            tail = &svc->next;
        }
    }
    master_cf_free(cf, n);
    /* Removed services without children can go now; the rest go when
     * their last child is reaped. */
    for (tail = &master_services; *tail;) {
        svc = *tail;
        if (svc->removed && svc->total == 0) {
            *tail = svc->next;
            master_service_free(svc);
            continue;
        }
        master_service_update(svc);
        if (!svc->removed)
            master_wakeup_start(svc);
        tail = &svc->next;
    }
    vstr_free(err);
}

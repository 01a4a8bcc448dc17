/* Shared state of the master daemon: the services of master.cf with their
 * listeners, status pipes and children. */
#ifndef POSTHORN_MASTER_H
#define POSTHORN_MASTER_H
#include <sys/types.h>
#include "argv.h"
#include "event.h"
#include "master_cf.h"
#include "vstr.h"

struct master_child {
    pid_t pid;
    int avail;                  /* last report: takes new clients */
    int retiring;               /* told to finish (reload): not counted as available */
    int reported;               /* has sent a status report: it started up */
    long long started_ms;
    struct master_child *next;
};

struct master_svc {
    char *name;                 /* master.cf service column */
    char *type;                 /* inet unix fifo */
    int private_, unpriv, chroot_;
    int wakeup, wakeup_if_used;
    int max_proc;               /* resolved: 0 = unlimited */
    argv_t *args;               /* command, then its arguments */
    char *path;                 /* unix/fifo: "private/NAME"; inet: NULL */
    int *listen_fds;
    int listen_count;
    int status_fd[2];           /* pipe: [0] read by master, [1] for children */
    int total;                  /* children alive */
    int avail;                  /* children available for new clients */
    int used;                   /* ever started a child (wakeup "?") */
    int listening;              /* listeners are watched by the event loop */
    int throttled;
    int removed;                /* gone from master.cf after a reload */
    struct master_child *children;
    struct event_timer throttle_timer;
    struct event_timer wakeup_timer;
    struct master_svc *next;
};

/* Identity the queue and the sockets are owned by. */
extern uid_t master_owner_uid;
extern gid_t master_owner_gid;
extern int master_stopping;
extern struct master_svc *master_services;

/* master_listen.c: listening sockets.  Each returns 0 or -1 with the
 * reason in err.  inet addresses come from the service name or from
 * inet_interfaces. */
int master_inet_addresses(const char *name, argv_t *hosts, vstr *port, vstr *err);
int master_listen_open(struct master_svc *svc, vstr *err);
void master_listen_close(struct master_svc *svc);

/* master_service.c: building the service list from master.cf, reload. */
int master_services_load(const char *path, vstr *err);
void master_services_reload(const char *path);
void master_service_update(struct master_svc *svc);
void master_service_free(struct master_svc *svc);
void master_wakeup_start(struct master_svc *svc);
void master_wakeup_now(struct master_svc *svc);

/* master_spawn.c: children. */
void master_spawn(struct master_svc *svc);
void master_status_ready(int fd, int events, void *ctx);
void master_reap(void);
void master_signal_children(struct master_svc *svc, int sig);
int master_child_count(void);

#endif

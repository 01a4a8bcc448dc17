/* Children of the master: fork and exec a service's command with the
 * descriptors and arguments of master_proto.h, track availability from
 * the status pipe, reap exits, and throttle a service whose processes die
 * right after they start (so a broken configuration does not become a
 * fork loop), without touching the other services. */
#include "config.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1     /* pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "argv.h"
#include "log.h"
#include "master.h"
#include "master_proto.h"
#include "mem.h"
#include "params.h"
#include "vstr.h"

/* A child that dies this soon after it started failed at start-up. */
#define MASTER_STARTUP_WINDOW_MS 5000
#define CHILD_PATH "PATH=/usr/bin:/bin:/usr/sbin:/sbin"

static int child_count;

int master_child_count(void)
{
    return child_count;
}

static void child_setavail(struct master_svc *svc, struct master_child *c, int avail)
{
    if (c->avail == avail || c->retiring)
        return;
    c->avail = avail;
    svc->avail += avail ? 1 : -1;
}

/* In the child, after fork: put descriptors where master_proto.h says,
 * and exec.  Nothing here may return. */
static void child_exec(struct master_svc *svc, argv_t *args)
{
    int nfds = svc->listen_count + 1;
    int *high = xcalloc(nfds, sizeof(int));
    const char *tz = getenv("TZ");
    vstr *tzenv = vstr_new(32);
    char *envp[3];
    int i, null_fd;
    sigset_t none;

    signal(SIGCHLD, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /* Move everything above the target numbers first, so that no dup2
     * overwrites a descriptor still to be moved. */
    for (i = 0; i < nfds; i++) {
        int from = i == 0 ? svc->status_fd[1] : svc->listen_fds[i - 1];

        high[i] = fcntl(from, F_DUPFD_CLOEXEC, MASTER_LISTEN_FD + nfds + 10);
        if (high[i] < 0)
            msg_fatal("dup: %m");
    }
    for (i = 0; i < nfds; i++) {
        if (dup2(high[i], MASTER_STATUS_FD + i) < 0)
            msg_fatal("dup2: %m");
    }
    null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0)
        msg_fatal("open /dev/null: %m");
    for (i = 0; i < 3; i++)
        if (null_fd != i && dup2(null_fd, i) < 0)
            msg_fatal("dup2: %m");
    closefrom(MASTER_STATUS_FD + nfds);

    if (chdir(config_str("queue_directory")) < 0)
        msg_fatal("chdir %s: %m", config_str("queue_directory"));
    envp[0] = CHILD_PATH;
    envp[1] = NULL;
    if (tz != NULL) {
        vstr_printf(tzenv, "TZ=%s", tz);
        envp[1] = vstr_str(tzenv);
    }
    envp[2] = NULL;
    execve(args->v[0], args->v, envp);
    /* The log descriptor may have been replaced by now; the parent
     * checked the program before the fork, so this is a rare race. */
    _exit(127);
}

static argv_t *child_argv(struct master_svc *svc)
{
    argv_t *a = argv_new();
    vstr *path = vstr_new(100);
    size_t i;

    vstr_printf(path, "%s/%s", config_str("daemon_directory"), svc->args->v[0]);
    argv_add(a, vstr_str(path));
    argv_add(a, "-c");
    argv_add(a, config_dir());
    argv_add(a, "-n");
    argv_add(a, svc->name);
    argv_add(a, "-t");
    argv_add(a, svc->type);
    if (svc->unpriv)
        argv_add(a, "-u");
    if (svc->chroot_)
        argv_add(a, "-Z");
    if (svc->listen_count != 1) {
        vstr_reset(path);
        vstr_printf(path, "%d", svc->listen_count);
        argv_add(a, "-s");
        argv_add(a, vstr_str(path));
    }
    if (msg_verbose)
        argv_add(a, "-v");
    for (i = 1; i < svc->args->n; i++)
        argv_add(a, svc->args->v[i]);
    vstr_free(path);
    return a;
}

static void throttle(struct master_svc *svc);

void master_spawn(struct master_svc *svc)
{
    struct master_child *c;
    argv_t *args;
    pid_t pid;

    if (svc->throttled || master_stopping || svc->removed)
        return;
    if (svc->max_proc > 0 && svc->total >= svc->max_proc)
        return;
    args = child_argv(svc);
    if (access(args->v[0], X_OK) < 0) {
        msg_warn("service %s: cannot execute %s: %m", svc->name, args->v[0]);
        argv_free(args);
        throttle(svc);
        return;
    }
    pid = fork();
    if (pid < 0) {
        msg_warn("fork: %m");
        argv_free(args);
        return;
    }
    if (pid == 0)
        child_exec(svc, args);
    argv_free(args);
    c = xcalloc(1, sizeof(*c));
    c->pid = pid;
    c->started_ms = event_now_ms();
    /* A new child counts as available: it is about to take the
     * connection that woke us, and must not be joined by more. */
    c->avail = 1;
    svc->avail++;
    svc->total++;
    svc->used = 1;
    c->next = svc->children;
    svc->children = c;
    child_count++;
    if (msg_verbose)
        msg_info("service %s: started pid %ld", svc->name, (long) pid);
}

void master_status_ready(int fd, int events, void *ctx)
{
    (void) events;
    struct master_svc *svc = ctx;
    struct master_status st;
    ssize_t n;

    while ((n = read(fd, &st, sizeof(st))) == (ssize_t) sizeof(st)) {
        struct master_child *c;

        for (c = svc->children; c && c->pid != st.pid; c = c->next)
            ;
        /* A report from a process that was already reaped is stale. */
        if (c != NULL) {
            c->reported = 1;
            child_setavail(svc, c, st.avail != 0);
        }
    }
    if (n > 0)
        msg_warn("service %s: short status report (%zd bytes)", svc->name, n);
    master_service_update(svc);
}

static void throttle_end(void *ctx)
{
    struct master_svc *svc = ctx;

    svc->throttled = 0;
    master_service_update(svc);
    master_wakeup_now(svc);
}

static void throttle(struct master_svc *svc)
{
    long t = config_time("service_throttle_time");

    msg_warn("service %s/%s throttled for %lds", svc->name, svc->type, t);
    svc->throttled = 1;
    event_timer_set(&svc->throttle_timer, t * 1000, throttle_end, svc);
    master_service_update(svc);
}

static void child_exited(struct master_svc *svc, struct master_child *c, int status)
{
    const char *path = svc->args->v[0];
    vstr *full = vstr_new(100);
    int failed = 0;

    vstr_printf(full, "%s/%s", config_str("daemon_directory"), path);
    if (WIFSIGNALED(status)) {
        /* SIGTERM is how we ask a child to leave; not a failure then. */
        if (!(WTERMSIG(status) == SIGTERM && (c->retiring || master_stopping))) {
            msg_warn("process %s pid %ld killed by signal %d", vstr_str(full), (long) c->pid,
                     WTERMSIG(status));
            failed = 1;
        }
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        msg_warn("process %s pid %ld exit status %d", vstr_str(full), (long) c->pid,
                 WEXITSTATUS(status));
        failed = 1;
    }
    /* Only a process that died before it finished starting up (no status
     * report yet) says the service is broken; one that crashed later is
     * simply replaced, so one killed smtpd does not stop the service. */
    if (failed && !master_stopping && !svc->removed && !svc->throttled && !c->reported
        && event_now_ms() - c->started_ms < MASTER_STARTUP_WINDOW_MS) {
        msg_warn("%s: bad command startup -- throttling", vstr_str(full));
        throttle(svc);
    } else if (failed && !master_stopping && !svc->removed && !svc->throttled) {
        master_wakeup_now(svc);
    }
    vstr_free(full);
}

void master_reap(void)
{
    pid_t pid;
    int status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct master_svc *svc, **sp;
        struct master_child *c = NULL, **cp = NULL;

        for (svc = master_services; svc && c == NULL; svc = svc->next) {
            for (cp = &svc->children; *cp; cp = &(*cp)->next) {
                if ((*cp)->pid == pid) {
                    c = *cp;
                    break;
                }
            }
            if (c != NULL)
                break;
        }
        if (c == NULL) {
            if (msg_verbose)
                msg_info("reaped unknown pid %ld", (long) pid);
            continue;
        }
        *cp = c->next;
        if (c->avail && !c->retiring)
            svc->avail--;
        svc->total--;
        child_count--;
        child_exited(svc, c, status);
        free(c);
        if (svc->removed && svc->total == 0) {
            for (sp = &master_services; *sp != svc; sp = &(*sp)->next)
                ;
            *sp = svc->next;
            master_service_free(svc);
        } else {
            master_service_update(svc);
        }
    }
}

void master_signal_children(struct master_svc *svc, int sig)
{
    struct master_child *c;

    for (c = svc->children; c; c = c->next) {
        if (sig == SIGTERM && !c->retiring) {
            if (c->avail)
                svc->avail--;
            c->avail = 0;
            c->retiring = 1;
        }
        if (kill(c->pid, sig) < 0 && errno != ESRCH)
            msg_warn("kill %ld: %m", (long) c->pid);
    }
}

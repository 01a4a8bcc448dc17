/* The server skeletons every daemon's main() calls: option parsing per the
 * master contract (master_proto.h), configuration, logging, the privilege
 * drop and chroot, availability reports on the master status pipe,
 * max_idle / max_use, and a clean exit when the master goes away.  Three
 * shapes share that start-up: single_server (one blocking client at a
 * time), multi_server (an event loop with many clients) and
 * trigger_server (one-byte wakeups on a FIFO or socket). */
#include "config.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1     /* accept4, pipe2, setresuid */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "argv.h"
#include "event.h"
#include "log.h"
#include "master_proto.h"
#include "mem.h"
#include "params.h"
#include "privs.h"
#include "skeleton.h"
#include "table.h"
#include "vstr.h"

/* How often a server checks that its master still exists (seconds). */
#define MASTER_CHECK_INTERVAL 2

/* What the command line and configuration said. */
static char *service_name = "";
static char *service_type = "unix";
static int opt_unpriv;
static int opt_chroot;
static int opt_standalone;
static int listen_count = 1;
static int chrooted;
static pid_t master_pid;
static int status_fd = -1;
static int last_avail = -1;
static long max_idle;
static long max_use;
static long ipc_timeout;

const char *server_service_name(void)
{
    return service_name;
}

int server_is_chrooted(void)
{
    return chrooted;
}

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static void fd_set_flags(int fd, int fd_flags, int fl_flags)
{
    int old;

    if ((old = fcntl(fd, F_GETFD)) < 0 || fcntl(fd, F_SETFD, old | fd_flags) < 0)
        msg_fatal("fcntl F_SETFD fd %d: %m", fd);
    if ((old = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, old | fl_flags) < 0)
        msg_fatal("fcntl F_SETFL fd %d: %m", fd);
}

/* Tell the master whether this process takes new clients.  A master that
 * is gone (EPIPE) means there is nobody left to serve for: exit. */
static void server_report(int avail)
{
    struct master_status st;
    ssize_t n;

    if (status_fd < 0 || avail == last_avail)
        return;
    memset(&st, 0, sizeof(st));
    st.pid = getpid();
    st.avail = avail;
    do {
        n = write(status_fd, &st, sizeof(st));
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EPIPE) {
        if (msg_verbose)
            msg_info("master went away: exiting");
        exit(0);
    }
    if (n != (ssize_t) sizeof(st))
        msg_warn("status report to master: %m");
    last_avail = avail;
}

/* The master is our parent; when it is gone we have been re-parented. */
static int server_master_gone(void)
{
    return !opt_standalone && master_pid > 1 && getppid() != master_pid;
}

/* Options, configuration, logging, jail; shared by the three shapes. */
static void server_start(int argc, char **argv, const struct server_hooks *hooks)
{
    const char *prog;
    const char *cdir = NULL;
    argv_t *overrides = argv_new();
    argv_t *unknown = argv_new();      /* warned about once logging is open */
    vstr *err = vstr_new(100);
    vstr *logname = vstr_new(64);
    const char *maillog;
    const char *qdir;
    uid_t owner_uid = 0;
    gid_t owner_gid = 0;
    int c;
    size_t i;
    int verbose = 0;

    prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    log_init(prog);
    opterr = 0;
    while ((c = getopt(argc, argv, "+c:n:t:uZs:vo:S")) != -1) {
        switch (c) {
        case 'c':
            cdir = optarg;
            break;
        case 'n':
            service_name = optarg;
            break;
        case 't':
            service_type = optarg;
            break;
        case 'u':
            opt_unpriv = 1;
            break;
        case 'Z':
            opt_chroot = 1;
            break;
        case 's':
            listen_count = atoi(optarg);
            if (listen_count < 1 || listen_count > 64)
                msg_fatal("bad listener count -s %s", optarg);
            break;
        case 'v':
            verbose++;
            break;
        case 'o':
            if (strchr(optarg, '=') == NULL)
                msg_fatal("bad -o option \"%s\": expected name=value", optarg);
            argv_add(overrides, optarg);
            break;
        case 'S':
            opt_standalone = 1;
            break;
        default:
            vstr_reset(err);
            vstr_printf(err, "-%c", optopt);
            argv_add(unknown, vstr_str(err));
            break;
        }
    }
    for (; optind < argc; optind++)
        argv_add(unknown, argv[optind]);

    if (config_load(config_dir_choose(cdir), err) < 0)
        msg_fatal("%s", vstr_str(err));
    for (i = 0; i < overrides->n; i++) {
        char *eq = strchr(overrides->v[i], '=');

        *eq = 0;
        config_set(overrides->v[i], eq + 1);
        *eq = '=';
    }
    msg_verbose += verbose;

    /* Logging is opened before the jail: the socket or file stays open. */
    vstr_printf(logname, "%s/%s", config_str("syslog_name"), prog);
    log_init(vstr_str(logname));
    maillog = config_str("maillog_file");
    if (!opt_standalone || *maillog)
        log_open(*maillog ? maillog : "syslog", config_str("syslog_facility"));
    for (i = 0; i < unknown->n; i++)
        msg_warn("ignoring unknown argument \"%s\"", unknown->v[i]);

    if (hooks && hooks->privileged && opt_unpriv)
        msg_fatal("service %s must run as root: set its unpriv column to n in master.cf",
                  service_name);
    max_idle = config_time("max_idle");
    max_use = config_int("max_use");
    ipc_timeout = config_time("ipc_timeout");

    qdir = config_str("queue_directory");
    if (chdir(qdir) < 0)
        msg_fatal("chdir %s: %m", qdir);
    if (getuid() == 0 && opt_unpriv) {
        const char *owner = config_str("mail_owner");

        if (privs_lookup(owner, &owner_uid, &owner_gid) < 0)
            msg_fatal("mail_owner \"%s\": no such user", owner);
        if (owner_uid == 0)
            msg_fatal("mail_owner \"%s\" has uid 0: refusing to run as root", owner);
    }

    master_pid = getppid();
    if (!opt_standalone && fd_is_open(MASTER_STATUS_FD)) {
        status_fd = MASTER_STATUS_FD;
        fd_set_flags(status_fd, FD_CLOEXEC, 0);
    }
    if (!opt_standalone) {
        for (c = 0; c < listen_count; c++) {
            if (!fd_is_open(MASTER_LISTEN_FD + c))
                msg_fatal("listener fd %d is not open: this program is started by master(8)",
                          MASTER_LISTEN_FD + c);
            fd_set_flags(MASTER_LISTEN_FD + c, FD_CLOEXEC, O_NONBLOCK);
        }
    }
    signal(SIGPIPE, SIG_IGN);

    if (hooks && hooks->pre_jail)
        hooks->pre_jail(hooks->ctx);
    if (getuid() == 0) {
        if (opt_unpriv) {
            privs_drop(owner_uid, owner_gid, opt_chroot ? qdir : NULL);
            chrooted = opt_chroot;
        } else if (opt_chroot) {
            if (chroot(qdir) < 0 || chdir("/") < 0)
                msg_fatal("chroot %s: %m", qdir);
            chrooted = 1;
        }
    } else {
        struct passwd *pw = getpwuid(getuid());

        msg_info("running as %s, without chroot (development instance)",
                 pw ? pw->pw_name : "an unprivileged user");
    }
    if (hooks && hooks->post_jail)
        hooks->post_jail(hooks->ctx);
    argv_free(overrides);
    argv_free(unknown);
    vstr_free(err);
    vstr_free(logname);
}

/* SIGTERM handling shared by the event-driven shapes: a self-pipe makes
 * the signal an ordinary event. */
static int term_pipe[2] = {-1, -1};
static volatile sig_atomic_t term_seen;

static void term_handler(int sig)
{
    int saved = errno;

    term_seen = 1;
    if (term_pipe[1] >= 0)
        (void) !write(term_pipe[1], "", 1);
    errno = saved;
    (void) sig;
}

static void term_catch(int with_pipe)
{
    struct sigaction sa;

    if (with_pipe) {
        if (pipe2(term_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
            msg_fatal("pipe: %m");
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = term_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) < 0)
        msg_fatal("sigaction: %m");
}

/* ------------------------------------------------------------------ */
/* single_server */

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Has a lookup table changed beyond what this process can reload?  Says
 * so once in the log. */
static int server_tables_stale(void)
{
    static int logged;
    const char *spec = table_stale_spec();

    if (spec != NULL && !logged) {
        msg_info("table %s has changed -- restarting", spec);
        logged = 1;
    }
    return spec != NULL;
}

static void single_serve_fd(int fd, void (*service)(stream *, void *),
                            const struct server_hooks *hooks)
{
    stream *s = stream_fdopen(fd);
    sigset_t term, old;

    /* A SIGTERM (reload, stop) waits until this client is done. */
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    stream_set_timeout(s, (int) ipc_timeout);
    service(s, hooks ? hooks->ctx : NULL);
    stream_close(s);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

int single_server_main(int argc, char **argv, void (*service)(stream *client, void *ctx),
                       const struct server_hooks *hooks)
{
    struct pollfd *pfd;
    long long idle_since;
    long served = 0;
    int i;

    server_start(argc, argv, hooks);
    term_catch(0);
    if (opt_standalone) {
        single_serve_fd(dup(0), service, hooks);
        exit(0);
    }
    pfd = xcalloc(listen_count, sizeof(*pfd));
    for (i = 0; i < listen_count; i++) {
        pfd[i].fd = MASTER_LISTEN_FD + i;
        pfd[i].events = POLLIN;
    }
    idle_since = mono_ms();
    server_report(1);
    while (served < max_use) {
        long long now;
        long wait_ms;
        int n, fd = -1;

        if (term_seen || server_master_gone())
            break;
        now = mono_ms();
        if (now - idle_since >= max_idle * 1000LL)
            break;
        wait_ms = max_idle * 1000L - (long) (now - idle_since);
        if (wait_ms > MASTER_CHECK_INTERVAL * 1000)
            wait_ms = MASTER_CHECK_INTERVAL * 1000;
        n = poll(pfd, listen_count, (int) wait_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            msg_fatal("poll: %m");
        }
        for (i = 0; i < listen_count && fd < 0; i++) {
            if (pfd[i].revents == 0)
                continue;
            fd = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
                && errno != ECONNABORTED)
                msg_warn("accept: %m");
        }
        if (fd < 0)
            continue;
        /* The listener is non-blocking; the client stream is not. */
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        server_report(0);
        single_serve_fd(fd, service, hooks);
        served++;
        if (server_tables_stale())
            break;
        idle_since = mono_ms();
        server_report(1);
    }
    if (msg_verbose)
        msg_info("exiting after %ld clients", served);
    exit(0);
}

/* ------------------------------------------------------------------ */
/* multi_server */

static void (*multi_on_accept)(int, void *);
static const struct server_hooks *multi_hooks;
static void (*multi_drain_fn)(void);
static int multi_cap;
static int multi_clients;
static long multi_served;
static int multi_listening;
static int multi_stopping;      /* draining or retired after max_use */
static int multi_drain_requested;
static struct event_timer multi_idle_timer;
static struct event_timer master_check_timer;

static void multi_accept_ready(int fd, int events, void *ctx);

static void multi_listen(int on)
{
    int i;

    if (on == multi_listening || opt_standalone)
        return;
    for (i = 0; i < listen_count; i++)
        event_set(MASTER_LISTEN_FD + i, on ? EV_READ : 0, multi_accept_ready, NULL);
    multi_listening = on;
}

static void multi_idle_expired(void *ctx)
{
    (void) ctx;
    if (multi_clients == 0) {
        if (msg_verbose)
            msg_info("idle for %lds: exiting", max_idle);
        exit(0);
    }
}

/* Stop taking clients; exit once the last one is gone. */
static void multi_stop(void)
{
    int i;

    multi_stopping = 1;
    multi_listen(0);
    server_report(0);
    /* Closing the listener copies lets the master see our end. */
    for (i = 0; i < listen_count && !opt_standalone; i++) {
        event_del(MASTER_LISTEN_FD + i);
        close(MASTER_LISTEN_FD + i);
    }
    if (multi_clients == 0)
        exit(0);
}

static void multi_accept_ready(int lfd, int events, void *ctx)
{
    (void) ctx;
    (void) events;
    while (!multi_stopping && multi_clients < multi_cap) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                msg_warn("accept: %m");
            break;
        }
        multi_clients++;
        multi_served++;
        event_timer_cancel(&multi_idle_timer);
        multi_on_accept(fd, multi_hooks ? multi_hooks->ctx : NULL);
        if (multi_served >= max_use) {
            multi_stop();
            return;
        }
    }
    if (multi_clients >= multi_cap) {
        multi_listen(0);
        server_report(0);
    }
}

void multi_server_disconnect(void)
{
    if (multi_clients <= 0)
        msg_panic("multi_server_disconnect: no client is connected");
    multi_clients--;
    if (multi_stopping) {
        if (multi_clients == 0)
            exit(0);
        return;
    }
    if (multi_clients < multi_cap) {
        multi_listen(1);
        server_report(1);
    }
    if (multi_clients == 0)
        event_timer_set(&multi_idle_timer, max_idle * 1000, multi_idle_expired, NULL);
}

void multi_server_on_drain(void (*fn)(void))
{
    multi_drain_fn = fn;
}

void multi_server_drain(void)
{
    if (multi_drain_requested)
        return;
    multi_drain_requested = 1;
    multi_stop();
    if (multi_drain_fn)
        multi_drain_fn();
}

int multi_server_draining(void)
{
    return multi_drain_requested;
}

static void term_pipe_ready(int fd, int events, void *ctx)
{
    (void) ctx;
    (void) events;
    char buf[16];

    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    if (multi_on_accept) {
        if (msg_verbose)
            msg_info("SIGTERM: draining %d clients", multi_clients);
        multi_server_drain();
    } else {
        exit(0);
    }
}

static void master_check(void *ctx)
{
    (void) ctx;
    if (server_master_gone()) {
        if (msg_verbose)
            msg_info("master went away: exiting");
        if (multi_on_accept)
            multi_server_drain();
        else
            exit(0);
    }
    /* An event-driven server finishes its sessions with the tables it has
     * and is replaced by one that reads the new ones. */
    if (multi_on_accept && !multi_stopping && server_tables_stale())
        multi_server_drain();
    event_timer_set(&master_check_timer, MASTER_CHECK_INTERVAL * 1000, master_check, NULL);
}

static void event_servers_start(void)
{
    event_init();
    term_catch(1);
    event_set(term_pipe[0], EV_READ, term_pipe_ready, NULL);
    if (!opt_standalone)
        event_timer_set(&master_check_timer, MASTER_CHECK_INTERVAL * 1000, master_check, NULL);
}

int multi_server_main(int argc, char **argv, void (*on_accept)(int fd, void *ctx),
                      const char *session_cap_param, const struct server_hooks *hooks)
{
    server_start(argc, argv, hooks);
    multi_on_accept = on_accept;
    multi_hooks = hooks;
    multi_cap = session_cap_param ? (int) config_int(session_cap_param) : 1;
    if (multi_cap < 1)
        multi_cap = 1;
    event_servers_start();
    if (opt_standalone) {
        int fd = dup(0);

        if (fd < 0)
            msg_fatal("dup: %m");
        fd_set_flags(fd, FD_CLOEXEC, O_NONBLOCK);
        multi_clients = 1;
        multi_stopping = 1;
        on_accept(fd, hooks ? hooks->ctx : NULL);
    } else {
        multi_listen(1);
        server_report(1);
        event_timer_set(&multi_idle_timer, max_idle * 1000, multi_idle_expired, NULL);
    }
    event_loop();
    exit(0);
}

/* ------------------------------------------------------------------ */
/* trigger_server */

/* Triggers that arrive over a UNIX socket: accept, read, close. */
#define TRIGGER_MAX_CONN 64
#define TRIGGER_CONN_TIMEOUT 10

struct trigger_conn {
    int fd;
    struct event_timer timer;
};

static void (*trigger_fn)(const char *, size_t, void *);
static const struct server_hooks *trigger_hooks;
static struct trigger_conn trigger_conns[TRIGGER_MAX_CONN];
static struct event_timer trigger_idle_timer;
static long trigger_served;
static int trigger_exit_when_idle;

static void trigger_idle_expired(void *ctx)
{
    (void) ctx;
    if (msg_verbose)
        msg_info("idle for %lds: exiting", max_idle);
    exit(0);
}

/* Before the work: what a trigger asks for must be done with the new
 * tables, by a new process.  The request goes back into the FIFO (the
 * master opened it read-write, and so is our copy), so the master starts
 * the successor at once and it finds the request waiting. */
static void trigger_restart_if_stale(int fifo_fd, const char *buf, size_t len)
{
    static int told;

    if (!server_tables_stale())
        return;
    if (trigger_hooks && trigger_hooks->tables_changed) {
        if (!told++)
            trigger_hooks->tables_changed(trigger_hooks->ctx);
        return;
    }
    if (fifo_fd >= 0 && write(fifo_fd, buf, len) < 0)
        msg_warn("requeue trigger for my successor: %m");
    exit(0);
}

void trigger_server_restart(void)
{
    char wakeup = TRIGGER_WAKEUP;

    for (int i = 0; i < listen_count && !opt_standalone; i++) {
        struct stat st;

        if (fstat(MASTER_LISTEN_FD + i, &st) == 0 && S_ISFIFO(st.st_mode)
            && write(MASTER_LISTEN_FD + i, &wakeup, 1) < 0)
            msg_warn("wake my successor: %m");
    }
    exit(0);
}

static void trigger_deliver(int fifo_fd, const char *buf, size_t len)
{
    server_report(0);
    trigger_restart_if_stale(fifo_fd, buf, len);
    trigger_fn(buf, len, trigger_hooks ? trigger_hooks->ctx : NULL);
    server_report(1);
    if (trigger_exit_when_idle) {
        if (++trigger_served >= max_use)
            exit(0);
        event_timer_set(&trigger_idle_timer, max_idle * 1000, trigger_idle_expired, NULL);
    }
}

static void trigger_conn_close(struct trigger_conn *tc)
{
    event_timer_cancel(&tc->timer);
    event_del(tc->fd);
    close(tc->fd);
    tc->fd = -1;
}

static void trigger_conn_timeout(void *ctx)
{
    trigger_conn_close(ctx);
}

static void trigger_conn_ready(int fd, int events, void *ctx)
{
    (void) events;
    struct trigger_conn *tc = ctx;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n > 0) {
        trigger_deliver(-1, buf, (size_t) n);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    trigger_conn_close(tc);
}

static void trigger_socket_ready(int lfd, int events, void *ctx)
{
    (void) ctx;
    (void) events;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct trigger_conn *tc = NULL;
        int i;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                msg_warn("accept: %m");
            return;
        }
        for (i = 0; i < TRIGGER_MAX_CONN && tc == NULL; i++)
            if (trigger_conns[i].fd < 0)
                tc = &trigger_conns[i];
        if (tc == NULL) {
            /* Too many slow trigger clients: a wakeup is lost, not memory. */
            msg_warn("too many trigger connections; dropping one");
            close(fd);
            continue;
        }
        tc->fd = fd;
        event_set(fd, EV_READ, trigger_conn_ready, tc);
        event_timer_set(&tc->timer, TRIGGER_CONN_TIMEOUT * 1000, trigger_conn_timeout, tc);
    }
}

static void trigger_fifo_ready(int fd, int events, void *ctx)
{
    (void) ctx;
    (void) events;
    char buf[1024];
    ssize_t n;

    /* The master opened the FIFO read-write, so it never reports EOF. */
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        trigger_deliver(fd, buf, (size_t) n);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
        msg_fatal("read trigger fifo: %m");
}

int trigger_server_main(int argc, char **argv, void (*on_trigger)(const char *buf, size_t len, void *ctx),
                        const struct server_hooks *hooks)
{
    int i;

    server_start(argc, argv, hooks);
    trigger_fn = on_trigger;
    trigger_hooks = hooks;
    /* A single-instance trigger server (qmgr) keeps state in memory and
     * lives as long as the master; others exit when idle or used up. */
    trigger_exit_when_idle = !(hooks && hooks->single_instance);
    for (i = 0; i < TRIGGER_MAX_CONN; i++)
        trigger_conns[i].fd = -1;
    event_servers_start();
    for (i = 0; i < listen_count && !opt_standalone; i++) {
        int fd = MASTER_LISTEN_FD + i;
        struct stat st;

        if (fstat(fd, &st) < 0)
            msg_fatal("fstat listener: %m");
        if (S_ISFIFO(st.st_mode))
            event_set(fd, EV_READ, trigger_fifo_ready, NULL);
        else
            event_set(fd, EV_READ, trigger_socket_ready, NULL);
    }
    server_report(1);
    if (trigger_exit_when_idle)
        event_timer_set(&trigger_idle_timer, max_idle * 1000, trigger_idle_expired, NULL);
    event_loop();
    exit(0);
}

/* ------------------------------------------------------------------ */
/* Clients of local services */

int service_connect(const char *path, int nonblock)
{
    struct sockaddr_un sun;
    int fd;
    size_t len = strlen(path);

    if (len >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, len + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    while (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        int saved = errno;

        if (saved == EINTR && !nonblock)
            continue;
        if (nonblock && saved == EINPROGRESS)
            return fd;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int trigger_send(const char *path, char what)
{
    struct stat st;
    int fd;
    ssize_t n;

    if (stat(path, &st) < 0)
        return -1;
    if (S_ISFIFO(st.st_mode)) {
        fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    } else if (S_ISSOCK(st.st_mode)) {
        fd = service_connect(path, 1);
    } else {
        errno = EINVAL;
        return -1;
    }
    if (fd < 0)
        return -1;
    n = write(fd, &what, 1);
    /* A full FIFO already holds a wakeup; that is as good as ours. */
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        int saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    close(fd);
    return 0;
}

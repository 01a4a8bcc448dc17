/* master(8): the supervisor.  Reads main.cf and master.cf, makes sure the
 * queue tree exists with the right owners, holds the pid lock so only one
 * master runs per queue, opens every listener, forks services on demand
 * (master_spawn.c), reloads on SIGHUP and stops cleanly on SIGTERM.
 * Without -f it daemonizes and tells its parent (posthorn start) when the
 * listeners are open, or why it failed. */
#include "config.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1     /* pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "event.h"
#include "log.h"
#include "master.h"
#include "mem.h"
#include "params.h"
#include "privs.h"
#include "queue.h"
#include "safe_file.h"
#include "vstr.h"

/* How long children get to finish after SIGTERM before SIGKILL. */
#define MASTER_STOP_GRACE_MS 10000
/* The byte a daemonizing master sends its parent once it is ready. */
#define MASTER_READY_MARK '\001'

uid_t master_owner_uid;
gid_t master_owner_gid;
int master_stopping;

static int signal_pipe[2] = {-1, -1};
static char *pid_path;
static int ready_fd = -1;

static void usage(void)
{
    fprintf(stderr, "usage: master [-c config_dir] [-f] [-v]\n");
    exit(2);
}

static void signal_catch(int sig)
{
    int saved = errno;
    char c = (char) sig;

    (void) !write(signal_pipe[1], &c, 1);
    errno = saved;
}

static void master_stop(int sig)
{
    struct master_svc *svc;
    long long deadline;

    msg_info("terminating on signal %d", sig);
    master_stopping = 1;
    for (svc = master_services; svc; svc = svc->next) {
        master_listen_close(svc);
        event_timer_cancel(&svc->wakeup_timer);
        master_signal_children(svc, SIGTERM);
    }
    deadline = event_now_ms() + MASTER_STOP_GRACE_MS;
    while (master_child_count() > 0 && event_now_ms() < deadline) {
        event_run_once(100);
        master_reap();
    }
    if (master_child_count() > 0) {
        msg_warn("%d processes did not stop in time: killing them", master_child_count());
        for (svc = master_services; svc; svc = svc->next)
            master_signal_children(svc, SIGKILL);
        while (master_child_count() > 0) {
            usleep(50000);
            master_reap();
        }
    }
    if (pid_path != NULL)
        unlink(pid_path);
    exit(0);
}

static void master_reload(void)
{
    vstr *err = vstr_new(100);
    vstr *path = vstr_new(100);

    if (config_load(config_dir(), err) < 0) {
        msg_warn("reload: %s: keeping the old configuration", vstr_str(err));
    } else {
        vstr_printf(path, "%s/master.cf", config_dir());
        master_services_reload(vstr_str(path));
        msg_info("reload -- version %s, configuration %s", PACKAGE_VERSION, config_dir());
    }
    vstr_free(err);
    vstr_free(path);
}

static void signal_ready(int fd, int events, void *ctx)
{
    (void) ctx;
    (void) events;
    char buf[64];
    ssize_t n;
    int i, reap = 0, hup = 0, stop = 0;

    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (i = 0; i < n; i++) {
            if (buf[i] == SIGCHLD)
                reap = 1;
            else if (buf[i] == SIGHUP)
                hup = 1;
            else if (buf[i] == SIGTERM || buf[i] == SIGINT)
                stop = buf[i];
        }
    }
    if (reap)
        master_reap();
    if (stop && !master_stopping)
        master_stop(stop);
    if (hup && !master_stopping)
        master_reload();
}

static void signals_init(void)
{
    struct sigaction sa;
    static const int sigs[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT};
    size_t i;

    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        msg_fatal("pipe: %m");
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = signal_catch;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) < 0)
            msg_fatal("sigaction: %m");
    signal(SIGPIPE, SIG_IGN);
    event_set(signal_pipe[0], EV_READ, signal_ready, NULL);
}

/* Fork into the background.  The parent waits until the daemon says it is
 * ready, passing on whatever the daemon reports on the way (its stderr is
 * the pipe until then), and exits 0 only when the ready mark came. */
static void daemonize(void)
{
    int p[2];
    pid_t pid;
    int null_fd;

    if (pipe(p) < 0)
        msg_fatal("pipe: %m");
    if ((pid = fork()) < 0)
        msg_fatal("fork: %m");
    if (pid > 0) {
        char buf[512];
        ssize_t n;
        int ready = 0;

        close(p[1]);
        while ((n = read(p[0], buf, sizeof(buf))) != 0) {
            char *mark;

            if (n < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            if ((mark = memchr(buf, MASTER_READY_MARK, (size_t) n)) != NULL) {
                ready = 1;
                n = mark - buf;
            }
            (void) !write(2, buf, (size_t) n);
        }
        exit(ready ? 0 : 1);
    }
    close(p[0]);
    if (setsid() < 0)
        msg_fatal("setsid: %m");
    null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0)
        msg_fatal("open /dev/null: %m");
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(p[1], 2);
    close(p[1]);
    if (null_fd > 2)
        close(null_fd);
    ready_fd = 2;
}

static void announce_ready(void)
{
    int null_fd;
    char mark = MASTER_READY_MARK;

    if (ready_fd < 0)
        return;
    (void) !write(ready_fd, &mark, 1);
    log_also_stderr(0);
    null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
        dup2(null_fd, ready_fd);
        if (null_fd != ready_fd)
            close(null_fd);
    }
    ready_fd = -1;
}

/* The queue's owner: mail_owner as root, else whoever runs us. */
static void owner_resolve(gid_t *setgid_gid)
{
    const char *owner = config_str("mail_owner");
    const char *group = config_str("setgid_group");
    struct group *gr;

    if (getuid() != 0) {
        master_owner_uid = getuid();
        master_owner_gid = getgid();
        *setgid_gid = getgid();
        return;
    }
    if (privs_lookup(owner, &master_owner_uid, &master_owner_gid) < 0)
        msg_fatal("mail_owner \"%s\" does not exist: create the account or set mail_owner "
                  "in %s/main.cf", owner, config_dir());
    if (master_owner_uid == 0)
        msg_fatal("mail_owner \"%s\" has uid 0: it must be an unprivileged account", owner);
    gr = getgrnam(group);
    if (gr == NULL) {
        msg_warn("setgid_group \"%s\" does not exist: using the group of mail_owner", group);
        *setgid_gid = master_owner_gid;
    } else {
        *setgid_gid = gr->gr_gid;
    }
}

/* One master per queue: an fcntl lock on pid/master.pid, which also
 * holds our pid for posthorn stop/status. */
static void pid_lock(void)
{
    vstr *p = vstr_new(64);
    struct flock fl;
    char buf[32];
    int fd, len;

    vstr_printf(p, "%s/master.pid", config_str("process_id_directory"));
    fd = open(vstr_str(p), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        msg_fatal("open %s/%s: %m", config_str("queue_directory"), vstr_str(p));
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        if (errno == EAGAIN || errno == EACCES)
            msg_fatal("the posthorn mail system is already running (queue %s)",
                      config_str("queue_directory"));
        msg_fatal("lock %s: %m", vstr_str(p));
    }
    len = snprintf(buf, sizeof(buf), "%10ld\n", (long) getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) len, 0) != len)
        msg_fatal("write %s: %m", vstr_str(p));
    /* Absolute: master_stop may run after a chdir by nobody, but be safe. */
    vstr_reset(p);
    vstr_printf(p, "%s/%s/master.pid", config_str("queue_directory"),
                config_str("process_id_directory"));
    pid_path = vstr_export(p);
}

static void log_file_prepare(const char *file)
{
    char *dir = xstrdup(file);
    char *slash = strrchr(dir, '/');
    int fd;

    if (slash != NULL && slash != dir) {
        *slash = 0;
        if (mkdir_p(dir, 0755) < 0)
            msg_fatal("create log directory %s: %m", dir);
    }
    fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        msg_fatal("open log file %s: %m", file);
    close(fd);
    free(dir);
}

int main(int argc, char **argv)
{
    const char *cdir = NULL;
    int foreground = 0;
    int verbose = 0;
    int c;
    vstr *err = vstr_new(100);
    vstr *path = vstr_new(100);
    const char *qdir, *maillog;
    gid_t setgid_gid;
    struct stat st;

    log_init("master");
    while ((c = getopt(argc, argv, "c:fv")) != -1) {
        switch (c) {
        case 'c':
            cdir = optarg;
            break;
        case 'f':
            foreground = 1;
            break;
        case 'v':
            verbose++;
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();
    umask(022);
    if (config_load(config_dir_choose(cdir), err) < 0)
        msg_fatal("%s", vstr_str(err));
    msg_verbose += verbose;

    vstr_printf(path, "%s/master", config_str("syslog_name"));
    log_init(vstr_str(path));
    maillog = config_str("maillog_file");
    if (*maillog)
        log_file_prepare(maillog);
    log_open(*maillog ? maillog : "syslog", config_str("syslog_facility"));
    log_also_stderr(1);
    if (!foreground)
        daemonize();

    owner_resolve(&setgid_gid);
    qdir = config_str("queue_directory");
    if (stat(qdir, &st) < 0 && mkdir_p(qdir, 0755) < 0)
        msg_fatal("create queue directory %s: %m", qdir);
    if (queue_tree_create(qdir, master_owner_uid, setgid_gid, err) < 0)
        msg_fatal("%s", vstr_str(err));
    if (chdir(qdir) < 0)
        msg_fatal("chdir %s: %m", qdir);
    pid_lock();

    event_init();
    signals_init();
    vstr_reset(path);
    vstr_printf(path, "%s/master.cf", config_dir());
    vstr_reset(err);
    if (master_services_load(vstr_str(path), err) < 0)
        msg_fatal("%s", vstr_str(err));
    announce_ready();
    msg_info("daemon started -- version %s, configuration %s", PACKAGE_VERSION, config_dir());
    vstr_free(err);
    vstr_free(path);
    event_loop();
    return 0;
}

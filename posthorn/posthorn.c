/* posthorn(1): the administrator's command.
 *     posthorn [-c config_dir] [-v] start|start-fg|stop|reload|status|check|flush
 * start runs master, which daemonizes and returns once its listeners are
 * open; stop, reload and status find the master through the lock on
 * queue_directory/pid/master.pid; check is a preflight of everything a
 * start needs, each problem printed with its fix. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "argv.h"
#include "log.h"
#include "master/master.h"
#include "master_cf.h"
#include "mail_proto.h"
#include "master_proto.h"
#include "mem.h"
#include "params.h"
#include "privs.h"
#include "queue.h"
#include "skeleton.h"
#include "vstr.h"

#define STOP_WAIT_SECONDS 30

/* master_listen.c wants these; check opens listeners only to probe. */
uid_t master_owner_uid;
gid_t master_owner_gid;
int master_stopping;
struct master_svc *master_services;

static void usage(void)
{
    fprintf(stderr, "usage: posthorn [-c config_dir] [-v] "
            "start|start-fg|stop|reload|status|check|flush\n");
    exit(2);
}

/* The running master's pid, from the holder of its lock; 0 if none. */
static pid_t master_running_pid(void)
{
    vstr *p = vstr_new(100);
    struct flock fl;
    int fd;
    pid_t pid = 0;

    vstr_printf(p, "%s/%s/master.pid", config_str("queue_directory"),
                config_str("process_id_directory"));
    fd = open(vstr_str(p), O_RDONLY | O_CLOEXEC);
    vstr_free(p);
    if (fd < 0)
        return 0;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
        pid = fl.l_pid;
    close(fd);
    return pid;
}

static const char *master_program(void)
{
    static vstr *path;

    if (path == NULL) {
        path = vstr_new(100);
        vstr_printf(path, "%s/master", config_str("daemon_directory"));
    }
    return vstr_str(path);
}

static int cmd_start(void)
{
    pid_t pid, running;
    int status;

    if ((running = master_running_pid()) != 0) {
        fprintf(stderr, "posthorn: the mail system is already running as PID %ld\n",
                (long) running);
        return 1;
    }
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "posthorn: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execl(master_program(), "master", "-c", config_dir(), (char *) NULL);
        fprintf(stderr, "posthorn: cannot run %s: %s\n", master_program(), strerror(errno));
        _exit(1);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "posthorn: waitpid: %s\n", strerror(errno));
            return 1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    fprintf(stderr, "posthorn: the mail system did not start\n");
    return 1;
}

static int cmd_start_fg(void)
{
    execl(master_program(), "master", "-f", "-c", config_dir(), (char *) NULL);
    fprintf(stderr, "posthorn: cannot run %s: %s\n", master_program(), strerror(errno));
    return 1;
}

static int cmd_signal(int sig)
{
    pid_t pid = master_running_pid();

    if (pid == 0) {
        fprintf(stderr, "posthorn: the mail system is not running\n");
        return 1;
    }
    if (kill(pid, sig) < 0) {
        fprintf(stderr, "posthorn: signal PID %ld: %s\n", (long) pid, strerror(errno));
        return 1;
    }
    return 0;
}

static int cmd_stop(void)
{
    struct timespec tick = {0, 100 * 1000 * 1000};
    int i;

    if (cmd_signal(SIGTERM) != 0)
        return 1;
    for (i = 0; i < STOP_WAIT_SECONDS * 10; i++) {
        if (master_running_pid() == 0)
            return 0;
        nanosleep(&tick, NULL);
    }
    fprintf(stderr, "posthorn: the mail system did not stop within %d seconds\n",
            STOP_WAIT_SECONDS);
    return 1;
}

static int cmd_status(void)
{
    pid_t pid = master_running_pid();

    if (pid == 0) {
        printf("posthorn is not running\n");
        return 1;
    }
    printf("posthorn is running as PID %ld\n", (long) pid);
    return 0;
}

static int cmd_flush(void)
{
    if (chdir(config_str("queue_directory")) < 0) {
        fprintf(stderr, "posthorn: chdir %s: %s\n", config_str("queue_directory"),
                strerror(errno));
        return 1;
    }
    if (trigger_send(QMGR_TRIGGER, TRIGGER_FLUSH) < 0) {
        fprintf(stderr, "posthorn: cannot flush: %s: %s (is posthorn running?)\n",
                QMGR_TRIGGER, strerror(errno));
        return 1;
    }
    return 0;
}

/* check */

static int problem_count;

static void problem(const char *what, const char *fix)
{
    printf("posthorn: problem: %s ; fix: %s\n", what, fix);
    problem_count++;
}

static void problemf(const char *fix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problemf(const char *fix, const char *fmt, ...)
{
    vstr *v = vstr_new(100);
    va_list ap;

    va_start(ap, fmt);
    vstr_vprintf(v, fmt, ap);
    va_end(ap);
    problem(vstr_str(v), fix);
    vstr_free(v);
}

/* Each line of a problem list (queue_tree_check, config_validate). */
static void problem_lines(const char *text, const char *fix)
{
    argv_t *lines = argv_split(text, "\n");
    size_t i;

    for (i = 0; i < lines->n; i++) {
        /* Lines that already say how to fix themselves are printed as is. */
        if (strstr(lines->v[i], "fix:") != NULL) {
            printf("posthorn: problem: %s\n", lines->v[i]);
            problem_count++;
        } else {
            problem(lines->v[i], fix);
        }
    }
    argv_free(lines);
}

static void check_accounts(uid_t *owner_uid)
{
    const char *owner = config_str("mail_owner");
    uid_t uid;
    gid_t gid;
    struct passwd *pw;

    *owner_uid = getuid();
    if (privs_lookup(owner, &uid, &gid) < 0) {
        if (getuid() == 0)
            problemf("create the account (useradd --system ...) or set mail_owner in main.cf",
                     "mail_owner \"%s\" does not exist", owner);
        return;
    }
    if (getuid() != 0)
        return;
    *owner_uid = uid;
    if (uid == 0) {
        problemf("set mail_owner to an unprivileged account of its own",
                 "mail_owner \"%s\" has uid 0 (root)", owner);
        return;
    }
    setpwent();
    while ((pw = getpwent()) != NULL) {
        if (pw->pw_uid == uid && strcmp(pw->pw_name, owner) != 0)
            problemf("give mail_owner a uid of its own",
                     "account \"%s\" shares uid %ld with mail_owner \"%s\"", pw->pw_name,
                     (long) uid, owner);
    }
    endpwent();
    if (getgrnam(config_str("setgid_group")) == NULL)
        problemf("create the group (groupadd --system ...) or set setgid_group in main.cf",
                 "setgid_group \"%s\" does not exist", config_str("setgid_group"));
}

/* As root: the queue directory is the chroot of the unprivileged
 * daemons, so it and every directory above it must belong to root, must
 * not be writable by others, and must let mail_owner pass through. */
static void check_queue_path(const char *qdir, uid_t owner_uid)
{
    char *path = xstrdup(qdir);
    struct stat st;
    char *slash;

    for (int top = 1;; top = 0) {
        const char *name = *path ? path : "/";

        if (stat(name, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (st.st_uid != 0)
                problemf("chown root each directory on the path to queue_directory",
                         "%s is owned by uid %ld, not root", name, (long) st.st_uid);
            /* A sticky /tmp above us is fine: nobody can rename our entry. */
            if ((st.st_mode & (S_IWGRP | S_IWOTH)) && (top || !(st.st_mode & S_ISVTX)))
                problemf("chmod go-w each directory on the path to queue_directory",
                         "%s is writable by group or others", name);
            if (owner_uid != 0 && (st.st_mode & S_IXOTH) == 0)
                problemf("chmod o+x each directory on the path to queue_directory",
                         "%s is not searchable by mail_owner", name);
        }
        slash = strrchr(path, '/');
        if (slash == NULL || *path == '\0')
            break;
        *slash = '\0';
    }
    free(path);
}

static void check_queue(uid_t owner_uid)
{
    const char *qdir = config_str("queue_directory");
    struct stat st;
    vstr *problems = vstr_new(100);

    if (stat(qdir, &st) < 0) {
        if (errno != ENOENT)
            problemf("make it readable, or correct queue_directory in main.cf",
                     "queue_directory %s: %s", qdir, strerror(errno));
        /* Missing: master creates it and the tree at start. */
    } else if (!S_ISDIR(st.st_mode)) {
        problemf("remove it, or correct queue_directory in main.cf",
                 "queue_directory %s is not a directory", qdir);
    } else {
        if (geteuid() == 0)
            check_queue_path(qdir, owner_uid);
        if (queue_tree_check(qdir, owner_uid, problems) > 0)
            problem_lines(vstr_str(problems), "run posthorn start, which repairs the queue tree");
    }
    vstr_free(problems);
}

static void check_services(struct master_service *svcs, size_t n, pid_t running)
{
    const char *ddir = config_str("daemon_directory");
    vstr *path = vstr_new(100);
    vstr *err = vstr_new(100);
    size_t i;

    for (i = 0; i < n; i++) {
        struct master_svc probe;

        vstr_reset(path);
        vstr_printf(path, "%s/%s", ddir, svcs[i].args->v[0]);
        if (access(vstr_str(path), X_OK) < 0)
            problemf("install it, or correct daemon_directory in main.cf or the command in "
                     "master.cf", "service %s: program %s: %s", svcs[i].name, vstr_str(path),
                     strerror(errno));
        if (strcmp(svcs[i].type, "inet") != 0 || running != 0)
            continue;
        /* Probe the port the way master would open it. */
        memset(&probe, 0, sizeof(probe));
        probe.name = svcs[i].name;
        probe.type = svcs[i].type;
        vstr_reset(err);
        if (master_listen_open(&probe, err) < 0)
            problem(vstr_str(err), "stop the program that holds the port, or change the "
                    "service address in master.cf");
        master_listen_close(&probe);
    }
    vstr_free(path);
    vstr_free(err);
}

static void check_log_file(void)
{
    const char *file = config_str("maillog_file");
    char *dir;
    char *slash;

    if (*file == 0)
        return;
    if (access(file, W_OK) == 0)
        return;
    dir = xstrdup(file);
    slash = strrchr(dir, '/');
    if (slash != NULL)
        *(slash == dir ? slash + 1 : slash) = 0;
    else
        strcpy(dir, ".");
    if (access(dir, W_OK) < 0)
        problemf("create the directory or correct maillog_file in main.cf",
                 "maillog_file %s: directory %s is not writable: %s", file, dir,
                 strerror(errno));
    free(dir);
}

/* postdrop and postqueue in command_directory must be set-group-id
 * setgid_group for users to reach maildrop/ and public/ (a system install;
 * a development instance runs everything as one user and needs nothing). */
static void check_setgid_commands(void)
{
    static const char *const commands[] = {"postdrop", "postqueue"};
    const char *group = config_str("setgid_group");
    struct group *gr;

    if (geteuid() != 0)
        return;
    if ((gr = getgrnam(group)) == NULL) {
        problemf("create the group (groupadd --system NAME) or correct setgid_group",
                 "setgid_group %s: no such group", group);
        return;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        vstr *path = vstr_new(128);
        struct stat st;

        vstr_printf(path, "%s/%s", config_str("command_directory"), commands[i]);
        if (stat(vstr_str(path), &st) < 0)
            problemf("install it (make install) or correct command_directory",
                     "%s: %s", vstr_str(path), strerror(errno));
        else if (st.st_gid != gr->gr_gid || !(st.st_mode & S_ISGID) || st.st_uid != 0
                 || (st.st_mode & (S_IWGRP | S_IWOTH)))
            problemf("run: chown root:GROUP PATH && chmod 2755 PATH",
                     "%s must be owned by root, group %s, mode 2755 (is %d:%d, %04o): users "
                     "cannot submit mail or list the queue", vstr_str(path), group,
                     (int) st.st_uid, (int) st.st_gid, (unsigned) (st.st_mode & 07777));
        vstr_free(path);
    }
}

/* The internal services the daemons connect to by fixed socket names
 * (mail_proto.h): a missing or misdeclared one makes every message fail. */
static void check_internal_services(struct master_service *svcs, size_t n)
{
    static const struct {
        const char *name, *socket;
        int private_;
    } needed[] = {
        {"cleanup", CLEANUP_SOCKET, 1},
        {"qmgr", QMGR_TRIGGER, 0},
        {"bounce", BOUNCE_SOCKET, 1},
        {"pickup", PICKUP_TRIGGER, 0},
        {"showq", SHOWQ_SOCKET, 0},
        {"flush", FLUSH_SOCKET, 0},
    };
    static const char *const transports[] = {"local_transport", "default_transport",
                                             "relay_transport"};
    size_t i, k;

    for (k = 0; k < sizeof(needed) / sizeof(needed[0]); k++) {
        for (i = 0; i < n; i++)
            if (strcmp(svcs[i].name, needed[k].name) == 0 && strcmp(svcs[i].type, "inet") != 0)
                break;
        if (i == n)
            problemf("add the service to master.cf (see the shipped master.cf)",
                     "master.cf: no \"%s\" service: the daemons need %s", needed[k].name,
                     needed[k].socket);
        else if (svcs[i].private_ != needed[k].private_)
            problemf(needed[k].private_ ? "set its private column to \"-\" (y)"
                                        : "set its private column to \"n\"",
                     "master.cf:%d: service %s must be %s: the daemons use %s",
                     svcs[i].lineno, needed[k].name, needed[k].private_ ? "private" : "public",
                     needed[k].socket);
    }
    /* Every transport mail may be routed to by default is a private
     * service that qmgr connects to as private/NAME. */
    for (k = 0; k < sizeof(transports) / sizeof(transports[0]); k++) {
        const char *value = config_str(transports[k]);
        size_t len = strcspn(value, ":");

        for (i = 0; i < n; i++)
            if (strlen(svcs[i].name) == len && strncmp(svcs[i].name, value, len) == 0
                && strcmp(svcs[i].type, "inet") != 0 && svcs[i].private_)
                break;
        if (i == n)
            problemf("add a private unix service of that name to master.cf, or change the "
                     "parameter", "%s = %s: master.cf has no private service \"%.*s\"",
                     transports[k], value, (int) len, value);
    }
}

static int cmd_check(int verbose)
{
    vstr *problems = vstr_new(100);
    vstr *path = vstr_new(100);
    struct master_service *svcs;
    size_t n;
    uid_t owner_uid;
    const char *unknown = config_unknown_names();

    if (config_validate(problems) > 0)
        problem_lines(vstr_str(problems), "correct the value in main.cf");
    if (unknown != NULL && *unknown)
        printf("posthorn: warning: main.cf: unknown parameter name(s): %s\n", unknown);
    check_accounts(&owner_uid);
    check_queue(owner_uid);
    vstr_printf(path, "%s/master.cf", config_dir());
    vstr_reset(problems);
    if (master_cf_parse(vstr_str(path), &svcs, &n, problems) < 0) {
        problem_lines(vstr_str(problems), "correct master.cf");
    } else {
        check_services(svcs, n, master_running_pid());
        check_internal_services(svcs, n);
        master_cf_free(svcs, n);
    }
    check_log_file();
    check_setgid_commands();
    vstr_free(problems);
    vstr_free(path);
    if (problem_count > 0)
        return 1;
    if (verbose)
        printf("posthorn check: ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *cdir = NULL;
    const char *cmd;
    vstr *err = vstr_new(100);
    int verbose = 0;
    int c;

    log_init("posthorn");
    while ((c = getopt(argc, argv, "c:v")) != -1) {
        switch (c) {
        case 'c':
            cdir = optarg;
            break;
        case 'v':
            verbose++;
            break;
        default:
            usage();
        }
    }
    if (optind != argc - 1)
        usage();
    cmd = argv[optind];
    if (config_load(config_dir_choose(cdir), err) < 0) {
        if (strcmp(cmd, "check") == 0) {
            problem_lines(vstr_str(err), "correct main.cf");
            return 1;
        }
        fprintf(stderr, "posthorn: %s\n", vstr_str(err));
        return 1;
    }
    vstr_free(err);
    if (strcmp(cmd, "start") == 0)
        return cmd_start();
    if (strcmp(cmd, "start-fg") == 0)
        return cmd_start_fg();
    if (strcmp(cmd, "stop") == 0)
        return cmd_stop();
    if (strcmp(cmd, "reload") == 0)
        return cmd_signal(SIGHUP);
    if (strcmp(cmd, "status") == 0)
        return cmd_status();
    if (strcmp(cmd, "flush") == 0)
        return cmd_flush();
    if (strcmp(cmd, "check") == 0)
        return cmd_check(verbose);
    usage();
}

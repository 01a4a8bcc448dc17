/* local(8) delivery to |command destinations.  The message (a From_
 * line, Return-Path:, optionally Delivered-To:, then the content) is
 * written to an unlinked temporary file that becomes the command's
 * standard input, so the command can never block us on a full pipe.
 * The command runs in its own process group, as the recipient (never
 * root, never mail_owner), with a clean environment built from
 * local_parse.c; recipient data reaches it only through the environment.
 * Its output is read with a deadline (command_time_limit) and the first
 * bytes kept for the delivery status; on timeout the process group is
 * killed and the mail deferred. */
#include "config.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1     /* pipe2, O_TMPFILE, mkostemp */
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "argv.h"
#include "local.h"
#include "local_parse.h"
#include "local_util.h"
#include "log.h"
#include "mem.h"
#include "stream.h"
#include "vstr.h"

#define EXIT_SETUP_FAILED 75            /* EX_TEMPFAIL: could not become the user */
#define EXIT_EXEC_FAILED 127            /* like a shell: command not found */
#define OUTPUT_READ_MAX (64 * 1024)     /* read and discard beyond this too */

/* An unlinked file holding the message as the command reads it. */
static int message_tempfile(struct local_message *msg, vstr *why)
{
    vstr *from = vstr_new(128);
    char tmpl[] = "local.cmdXXXXXX";
    stream *out;
    int fd, rc;

    fd = open(".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        fd = mkostemp(tmpl, O_CLOEXEC);
        if (fd >= 0)
            (void)unlink(tmpl);
    }
    if (fd < 0) {
        vstr_printf(why, "cannot create temporary file: %s", strerror(errno));
        vstr_free(from);
        return -1;
    }
    mbox_from_line(from, msg->sender, time(NULL));
    out = stream_fdopen(fd);
    rc = stream_write(out, vstr_str(from), vstr_len(from)) == 0 ? 0 : -1;
    if (rc == 0)
        rc = local_copy_message(out, msg, 0);
    if (rc == 0 && stream_flush(out) != 0)
        rc = -1;
    stream_free(out);
    if (rc == 0 && lseek(fd, 0, SEEK_SET) != 0)
        rc = -1;
    if (rc != 0) {
        vstr_printf(why, rc == -2 ? "cannot read queue file: malformed content"
                                  : "cannot write temporary file: %s",
                    strerror(errno));
        (void)close(fd);
        fd = -1;
    }
    vstr_free(from);
    return fd;
}

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

/* In the child: become the user, set up fds, exec.  Never returns. */
static void command_child(const struct local_config *cfg, const struct local_runas *runas,
                          int in_fd, int out_fd, char **argv, char **envp)
{
    static const char *const dirs[] = {"/usr/bin/", "/bin/"};
    char buf[256];
    size_t i;
    int len;

    sigset_t none;

    (void)setsid();
    for (i = 1; i < NSIG; i++)
        (void)signal((int)i, SIG_DFL);
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(EXIT_SETUP_FAILED);
    closefrom(3);
    if (cfg->as_root) {
        if (runas->id.uid == 0 || runas->id.uid == cfg->mail_owner_uid)
            _exit(EXIT_SETUP_FAILED);
        if (setgid(runas->id.gid) != 0
            || (runas->name != NULL && *runas->name != '\0'
                    ? initgroups(runas->name, runas->id.gid)
                    : setgroups(1, &runas->id.gid)) != 0
            || setuid(runas->id.uid) != 0 || getuid() != runas->id.uid
            || geteuid() != runas->id.uid || setuid(0) == 0) {
            len = snprintf(buf, sizeof(buf), "cannot switch to uid %ld\n",
                           (long)runas->id.uid);
            if (len > 0)
                (void)!write(2, buf, (size_t)len);
            _exit(EXIT_SETUP_FAILED);
        }
    }
    if (runas->home == NULL || *runas->home != '/' || chdir(runas->home) != 0)
        (void)!chdir("/");
    umask(077);
    if (strchr(argv[0], '/') != NULL) {
        execve(argv[0], argv, envp);
    } else {
        for (i = 0; i < 2; i++) {
            snprintf(buf, sizeof(buf), "%s%s", dirs[i], argv[0]);
            execve(buf, argv, envp);
        }
    }
    len = snprintf(buf, sizeof(buf), "cannot execute %.100s: %s\n", argv[0], strerror(errno));
    if (len > 0)
        (void)!write(2, buf, (size_t)len);
    _exit(EXIT_EXEC_FAILED);
}

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void deliver_command(const struct local_config *cfg, struct local_message *msg,
                     const char *command, const struct local_runas *runas,
                     const struct command_env *env, struct local_result *r)
{
    argv_t *args = argv_new();
    argv_t *envv = argv_new();
    vstr *why = vstr_new(64);
    vstr *output = vstr_new(COMMAND_OUTPUT_KEEP + 1);
    vstr *reason = vstr_new(128);
    const char *dsn = "4.3.0";
    const char *shell;
    char buf[4096];
    struct pollfd pfd;
    double deadline;
    pid_t pid, w;
    int in_fd = -1, pipefd[2] = {-1, -1};
    int wstatus = 0, timed_out = 0, exited = 0, status;
    int split, wait_ms;
    ssize_t n;

    split = command_split(command, args);
    if (split < 0) {
        local_result_set(r, LOCAL_BOUNCED, "5.3.5", "bad command destination");
        goto out;
    }
    if (split == 0) {
        shell = *cfg->command_shell ? cfg->command_shell : "/bin/sh";
        argv_free(args);
        args = argv_split(shell, " \t");
        if (args->n == 0)
            argv_add(args, "/bin/sh");
        argv_add(args, "-c");
        argv_add(args, command);
    } else if (*cfg->command_shell) {
        /* local_command_shell runs every command, as in Postfix. */
        argv_free(args);
        args = argv_split(cfg->command_shell, " \t");
        argv_add(args, "-c");
        argv_add(args, command);
    }
    command_env_build(envv, env, cfg->export_environment, env_lookup);
    if ((in_fd = message_tempfile(msg, why)) < 0) {
        local_result_set(r, LOCAL_DEFERRED, "4.3.0", "%s", vstr_str(why));
        goto out;
    }
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        local_result_errno(r, errno, "cannot create pipe");
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        local_result_errno(r, errno, "cannot fork");
        goto out;
    }
    if (pid == 0)
        command_child(cfg, runas, in_fd, pipefd[1], args->v, envv->v);
    (void)close(pipefd[1]);
    pipefd[1] = -1;
    (void)close(in_fd);
    in_fd = -1;

    /* Read output until end of file, the command's exit (a background
     * child may keep the pipe open), or the deadline. */
    deadline = now_seconds() + (double)cfg->command_time_limit;
    for (;;) {
        double left = deadline - now_seconds();

        if (left <= 0) {
            timed_out = 1;
            break;
        }
        wait_ms = left > 1.0 ? 1000 : (int)(left * 1000) + 1;
        pfd.fd = pipefd[0];
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
            msg_warn("%s: poll: %s", msg->queue_id, strerror(errno));
            break;
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            n = read(pipefd[0], buf, sizeof(buf));
            if (n > 0) {
                if (vstr_len(output) < COMMAND_OUTPUT_KEEP)
                    vstr_append(output, buf,
                                (size_t)n < COMMAND_OUTPUT_KEEP - vstr_len(output)
                                    ? (size_t)n
                                    : COMMAND_OUTPUT_KEEP - vstr_len(output));
                continue;
            }
            if (n == 0 || (errno != EINTR && errno != EAGAIN))
                break;
        }
        w = waitpid(pid, &wstatus, WNOHANG);
        if (w == pid) {
            exited = 1;
            break;
        }
    }
    if (timed_out) {
        (void)kill(-pid, SIGKILL);
        (void)kill(pid, SIGKILL);
    }
    if (!exited) {
        while ((w = waitpid(pid, &wstatus, 0)) < 0 && errno == EINTR)
            ;
        if (w < 0) {
            local_result_errno(r, errno, "waitpid");
            goto out;
        }
    }
    status = command_result(wstatus, timed_out, command, vstr_str(output), vstr_len(output),
                            reason, &dsn);
    local_result_set(r, (enum local_status)status, dsn, "%s", vstr_str(reason));
out:
    if (in_fd >= 0)
        (void)close(in_fd);
    if (pipefd[0] >= 0)
        (void)close(pipefd[0]);
    if (pipefd[1] >= 0)
        (void)close(pipefd[1]);
    argv_free(args);
    argv_free(envv);
    vstr_free(why);
    vstr_free(output);
    vstr_free(reason);
}

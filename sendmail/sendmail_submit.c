/* sendmail(1) process plumbing: hand the submission stream to postdrop
 * (the set-group-id program that writes maildrop/) and wait for its
 * verdict, and replace ourselves by postqueue / postalias for -bp, -q
 * and -bi.  Diagnostics are one "sendmail: fatal: ..." line. */
#include "config.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>
#include "argv.h"
#include "params.h"
#include "sendmail.h"
#include "table.h"
#include "vstr.h"

void sm_fatal(int status, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("sendmail: fatal: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

void sm_verbose(const struct sm_opts *o, const char *fmt, ...)
{
    va_list ap;

    if (o == NULL || !o->verbose)
        return;
    fputs("sendmail: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void command_path(vstr *out, const char *name)
{
    vstr_set(out, config_str("command_directory"));
    vstr_putc(out, '/');
    vstr_puts(out, name);
}

void sm_exec_command(const struct sm_opts *o, const char *name, const char *const *args)
{
    vstr *path = vstr_new(64);
    argv_t *av = argv_new();

    command_path(path, name);
    argv_add(av, name);
    if (o->config_dir != NULL) {
        argv_add(av, "-c");
        argv_add(av, o->config_dir);
    }
    for (int i = 0; args != NULL && args[i] != NULL; i++)
        argv_add(av, args[i]);
    sm_verbose(o, "running %s", vstr_str(path));
    fflush(stdout);
    execv(vstr_str(path), av->v);
    sm_fatal(EX_UNAVAILABLE, "execute %s: %s", vstr_str(path), strerror(errno));
}

/* Write all of buf; 0 or -1 (errno). */
static int write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int sm_postdrop(const struct sm_opts *o, const vstr *records)
{
    vstr *path = vstr_new(64);
    int fds[2], status, write_errno = 0;
    pid_t pid, w;

    command_path(path, "postdrop");
    if (pipe(fds) != 0)
        sm_fatal(EX_OSERR, "pipe: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        sm_fatal(EX_OSERR, "fork: %s", strerror(errno));
    if (pid == 0) {
        const char *av[6];
        int n = 0;

        close(fds[1]);
        if (dup2(fds[0], 0) < 0)
            _exit(EX_OSERR);
        if (fds[0] != 0)
            close(fds[0]);
        /* postdrop has nothing to say on stdout: keep it off the -bs
         * SMTP channel. */
        (void)dup2(2, 1);
        signal(SIGPIPE, SIG_DFL);
        av[n++] = "postdrop";
        if (o->config_dir != NULL) {
            av[n++] = "-c";
            av[n++] = o->config_dir;
        }
        if (o->verbose)
            av[n++] = "-v";
        av[n] = NULL;
        execv(vstr_str(path), (char *const *)av);
        fprintf(stderr, "sendmail: fatal: execute %s: %s\n", vstr_str(path), strerror(errno));
        _exit(EX_UNAVAILABLE);
    }
    close(fds[0]);
    sm_verbose(o, "submitting %zu bytes of records to %s", vstr_len(records), vstr_str(path));
    if (write_all(fds[1], vstr_str(records), vstr_len(records)) != 0)
        write_errno = errno;
    close(fds[1]);
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    vstr_free(path);
    if (w < 0)
        sm_fatal(EX_OSERR, "waitpid: %s", strerror(errno));
    if (WIFSIGNALED(status))
        sm_fatal(EX_SOFTWARE, "postdrop was killed by signal %d", WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        return WEXITSTATUS(status);     /* postdrop said why */
    if (write_errno != 0)
        sm_fatal(EX_TEMPFAIL, "write to postdrop: %s", strerror(write_errno));
    sm_verbose(o, "postdrop accepted the message");
    return 0;
}

int sm_user_authorized(const char *list, const char *user)
{
    vstr *err = vstr_new(64), *value = vstr_new(64);
    argv_t *items = table_split(list, err);
    int result = 0;

    if (items == NULL) {
        vstr_free(err);
        vstr_free(value);
        return -1;
    }
    /* The first match wins; "!" negates; type:table looks the name up. */
    for (size_t i = 0; i < items->n; i++) {
        const char *item = items->v[i];
        int negate = 0, match = 0;

        if (*item == '!') {
            negate = 1;
            item++;
        }
        if (strcmp(item, "static:anyone") == 0 || strcmp(item, "static:all") == 0) {
            match = 1;
        } else if (strchr(item, ':') != NULL) {
            table *t = table_open(item, 0, err);

            if (t == NULL) {
                result = -1;
                break;
            }
            match = table_lookup(t, user, value) == 1;
            table_close(t);
        } else {
            match = strcasecmp(item, user) == 0;
        }
        if (match) {
            result = !negate;
            break;
        }
    }
    argv_free(items);
    vstr_free(err);
    vstr_free(value);
    return result;
}

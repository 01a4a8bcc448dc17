/* postdrop(1): the set-group-id (setgid_group) command that puts one
 * locally submitted message into maildrop/.  It reads the submission
 * stream sendmail writes (lib/maildrop.h) from stdin with size and time
 * limits, validates it while copying it to maildrop/.ID behind a header
 * naming the caller's real uid, makes the file durable, renames it to
 * maildrop/ID and wakes pickup.  Exit 0 means the message is on disk.
 * Its caller is untrusted: environment scrubbed, umask fixed, every
 * failure one line "postdrop: fatal: ..." and a sysexits.h code, and no
 * temporary file left behind. */
#include "config.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1     /* syncfs, renameat2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>
#include "argv.h"
#include "log.h"
#include "maildrop.h"
#include "mem.h"
#include "master_proto.h"
#include "params.h"
#include "queue.h"
#include "queue_id.h"
#include "record.h"
#include "safe_file.h"
#include "skeleton.h"
#include "stream.h"
#include "vstr.h"

/* Time for one read of stdin, and for the whole submission: sendmail
 * writes a message it already has, so a stall means something is wrong. */
#define POSTDROP_READ_TIMEOUT 300
#define POSTDROP_TIME_LIMIT 3600
#define PICKUP_TRIGGER "public/pickup"

/* The temporary file to remove when we fail (also from a signal handler,
 * hence a fixed buffer filled once). */
static char temp_path[sizeof(QUEUE_MAILDROP) + QUEUE_ID_LEN + 3];
static volatile sig_atomic_t temp_exists;

static void remove_temp(void)
{
    if (temp_exists) {
        unlink(temp_path);
        temp_exists = 0;
    }
}

static void fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void fail(int status, const char *fmt, ...)
{
    vstr *text = vstr_new(128);
    va_list ap;

    remove_temp();
    vstr_puts(text, "postdrop: fatal: ");
    va_start(ap, fmt);
    vstr_vprintf(text, fmt, ap);
    va_end(ap);
    vstr_putc(text, '\n');
    if (write(STDERR_FILENO, vstr_str(text), vstr_len(text)) < 0) {
        /* Nothing left to tell anyone. */
    }
    exit(status);
}

static void on_signal(int sig)
{
    static const char timeout_msg[] = "postdrop: fatal: time limit exceeded\n";
    static const char signal_msg[] = "postdrop: fatal: interrupted by a signal\n";

    if (temp_exists)
        unlink(temp_path);
    if (sig == SIGALRM) {
        if (write(STDERR_FILENO, timeout_msg, sizeof(timeout_msg) - 1) < 0) {
            /* ignored */
        }
    } else if (write(STDERR_FILENO, signal_msg, sizeof(signal_msg) - 1) < 0) {
        /* ignored */
    }
    _exit(EX_TEMPFAIL);
}

/* Descriptors 0-2 must exist, so no file we open becomes "stderr"; and
 * nothing else inherited from the caller stays open. */
static void sanitize_descriptors(void)
{
    int fd;

    for (fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0) {
            int nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);

            if (nfd < 0)
                _exit(EX_OSERR);
            if (nfd != fd)
                _exit(EX_OSERR);
        }
    }
    closefrom(3);
}

/* The caller chooses our environment: keep nothing of it. */
static void sanitize_environment(void)
{
    if (clearenv() != 0)
        fail(EX_OSERR, "cannot clear the environment");
    if (setenv("PATH", "/usr/bin:/bin", 1) != 0)
        fail(EX_OSERR, "cannot set PATH");
}

static void set_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGXFSZ, &sa, NULL);      /* a write then fails with EFBIG */
}

/* Root wrote it and nobody else may write it. */
static void usage(const char *what)
{
    fail(EX_USAGE, "%s; usage: postdrop [-c config_dir] [-v] < submission-stream", what);
}

/* Write error on the maildrop file: queue trouble. */
static void write_failed(int st)
{
    fail(EX_TEMPFAIL, "cannot write %s: %s", temp_path,
         st == STREAM_ERROR ? strerror(errno) : stream_strerror(st));
}

/* Copy stdin to out, checking every record; returns once E was copied and
 * stdin ended. */
static void copy_submission(stream *in, stream *out, long long message_size_limit)
{
    struct maildrop_limits lim;
    maildrop_check *chk;
    vstr *data = vstr_new(1024);
    int type, st;

    maildrop_limits_init(&lim, message_size_limit);
    chk = maildrop_check_new(MAILDROP_SUBMISSION, &lim, 0);
    for (;;) {
        st = maildrop_get(in, chk, &type, data);
        if (st == MAILDROP_BAD)
            fail(EX_DATAERR, "invalid submission: %s", maildrop_check_why(chk));
        if (st == MAILDROP_IOERR)
            fail(EX_TEMPFAIL, "reading the submission: %s", maildrop_check_why(chk));
        if ((st = rec_put(out, type, vstr_str(data), vstr_len(data))) != 0)
            write_failed(st);
        if (type == REC_END)
            break;
    }
    st = maildrop_expect_eof(in, chk);
    if (st == MAILDROP_BAD)
        fail(EX_DATAERR, "invalid submission: %s", maildrop_check_why(chk));
    if (st == MAILDROP_IOERR)
        fail(EX_TEMPFAIL, "reading the submission: %s", maildrop_check_why(chk));
    maildrop_check_free(chk);
    vstr_free(data);
}

/* rename without replacing: a queue id is unique, but never overwrite
 * someone else's message if it were not. */
static int rename_noreplace(const char *from, const char *to)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
#endif
    return rename(from, to);
}

int main(int argc, char **argv)
{
    const char *config_arg = NULL;
    char id[QUEUE_ID_LEN + 1];
    vstr *final_path = vstr_new(64);
    struct timeval now;
    stream *in, *out;
    int ch, fd, st;

    sanitize_descriptors();
    umask(077);
    log_init("postdrop");
    set_signals();
    opterr = 0;         /* one line of our own instead */
    while ((ch = getopt(argc, argv, "c:v")) != -1) {
        switch (ch) {
        case 'c':
            config_arg = optarg;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            usage(optopt == 'c' ? "option -c needs a directory" : "unknown option");
        }
    }
    if (optind != argc)
        usage("unexpected argument");
    config_load_setid_or_exit(config_arg, EX_CONFIG);
    sanitize_environment();
    /* A person typing at postdrop is a mistake: it reads the binary
     * submission stream that sendmail(1) writes. */
    if (isatty(STDIN_FILENO))
        fail(EX_USAGE, "standard input is a terminal: postdrop reads the submission stream "
                       "of sendmail(1); use sendmail to submit mail");
    if (chdir(config_str("queue_directory")) != 0)
        fail(EX_TEMPFAIL, "cannot enter queue directory %s: %s", config_str("queue_directory"),
             strerror(errno));
    alarm(POSTDROP_TIME_LIMIT);

    queue_id_new(id);
    snprintf(temp_path, sizeof(temp_path), "%s/.%s", QUEUE_MAILDROP, id);
    vstr_printf(final_path, "%s/%s", QUEUE_MAILDROP, id);
    /* Block the signal handler while the file and the flag disagree. */
    {
        sigset_t block, old;

        sigemptyset(&block);
        sigaddset(&block, SIGALRM);
        sigaddset(&block, SIGHUP);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigprocmask(SIG_BLOCK, &block, &old);
        fd = safe_create(temp_path, 0, 0600);
        if (fd >= 0)
            temp_exists = 1;
        sigprocmask(SIG_SETMASK, &old, NULL);
    }
    if (fd < 0)
        fail(EX_CANTCREAT, "cannot create %s in %s: %s", temp_path,
             config_str("queue_directory"), strerror(errno));
    /* pickup runs as mail_owner, not as the caller: it needs read access.
     * The maildrop directory (mode 1730) keeps other users out. */
    if (fchmod(fd, 0644) != 0)
        fail(EX_TEMPFAIL, "cannot set the mode of %s: %s", temp_path, strerror(errno));

    out = stream_fdopen(fd);
    gettimeofday(&now, NULL);
    rec_puts(out, REC_VERSION, MAILDROP_VERSION);
    rec_putf(out, REC_TIME, "%lld.%06ld", (long long)now.tv_sec, (long)now.tv_usec);
    rec_putf(out, REC_ATTR, "uid=%lu", (unsigned long)getuid());

    in = stream_fdopen(STDIN_FILENO);
    stream_set_timeout(in, POSTDROP_READ_TIMEOUT);
    copy_submission(in, out, config_size("message_size_limit"));
    stream_free(in);

    if ((st = stream_flush(out)) != 0)
        write_failed(st);
    /* From here on a signal must not leave a queued message behind a
     * failure report: the rest is short and bounded. */
    {
        sigset_t block;

        sigemptyset(&block);
        sigaddset(&block, SIGALRM);
        sigaddset(&block, SIGHUP);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigprocmask(SIG_BLOCK, &block, NULL);
    }
    if (fsync(fd) != 0)
        fail(EX_TEMPFAIL, "cannot fsync %s: %s", temp_path, strerror(errno));
    if (rename_noreplace(temp_path, vstr_str(final_path)) != 0)
        fail(EX_CANTCREAT, "cannot rename %s to %s: %s", temp_path, vstr_str(final_path),
             strerror(errno));
    temp_exists = 0;
    /* The new name must reach the disk before we report success.  Our
     * group may write maildrop/ but not read it, so it cannot always be
     * opened for fsync: then flush the whole file system instead. */
    if (fsync_dir(QUEUE_MAILDROP) != 0 && syncfs(fd) != 0) {
        int saved = errno;

        unlink(vstr_str(final_path));
        fail(EX_TEMPFAIL, "cannot sync the maildrop directory: %s", strerror(saved));
    }
    if (stream_close(out) != 0) {
        /* Already flushed and synced: nothing was lost. */
    }
    alarm(0);
    if (trigger_send(PICKUP_TRIGGER, TRIGGER_WAKEUP) != 0)
        fprintf(stderr, "postdrop: warning: cannot wake up pickup (%s): %s; "
                        "it will find the message at its next periodic scan\n",
                PICKUP_TRIGGER, strerror(errno));
    if (msg_verbose)
        fprintf(stderr, "postdrop: queued as %s\n", id);
    vstr_free(final_path);
    return 0;
}

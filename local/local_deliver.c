/* local(8) mailbox writers: Maildir (tmp/, link into new/, fsyncs) and
 * mbox (dot-lock plus fcntl lock, mboxrd quoting, truncation back to the
 * old size on any error).  Each write runs with the recipient's identity
 * (effective uid/gid and groups), never as root, and opens files with
 * O_NOFOLLOW. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "local.h"
#include "local_util.h"
#include "log.h"
#include "record.h"
#include "safe_file.h"
#include "stream.h"
#include "vstr.h"

#define DOTLOCK_STALE_SECONDS 300
#define LOCK_TRIES 30                /* one second apart */

void local_result_init(struct local_result *r)
{
    r->status = LOCAL_SENT;
    r->dsn = vstr_new(8);
    r->reason = vstr_new(64);
}

void local_result_free(struct local_result *r)
{
    vstr_free(r->dsn);
    vstr_free(r->reason);
    r->dsn = r->reason = NULL;
}

static void result_vset(struct local_result *r, enum local_status status, const char *dsn,
                        const char *fmt, va_list ap)
{
    /* The first outcome, or a worse one, decides what the sender learns. */
    if (vstr_len(r->dsn) > 0 && status < r->status)
        return;
    if (vstr_len(r->dsn) > 0 && status == r->status && status != LOCAL_SENT)
        return;
    r->status = status;
    vstr_set(r->dsn, dsn);
    vstr_reset(r->reason);
    vstr_vprintf(r->reason, fmt, ap);
}

void local_result_set(struct local_result *r, enum local_status status, const char *dsn,
                      const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    result_vset(r, status, dsn, fmt, ap);
    va_end(ap);
}

void local_result_errno(struct local_result *r, int err, const char *fmt, ...)
{
    enum local_status status = LOCAL_DEFERRED;
    const char *dsn = "4.3.0";
    vstr *text = vstr_new(128);
    va_list ap;

    switch (err) {
    case ELOOP:
    case EISDIR:
    case ENOTDIR:
    case EMLINK:
        status = LOCAL_BOUNCED;
        dsn = "5.2.0";
        break;
    case EFBIG:
        status = LOCAL_BOUNCED;
        dsn = "5.2.2";
        break;
    case EAGAIN:
    case EACCES:
    case EPERM:
    case EROFS:
    case ETIMEDOUT:
        dsn = "4.2.0";
        break;
    default:
        break;          /* ENOSPC, EDQUOT, EIO, ENOMEM, ...: system trouble */
    }
    va_start(ap, fmt);
    vstr_vprintf(text, fmt, ap);
    va_end(ap);
    local_result_set(r, status, dsn, "%s: %s", vstr_str(text),
                     err == ELOOP ? "mailbox is a symbolic link" : strerror(err));
    vstr_free(text);
}

/* Switch the effective identity for one delivery; a no-op when local is
 * not running as root (a development instance). */
int local_identity_enter(const struct local_config *cfg, const struct local_identity *id)
{
    int saved;

    if (!cfg->as_root)
        return 0;
    if (id->uid == 0) {
        errno = EPERM;      /* callers never ask; refuse rather than write as root */
        return -1;
    }
    if (setgroups(1, &id->gid) != 0 || setegid(id->gid) != 0 || seteuid(id->uid) != 0) {
        saved = errno;
        if (seteuid(0) != 0 || setegid(0) != 0 || setgroups(0, NULL) != 0)
            msg_fatal("cannot restore root privileges: %s", strerror(errno));
        errno = saved;
        return -1;
    }
    return 0;
}

void local_identity_leave(const struct local_config *cfg)
{
    if (!cfg->as_root)
        return;
    if (seteuid(0) != 0 || setegid(0) != 0 || setgroups(0, NULL) != 0)
        msg_fatal("cannot restore root privileges: %s", strerror(errno));
}

int local_copy_message(stream *out, struct local_message *msg, int mboxrd)
{
    vstr *data = vstr_new(512);
    int type = 0;
    int line_start = 1;
    int status;
    int ret = 0;

    if (stream_printf(out, "Return-Path: <%s>\n", msg->sender) != 0
        || (msg->delivered_to != NULL
            && stream_printf(out, "Delivered-To: %s\n", msg->delivered_to) != 0)) {
        ret = -1;
        goto out;
    }
    if (stream_seek(msg->qf, msg->content_offset) != 0
        || rec_get(msg->qf, &type, data, NULL) != REC_OK || type != REC_MESSAGE) {
        errno = EINVAL;
        ret = -2;
        goto out;
    }
    for (;;) {
        status = rec_get(msg->qf, &type, data, NULL);
        if (status != REC_OK) {
            errno = EINVAL;
            ret = -2;
            break;
        }
        if (type == REC_XTRA || type == REC_END)
            break;
        if (type != REC_LINE && type != REC_CONT) {
            errno = EINVAL;
            ret = -2;
            break;
        }
        if (mboxrd && line_start && mbox_quote_needed(vstr_str(data), vstr_len(data))
            && stream_write(out, ">", 1) != 0) {
            ret = -1;
            break;
        }
        if ((vstr_len(data) > 0 && stream_write(out, vstr_str(data), vstr_len(data)) != 0)
            || (type == REC_LINE && stream_write(out, "\n", 1) != 0)) {
            ret = -1;
            break;
        }
        line_start = (type == REC_LINE);
    }
out:
    vstr_free(data);
    return ret;
}

/* Report a failed copy: queue file trouble defers, write trouble depends
 * on errno. */
static void copy_failed(struct local_result *r, int rc, const char *what, const char *path)
{
    if (rc == -2)
        local_result_set(r, LOCAL_DEFERRED, "4.3.0", "cannot read queue file: malformed content");
    else
        local_result_errno(r, errno, "cannot write %s %s", what, path);
}

static unsigned long maildir_counter;

void deliver_maildir(const struct local_config *cfg, struct local_message *msg, const char *dir,
                     const struct local_identity *id, struct local_result *r)
{
    static const char *const subdirs[] = {"tmp", "new", "cur"};
    vstr *base = vstr_new(128);
    vstr *name = vstr_new(64);
    vstr *tmp = vstr_new(128);
    vstr *new_dir = vstr_new(128);
    vstr *new_path = vstr_new(128);
    struct timeval tv;
    stream *out;
    int fd = -1;
    int rc;
    size_t i;

    vstr_set(base, dir);
    if (vstr_len(base) == 0 || vstr_str(base)[vstr_len(base) - 1] != '/')
        vstr_putc(base, '/');
    if (local_identity_enter(cfg, id) != 0) {
        local_result_errno(r, errno, "cannot switch to uid %ld", (long)id->uid);
        goto done;
    }
    if (mkdir_p(vstr_str(base), 0700) != 0) {
        local_result_errno(r, errno, "cannot create maildir %s", vstr_str(base));
        goto leave;
    }
    for (i = 0; i < 3; i++) {
        vstr_set(tmp, vstr_str(base));
        vstr_puts(tmp, subdirs[i]);
        if (mkdir(vstr_str(tmp), 0700) != 0 && errno != EEXIST) {
            local_result_errno(r, errno, "cannot create maildir %s", vstr_str(tmp));
            goto leave;
        }
    }
    gettimeofday(&tv, NULL);
    maildir_unique_name(name, &tv, getpid(), ++maildir_counter, cfg->myhostname);
    vstr_set(tmp, vstr_str(base));
    vstr_printf(tmp, "tmp/%s", vstr_str(name));
    vstr_set(new_dir, vstr_str(base));
    vstr_puts(new_dir, "new");
    vstr_set(new_path, vstr_str(new_dir));
    vstr_printf(new_path, "/%s", vstr_str(name));

    fd = open(vstr_str(tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        local_result_errno(r, errno, "cannot create maildir file %s", vstr_str(tmp));
        goto leave;
    }
    out = stream_fdopen(fd);
    rc = local_copy_message(out, msg, 0);
    if (rc == 0 && stream_flush(out) != 0)
        rc = -1;
    stream_free(out);
    if (rc == 0 && fsync(fd) != 0)
        rc = -1;
    if (close(fd) != 0 && rc == 0)
        rc = -1;
    if (rc != 0) {
        copy_failed(r, rc, "maildir file", vstr_str(tmp));
        (void)unlink(vstr_str(tmp));
        goto leave;
    }
    if (link(vstr_str(tmp), vstr_str(new_path)) != 0) {
        local_result_errno(r, errno, "cannot link maildir file %s", vstr_str(new_path));
        (void)unlink(vstr_str(tmp));
        goto leave;
    }
    (void)unlink(vstr_str(tmp));
    if (fsync_dir(vstr_str(new_dir)) != 0) {
        local_result_errno(r, errno, "cannot sync maildir %s", vstr_str(new_dir));
        (void)unlink(vstr_str(new_path));
        goto leave;
    }
    local_result_set(r, LOCAL_SENT, "2.0.0", "delivered to maildir");
leave:
    local_identity_leave(cfg);
done:
    vstr_free(base);
    vstr_free(name);
    vstr_free(tmp);
    vstr_free(new_dir);
    vstr_free(new_path);
}

/* Take the dot-lock PATH.lock: 1 locked, 0 the directory does not allow
 * one (the kernel lock alone protects), -1 with errno on failure. */
static int dotlock_acquire(const char *lock_path)
{
    struct stat st;
    int tries, fd;

    for (tries = 0; tries < LOCK_TRIES; tries++) {
        fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            (void)close(fd);
            return 1;
        }
        if (errno == EACCES || errno == EPERM || errno == EROFS)
            return 0;
        if (errno != EEXIST)
            return -1;
        /* Remove a lock its owner forgot (crash) long ago. */
        if (lstat(lock_path, &st) == 0 && time(NULL) - st.st_mtime > DOTLOCK_STALE_SECONDS) {
            msg_warn("removing stale lock file %s", lock_path);
            (void)unlink(lock_path);
            continue;
        }
        sleep(1);
    }
    errno = EAGAIN;
    return -1;
}

static int kernel_lock(int fd)
{
    struct flock fl;
    int tries;

    for (tries = 0; tries < LOCK_TRIES; tries++) {
        memset(&fl, 0, sizeof(fl));
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_SETLK, &fl) == 0)
            return 0;
        if (errno != EAGAIN && errno != EACCES && errno != EINTR)
            return -1;
        sleep(1);
    }
    errno = EAGAIN;
    return -1;
}

/* A spool mailbox that does not exist yet is created by root and given to
 * the user, as the spool directory is normally not writable by users; only
 * in a root-owned directory, so root never writes where a user could
 * plant a link. */
static void spool_mailbox_create(const struct local_config *cfg, const char *path,
                                 const struct local_identity *id)
{
    struct stat st;
    vstr *dir;
    char *slash;
    int fd;

    if (!cfg->as_root || lstat(path, &st) == 0 || errno != ENOENT)
        return;
    dir = vstr_new(128);
    vstr_set(dir, path);
    slash = strrchr(vstr_str(dir), '/');
    if (slash != NULL) {
        *slash = '\0';
        dir->len = slash - vstr_str(dir);
    } else {
        vstr_set(dir, ".");
    }
    if (lstat(vstr_len(dir) ? vstr_str(dir) : "/", &st) == 0 && S_ISDIR(st.st_mode)
        && st.st_uid == 0) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            if (fchown(fd, id->uid, id->gid) != 0)
                msg_warn("chown %s: %s", path, strerror(errno));
            (void)close(fd);
        }
    }
    vstr_free(dir);
}

void deliver_mbox(const struct local_config *cfg, struct local_message *msg, const char *path,
                  const struct local_identity *id, int spool, struct local_result *r)
{
    vstr *lock_path = vstr_new(128);
    vstr *from = vstr_new(128);
    struct stat st;
    stream *out;
    off_t orig_size = 0, end;
    int fd = -1;
    int dotlocked = 0;
    int rc;

    vstr_set(lock_path, path);
    vstr_puts(lock_path, ".lock");
    if (spool)
        spool_mailbox_create(cfg, path, id);
    if (local_identity_enter(cfg, id) != 0) {
        local_result_errno(r, errno, "cannot switch to uid %ld", (long)id->uid);
        goto done;
    }
    if ((dotlocked = dotlock_acquire(vstr_str(lock_path))) < 0) {
        if (errno == EAGAIN)
            local_result_set(r, LOCAL_DEFERRED, "4.2.0", "cannot lock mailbox %s: timeout", path);
        else
            local_result_errno(r, errno, "cannot create lock file %s", vstr_str(lock_path));
        dotlocked = 0;
        goto leave;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        local_result_errno(r, errno, "cannot open mailbox %s", path);
        goto leave;
    }
    if (fstat(fd, &st) != 0) {
        local_result_errno(r, errno, "cannot stat mailbox %s", path);
        goto leave;
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
        local_result_set(r, LOCAL_BOUNCED, "5.2.0",
                         "cannot update mailbox %s: not a regular file with one link", path);
        goto leave;
    }
    if (kernel_lock(fd) != 0) {
        if (errno == EAGAIN)
            local_result_set(r, LOCAL_DEFERRED, "4.2.0", "cannot lock mailbox %s: timeout", path);
        else
            local_result_errno(r, errno, "cannot lock mailbox %s", path);
        goto leave;
    }
    if (fstat(fd, &st) != 0) {
        local_result_errno(r, errno, "cannot stat mailbox %s", path);
        goto leave;
    }
    orig_size = st.st_size;
    mbox_from_line(from, msg->sender, time(NULL));
    out = stream_fdopen(fd);
    rc = stream_write(out, vstr_str(from), vstr_len(from)) == 0 ? 0 : -1;
    if (rc == 0)
        rc = local_copy_message(out, msg, 1);
    if (rc == 0 && (stream_write(out, "\n", 1) != 0 || stream_flush(out) != 0))
        rc = -1;
    stream_free(out);
    if (rc == 0 && cfg->mailbox_size_limit > 0) {
        end = lseek(fd, 0, SEEK_END);
        if (end > cfg->mailbox_size_limit) {
            errno = EFBIG;
            rc = -1;
        }
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -1;
    if (rc != 0) {
        int saved = errno;

        if (ftruncate(fd, orig_size) != 0)
            msg_warn("%s: cannot truncate mailbox %s back: %s", msg->queue_id, path,
                     strerror(errno));
        errno = saved;
        if (rc == -1 && errno == EFBIG)
            local_result_set(r, LOCAL_BOUNCED, "5.2.2",
                             "cannot update mailbox %s: mailbox_size_limit exceeded", path);
        else
            copy_failed(r, rc, "mailbox", path);
        goto leave;
    }
    local_result_set(r, LOCAL_SENT, "2.0.0", "delivered to mailbox");
leave:
    if (fd >= 0)
        (void)close(fd);        /* also releases the fcntl lock */
    if (dotlocked > 0)
        (void)unlink(vstr_str(lock_path));
    local_identity_leave(cfg);
done:
    vstr_free(lock_path);
    vstr_free(from);
}

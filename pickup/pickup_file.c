/* pickup(8): one maildrop file.  The file is hostile input written by any
 * local user through postdrop: it is opened without following links,
 * must be a regular file with one link and a bounded size, is validated
 * completely (lib/maildrop.h) and must be owned by the uid it names,
 * before a single record goes to cleanup.  It is then sent again,
 * checked again, with our flags, the uid attribute and a Received:
 * header, and removed once cleanup has it durably.  A bad file moves to
 * corrupt/; a file cleanup cannot take now waits for the next scan. */
#include "mail_date.h"
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "attr.h"
#include "cleanup_client.h"
#include "log.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "pickup.h"
#include "queue.h"
#include "queue_id.h"
#include "record.h"
#include "skeleton.h"
#include "stream.h"
#include "vstr.h"

/* How much of an untrusted text goes into a log line. */
#define LOG_TEXT_MAX 256


/* Move maildrop/ID to corrupt/ (a fresh name if corrupt/ID exists), or
 * remove it when even that fails, so that it is never retried. */
static enum pickup_result quarantine(const char *id, long long uid, const char *reason)
{
    char safe[LOG_TEXT_MAX + 4];
    char uidbuf[32];
    vstr *from = vstr_new(64), *to = vstr_new(64);
    char fresh[QUEUE_ID_LEN + 1];
    struct stat st;

    log_printable(safe, sizeof(safe), reason, strlen(reason));
    if (uid >= 0)
        snprintf(uidbuf, sizeof(uidbuf), "%lld", uid);
    else
        snprintf(uidbuf, sizeof(uidbuf), "unknown");
    queue_path(from, QUEUE_MAILDROP, id);
    queue_path(to, QUEUE_CORRUPT, id);
    if (lstat(vstr_str(to), &st) == 0) {
        queue_id_new(fresh);
        vstr_reset(to);
        queue_path(to, QUEUE_CORRUPT, fresh);
    }
    if (rename(vstr_str(from), vstr_str(to)) == 0) {
        msg_warn("%s: uid=%s: %s; moved to %s", vstr_str(from), uidbuf, safe, vstr_str(to));
    } else if (errno == ENOENT) {
        /* Gone meanwhile: nothing to do. */
    } else if (unlink(vstr_str(from)) == 0) {
        msg_warn("%s: uid=%s: %s; cannot move it to %s (%m): removed", vstr_str(from), uidbuf,
                 safe, QUEUE_CORRUPT);
    } else {
        msg_error("%s: uid=%s: %s; cannot move or remove it: %m", vstr_str(from), uidbuf, safe);
    }
    vstr_free(from);
    vstr_free(to);
    return PICKUP_QUARANTINED;
}

/* Pass 1: the whole file must be a valid maildrop file.  *flags gets
 * what pickup adds: SMTPUTF8 for a non-ASCII envelope (Postfix's
 * autodetection for local submissions). */
static int check_file(stream *s, const struct maildrop_limits *lim, long long *uid,
                      int *flags, vstr *why, int *ioerr)
{
    maildrop_check *chk = maildrop_check_new(MAILDROP_FILE, lim, 0);
    vstr *data = vstr_new(1024);
    int type, st;

    while ((st = maildrop_get(s, chk, &type, data)) == MAILDROP_MORE)
        ;
    if (st == MAILDROP_END)
        st = maildrop_expect_eof(s, chk);
    *ioerr = (st == MAILDROP_IOERR);
    *uid = maildrop_check_info(chk)->uid;
    *flags = maildrop_check_info(chk)->utf8_envelope ? REC_FLAG_SMTPUTF8 : 0;
    vstr_set(why, maildrop_check_why(chk));
    maildrop_check_free(chk);
    vstr_free(data);
    return st == MAILDROP_END ? 0 : -1;
}

/* Pass 2: send the file to cleanup, checking it again as we go (the
 * check is cheap, and it keeps every record we send a checked one).
 * Returns 0, or -1 with why; *input_bad says the file was at fault. */
static int send_file(stream *in, stream *out, const struct maildrop_limits *lim, long long uid,
                     int extra_flags, vstr *sender, vstr *why, int *input_bad)
{
    maildrop_check *chk = maildrop_check_new(MAILDROP_FILE, lim, 0);
    vstr *data = vstr_new(1024), *line = vstr_new(128);
    int type, st, ret = -1;

    *input_bad = 0;
    for (;;) {
        int header = maildrop_check_in_header(chk);

        st = maildrop_get(in, chk, &type, data);
        if (st == MAILDROP_BAD || st == MAILDROP_IOERR) {
            *input_bad = (st == MAILDROP_BAD);
            vstr_set(why, maildrop_check_why(chk));
            goto out;
        }
        if (header)
            continue;
        switch (type) {
        case REC_FLAGS:
            /* Users may ask for recipient extraction and nothing else. */
            rec_putf(out, REC_FLAGS, "%d",
                     (maildrop_check_info(chk)->flags & REC_FLAG_EXTRACT) | REC_FLAG_LOCAL_CLIENT
                         | extra_flags);
            break;
        case REC_SENDER:
            vstr_setn(sender, vstr_str(data), vstr_len(data));
            rec_put(out, type, vstr_str(data), vstr_len(data));
            rec_putf(out, REC_ATTR, "uid=%lld", uid);
            break;
        case REC_MESSAGE:
            rec_put(out, type, "", 0);
            vstr_reset(line);
            vstr_printf(line, "Received: by %s (posthorn, from userid %lld);",
                        pickup_conf.myhostname, uid);
            rec_put(out, REC_LINE, vstr_str(line), vstr_len(line));
            vstr_set(line, "\t");
            mail_date_format(line, time(NULL));
            rec_put(out, REC_LINE, vstr_str(line), vstr_len(line));
            break;
        default:
            rec_put(out, type, vstr_str(data), vstr_len(data));
            break;
        }
        if (st == MAILDROP_END)
            break;
    }
    if ((st = stream_flush(out)) != 0) {
        vstr_reset(why);
        vstr_printf(why, "cannot send to the cleanup service: %s",
                    st == STREAM_ERROR ? strerror(errno) : stream_strerror(st));
        goto out;
    }
    ret = 0;
out:
    maildrop_check_free(chk);
    vstr_free(data);
    vstr_free(line);
    return ret;
}

/* The cleanup conversation.  0: queued as queue_id; -1: try again later
 * (why); 1: cleanup refused the message for good (why). */
static int post_to_cleanup(stream *in, const struct maildrop_limits *lim, long long uid,
                           int extra_flags, vstr *sender, vstr *queue_id, vstr *why,
                           int *input_bad)
{
    stream *s;
    int fd, ret = -1;

    *input_bad = 0;
    if ((fd = service_connect(CLEANUP_SOCKET, 0)) < 0) {
        vstr_reset(why);
        vstr_printf(why, "cannot connect to the cleanup service (%s): %s", CLEANUP_SOCKET,
                    strerror(errno));
        return -1;
    }
    s = stream_fdopen(fd);
    stream_set_timeout(s, pickup_conf.ipc_timeout);
    /* cleanup reads the whole stream before it replies. */
    if (send_file(in, s, lim, uid, extra_flags, sender, why, input_bad) == 0)
        ret = cleanup_client_finish(s, queue_id, why);
    stream_close(s);
    return ret;
}

enum pickup_result pickup_file(const char *id)
{
    struct maildrop_limits lim;
    vstr *path = vstr_new(64), *why = vstr_new(64), *sender = vstr_new(64);
    vstr *queue_id = vstr_new(QUEUE_ID_LEN + 1);
    enum pickup_result result = PICKUP_SKIPPED;
    stream *in = NULL;
    struct stat lst, st;
    long long uid;
    int fd = -1, ioerr, input_bad, r, extra_flags;

    maildrop_limits_init(&lim, pickup_conf.message_size_limit);
    queue_path(path, QUEUE_MAILDROP, id);
    /* Never open anything but a regular file (a device could react). */
    if (lstat(vstr_str(path), &lst) != 0) {
        if (errno != ENOENT)
            msg_warn("cannot stat %s: %m", vstr_str(path));
        goto out;
    }
    if (!S_ISREG(lst.st_mode)) {
        result = quarantine(id, (long long)lst.st_uid,
                            S_ISLNK(lst.st_mode) ? "symbolic link" : "not a regular file");
        goto out;
    }
    /* O_NOFOLLOW, O_NONBLOCK: the name may have been replaced since. */
    fd = open(vstr_str(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;

        if (saved == ENOENT)
            goto out;
        if (lstat(vstr_str(path), &st) == 0 && !S_ISREG(st.st_mode)) {
            result = quarantine(id, (long long)st.st_uid,
                                S_ISLNK(st.st_mode) ? "symbolic link" : "not a regular file");
            goto out;
        }
        msg_warn("cannot open %s: %s", vstr_str(path), strerror(saved));
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        msg_warn("cannot stat %s: %m", vstr_str(path));
        goto out;
    }
    if (st.st_dev != lst.st_dev || st.st_ino != lst.st_ino)
        goto out;               /* replaced meanwhile: look again next time */
    if (!S_ISREG(st.st_mode)) {
        result = quarantine(id, (long long)st.st_uid, "not a regular file");
        goto out;
    }
    if (st.st_nlink != 1) {
        vstr_printf(why, "hard link (%lu links)", (unsigned long)st.st_nlink);
        result = quarantine(id, (long long)st.st_uid, vstr_str(why));
        goto out;
    }
    if ((long long)st.st_size > maildrop_raw_limit(&lim)) {
        vstr_printf(why, "file too large (%lld bytes)", (long long)st.st_size);
        result = quarantine(id, (long long)st.st_uid, vstr_str(why));
        goto out;
    }
    /* Reads block from here on; a regular file never stalls. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    in = stream_fdopen(fd);
    stream_set_timeout(in, pickup_conf.ipc_timeout);
    if (check_file(in, &lim, &uid, &extra_flags, why, &ioerr) != 0) {
        if (ioerr) {
            msg_warn("%s: %s", vstr_str(path), vstr_str(why));
            goto out;
        }
        result = quarantine(id, (long long)st.st_uid, vstr_str(why));
        goto out;
    }
    if (uid != (long long)st.st_uid) {
        vstr_reset(why);
        vstr_printf(why, "wrong owner: the file says uid %lld", uid);
        result = quarantine(id, (long long)st.st_uid, vstr_str(why));
        goto out;
    }
    if (stream_seek(in, 0) != 0) {
        msg_warn("%s: cannot rewind: %m", vstr_str(path));
        goto out;
    }
    r = post_to_cleanup(in, &lim, uid, extra_flags, sender, queue_id, why, &input_bad);
    if (r == 0) {
        char safe[MAILDROP_ADDR_MAX * 4 + 4];

        msg_info("%s: uid=%lld from=<%s>", vstr_str(queue_id), uid,
                 log_printable(safe, sizeof(safe), vstr_str(sender), vstr_len(sender)));
        if (unlink(vstr_str(path)) != 0 && errno != ENOENT)
            msg_warn("cannot remove %s: %m (its message is queued as %s)", vstr_str(path),
                     vstr_str(queue_id));
        result = PICKUP_DONE;
    } else if (input_bad) {
        /* Changed between the two passes. */
        result = quarantine(id, (long long)st.st_uid, vstr_str(why));
    } else if (r == 1) {
        result = quarantine(id, (long long)st.st_uid, vstr_str(why));
    } else {
        msg_warn("%s: uid=%lld: %s; will try again later", vstr_str(path), uid, vstr_str(why));
        result = PICKUP_RETRY_LATER;
    }
out:
    if (in != NULL)
        stream_close(in);
    else if (fd >= 0)
        close(fd);
    vstr_free(path);
    vstr_free(why);
    vstr_free(sender);
    vstr_free(queue_id);
    return result;
}

/* cleanup(8) per-connection service: creates incoming/.ID, announces the
 * protocol, reads the client's records into the queue file, commits it
 * durably (flush, size record, fsync, rename, directory fsync), replies,
 * and only then wakes the queue manager. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include "attr.h"
#include "cleanup.h"
#include "log.h"
#include "mail_proto.h"
#include "master_proto.h"
#include "params.h"
#include "queue.h"
#include "queue_id.h"
#include "record.h"
#include "safe_file.h"
#include "skeleton.h"
#include "stream.h"
#include "vstr.h"

/* Make the queue file complete and durable.  0 or -1 (st->error set). */
static int commit_queue_file(cleanup_state *st, int fd, const char *temp, const char *final)
{
    unsigned char hdr[5];
    size_t hlen = rec_header(hdr, REC_SIZE, REC_SIZE_WIDTH);
    vstr *sizes = vstr_new(REC_SIZE_WIDTH + 1);
    int status;
    int ret = -1;

    if ((status = stream_flush(st->dst)) != 0) {
        cleanup_fail(st, CLEANUP_ERR_WRITE, "queue file write error: %s",
                     status == STREAM_ERROR ? strerror(errno) : stream_strerror(status));
        goto out;
    }
    cleanup_size_data(sizes, st->content_size, (long)st->content_offset, st->rcpt_count);
    if (pwrite(fd, vstr_str(sizes), REC_SIZE_WIDTH, st->size_offset + (off_t)hlen)
        != REC_SIZE_WIDTH) {
        cleanup_fail(st, CLEANUP_ERR_WRITE, "queue file write error: %s", strerror(errno));
        goto out;
    }
    if (fsync(fd) != 0) {
        cleanup_fail(st, CLEANUP_ERR_WRITE, "queue file write error: fsync: %s", strerror(errno));
        goto out;
    }
    if (rename_durable(temp, final) != 0) {
        cleanup_fail(st, CLEANUP_ERR_WRITE, "queue file write error: rename %s: %s", temp,
                     strerror(errno));
        /* The rename may have happened without the directory fsync: the
         * client will retry, so the file must not be delivered too. */
        (void)unlink(final);
        goto out;
    }
    ret = 0;
out:
    vstr_free(sizes);
    return ret;
}

static void send_reply(stream *client, const cleanup_state *st)
{
    attr_list *reply = attr_list_new();
    const char *status, *reason;

    cleanup_reply_text(st, &status, &reason);
    attr_add(reply, "status", status);
    attr_add(reply, "queue_id", st->id);
    attr_add(reply, "reason", reason);
    if (attr_write(client, reply) != 0)
        msg_warn("%s: cannot send reply to client: %s", st->id, strerror(errno));
    attr_list_free(reply);
}

/* Read the client's records until E or failure.  Returns 1 when the
 * whole request was read, 0 when the client went away (no reply), -1
 * when it stopped making sense or timed out (a reply is attempted). */
static int read_request(stream *client, cleanup_state *st)
{
    vstr *data = vstr_new(256);
    int type = 0;
    int status, r;
    int ret;

    for (;;) {
        status = rec_get(client, &type, data, NULL);
        if (status == REC_OK) {
            r = cleanup_record(st, type, vstr_str(data), vstr_len(data));
            if (r == 0)
                continue;
            ret = (r > 0) ? 1 : -1;
            break;
        }
        if (status == REC_EOF || status == STREAM_EOF || status == STREAM_ERROR) {
            cleanup_fail(st, CLEANUP_ERR_PROTO, "lost connection with client before end of message");
            ret = 0;
        } else if (status == STREAM_TIMEOUT) {
            cleanup_fail(st, CLEANUP_ERR_PROTO, "timeout reading from client");
            ret = -1;
        } else {
            cleanup_fail(st, CLEANUP_ERR_PROTO, "malformed record from client");
            ret = -1;
        }
        break;
    }
    vstr_free(data);
    return ret;
}

void cleanup_service(stream *client, void *ctx)
{
    char id[QUEUE_ID_LEN + 1];
    struct cleanup_limits lim;
    struct timeval now;
    cleanup_state *st;
    vstr *temp = vstr_new(64);
    vstr *final = vstr_new(64);
    stream *dst = NULL;
    int fd, got;

    (void)ctx;
    queue_id_new(id);
    queue_temp_path(temp, id);
    queue_path(final, QUEUE_INCOMING, id);
    lim.message_size_limit = config_size("message_size_limit");
    lim.header_size_limit = config_size("header_size_limit");
    lim.myhostname = config_str("myhostname");
    lim.myorigin = config_str("myorigin");
    lim.delay_warning_time = config_time("delay_warning_time");
    gettimeofday(&now, NULL);
    st = cleanup_state_new(id, &lim, now.tv_sec);

    fd = safe_create(vstr_str(temp), O_WRONLY, 0600);
    if (fd < 0) {
        cleanup_fail(st, CLEANUP_ERR_WRITE, "queue file write error: create %s: %s",
                     vstr_str(temp), strerror(errno));
    } else {
        dst = stream_fdopen(fd);
        cleanup_begin(st, dst, &now);
    }

    if (attr_announce(client, PROTO_CLEANUP, PROTO_VERSION) != 0) {
        cleanup_fail(st, CLEANUP_ERR_PROTO, "lost connection with client: %s", strerror(errno));
        got = 0;
    } else {
        got = read_request(client, st);
    }

    if (got > 0 && st->error == CLEANUP_OK) {
        if (commit_queue_file(st, fd, vstr_str(temp), vstr_str(final)) == 0)
            vstr_reset(temp);       /* nothing left to remove */
    }
    if (dst != NULL) {
        stream_free(dst);
        st->dst = NULL;
        if (close(fd) != 0 && st->error == CLEANUP_OK)
            cleanup_fail(st, CLEANUP_ERR_WRITE, "queue file write error: close: %s",
                         strerror(errno));
    }
    if (st->error != CLEANUP_OK) {
        if (fd >= 0 && vstr_len(temp) > 0 && unlink(vstr_str(temp)) != 0 && errno != ENOENT)
            msg_warn("%s: remove %s: %s", id, vstr_str(temp), strerror(errno));
        if (st->error == CLEANUP_ERR_SIZE)
            msg_info("%s: reject: message size exceeds limit of %ld bytes", id,
                     lim.message_size_limit);
        else
            msg_warn("%s: %s", id, vstr_str(st->why));
    }
    if (got != 0)
        send_reply(client, st);
    if (got > 0 && st->error == CLEANUP_OK && trigger_send(QMGR_TRIGGER, TRIGGER_WAKEUP) != 0)
        msg_warn("%s: cannot wake the queue manager (%s): %s", id, QMGR_TRIGGER,
                 strerror(errno));
    cleanup_state_free(st);
    vstr_free(temp);
    vstr_free(final);
}

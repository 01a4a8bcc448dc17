/* bounce(8): hand a composed notification to cleanup(8) as an ordinary
 * client (the record stream of mail_proto.h, like smtpd), then wait for
 * cleanup's verdict: a notification counts as sent only once cleanup says
 * the queue file is durable.  bounce serves one request at a time, so the
 * blocking stream is fine here. */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "attr.h"
#include "bounce.h"
#include "log.h"
#include "mail_proto.h"
#include "params.h"
#include "record.h"
#include "skeleton.h"
#include "stream.h"
#include "vstr.h"

int bounce_post(const char *sender, const char *rcpt, int flags, const char *log_ident,
                const vstr *records, vstr *queue_id, vstr *why)
{
    attr_list *reply = attr_list_new();
    vstr *err = vstr_new(64);
    stream *s = NULL;
    const char *status;
    int fd, st, ret = -1;

    vstr_reset(queue_id);
    if ((fd = service_connect(CLEANUP_SOCKET, 0)) < 0) {
        vstr_reset(why);
        vstr_printf(why, "4.3.0 cannot connect to the cleanup service (%s): %s", CLEANUP_SOCKET,
                    strerror(errno));
        goto out;
    }
    s = stream_fdopen(fd);
    stream_set_timeout(s, (int)config_time("ipc_timeout"));
    /* cleanup reads the whole stream before it replies; its announcement
     * is small, so sending first cannot deadlock. */
    rec_putf(s, REC_FLAGS, "%d", flags);
    rec_puts(s, REC_SENDER, sender);
    if (log_ident != NULL)
        rec_putf(s, REC_ATTR, "%s=%s", ATTR_LOG_IDENT, log_ident);
    rec_puts(s, REC_RCPT, rcpt);
    rec_put(s, REC_MESSAGE, "", 0);
    stream_write(s, vstr_str(records), vstr_len(records));
    rec_put(s, REC_END, "", 0);
    if ((st = stream_flush(s)) != 0) {
        vstr_reset(why);
        vstr_printf(why, "4.3.0 cannot send to the cleanup service: %s",
                    st == STREAM_ERROR ? strerror(errno) : stream_strerror(st));
        goto out;
    }
    if (attr_expect(s, PROTO_CLEANUP, PROTO_VERSION, err) != 0
        || attr_read(s, reply, cleanup_reply_spec, err) != 0) {
        vstr_reset(why);
        vstr_printf(why, "4.3.0 no reply from the cleanup service: %s", vstr_str(err));
        goto out;
    }
    status = attr_get(reply, "status");
    if (strcmp(status, "0") != 0 || attr_get(reply, "queue_id") == NULL
        || *attr_get(reply, "queue_id") == '\0') {
        char st_safe[16], r_safe[256];
        const char *r = attr_get(reply, "reason") ? attr_get(reply, "reason") : "";

        vstr_reset(why);
        vstr_printf(why, "4.3.0 cleanup service said: %s %s",
                    log_printable(st_safe, sizeof(st_safe), status, strlen(status)),
                    log_printable(r_safe, sizeof(r_safe), r, strlen(r)));
        goto out;
    }
    vstr_set(queue_id, attr_get(reply, "queue_id"));
    ret = 0;
out:
    if (s != NULL)
        stream_close(s);
    attr_list_free(reply);
    vstr_free(err);
    return ret;
}

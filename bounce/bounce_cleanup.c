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
#include "cleanup_client.h"
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
    stream *s;
    int fd, ret;

    vstr_reset(queue_id);
    if ((fd = service_connect(CLEANUP_SOCKET, 0)) < 0) {
        vstr_reset(why);
        vstr_printf(why, "4.3.0 cannot connect to the cleanup service (%s): %s", CLEANUP_SOCKET,
                    strerror(errno));
        return -1;
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
    ret = cleanup_client_finish(s, queue_id, why);
    stream_close(s);
    if (ret == CLEANUP_CLIENT_OK)
        return 0;
    /* A notification is always retried: the reason is a deferral's. */
    {
        vstr *text = vstr_new(vstr_len(why) + 8);

        vstr_printf(text, "4.3.0 %s", vstr_str(why));
        vstr_set(why, vstr_str(text));
        vstr_free(text);
    }
    return -1;
}

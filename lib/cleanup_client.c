/* The reply half of a blocking cleanup client: one place that decides
 * what cleanup's answer means, for every daemon that queues new mail. */
#include "config.h"
#include <errno.h>
#include <string.h>
#include "attr.h"
#include "cleanup_client.h"
#include "log.h"
#include "mail_proto.h"
#include "queue_id.h"
#include "stream.h"
#include "vstr.h"

int cleanup_client_finish(stream *s, vstr *queue_id, vstr *why)
{
    attr_list *reply = attr_list_new();
    vstr *err = vstr_new(64);
    const char *status, *reason, *id;
    int st, ret = CLEANUP_CLIENT_FAILED;

    vstr_reset(why);
    if ((st = stream_flush(s)) != 0) {
        vstr_printf(why, "cannot send to the cleanup service: %s",
                    st == STREAM_ERROR ? strerror(errno) : stream_strerror(st));
    } else if (attr_expect(s, PROTO_CLEANUP, PROTO_VERSION, err) != 0
               || attr_read(s, reply, cleanup_reply_spec, err) != 0) {
        vstr_printf(why, "no reply from the cleanup service: %s", vstr_str(err));
    } else {
        status = attr_get(reply, "status");
        reason = attr_get(reply, "reason") ? attr_get(reply, "reason") : "";
        id = attr_get(reply, "queue_id");
        if (status != NULL && strcmp(status, "0") == 0 && id != NULL && queue_id_valid(id)) {
            vstr_set(queue_id, id);
            ret = CLEANUP_CLIENT_OK;
        } else {
            char st_safe[16], r_safe[256];

            status = status ? status : "";
            vstr_printf(why, "cleanup service said: %s %s",
                        log_printable(st_safe, sizeof(st_safe), status, strlen(status)),
                        log_printable(r_safe, sizeof(r_safe), reason, strlen(reason)));
            if (status[0] == '5')
                ret = CLEANUP_CLIENT_REJECTED;
        }
    }
    attr_list_free(reply);
    vstr_free(err);
    return ret;
}

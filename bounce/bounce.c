/* bounce(8): writes delivery status notifications.  main() hands the
 * single_server skeleton the per-connection service below: announce the
 * bounce protocol, read one flush request (mail_proto.h), run it
 * (bounce_flush.c) and reply.  Runs as mail_owner, chrooted when master.cf
 * says so; it reads queue files and status logs and talks only to cleanup. */
#include "config.h"
#include <signal.h>
#include <string.h>
#include <time.h>
#include "attr.h"
#include "bounce.h"
#include "log.h"
#include "mail_proto.h"
#include "params.h"
#include "queue_id.h"
#include "skeleton.h"
#include "stream.h"
#include "vstr.h"

static void bounce_pre_jail(void *ctx)
{
    (void)ctx;
    /* Load the time zone while /etc is reachable: DSN dates are local. */
    tzset();
}

static void bounce_post_jail(void *ctx)
{
    (void)ctx;
    signal(SIGPIPE, SIG_IGN);
    /* Fail at start, not per request, on a bad value. */
    (void)config_size("bounce_size_limit");
    (void)config_str("notify_classes");
}

static void send_reply(stream *client, const char *status, const char *queue_id,
                       const char *reason)
{
    attr_list *reply = attr_list_new();

    attr_add(reply, "status", status);
    attr_add(reply, "queue_id", queue_id);
    attr_add(reply, "reason", reason);
    if (attr_write(client, reply) != 0)
        msg_warn("cannot send reply to the bounce client");
    attr_list_free(reply);
}

static void bounce_service(stream *client, void *ctx)
{
    attr_list *req = attr_list_new();
    vstr *err = vstr_new(64), *dsn_id = vstr_new(32), *reason = vstr_new(64);
    enum dsn_kind kind;
    char safe[128];

    (void)ctx;
    if (attr_announce(client, PROTO_BOUNCE, PROTO_VERSION) != 0)
        goto out;
    if (attr_read(client, req, bounce_request_spec, err) != 0) {
        msg_warn("malformed bounce request: %s",
                 log_printable(safe, sizeof(safe), vstr_str(err), vstr_len(err)));
        goto out;
    }
    if (strcmp(attr_get(req, "request"), "flush") != 0
        || dsn_kind_parse(attr_get(req, "kind"), &kind) != 0) {
        msg_warn("unsupported bounce request or kind");
        send_reply(client, "500", "", "5.5.1 unsupported request");
        goto out;
    }
    if (bounce_flush(attr_get(req, "queue_name"), attr_get(req, "queue_id"), kind, dsn_id,
                     reason) != 0) {
        send_reply(client, vstr_str(reason)[0] == '5' ? "550" : "451", "", vstr_str(reason));
        goto out;
    }
    send_reply(client, "0", vstr_str(dsn_id), "");
out:
    attr_list_free(req);
    vstr_free(err);
    vstr_free(dsn_id);
    vstr_free(reason);
}

int main(int argc, char **argv)
{
    static const struct server_hooks hooks = {
        .pre_jail = bounce_pre_jail,
        .post_jail = bounce_post_jail,
    };

    return single_server_main(argc, argv, bounce_service, &hooks);
}

/* flush(8): the fast flush service behind postqueue -i ID and
 * postqueue -s SITE.  It makes deferred mail due now by setting the
 * queue file's mtime (the retry time qmgr's deferred scan looks at) to
 * the present, then sends TRIGGER_DEFERRED to public/qmgr.
 *
 * Protocol on public/flush (attr.h; names in flush.h), one request per
 * connection:
 *   server: announce {protocol = "flush", version = 1}
 *   client: {request = "flush_id", queue_id = ID}
 *        or {request = "flush_site", site = DOMAIN | [ADDRESS]}
 *   server: {status = "0" ok | "1" failed | "2" bad request |
 *            "3" site not eligible, reason = text}
 * flush_id: a deferred message becomes due; one in incoming/ or active/
 * is being delivered already (status 0); hold/ or unknown: status 1.
 * flush_site: the site must match fast_flush_domains (a domain match
 * list; parent domains per parent_domain_matches_subdomains); every
 * deferred message with a pending recipient in that domain becomes due.
 * Runs as mail_owner, chrooted when master.cf says so; both requests come
 * from any local user, so their syntax is checked and the work bounded. */
#include "config.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "attr.h"
#include "flush.h"
#include "log.h"
#include "mail_proto.h"
#include "master_proto.h"
#include "match_list.h"
#include "params.h"
#include "queue.h"
#include "queue_id.h"
#include "showq.h"
#include "skeleton.h"
#include "stream.h"
#include "vstr.h"

/* Work bounds of one flush_site request. */
#define FLUSH_MAX_FILES 100000
#define FLUSH_MAX_SECONDS 60
#define FLUSH_MAX_RCPTS 10000

static match_list *flush_domains;

static void send_reply(stream *client, const char *status, const char *reason)
{
    attr_list *reply = attr_list_new();

    attr_add(reply, "status", status);
    attr_add(reply, "reason", reason);
    if (attr_write(client, reply) != 0)
        msg_warn("cannot send reply to the flush client");
    attr_list_free(reply);
}

/* Make QUEUE/ID due: its mtime becomes now.  0 or -1. */
static int make_due(const char *id)
{
    vstr *path = vstr_new(64);
    int ret;

    queue_path(path, QUEUE_DEFERRED, id);
    ret = utimes(vstr_str(path), NULL);
    vstr_free(path);
    return ret;
}

static int queue_has(const char *queue, const char *id)
{
    vstr *path = vstr_new(64);
    struct stat st;
    int ret;

    queue_path(path, queue, id);
    ret = lstat(vstr_str(path), &st) == 0 && S_ISREG(st.st_mode);
    vstr_free(path);
    return ret;
}

static void flush_id(stream *client, const char *id)
{
    if (id == NULL || !queue_id_valid(id)) {
        send_reply(client, FLUSH_STAT_BAD, "invalid queue id");
        return;
    }
    if (queue_has(QUEUE_DEFERRED, id)) {
        if (make_due(id) != 0) {
            send_reply(client, FLUSH_STAT_FAIL, "cannot update the queue file");
            return;
        }
        if (trigger_send(QMGR_TRIGGER, TRIGGER_DEFERRED) != 0)
            msg_warn("cannot trigger the queue manager");
        msg_info("%s: flush requested", id);
        send_reply(client, FLUSH_STAT_OK, "message scheduled for delivery");
    } else if (queue_has(QUEUE_INCOMING, id) || queue_has(QUEUE_ACTIVE, id)) {
        send_reply(client, FLUSH_STAT_OK, "message is being delivered already");
    } else if (queue_has(QUEUE_HOLD, id)) {
        send_reply(client, FLUSH_STAT_FAIL, "message is on hold");
    } else {
        send_reply(client, FLUSH_STAT_FAIL, "no such message in the queue");
    }
}

/* Does an address's domain equal site (case-insensitively)? */
static int address_in_site(const char *address, const char *site)
{
    const char *at = strrchr(address, '@');

    return at != NULL && strcasecmp(at + 1, site) == 0;
}

static void flush_site(stream *client, const char *site)
{
    queue_scan *qs;
    const char *id;
    struct showq_file f;
    vstr *err = vstr_new(32), *reason = vstr_new(64);
    time_t deadline = time(NULL) + FLUSH_MAX_SECONDS;
    unsigned long files = 0, flushed = 0;

    if (site == NULL || !flush_site_valid(site)) {
        send_reply(client, FLUSH_STAT_BAD, "invalid site name");
        goto out;
    }
    if (flush_domains == NULL || !match_list_match_domain(flush_domains, site)) {
        send_reply(client, FLUSH_STAT_DENY, "site is not eligible for the fast flush service");
        goto out;
    }
    if ((qs = queue_scan_open(QUEUE_DEFERRED)) != NULL) {
        while ((id = queue_scan_next(qs)) != NULL && files < FLUSH_MAX_FILES
               && time(NULL) < deadline) {
            files++;
            if (showq_file_read(QUEUE_DEFERRED, id, 0, FLUSH_MAX_RCPTS, &f, err) != 0)
                continue;
            for (size_t i = 0; i < f.nrcpt; i++) {
                if (address_in_site(f.rcpts[i].address, site)) {
                    if (make_due(id) == 0)
                        flushed++;
                    break;
                }
            }
            showq_file_free(&f);
        }
        queue_scan_close(qs);
    }
    if (flushed > 0 && trigger_send(QMGR_TRIGGER, TRIGGER_DEFERRED) != 0)
        msg_warn("cannot trigger the queue manager");
    msg_info("flush site %s: %lu message%s", site, flushed, flushed == 1 ? "" : "s");
    vstr_printf(reason, "%lu message%s scheduled for delivery", flushed, flushed == 1 ? "" : "s");
    send_reply(client, FLUSH_STAT_OK, vstr_str(reason));
out:
    vstr_free(err);
    vstr_free(reason);
}

static void flush_service(stream *client, void *ctx)
{
    attr_list *req = attr_list_new();
    vstr *err = vstr_new(64);
    const char *request;
    char safe[128];

    (void)ctx;
    if (attr_announce(client, PROTO_FLUSH, FLUSH_VERSION) != 0)
        goto out;
    if (attr_read(client, req, flush_request_spec, err) != 0) {
        msg_warn("malformed flush request: %s",
                 log_printable(safe, sizeof(safe), vstr_str(err), vstr_len(err)));
        goto out;
    }
    request = attr_get(req, "request");
    if (strcmp(request, FLUSH_REQ_ID) == 0)
        flush_id(client, attr_get(req, "queue_id"));
    else if (strcmp(request, FLUSH_REQ_SITE) == 0)
        flush_site(client, attr_get(req, "site"));
    else
        send_reply(client, FLUSH_STAT_BAD, "unknown request");
out:
    attr_list_free(req);
    vstr_free(err);
}

/* parent_domain_matches_subdomains names the lists whose bare domains
 * also match subdomains. */
static int parent_matches(const char *list_name)
{
    const char *list = config_str("parent_domain_matches_subdomains");
    size_t n = strlen(list_name);

    for (const char *p = list; (p = strstr(p, list_name)) != NULL; p += n)
        if ((p == list || strchr(", \t\r\n", p[-1])) && strchr(", \t\r\n", p[n]))
            return 1;
    return 0;
}

/* The match list may include files: build it before the jail. */
static void flush_pre_jail(void *ctx)
{
    vstr *err = vstr_new(64);

    (void)ctx;
    flush_domains = match_list_domain(config_str("fast_flush_domains"),
                                      parent_matches("fast_flush_domains"), err);
    if (flush_domains == NULL)
        msg_fatal("fast_flush_domains: %s", vstr_str(err));
    vstr_free(err);
}

static void flush_post_jail(void *ctx)
{
    (void)ctx;
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    static const struct server_hooks hooks = {
        .pre_jail = flush_pre_jail,
        .post_jail = flush_post_jail,
    };

    return single_server_main(argc, argv, flush_service, &hooks);
}

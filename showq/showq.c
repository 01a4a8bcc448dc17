/* showq(8): serves the queue listing on public/showq to postqueue(1),
 * mailq and monitoring tools, as the attribute stream described in
 * showq_proto.h.  Runs as mail_owner (chrooted when master.cf says so),
 * takes no input from the client, and lists maildrop, incoming, active,
 * deferred and hold in that order, each oldest first. */
#include "config.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "attr.h"
#include "log.h"
#include "mem.h"
#include "queue.h"
#include "showq.h"
#include "showq_proto.h"
#include "skeleton.h"
#include "stream.h"
#include "vstr.h"

/* Flush to the client whenever this much is buffered. */
#define SHOWQ_WRITE_CHUNK 65536

static const char *const showq_queues[] = {
    QUEUE_MAILDROP, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, NULL,
};

static int id_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids of a queue, sorted (ids sort by arrival time). */
static char **queue_ids(const char *queue, size_t *count)
{
    queue_scan *qs = queue_scan_open(queue);
    char **ids = NULL;
    const char *id;
    size_t n = 0;

    if (qs != NULL) {
        while ((id = queue_scan_next(qs)) != NULL) {
            if ((n & (n - 1)) == 0)
                ids = xreallocarray(ids, n ? n * 2 : 1, sizeof(*ids));
            ids[n++] = xstrdup(id);
        }
        queue_scan_close(qs);
    }
    if (n > 1)
        qsort(ids, n, sizeof(*ids), id_cmp);
    *count = n;
    return ids;
}

/* List one queue; -1 when the client went away. */
static int showq_queue(stream *client, const char *queue, vstr *buf)
{
    size_t n, i;
    char **ids = queue_ids(queue, &n);
    struct showq_file f;
    vstr *err = vstr_new(32);
    int ret = 0;

    for (i = 0; i < n; i++) {
        if (ret == 0
            && showq_file_read(queue, ids[i], strcmp(queue, QUEUE_MAILDROP) != 0,
                               SHOWQ_MAX_LISTED_RCPTS, &f, err) == 0) {
            showq_file_encode(buf, queue, ids[i], &f);
            showq_file_free(&f);
            if (vstr_len(buf) >= SHOWQ_WRITE_CHUNK) {
                if (stream_write(client, vstr_str(buf), vstr_len(buf)) != 0)
                    ret = -1;
                vstr_reset(buf);
            }
        } else if (ret == 0 && msg_verbose) {
            msg_info("skipping %s/%s: %s", queue, ids[i], vstr_str(err));
        }
        free(ids[i]);
    }
    free(ids);
    vstr_free(err);
    return ret;
}

static void showq_service(stream *client, void *ctx)
{
    attr_list *hello = attr_list_new();
    vstr *buf = vstr_new(SHOWQ_WRITE_CHUNK + 4096);
    int i;

    (void)ctx;
    attr_add(hello, "protocol", SHOWQ_PROTOCOL);
    attr_encode(buf, hello);
    attr_list_free(hello);
    for (i = 0; showq_queues[i] != NULL; i++)
        if (showq_queue(client, showq_queues[i], buf) != 0)
            goto out;
    vstr_putc(buf, '\0');           /* the empty list: end of the listing */
    if (stream_write(client, vstr_str(buf), vstr_len(buf)) != 0 || stream_flush(client) != 0)
        msg_warn("cannot send the queue listing to the client");
out:
    vstr_free(buf);
}

static void showq_post_jail(void *ctx)
{
    (void)ctx;
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    static const struct server_hooks hooks = {
        .post_jail = showq_post_jail,
    };

    return single_server_main(argc, argv, showq_service, &hooks);
}

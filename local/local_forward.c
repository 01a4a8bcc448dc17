/* local(8) forwarding: mail that an alias, .forward or :include: sends
 * to an address outside $mydestination is written as a new message
 * through cleanup(8) (the record stream of mail_proto.h), with the
 * original envelope sender and content and a Delivered-To: header on
 * top; it counts as delivered once cleanup says the new queue file is
 * durable.  Also the reader of the Delivered-To: headers already in a
 * message, which loop detection compares recipients against. */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "argv.h"
#include "attr.h"
#include "cleanup_client.h"
#include "local.h"
#include "local_parse.h"
#include "log.h"
#include "mail_proto.h"
#include "params.h"
#include "record.h"
#include "skeleton.h"
#include "stream.h"
#include "vstr.h"

#define DELIVERED_MAX 100           /* Delivered-To: values remembered */
#define HEADER_SCAN_MAX (1024 * 1024)  /* bytes of headers looked at */

/* Copy the content records (after M, up to X) of the queue file to out. */
static int copy_content_records(struct local_message *msg, stream *out)
{
    vstr *data = vstr_new(512);
    int type = 0, ret = -1;

    if (stream_seek(msg->qf, msg->content_offset) != 0
        || rec_get(msg->qf, &type, data, NULL) != REC_OK || type != REC_MESSAGE)
        goto out;
    for (;;) {
        if (rec_get(msg->qf, &type, data, NULL) != REC_OK)
            goto out;
        if (type == REC_XTRA || type == REC_END)
            break;
        if (type != REC_LINE && type != REC_CONT)
            goto out;
        if (rec_put(out, type, vstr_str(data), vstr_len(data)) != 0)
            goto out;
    }
    ret = 0;
out:
    vstr_free(data);
    return ret;
}

/* The DSN envelope attributes (envid, ret) of the original message, as
 * "name=value" A record data, for the forwarded copy. */
static void envelope_dsn_attrs(struct local_message *msg, argv_t *attrs)
{
    vstr *data = vstr_new(128);
    int type = 0;

    if (stream_seek(msg->qf, 0) != 0)
        goto out;
    while (stream_offset(msg->qf) < msg->content_offset) {
        if (rec_get(msg->qf, &type, data, NULL) != REC_OK || type == REC_MESSAGE)
            break;
        if (type == REC_ATTR
            && (strncmp(vstr_str(data), ATTR_ENVID "=", sizeof(ATTR_ENVID)) == 0
                || strncmp(vstr_str(data), ATTR_RET "=", sizeof(ATTR_RET)) == 0)
            && memchr(vstr_str(data), '\0', vstr_len(data)) == NULL)
            argv_add(attrs, vstr_str(data));
    }
out:
    vstr_free(data);
}

int local_forward_submit(struct local_message *msg, const char *delivered_to,
                         const argv_t *rcpts, vstr *queue_id, vstr *why)
{
    vstr *content = vstr_new(64);
    argv_t *attrs = argv_new();
    stream *s = NULL;
    int fd, ret = -1;
    size_t i;

    vstr_reset(queue_id);
    vstr_reset(why);
    envelope_dsn_attrs(msg, attrs);
    if ((fd = service_connect(CLEANUP_SOCKET, 0)) < 0) {
        vstr_printf(why, "cannot connect to the cleanup service (%s): %s", CLEANUP_SOCKET,
                    strerror(errno));
        goto out;
    }
    s = stream_fdopen(fd);
    stream_set_timeout(s, (int)config_time("ipc_timeout"));
    /* cleanup reads the whole stream before it replies, as for bounce. */
    rec_putf(s, REC_FLAGS, "%ld", msg->flags & (REC_FLAG_SMTPUTF8 | REC_FLAG_8BITMIME));
    rec_puts(s, REC_SENDER, msg->sender);
    rec_putf(s, REC_ATTR, "%s=%s", ATTR_LOG_IDENT, msg->queue_id);
    for (i = 0; i < attrs->n; i++)
        rec_puts(s, REC_ATTR, attrs->v[i]);
    /* Each new recipient keeps the DSN request of the one forwarded. */
    for (i = 0; i < rcpts->n; i++) {
        if (msg->orcpt != NULL && *msg->orcpt != '\0')
            rec_puts(s, REC_ORCPT, msg->orcpt);
        else if (msg->orig_rcpt != NULL && *msg->orig_rcpt != '\0')
            rec_putf(s, REC_ORCPT, "rfc822;%s", msg->orig_rcpt);
        if (msg->notify > 0)
            rec_putf(s, REC_NOTIFY, "%d", msg->notify);
        rec_puts(s, REC_RCPT, rcpts->v[i]);
    }
    rec_put(s, REC_MESSAGE, "", 0);
    if (delivered_to != NULL) {
        vstr_printf(content, "Delivered-To: %s", delivered_to);
        rec_put(s, REC_LINE, vstr_str(content), vstr_len(content));
    }
    if (copy_content_records(msg, s) != 0) {
        vstr_puts(why, "cannot read queue file: malformed content");
        goto out;
    }
    rec_put(s, REC_END, "", 0);
    /* A refusal is retried too: the forwarding recipient is deferred. */
    if (cleanup_client_finish(s, queue_id, why) == CLEANUP_CLIENT_OK)
        ret = 0;
out:
    if (s != NULL)
        stream_close(s);
    argv_free(attrs);
    vstr_free(content);
    return ret;
}

int local_collect_delivered(struct local_message *msg)
{
    vstr *data = vstr_new(256);
    vstr *line = vstr_new(256);
    vstr *value = vstr_new(64);
    size_t scanned = 0;
    int type = 0, ret = -1;

    if (stream_seek(msg->qf, msg->content_offset) != 0
        || rec_get(msg->qf, &type, data, NULL) != REC_OK || type != REC_MESSAGE)
        goto out;
    while (scanned < HEADER_SCAN_MAX) {
        if (rec_get(msg->qf, &type, data, NULL) != REC_OK)
            goto out;
        if (type == REC_XTRA || type == REC_END)
            break;
        if (type != REC_LINE && type != REC_CONT)
            goto out;
        scanned += vstr_len(data);
        /* Only the start of a long line matters for a header name. */
        if (vstr_len(line) < 1024)
            vstr_append(line, vstr_str(data), vstr_len(data));
        if (type == REC_CONT)
            continue;
        if (vstr_len(line) == 0)
            break;              /* end of the headers */
        if (msg->delivered_list->n < DELIVERED_MAX
            && delivered_to_header(vstr_str(line), vstr_len(line), value))
            argv_add(msg->delivered_list, vstr_str(value));
        vstr_reset(line);
    }
    ret = 0;
out:
    vstr_free(data);
    vstr_free(line);
    vstr_free(value);
    return ret;
}

/* Reading one queue file for the queue listing: arrival time, size,
 * sender and the pending recipients (R records; D ones are done), with
 * the latest deferral reason of each from the message's defer/ log.  The
 * file is read as untrusted input, bounded by its size, and a file that
 * vanishes or is malformed is simply not listed. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "attr.h"
#include "mem.h"
#include "queue.h"
#include "record.h"
#include "showq.h"
#include "showq_proto.h"
#include "status_log.h"
#include "stream.h"
#include "vstr.h"

/* Leading decimal digits of record data, at most max: 0 ok, -1 bad. */
static int leading_number(const char *p, size_t len, long long max, long long *out)
{
    long long v = 0;
    size_t i;

    for (i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        v = v * 10 + (p[i] - '0');
        if (v > max)
            return -1;
    }
    if (i == 0)
        return -1;
    *out = v;
    return 0;
}

static void add_rcpt(struct showq_file *f, size_t max_rcpts, const vstr *data, off_t offset)
{
    struct showq_file_rcpt *r;

    if (f->nrcpt >= max_rcpts) {
        f->more_rcpts++;
        return;
    }
    if ((f->nrcpt & (f->nrcpt - 1)) == 0)
        f->rcpts = xreallocarray(f->rcpts, f->nrcpt ? f->nrcpt * 2 : 1, sizeof(*f->rcpts));
    r = &f->rcpts[f->nrcpt++];
    r->address = xstrndup(vstr_str(data), vstr_len(data));
    r->reason = xstrdup("");
    r->offset = (long long)offset;
}

/* The latest reason for each recipient: an entry for the same record
 * offset, else one for the same address. */
static void add_reasons(const char *id, struct showq_file *f)
{
    struct status_entry *e = NULL;
    size_t n = 0, i, j;
    vstr *err = vstr_new(32);

    if (status_log_read(QUEUE_DEFER_LOG, id, &e, &n, err) == 0) {
        for (i = 0; i < f->nrcpt; i++) {
            const char *best = NULL;

            for (j = 0; j < n; j++)
                if (e[j].offset == f->rcpts[i].offset)
                    best = e[j].reason;
            for (j = 0; best == NULL && j < n; j++)
                if (strcmp(e[j].rcpt, f->rcpts[i].address) == 0)
                    best = e[j].reason;
            if (best != NULL) {
                free(f->rcpts[i].reason);
                f->rcpts[i].reason = xstrdup(best);
            }
        }
        status_log_free(e, n);
    }
    vstr_free(err);
}

int showq_file_read(const char *queue, const char *id, int reasons, size_t max_rcpts,
                    struct showq_file *f, vstr *err)
{
    vstr *path = vstr_new(64), *data = vstr_new(256);
    struct stat st;
    stream *s = NULL;
    int fd, type, status, have_size = 0, have_time = 0, ret = -1;
    off_t offset;
    long long num;

    memset(f, 0, sizeof(*f));
    queue_path(path, queue, id);
    if ((fd = open(vstr_str(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
        vstr_set(err, errno == ENOENT ? "vanished" : "cannot open");
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > SHOWQ_MAX_FILE_SIZE) {
        vstr_set(err, "not a regular file of a sane size");
        close(fd);
        goto out;
    }
    s = stream_fdopen(fd);
    f->sender = xstrdup("");
    for (;;) {
        status = rec_get(s, &type, data, &offset);
        if (status == REC_EOF) {
            vstr_set(err, "no end record");
            goto out;
        }
        if (status != REC_OK) {
            vstr_set(err, "malformed record");
            goto out;
        }
        /* A read past the size seen at open means the file changed under
         * us: stop rather than follow a writer forever. */
        if (offset > st.st_size) {
            vstr_set(err, "file grew while read");
            goto out;
        }
        switch (type) {
        case REC_SIZE:
            if (leading_number(vstr_str(data), vstr_len(data), 1LL << 50, &num) == 0) {
                f->size = num;
                have_size = 1;
            }
            break;
        case REC_TIME:
            if (leading_number(vstr_str(data), vstr_len(data), 1LL << 40, &num) == 0) {
                f->arrival = num;
                have_time = 1;
            }
            break;
        case REC_SENDER:
            free(f->sender);
            f->sender = xstrndup(vstr_str(data), vstr_len(data));
            break;
        case REC_RCPT:
            add_rcpt(f, max_rcpts, data, offset);
            break;
        case REC_END:
            ret = 0;
            goto out;
        default:
            break;
        }
    }
out:
    if (s != NULL)
        stream_close(s);
    if (ret == 0) {
        /* maildrop files have neither: the file tells. */
        if (!have_size)
            f->size = (long long)st.st_size;
        if (!have_time)
            f->arrival = (long long)st.st_mtime;
        if (reasons && f->nrcpt > 0)
            add_reasons(id, f);
    } else {
        showq_file_free(f);
    }
    vstr_free(path);
    vstr_free(data);
    return ret;
}

void showq_file_free(struct showq_file *f)
{
    for (size_t i = 0; i < f->nrcpt; i++) {
        free(f->rcpts[i].address);
        free(f->rcpts[i].reason);
    }
    free(f->rcpts);
    free(f->sender);
    memset(f, 0, sizeof(*f));
}

/* The codec refuses NUL and newlines in values (and they would garble a
 * listing): replace them, and cut overlong text. */
static char *safe_value(const char *s)
{
    size_t len = strnlen(s, SHOWQ_MAX_VALUE - 1);
    char *v = xstrndup(s, len);

    for (size_t i = 0; i < len; i++)
        if (v[i] == '\n' || v[i] == '\r')
            v[i] = ' ';
    return v;
}

static void add_safe(attr_list *l, const char *name, const char *value)
{
    char *v = safe_value(value);

    attr_add(l, name, v);
    free(v);
}

void showq_file_encode(vstr *out, const char *queue, const char *id, const struct showq_file *f)
{
    attr_list *l = attr_list_new();
    size_t n = f->nrcpt < SHOWQ_MAX_LISTED_RCPTS ? f->nrcpt : SHOWQ_MAX_LISTED_RCPTS;

    attr_add(l, "queue_name", queue);
    attr_add(l, "queue_id", id);
    attr_addf(l, "time", "%lld", f->arrival);
    attr_addf(l, "size", "%lld", f->size);
    attr_add(l, "forced_expire", f->forced_expire ? "1" : "0");
    add_safe(l, "sender", f->sender);
    for (size_t i = 0; i < n; i++) {
        add_safe(l, "recipient", f->rcpts[i].address);
        add_safe(l, "reason", f->rcpts[i].reason);
    }
    (void)attr_encode(out, l);
    attr_list_free(l);
}

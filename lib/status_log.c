/* Per-message delivery status logs (status_log.h): one attribute list per
 * entry, appended with O_APPEND so concurrent writers never interleave,
 * replaced atomically, and read back by a strict, bounded reader that
 * treats anything unexpected (unknown or missing fields, a truncated last
 * entry, too many entries, a huge file) as a malformed log. */
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
#include "safe_file.h"
#include "status_log.h"
#include "vstr.h"

static const struct attr_spec status_entry_spec[] = {
    {"rcpt", ATTR_REQUIRED},
    {"orcpt", ATTR_REQUIRED},
    {"notify", ATTR_REQUIRED},
    {"offset", ATTR_REQUIRED},
    {"status", ATTR_REQUIRED},
    {"action", ATTR_REQUIRED},
    {"relay", ATTR_REQUIRED},
    {"reason", ATTR_REQUIRED},
    {"when", ATTR_REQUIRED},
    {NULL, 0},
};

/* A text field as the codec accepts it: no NUL or line break (remote
 * servers' replies end up in reasons), bounded in length. */
static void add_text(attr_list *l, const char *name, const char *value)
{
    size_t len = value ? strlen(value) : 0;
    size_t i;
    char *copy;

    if (len > STATUS_LOG_MAX_TEXT)
        len = STATUS_LOG_MAX_TEXT;
    copy = xstrndup(value ? value : "", len);
    for (i = 0; i < len; i++)
        if (copy[i] == '\n' || copy[i] == '\r')
            copy[i] = ' ';
    attr_add(l, name, copy);
    free(copy);
}

void status_log_encode(vstr *out, const struct status_entry *e)
{
    attr_list *l = attr_list_new();

    add_text(l, "rcpt", e->rcpt);
    add_text(l, "orcpt", e->orcpt);
    attr_addf(l, "notify", "%d", e->notify);
    attr_addf(l, "offset", "%lld", e->offset);
    add_text(l, "status", e->status);
    add_text(l, "action", e->action);
    add_text(l, "relay", e->relay);
    add_text(l, "reason", e->reason);
    attr_addf(l, "when", "%lld", e->when);
    /* Cannot fail: every value was cleaned above. */
    if (attr_encode(out, l) != 0)
        vstr_puts(out, "");
    attr_list_free(l);
}

/* A decimal number in [0, max]. */
static int parse_count(const char *s, long long max, long long *out)
{
    long long v = 0;

    if (*s == '\0' || strlen(s) > 18)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static void entry_clear(struct status_entry *e)
{
    free(e->rcpt);
    free(e->orcpt);
    free(e->status);
    free(e->action);
    free(e->relay);
    free(e->reason);
    memset(e, 0, sizeof(*e));
}

void status_log_free(struct status_entry *entries, size_t n)
{
    size_t i;

    if (entries == NULL)
        return;
    for (i = 0; i < n; i++)
        entry_clear(&entries[i]);
    free(entries);
}

/* Fill e from a parsed list; -1 with err when a value is out of range. */
static int entry_from_list(struct status_entry *e, const attr_list *l, vstr *err)
{
    static const char *const text_fields[] = {"rcpt", "orcpt", "status", "action", "relay",
                                              "reason", NULL};
    long long notify, offset, when;
    int i;

    if (parse_count(attr_get(l, "notify"), 15, &notify) != 0) {
        vstr_set(err, "bad notify value");
        return -1;
    }
    if (parse_count(attr_get(l, "offset"), 0x7fffffffffffLL, &offset) != 0) {
        vstr_set(err, "bad offset value");
        return -1;
    }
    if (parse_count(attr_get(l, "when"), 0x7fffffffffffLL, &when) != 0) {
        vstr_set(err, "bad when value");
        return -1;
    }
    if (*attr_get(l, "rcpt") == '\0') {
        vstr_set(err, "empty recipient");
        return -1;
    }
    for (i = 0; text_fields[i] != NULL; i++) {
        if (strlen(attr_get(l, text_fields[i])) > STATUS_LOG_MAX_TEXT) {
            vstr_reset(err);
            vstr_printf(err, "%s too long", text_fields[i]);
            return -1;
        }
    }
    e->rcpt = xstrdup(attr_get(l, "rcpt"));
    e->orcpt = xstrdup(attr_get(l, "orcpt"));
    e->notify = (int)notify;
    e->offset = offset;
    e->status = xstrdup(attr_get(l, "status"));
    e->action = xstrdup(attr_get(l, "action"));
    e->relay = xstrdup(attr_get(l, "relay"));
    e->reason = xstrdup(attr_get(l, "reason"));
    e->when = when;
    return 0;
}

int status_log_parse(const char *buf, size_t len, struct status_entry **entries, size_t *n,
                     vstr *err)
{
    attr_list *l = attr_list_new();
    struct status_entry *v = NULL;
    size_t count = 0, cap = 0, pos = 0;
    vstr *why = vstr_new(64);
    ssize_t used;
    int ret = -1;

    *entries = NULL;
    *n = 0;
    if (len > (size_t)STATUS_LOG_MAX_SIZE) {
        vstr_set(err, "status log too large");
        goto out;
    }
    while (pos < len) {
        if (count >= STATUS_LOG_MAX_ENTRIES) {
            vstr_set(err, "too many entries in status log");
            goto out;
        }
        vstr_reset(why);
        used = attr_parse(buf + pos, len - pos, l, status_entry_spec, why);
        if (used == 0) {
            vstr_reset(err);
            vstr_printf(err, "truncated entry at offset %zu", pos);
            goto out;
        }
        if (used < 0) {
            vstr_reset(err);
            vstr_printf(err, "malformed entry at offset %zu: %s", pos, vstr_str(why));
            goto out;
        }
        if (count == cap) {
            cap = cap ? cap * 2 : 8;
            v = xreallocarray(v, cap, sizeof(*v));
        }
        memset(&v[count], 0, sizeof(v[count]));
        if (entry_from_list(&v[count], l, why) != 0) {
            vstr_reset(err);
            vstr_printf(err, "malformed entry at offset %zu: %s", pos, vstr_str(why));
            goto out;
        }
        count++;
        pos += (size_t)used;
    }
    *entries = v;
    *n = count;
    v = NULL;
    ret = 0;
out:
    status_log_free(v, count);
    attr_list_free(l);
    vstr_free(why);
    return ret;
}

/* Open LOG/ID for appending, creating the hash subdirectory (0700) and
 * the file (0600) as needed; *created says whether the name is new. */
static int open_for_append(const char *log, const char *path, int *created)
{
    vstr *dir;
    const char *slash;
    int fd, tries;

    for (tries = 0; tries < 2; tries++) {
        fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            *created = 0;
            return fd;
        }
        if (errno != ENOENT)
            return -1;
        fd = safe_create(path, O_WRONLY | O_APPEND, 0600);
        if (fd >= 0) {
            *created = 1;
            return fd;
        }
        if (errno == EEXIST)
            continue;           /* another writer created it: open it */
        if (errno != ENOENT || !queue_is_hashed(log) || (slash = strrchr(path, '/')) == NULL)
            return -1;
        dir = vstr_new(64);
        vstr_setn(dir, path, (size_t)(slash - path));
        if (mkdir(vstr_str(dir), 0700) != 0 && errno != EEXIST) {
            vstr_free(dir);
            return -1;
        }
        vstr_free(dir);
    }
    errno = EAGAIN;
    return -1;
}

static int write_all(int fd, const char *p, size_t len)
{
    ssize_t w;

    while (len > 0) {
        w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int status_log_append(const char *log, const char *id, const struct status_entry *e, int sync)
{
    vstr *path = vstr_new(64);
    vstr *buf = vstr_new(256);
    int fd, created = 0, ret = -1, saved;

    queue_path(path, log, id);
    status_log_encode(buf, e);
    if ((fd = open_for_append(log, vstr_str(path), &created)) < 0)
        goto out;
    /* One write: with O_APPEND the entry lands whole after any other. */
    if (write_all(fd, vstr_str(buf), vstr_len(buf)) != 0
        || (sync && fsync(fd) != 0)) {
        saved = errno;
        close(fd);
        errno = saved;
        goto out;
    }
    if (close(fd) != 0)
        goto out;
    if (sync && created && fsync_parent_dir(vstr_str(path)) != 0)
        goto out;
    ret = 0;
out:
    saved = errno;
    vstr_free(path);
    vstr_free(buf);
    errno = saved;
    return ret;
}

int status_log_rewrite(const char *log, const char *id, const struct status_entry *e, size_t n)
{
    vstr *path = vstr_new(64);
    vstr *temp = vstr_new(64);
    vstr *buf = vstr_new(256);
    const char *slash;
    size_t i;
    int fd = -1, ret = -1, saved;

    if (n == 0) {
        ret = status_log_remove(log, id);
        goto out;
    }
    queue_path(path, log, id);
    /* The temp name is not a queue id, so queue scans skip it. */
    slash = strrchr(vstr_str(path), '/');
    vstr_setn(temp, vstr_str(path), (size_t)(slash - vstr_str(path)) + 1);
    vstr_printf(temp, ".%s.tmp", id);
    for (i = 0; i < n; i++)
        status_log_encode(buf, &e[i]);
    (void)unlink(vstr_str(temp));          /* left by a crash */
    fd = safe_create(vstr_str(temp), O_WRONLY, 0600);
    if (fd < 0 && errno == ENOENT && queue_is_hashed(log)) {
        vstr *dir = vstr_new(64);

        vstr_setn(dir, vstr_str(path), (size_t)(slash - vstr_str(path)));
        if (mkdir(vstr_str(dir), 0700) == 0 || errno == EEXIST)
            fd = safe_create(vstr_str(temp), O_WRONLY, 0600);
        vstr_free(dir);
    }
    if (fd < 0)
        goto out;
    if (write_all(fd, vstr_str(buf), vstr_len(buf)) != 0 || fsync(fd) != 0) {
        saved = errno;
        close(fd);
        (void)unlink(vstr_str(temp));
        errno = saved;
        goto out;
    }
    if (close(fd) != 0 || rename_durable(vstr_str(temp), vstr_str(path)) != 0) {
        saved = errno;
        (void)unlink(vstr_str(temp));
        errno = saved;
        goto out;
    }
    ret = 0;
out:
    saved = errno;
    vstr_free(path);
    vstr_free(temp);
    vstr_free(buf);
    errno = saved;
    return ret;
}

int status_log_read(const char *log, const char *id, struct status_entry **entries, size_t *n,
                    vstr *err)
{
    vstr *path = vstr_new(64);
    vstr *buf = NULL;
    struct stat st;
    ssize_t r;
    int fd, ret = -1;

    *entries = NULL;
    *n = 0;
    queue_path(path, log, id);
    fd = safe_open_existing(vstr_str(path), O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT) {
            ret = 0;
        } else {
            vstr_reset(err);
            vstr_printf(err, "open %s: %s", vstr_str(path), strerror(errno));
        }
        goto out;
    }
    if (fstat(fd, &st) != 0 || st.st_size > STATUS_LOG_MAX_SIZE) {
        vstr_reset(err);
        vstr_printf(err, "%s: %s", vstr_str(path),
                    st.st_size > STATUS_LOG_MAX_SIZE ? "status log too large" : strerror(errno));
        close(fd);
        goto out;
    }
    buf = vstr_new((size_t)st.st_size + 1);
    /* Read to EOF (an appender may have grown it), never past the cap. */
    for (;;) {
        vstr_reserve(buf, 65536);
        r = read(fd, buf->data + buf->len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            vstr_reset(err);
            vstr_printf(err, "read %s: %s", vstr_str(path), strerror(errno));
            close(fd);
            goto out;
        }
        if (r == 0)
            break;
        buf->len += (size_t)r;
        buf->data[buf->len] = '\0';
        if (buf->len > (size_t)STATUS_LOG_MAX_SIZE) {
            vstr_reset(err);
            vstr_printf(err, "%s: status log too large", vstr_str(path));
            close(fd);
            goto out;
        }
    }
    close(fd);
    ret = status_log_parse(vstr_str(buf), vstr_len(buf), entries, n, err);
out:
    vstr_free(path);
    if (buf != NULL)
        vstr_free(buf);
    return ret;
}

int status_log_remove(const char *log, const char *id)
{
    vstr *path = vstr_new(64);
    int ret = 0;

    queue_path(path, log, id);
    if (unlink(vstr_str(path)) != 0 && errno != ENOENT)
        ret = -1;
    vstr_free(path);
    return ret;
}

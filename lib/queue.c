/* The queue directory tree: where a queue file of a given id lives
 * (hashed queues put it in a subdirectory named by the id's last letter,
 * which is random, so the subdirectories fill evenly), creation and
 * checking of the tree's owners and modes, listing the ids in a queue, and
 * durable moves between queues.  Every path is relative to the queue
 * directory, the working directory (or root) of every daemon. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mem.h"
#include "queue.h"
#include "queue_id.h"
#include "safe_file.h"

/* The letters an id can end with: the names of hash subdirectories. */
static const char hash_letters[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

static const char *const hashed_queues[] = {
    QUEUE_DEFERRED, QUEUE_DEFER_LOG, QUEUE_BOUNCE_LOG, QUEUE_TRACE_LOG, NULL,
};

int queue_is_hashed(const char *queue)
{
    int i;

    for (i = 0; hashed_queues[i] != NULL; i++)
        if (strcmp(queue, hashed_queues[i]) == 0)
            return 1;
    return 0;
}

void queue_path(vstr *out, const char *queue, const char *id)
{
    size_t len = strlen(id);

    vstr_reset(out);
    if (queue_is_hashed(queue) && len > 0)
        vstr_printf(out, "%s/%c/%s", queue, id[len - 1], id);
    else
        vstr_printf(out, "%s/%s", queue, id);
}

void queue_temp_path(vstr *out, const char *id)
{
    vstr_reset(out);
    vstr_printf(out, "%s/.%s", QUEUE_INCOMING, id);
}

/* The tree: name, mode, and who owns it. */
enum dir_owner { OWN_MAIL, OWN_MAIL_SETGID, OWN_ROOT };

static const struct queue_dir {
    const char *name;
    mode_t mode;
    enum dir_owner owner;
} queue_dirs[] = {
    {QUEUE_INCOMING, 0700, OWN_MAIL},
    {QUEUE_ACTIVE, 0700, OWN_MAIL},
    {QUEUE_DEFERRED, 0700, OWN_MAIL},
    {QUEUE_HOLD, 0700, OWN_MAIL},
    {QUEUE_CORRUPT, 0700, OWN_MAIL},
    {QUEUE_DEFER_LOG, 0700, OWN_MAIL},
    {QUEUE_BOUNCE_LOG, 0700, OWN_MAIL},
    {QUEUE_TRACE_LOG, 0700, OWN_MAIL},
    {"private", 0700, OWN_MAIL},
    {QUEUE_MAILDROP, 01730, OWN_MAIL_SETGID},
    {"public", 0710, OWN_MAIL_SETGID},
    {"pid", 0755, OWN_ROOT},
    {NULL, 0, OWN_MAIL},
};

/* Owner and group a directory should have; -1 means "leave as is".  A
 * non-root caller cannot give files away: it owns what it creates. */
static void dir_ids(enum dir_owner who, uid_t owner, gid_t setgid_gid, uid_t *uid, gid_t *gid)
{
    *uid = owner;
    *gid = (gid_t) -1;
    if (geteuid() != 0) {
        *uid = geteuid();
        return;
    }
    switch (who) {
    case OWN_MAIL:
        *uid = owner;
        *gid = (gid_t) -1;
        break;
    case OWN_MAIL_SETGID:
        *uid = owner;
        *gid = setgid_gid;
        break;
    case OWN_ROOT:
        *uid = 0;
        *gid = (gid_t) -1;
        break;
    }
}

/* Create path if missing, then give it owner and mode. */
static int make_dir(const char *path, mode_t mode, uid_t uid, gid_t gid, vstr *err)
{
    struct stat st;

    if (mkdir(path, mode & 0777) != 0 && errno != EEXIST) {
        vstr_printf(err, "create directory %s: %s", path, strerror(errno));
        return -1;
    }
    if (lstat(path, &st) != 0) {
        vstr_printf(err, "lstat %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        vstr_printf(err, "%s exists and is not a directory", path);
        return -1;
    }
    if (geteuid() == 0 && (st.st_uid != uid || (gid != (gid_t) -1 && st.st_gid != gid))
        && lchown(path, uid, gid) != 0) {
        vstr_printf(err, "chown %s: %s", path, strerror(errno));
        return -1;
    }
    /* chmod after chown: chown clears the setgid and sticky bits. */
    if (chmod(path, mode) != 0) {
        vstr_printf(err, "chmod %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int queue_tree_create(const char *qdir, uid_t owner, gid_t setgid_gid, vstr *err)
{
    vstr *path = vstr_new(256);
    uid_t uid;
    gid_t gid;
    vstr *own_err = NULL;
    int i, j, ret = 0;

    if (err == NULL)
        err = own_err = vstr_new(64);
    vstr_reset(err);
    for (i = 0; queue_dirs[i].name != NULL && ret == 0; i++) {
        dir_ids(queue_dirs[i].owner, owner, setgid_gid, &uid, &gid);
        vstr_reset(path);
        vstr_printf(path, "%s/%s", qdir, queue_dirs[i].name);
        ret = make_dir(vstr_str(path), queue_dirs[i].mode, uid, gid, err);
        if (ret == 0 && queue_is_hashed(queue_dirs[i].name)) {
            for (j = 0; hash_letters[j] != '\0' && ret == 0; j++) {
                vstr_reset(path);
                vstr_printf(path, "%s/%s/%c", qdir, queue_dirs[i].name, hash_letters[j]);
                ret = make_dir(vstr_str(path), queue_dirs[i].mode, uid, gid, err);
            }
        }
    }
    vstr_free(path);
    vstr_free(own_err);
    return ret;
}

int queue_tree_check(const char *qdir, uid_t owner, vstr *problems)
{
    vstr *path = vstr_new(256);
    struct stat st;
    uid_t uid;
    gid_t gid;
    int i, count = 0;

    vstr_reset(problems);
    for (i = 0; queue_dirs[i].name != NULL; i++) {
        /* The group of the setgid directories is not ours to know here. */
        dir_ids(queue_dirs[i].owner, owner, (gid_t) -1, &uid, &gid);
        vstr_reset(path);
        vstr_printf(path, "%s/%s", qdir, queue_dirs[i].name);
        if (lstat(vstr_str(path), &st) != 0) {
            /* master creates missing directories when it starts. */
            if (errno == ENOENT)
                continue;
            vstr_printf(problems, "%s: %s; fix: mkdir -m %04o %s%s\n", vstr_str(path),
                        strerror(errno), (unsigned) queue_dirs[i].mode, vstr_str(path),
                        geteuid() == 0 ? " and chown it" : "");
            count++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            vstr_printf(problems, "%s: not a directory; fix: remove it and run \"posthorn start\"\n",
                        vstr_str(path));
            count++;
            continue;
        }
        if (st.st_uid != uid) {
            vstr_printf(problems, "%s: owned by uid %ld, should be uid %ld; fix: chown %ld %s\n",
                        vstr_str(path), (long) st.st_uid, (long) uid, (long) uid, vstr_str(path));
            count++;
        }
        if ((st.st_mode & 07777) != queue_dirs[i].mode) {
            vstr_printf(problems, "%s: mode %04o, should be %04o; fix: chmod %04o %s\n",
                        vstr_str(path), (unsigned) (st.st_mode & 07777),
                        (unsigned) queue_dirs[i].mode, (unsigned) queue_dirs[i].mode,
                        vstr_str(path));
            count++;
        }
    }
    vstr_free(path);
    return count;
}

struct queue_scan {
    char *queue;
    int hashed;
    DIR *top;           /* the queue, or for hashed queues its parent level */
    DIR *sub;           /* hashed: the current subdirectory */
    char *sub_name;
    char name[QUEUE_ID_LEN + 1];
};

queue_scan *queue_scan_open(const char *queue)
{
    DIR *d = opendir(queue);
    queue_scan *qs;

    if (d == NULL)
        return NULL;
    qs = xcalloc(1, sizeof(*qs));
    qs->queue = xstrdup(queue);
    qs->hashed = queue_is_hashed(queue);
    qs->top = d;
    return qs;
}

/* Is name a hash subdirectory name (one id letter)? */
static int is_hash_name(const char *name)
{
    return name[0] != '\0' && name[1] == '\0' && strchr(hash_letters, name[0]) != NULL;
}

const char *queue_scan_next(queue_scan *qs)
{
    struct dirent *de;

    for (;;) {
        if (!qs->hashed || qs->sub != NULL) {
            DIR *d = qs->hashed ? qs->sub : qs->top;

            while ((de = readdir(d)) != NULL) {
                if (!queue_id_valid(de->d_name))
                    continue;
                /* A hashed file must sit in its own letter's directory. */
                if (qs->hashed && de->d_name[QUEUE_ID_LEN - 1] != qs->sub_name[0])
                    continue;
                memcpy(qs->name, de->d_name, QUEUE_ID_LEN + 1);
                return qs->name;
            }
            if (!qs->hashed)
                return NULL;
            closedir(qs->sub);
            qs->sub = NULL;
            xfree(qs->sub_name);
        }
        /* Hashed: move on to the next subdirectory. */
        for (;;) {
            de = readdir(qs->top);
            if (de == NULL)
                return NULL;
            if (!is_hash_name(de->d_name))
                continue;
            int fd = openat(dirfd(qs->top), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

            if (fd < 0)
                continue;
            qs->sub = fdopendir(fd);
            if (qs->sub == NULL) {
                close(fd);
                continue;
            }
            qs->sub_name = xstrdup(de->d_name);
            break;
        }
    }
}

void queue_scan_close(queue_scan *qs)
{
    if (qs == NULL)
        return;
    if (qs->sub != NULL)
        closedir(qs->sub);
    closedir(qs->top);
    free(qs->sub_name);
    free(qs->queue);
    free(qs);
}

int queue_move(const char *from_queue, const char *to_queue, const char *id)
{
    vstr *from = vstr_new(64);
    vstr *to = vstr_new(64);
    size_t len = strlen(id);
    int ret = -1, saved;

    queue_path(from, from_queue, id);
    queue_path(to, to_queue, id);
    if (queue_is_hashed(to_queue) && len > 0) {
        vstr *sub = vstr_new(64);

        vstr_printf(sub, "%s/%c", to_queue, id[len - 1]);
        if (mkdir(vstr_str(sub), 0700) != 0 && errno != EEXIST) {
            vstr_free(sub);
            goto done;
        }
        vstr_free(sub);
    }
    ret = rename(vstr_str(from), vstr_str(to));
done:
    saved = errno;
    vstr_free(from);
    vstr_free(to);
    errno = saved;
    return ret;
}

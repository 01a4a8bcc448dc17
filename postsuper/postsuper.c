/* postsuper: queue maintenance for the superuser (or mail_owner):
 * delete (-d), hold (-h), release (-H) and requeue (-r) messages by id,
 * "ALL" or ids on standard input ("-"), check and repair the queue's
 * structure (-s) and purge stale temporary files (-p).  Every change to a
 * queue file is one rename or one unlink, so it is safe while the mail
 * system runs: qmgr copes with an active file that moves or disappears
 * under it.  As root, postsuper fixes owners and modes (-s) and then
 * works as mail_owner. */
#include "config.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* renameat2 */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "argv.h"
#include "log.h"
#include "master_proto.h"
#include "mem.h"
#include "params.h"
#include "postsuper.h"
#include "privs.h"
#include "queue.h"
#include "queue_id.h"
#include "skeleton.h"
#include "status_log.h"
#include "vstr.h"

/* One requested operation: -d, -h, -H or -r with its ids. */
struct op {
    int code;
    argv_t *ids;        /* explicit ids (from argv and "-") */
    int all;            /* "ALL" */
    int from_stdin;     /* "-" */
};

static uid_t owner_uid;
static gid_t owner_gid;
static int problems_fixed;

static void usage(void)
{
    fprintf(stderr, "usage: postsuper [-c config_dir] [-psv] [-d queue_id|ALL|-] "
                    "[-h queue_id|ALL|-] [-H queue_id|ALL|-] [-r queue_id|ALL|-] [queue...]\n");
    exit(1);
}

static const char *const default_queues_d[] = {
    QUEUE_HOLD, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, NULL};
static const char *const default_queues_h[] = {
    QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, NULL};
static const char *const default_queues_H[] = {QUEUE_HOLD, NULL};
static const char *const default_queues_r[] = {
    QUEUE_HOLD, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, NULL};

static const char *const *default_queues(int code)
{
    switch (code) {
    case 'd':
        return default_queues_d;
    case 'h':
        return default_queues_h;
    case 'H':
        return default_queues_H;
    default:
        return default_queues_r;
    }
}

/* ---- -d -h -H -r ---------------------------------------------------- */

/* Apply one operation to queue/id: 1 done, 0 not there, -1 error
 * (logged). */
static int op_apply(int code, const char *queue, const char *id)
{
    vstr *path = vstr_new(64);
    int ret = 0;

    queue_path(path, queue, id);
    switch (code) {
    case 'd':
        if (unlink(vstr_str(path)) == 0) {
            (void) status_log_remove(QUEUE_DEFER_LOG, id);
            (void) status_log_remove(QUEUE_BOUNCE_LOG, id);
            (void) status_log_remove(QUEUE_TRACE_LOG, id);
            msg_info("%s: removed", id);
            ret = 1;
        } else if (errno != ENOENT) {
            msg_warn("%s: remove %s: %m", id, vstr_str(path));
            ret = -1;
        }
        break;
    case 'h':
        if (strcmp(queue, QUEUE_HOLD) == 0)
            break;
        if (queue_move(queue, QUEUE_HOLD, id) == 0) {
            msg_info("%s: placed on hold", id);
            ret = 1;
        } else if (errno != ENOENT) {
            msg_warn("%s: move %s to %s/: %m", id, vstr_str(path), QUEUE_HOLD);
            ret = -1;
        }
        break;
    case 'H':
        /* Due at once: the mtime of a deferred file is its retry time. */
        if (utimes(vstr_str(path), NULL) < 0) {
            if (errno != ENOENT) {
                msg_warn("%s: set time of %s: %m", id, vstr_str(path));
                ret = -1;
            }
            break;
        }
        if (queue_move(QUEUE_HOLD, QUEUE_DEFERRED, id) == 0) {
            msg_info("%s: released from hold", id);
            ret = 1;
        } else if (errno != ENOENT) {
            msg_warn("%s: move %s to %s/: %m", id, vstr_str(path), QUEUE_DEFERRED);
            ret = -1;
        }
        break;
    case 'r':
        /* In incoming/ already: qmgr resolves it afresh when it comes. */
        if (strcmp(queue, QUEUE_INCOMING) == 0) {
            if (access(vstr_str(path), F_OK) == 0) {
                msg_info("%s: requeued", id);
                ret = 1;
            }
            break;
        }
        if (queue_move(queue, QUEUE_INCOMING, id) == 0) {
            msg_info("%s: requeued", id);
            ret = 1;
        } else if (errno != ENOENT) {
            msg_warn("%s: move %s to %s/: %m", id, vstr_str(path), QUEUE_INCOMING);
            ret = -1;
        }
        break;
    }
    vstr_free(path);
    return ret;
}

/* Apply op to one id in the first of queues that has it.  Two passes:
 * qmgr may move the file from a queue not yet tried to one already
 * tried. */
static int op_one_id(int code, const char *id, const char *const *queues)
{
    int pass, i, r;

    for (pass = 0; pass < 2; pass++) {
        for (i = 0; queues[i] != NULL; i++) {
            if ((r = op_apply(code, queues[i], id)) != 0)
                return r;
        }
    }
    return 0;
}

static const char *op_label(int code)
{
    switch (code) {
    case 'd':
        return "Deleted";
    case 'h':
        return "Placed on hold";
    case 'H':
        return "Released from hold";
    default:
        return "Requeued";
    }
}

/* Run one operation; returns the number of messages it changed. */
static int op_run(const struct op *op, const char *const *queues)
{
    int done = 0, i;
    size_t j;

    if (op->all) {
        for (i = 0; queues[i] != NULL; i++) {
            queue_scan *qs = queue_scan_open(queues[i]);
            argv_t *ids = argv_new();
            const char *id;

            if (qs == NULL) {
                if (errno != ENOENT)
                    msg_warn("scan %s: %m", queues[i]);
                argv_free(ids);
                continue;
            }
            /* Collect first: the directory changes as we go. */
            while ((id = queue_scan_next(qs)) != NULL)
                argv_add(ids, id);
            queue_scan_close(qs);
            for (j = 0; j < ids->n; j++)
                if (op_apply(op->code, queues[i], ids->v[j]) > 0)
                    done++;
            argv_free(ids);
        }
    }
    for (j = 0; j < op->ids->n; j++) {
        int r = op_one_id(op->code, op->ids->v[j], queues);

        if (r > 0)
            done++;
        else if (r == 0 && !op->all)
            msg_warn("%s: no such message in the queue(s) searched", op->ids->v[j]);
    }
    return done;
}

/* ---- -s ------------------------------------------------------------- */

static const char *const message_queues[] = {
    QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, NULL};
static const char *const log_queues[] = {
    QUEUE_DEFER_LOG, QUEUE_BOUNCE_LOG, QUEUE_TRACE_LOG, NULL};

/* Does the message of a status log still exist anywhere?  Two passes,
 * because qmgr moves files between active/ and deferred/. */
static int message_exists(const char *id)
{
    static const char *const where[] = {
        QUEUE_ACTIVE, QUEUE_INCOMING, QUEUE_DEFERRED, QUEUE_HOLD, QUEUE_CORRUPT, NULL};
    vstr *path = vstr_new(64);
    struct stat st;
    int pass, i, found = 0;

    for (pass = 0; pass < 2 && !found; pass++) {
        for (i = 0; where[i] != NULL && !found; i++) {
            queue_path(path, where[i], id);
            if (lstat(vstr_str(path), &st) == 0 || errno != ENOENT)
                found = 1;
        }
    }
    vstr_free(path);
    return found;
}

/* Rename without replacing an existing file. */
static int rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* A file system without RENAME_NOREPLACE: link + unlink. */
    if (link(from, to) < 0)
        return -1;
    return unlink(from);
}

/* Give a queue file its owner and mode (as root), working on the opened
 * file so that no symlink is followed. */
static void fix_perms(int dfd, const char *shown, const char *name)
{
    struct stat st;
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (st.st_uid != owner_uid || st.st_gid != owner_gid) {
            if (fchown(fd, owner_uid, owner_gid) == 0) {
                msg_warn("%s: owner was %ld:%ld; changed to %ld:%ld", shown, (long) st.st_uid,
                         (long) st.st_gid, (long) owner_uid, (long) owner_gid);
                problems_fixed++;
            } else {
                msg_warn("%s: chown: %m", shown);
            }
        }
        if ((st.st_mode & 07777) != 0600) {
            if (fchmod(fd, 0600) == 0) {
                msg_warn("%s: mode was %04o; changed to 0600", shown,
                         (unsigned) (st.st_mode & 07777));
                problems_fixed++;
            } else {
                msg_warn("%s: chmod: %m", shown);
            }
        }
    }
    close(fd);
}

/* Repair one entry of queue (sub: its hash directory or ""). */
static void check_entry(const char *queue, const char *sub, int dfd, const char *name,
                        int perms_only)
{
    vstr *from = vstr_new(64), *to = vstr_new(64);
    struct stat st;
    int is_log = queue_is_hashed(queue) && strcmp(queue, QUEUE_DEFERRED) != 0;
    enum postsuper_fix fix;
    char shown[128];

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        goto out;
    if (sub[0])
        vstr_printf(from, "%s/%s/%s", queue, sub, name);
    else
        vstr_printf(from, "%s/%s", queue, name);
    log_printable(shown, sizeof(shown), vstr_str(from), vstr_len(from));
    fix = postsuper_classify(queue, sub, name, S_ISDIR(st.st_mode));
    /* Only regular files are queue files: anything else with a queue
     * file's name is quarantined. */
    if ((fix == FIX_NONE || fix == FIX_MOVE) && !S_ISREG(st.st_mode))
        fix = is_log ? FIX_UNKNOWN : FIX_CORRUPT;
    if (perms_only) {
        if (fix == FIX_NONE || fix == FIX_MOVE)
            fix_perms(dfd, shown, name);
        goto out;
    }
    switch (fix) {
    case FIX_NONE:
        if (is_log && !message_exists(name)) {
            if (unlinkat(dfd, name, 0) == 0) {
                msg_warn("%s: status log of a message that no longer exists; removed", shown);
                problems_fixed++;
            } else if (errno != ENOENT) {
                msg_warn("%s: remove: %m", shown);
            }
        }
        break;
    case FIX_MOVE:
        queue_path(to, queue, name);
        if (queue_is_hashed(queue)) {
            vstr *dir = vstr_new(64);

            vstr_printf(dir, "%s/%c", queue, name[strlen(name) - 1]);
            (void) mkdir(vstr_str(dir), 0700);
            vstr_free(dir);
        }
        if (rename_noreplace(vstr_str(from), vstr_str(to)) == 0) {
            msg_warn("%s: misplaced; moved to %s", shown, vstr_str(to));
            problems_fixed++;
        } else {
            msg_warn("%s: cannot move to %s: %m", shown, vstr_str(to));
        }
        break;
    case FIX_CORRUPT:
        vstr_printf(to, "%s/", QUEUE_CORRUPT);
        vstr_puts(to, name);
        if (rename_noreplace(vstr_str(from), vstr_str(to)) == 0) {
            msg_warn("%s: not a valid queue file name; moved to %s/", shown, QUEUE_CORRUPT);
            problems_fixed++;
        } else {
            msg_warn("%s: cannot move to %s/: %m", shown, QUEUE_CORRUPT);
        }
        break;
    case FIX_UNKNOWN:
        msg_warn("%s: unexpected %s; left alone", shown,
                 S_ISDIR(st.st_mode) ? "directory" : "file");
        break;
    case FIX_SKIP:
        break;
    }
out:
    vstr_free(from);
    vstr_free(to);
}

/* Walk one queue directory and its hash subdirectories.  Directories
 * are opened without following symlinks, entries are used relative to
 * them. */
static void check_queue(const char *queue, int perms_only)
{
    int top = open(queue, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    argv_t *names = argv_new(), *subs = argv_new();
    struct dirent *de;
    struct stat st;
    DIR *d;
    size_t i, j;

    if (top < 0 || (d = fdopendir(top)) == NULL) {
        if (top >= 0)
            close(top);
        if (errno != ENOENT)
            msg_warn("open %s: %m", queue);
        argv_free(names);
        argv_free(subs);
        return;
    }
    /* Names first: repairs rename entries of this very directory. */
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (postsuper_classify(queue, "", de->d_name, 1) == FIX_SKIP
            && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
            && S_ISDIR(st.st_mode) && de->d_name[0] != '.')
            argv_add(subs, de->d_name);
        else
            argv_add(names, de->d_name);
    }
    for (i = 0; i < names->n; i++)
        check_entry(queue, "", dirfd(d), names->v[i], perms_only);
    for (i = 0; i < subs->n; i++) {
        int sfd = openat(dirfd(d), subs->v[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        argv_t *sn = argv_new();
        DIR *sd;

        if (sfd < 0 || (sd = fdopendir(sfd)) == NULL) {
            if (sfd >= 0)
                close(sfd);
            argv_free(sn);
            continue;
        }
        while ((de = readdir(sd)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                argv_add(sn, de->d_name);
        for (j = 0; j < sn->n; j++)
            check_entry(queue, subs->v[i], dirfd(sd), sn->v[j], perms_only);
        closedir(sd);
        argv_free(sn);
    }
    closedir(d);
    argv_free(names);
    argv_free(subs);
}

static void structure_check(int perms_only)
{
    int i;

    for (i = 0; message_queues[i] != NULL; i++)
        check_queue(message_queues[i], perms_only);
    for (i = 0; log_queues[i] != NULL; i++)
        check_queue(log_queues[i], perms_only);
}

/* ---- -p ------------------------------------------------------------- */

static int purge_dir(const char *queue, const char *sub, long max_age)
{
    vstr *dir = vstr_new(64);
    struct dirent *de;
    struct stat st;
    time_t now = time(NULL);
    int fd, n = 0;
    DIR *d;

    if (sub)
        vstr_printf(dir, "%s/%s", queue, sub);
    else
        vstr_puts(dir, queue);
    fd = open(vstr_str(dir), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        vstr_free(dir);
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.')
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (!postsuper_temp_is_stale(queue, de->d_name, st.st_mtime, now, max_age))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
            msg_info("%s/%s: removed stale temporary file", vstr_str(dir), de->d_name);
            n++;
        }
    }
    closedir(d);
    vstr_free(dir);
    return n;
}

static int purge_temp_files(void)
{
    static const char letters[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
    /* Older than a daemon may take for one request: no live writer. */
    long max_age = config_time("daemon_timeout");
    int n = purge_dir(QUEUE_INCOMING, NULL, max_age), i, j;
    char sub[2] = {0, 0};

    for (i = 0; log_queues[i] != NULL; i++) {
        for (j = 0; letters[j]; j++) {
            sub[0] = letters[j];
            n += purge_dir(log_queues[i], sub, max_age);
        }
    }
    return n;
}

/* ---- main ----------------------------------------------------------- */

static void op_add(struct op *ops, int *nops, int code, const char *arg)
{
    struct op *op = NULL;
    int i;

    for (i = 0; i < *nops; i++)
        if (ops[i].code == code)
            op = &ops[i];
    if (op == NULL) {
        op = &ops[(*nops)++];
        op->code = code;
        op->ids = argv_new();
    }
    if (strcmp(arg, "ALL") == 0) {
        op->all = 1;
    } else if (strcmp(arg, "-") == 0) {
        op->from_stdin = 1;
    } else if (queue_id_valid(arg)) {
        argv_add(op->ids, arg);
    } else {
        char shown[64];

        msg_fatal("invalid queue id: %s",
                  log_printable(shown, sizeof(shown), arg, strlen(arg)));
    }
}

static void read_stdin_ids(struct op *ops, int nops)
{
    vstr *text = vstr_new(4096), *bad = vstr_new(64);
    char buf[8192];
    size_t n;
    int i, used = 0;

    for (i = 0; i < nops; i++)
        used |= ops[i].from_stdin;
    if (!used)
        goto out;
    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
        if (text->len + n > (size_t) POSTSUPER_STDIN_MAX)
            msg_fatal("standard input: more than %ld bytes", POSTSUPER_STDIN_MAX);
        vstr_append(text, buf, n);
    }
    if (ferror(stdin))
        msg_fatal("read standard input: %m");
    for (i = 0; i < nops; i++) {
        if (!ops[i].from_stdin)
            continue;
        vstr_reset(bad);
        if (postsuper_ids_parse(vstr_str(text), vstr_len(text), ops[i].ids, bad) > 0) {
            char *line, *next;

            for (line = vstr_str(bad); *line; line = next) {
                next = strchr(line, '\n');
                *next++ = '\0';
                msg_warn("%s", line);
            }
        }
    }
out:
    vstr_free(text);
    vstr_free(bad);
}

int main(int argc, char **argv)
{
    const char *config_arg = NULL;
    struct op ops[4];
    int nops = 0, structure = 0, purge = 0, ch, i, j, is_root;
    const char *const *queues;
    argv_t *cmd_queues = argv_new();
    const char *maillog;
    uid_t caller = getuid();
    struct group *gr;
    vstr *err;

    log_init("postsuper");
    log_also_stderr(1);
    memset(ops, 0, sizeof(ops));
    umask(077);
    while ((ch = getopt(argc, argv, "c:d:h:H:r:psv")) != -1) {
        switch (ch) {
        case 'c':
            config_arg = optarg;
            break;
        case 'd':
        case 'h':
        case 'H':
        case 'r':
            op_add(ops, &nops, ch, optarg);
            break;
        case 'p':
            purge = 1;
            break;
        case 's':
            structure = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            usage();
        }
    }
    for (i = optind; i < argc; i++)
        argv_add(cmd_queues, argv[i]);
    if (nops == 0 && !structure && !purge)
        usage();

    config_load_or_exit(config_arg, 1);
    if (privs_lookup(config_str("mail_owner"), &owner_uid, &owner_gid) < 0)
        msg_fatal("mail_owner: unknown user \"%s\"", config_str("mail_owner"));
    is_root = caller == 0 && geteuid() == 0;
    if (!is_root && caller != owner_uid)
        msg_fatal("use of this command is reserved for the superuser");
    if (chdir(config_str("queue_directory")) < 0)
        msg_fatal("chdir %s: %m", config_str("queue_directory"));
    maillog = config_str("maillog_file");
    log_open(*maillog ? maillog : "syslog", config_str("syslog_facility"));

    for (i = 0; i < nops; i++)
        for (j = 0; j < (int) cmd_queues->n; j++)
            if (!postsuper_queue_allowed(ops[i].code, cmd_queues->v[j]))
                msg_fatal("invalid queue name for -%c: %s", ops[i].code, cmd_queues->v[j]);
    read_stdin_ids(ops, nops);

    /* As root: owners and modes first, then become mail_owner for every
     * rename and unlink (a queue directory is mail_owner's to change). */
    if (structure && is_root) {
        err = vstr_new(64);
        gr = getgrnam(config_str("setgid_group"));
        if (queue_tree_create(".", owner_uid, gr ? gr->gr_gid : (gid_t) -1, err) < 0)
            msg_warn("queue directory tree: %s", vstr_str(err));
        vstr_free(err);
        structure_check(1);
    }
    if (is_root)
        privs_drop(owner_uid, owner_gid, NULL);

    if (structure) {
        structure_check(0);
        fprintf(stderr, "postsuper: Structure check: %d problem%s fixed\n", problems_fixed,
                problems_fixed == 1 ? "" : "s");
    }
    if (purge) {
        int n = purge_temp_files();

        fprintf(stderr, "postsuper: Purged: %d temporary file%s\n", n, n == 1 ? "" : "s");
    }
    /* Delete, hold, release, requeue: in that order whatever the order
     * on the command line, so "-d ID -r ALL" never requeues ID. */
    {
        static const int order[] = {'d', 'h', 'H', 'r'};
        int k, released = 0, requeued = 0;

        for (k = 0; k < 4; k++) {
            for (i = 0; i < nops; i++) {
                const char **qv;
                int n;

                if (ops[i].code != order[k])
                    continue;
                if (cmd_queues->n > 0) {
                    qv = xcalloc(cmd_queues->n + 1, sizeof(*qv));
                    for (j = 0; j < (int) cmd_queues->n; j++)
                        qv[j] = cmd_queues->v[j];
                    queues = qv;
                } else {
                    qv = NULL;
                    queues = default_queues(ops[i].code);
                }
                n = op_run(&ops[i], queues);
                free(qv);
                fprintf(stderr, "postsuper: %s: %d message%s\n", op_label(ops[i].code), n,
                        n == 1 ? "" : "s");
                if (ops[i].code == 'H')
                    released += n;
                if (ops[i].code == 'r')
                    requeued += n;
            }
        }
        /* Wake qmgr: released mail is due now, requeued mail waits in
         * incoming/.  A qmgr that is not running finds it at start. */
        if (released > 0)
            (void) trigger_send("public/qmgr", TRIGGER_DEFERRED);
        if (requeued > 0)
            (void) trigger_send("public/qmgr", TRIGGER_WAKEUP);
    }
    for (i = 0; i < nops; i++)
        argv_free(ops[i].ids);
    argv_free(cmd_queues);
    return 0;
}

/* postcat: show queue files in human-readable form.  Arguments are file
 * names, or with -q queue ids looked up in maildrop, incoming, active,
 * deferred, hold and corrupt; no argument reads standard input.  -e, -h
 * and -b select the envelope, the header and the body (default: all).
 * postcat keeps the identity it was started with: it only reads, and a
 * queue file is readable by root and mail_owner. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "params.h"
#include "postcat.h"
#include "queue.h"
#include "queue_id.h"
#include "stream.h"
#include "vstr.h"

static void usage(void)
{
    fprintf(stderr, "usage: postcat [-behqv] [-c config_dir] [file|queue_id...]\n");
    exit(1);
}

/* Open a regular file for reading; fd or -1 (errno). */
static int open_regular(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;     /* not a regular file */
        return -1;
    }
    return fd;
}

/* Find a queue file by id; fd and its path in path, or -1. */
static int open_queue_id(const char *id, vstr *path)
{
    static const char *const queues[] = {
        QUEUE_MAILDROP, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, QUEUE_CORRUPT,
        NULL};
    int pass, i, fd, other = 0;

    /* Two passes: qmgr moves files between queues while we look. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; queues[i] != NULL; i++) {
            queue_path(path, queues[i], id);
            if ((fd = open_regular(vstr_str(path))) >= 0)
                return fd;
            if (errno != ENOENT)
                other = errno;
        }
    }
    /* "Permission denied" says more than "not found". */
    errno = other ? other : ENOENT;
    return -1;
}

/* Print one file; 0 or -1 (reported). */
static int show(int fd, const char *label, int sections)
{
    stream *s = stream_fdopen(fd);
    vstr *err = vstr_new(64);
    int ret = postcat_print(s, stdout, label, sections, err);
    char shown[256];

    stream_close(s);
    fflush(stdout);
    if (ret < 0)
        msg_error("%s: %s", log_printable(shown, sizeof(shown), label, strlen(label)),
                  vstr_str(err));
    vstr_free(err);
    return ret;
}

int main(int argc, char **argv)
{
    const char *config_arg = NULL;
    int sections = 0, by_id = 0, status = 0, ch, i, fd;
    char shown[256];
    vstr *path;

    log_init("postcat");
    while ((ch = getopt(argc, argv, "bc:ehqv")) != -1) {
        switch (ch) {
        case 'b':
            sections |= POSTCAT_BODY;
            break;
        case 'c':
            config_arg = optarg;
            break;
        case 'e':
            sections |= POSTCAT_ENVELOPE;
            break;
        case 'h':
            sections |= POSTCAT_HEADER;
            break;
        case 'q':
            by_id = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            usage();
        }
    }
    if (sections == 0)
        sections = POSTCAT_ALL;
    if (by_id) {
        if (optind >= argc)
            usage();
        config_load_or_exit(config_arg, 1);
        if (chdir(config_str("queue_directory")) < 0)
            msg_fatal("chdir %s: %m", config_str("queue_directory"));
    }
    if (optind >= argc) {
        /* Standard input. */
        return show(dup(0), "stdin", sections) < 0 ? 1 : 0;
    }
    path = vstr_new(64);
    for (i = optind; i < argc; i++) {
        log_printable(shown, sizeof(shown), argv[i], strlen(argv[i]));
        if (by_id) {
            if (!queue_id_valid(argv[i])) {
                msg_error("invalid queue id: %s", shown);
                status = 1;
                continue;
            }
            if ((fd = open_queue_id(argv[i], path)) < 0) {
                if (errno == ENOENT)
                    msg_error("%s: no such message in the queue", shown);
                else
                    msg_error("%s: cannot open queue file: %m", shown);
                status = 1;
                continue;
            }
            if (show(fd, vstr_str(path), sections) < 0)
                status = 1;
        } else {
            if ((fd = open_regular(argv[i])) < 0) {
                msg_error("open %s: %m", shown);
                status = 1;
                continue;
            }
            if (show(fd, shown, sections) < 0)
                status = 1;
        }
    }
    vstr_free(path);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        msg_error("write error on standard output");
        status = 1;
    }
    return status;
}

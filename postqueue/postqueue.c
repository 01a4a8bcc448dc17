/* postqueue(1): the queue commands of ordinary users.  -p prints the
 * traditional mailq listing and -j one JSON object per message, both from
 * the showq service (public/showq); -f asks qmgr to retry all deferred
 * mail, -i ID and -s SITE ask the flush service (public/flush) to retry
 * one message or one destination.  Installed set-group-id setgid_group
 * (so it may reach public/), it trusts neither its environment, its
 * umask, nor the data it reads from the socket. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>
#include "argv.h"
#include "attr.h"
#include "../flush/flush.h"
#include "log.h"
#include "mail_proto.h"
#include "mem.h"
#include "master_proto.h"
#include "match_list.h"
#include "params.h"
#include "privs.h"
#include "../showq/showq_proto.h"
#include "skeleton.h"
#include "stream.h"
#include "vstr.h"

/* Seconds to wait for each read from a service. */
#define POSTQUEUE_TIMEOUT 120

enum mode { MODE_NONE, MODE_LIST, MODE_JSON, MODE_FLUSH, MODE_FLUSH_ID, MODE_FLUSH_SITE };

static void pq_fatal(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void pq_fatal(int status, const char *fmt, ...)
{
    va_list ap;
    vstr *text = vstr_new(128);

    va_start(ap, fmt);
    vstr_vprintf(text, fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "postqueue: fatal: %s\n", vstr_str(text));
    exit(status);
}

static void usage(void)
{
    fprintf(stderr, "usage: postqueue [-v] [-c config_dir] -f | -i queue_id | -j | -p | -s site\n");
    exit(EX_USAGE);
}

/* A set-group-id program starts from nothing the caller chose: standard
 * descriptors open, a fixed umask, and only the variables it needs. */
static void sanitize_process(void)
{
    const char *cfg = getenv("POSTHORN_CONFIG_DIR"), *tz = getenv("TZ");
    char *cfg_copy = NULL, *tz_copy = NULL;
    int fd;

    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
        ;
    if (fd > 2)
        close(fd);
    umask(022);
    if (cfg != NULL && strlen(cfg) < 4096)
        cfg_copy = strdup(cfg);
    if (tz != NULL && strlen(tz) < 256 && strchr(tz, '/') == NULL)
        tz_copy = strdup(tz);
    clearenv();
    setenv("PATH", "/usr/bin:/bin", 1);
    if (cfg_copy != NULL)
        setenv("POSTHORN_CONFIG_DIR", cfg_copy, 1);
    if (tz_copy != NULL)
        setenv("TZ", tz_copy, 1);
    free(cfg_copy);
    free(tz_copy);
}

/* Root and mail_owner may always; others per the parameter (a user name
 * list, "static:anyone" or a type:table). */
static void check_authorized(const char *param, const char *what)
{
    uid_t uid = getuid(), owner_uid;
    gid_t owner_gid;
    struct passwd *pw;
    match_list *l;
    vstr *err = vstr_new(64);
    int ok;

    if (uid == 0)
        goto out;
    if (privs_lookup(config_str("mail_owner"), &owner_uid, &owner_gid) == 0 && uid == owner_uid)
        goto out;
    if ((pw = getpwuid(uid)) == NULL)
        pq_fatal(EX_NOPERM, "unknown user id %ld is not allowed to %s", (long)uid, what);
    if ((l = match_list_domain(config_str(param), 0, err)) == NULL)
        pq_fatal(EX_CONFIG, "%s: %s", param, vstr_str(err));
    ok = match_list_match_domain(l, pw->pw_name);
    match_list_free(l);
    if (!ok)
        pq_fatal(EX_NOPERM, "User %s(%ld) is not allowed to %s", pw->pw_name, (long)uid, what);
out:
    vstr_free(err);
}

struct list_ctx {
    enum mode mode;
    showq_listing *listing;
    vstr *out;
};

static void print_entry(const struct showq_entry *e, void *ctx)
{
    struct list_ctx *lc = ctx;

    vstr_reset(lc->out);
    if (lc->mode == MODE_JSON)
        showq_json_entry(e, lc->out);
    else
        showq_listing_entry(lc->listing, e, lc->out);
    fwrite(vstr_str(lc->out), 1, vstr_len(lc->out), stdout);
}

/* The mail system is down and root asks: run showq itself in stand-alone
 * mode (it serves its standard input) on one end of a socket pair, as
 * root, so the queue can still be listed.  Returns our end. */
static int showq_direct(pid_t *child)
{
    vstr *path = vstr_new(256);
    int sv[2];

    fprintf(stderr, "postqueue: warning: Mail system is down -- accessing queue directly\n");
    vstr_printf(path, "%s/showq", config_str("daemon_directory"));
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        pq_fatal(EX_OSERR, "socketpair: %s", strerror(errno));
    fflush(stdout);
    if ((*child = fork()) < 0)
        pq_fatal(EX_OSERR, "fork: %s", strerror(errno));
    if (*child == 0) {
        if (dup2(sv[1], 0) < 0)
            _exit(EX_OSERR);
        execl(vstr_str(path), "showq", "-c", config_dir(), "-S", (char *)NULL);
        fprintf(stderr, "postqueue: fatal: cannot run %s: %s\n", vstr_str(path), strerror(errno));
        _exit(EX_UNAVAILABLE);
    }
    close(sv[1]);
    vstr_free(path);
    return sv[0];
}

static void show_queue(enum mode mode)
{
    struct list_ctx lc = {mode, showq_listing_new(), vstr_new(1024)};
    showq_reader *r = showq_reader_new(print_entry, &lc);
    vstr *err = vstr_new(64);
    char buf[16384];
    ssize_t n;
    int fd, status = 0;
    pid_t child = -1;

    if ((fd = service_connect(SHOWQ_SOCKET, 0)) < 0) {
        if (getuid() != 0)
            pq_fatal(EX_UNAVAILABLE, "Queue report unavailable - mail system is down");
        fd = showq_direct(&child);
    }
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int ready = poll(&pfd, 1, POSTQUEUE_TIMEOUT * 1000);

        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0)
            pq_fatal(EX_TEMPFAIL, "timeout while reading the queue listing");
        if ((n = read(fd, buf, sizeof(buf))) < 0) {
            if (errno == EINTR)
                continue;
            pq_fatal(EX_IOERR, "read error from the showq service: %s", strerror(errno));
        }
        if (n == 0)
            break;
        if ((status = showq_reader_feed(r, buf, (size_t)n, err)) < 0)
            pq_fatal(EX_PROTOCOL, "malformed showq server reply: %s", vstr_str(err));
    }
    close(fd);
    if (child > 0)
        (void)waitpid(child, NULL, 0);
    if (!showq_reader_done(r))
        pq_fatal(EX_PROTOCOL, "malformed showq server reply: premature end of the listing");
    if (mode == MODE_LIST) {
        vstr_reset(lc.out);
        showq_listing_end(lc.listing, lc.out);
        fwrite(vstr_str(lc.out), 1, vstr_len(lc.out), stdout);
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        pq_fatal(EX_IOERR, "write error on standard output");
    showq_reader_free(r);
    showq_listing_free(lc.listing);
    vstr_free(lc.out);
    vstr_free(err);
}

static void flush_request(const char *request, const char *name, const char *value)
{
    attr_list *req = attr_list_new(), *reply = attr_list_new();
    vstr *err = vstr_new(64);
    const char *status, *reason;
    stream *s;
    int fd;

    if ((fd = service_connect(FLUSH_SOCKET, 0)) < 0)
        pq_fatal(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
    s = stream_fdopen(fd);
    stream_set_timeout(s, POSTQUEUE_TIMEOUT);
    attr_add(req, "request", request);
    attr_add(req, name, value);
    if (attr_expect(s, PROTO_FLUSH, FLUSH_VERSION, err) != 0)
        pq_fatal(EX_PROTOCOL, "flush service: %s", vstr_str(err));
    if (attr_write(s, req) != 0)
        pq_fatal(EX_IOERR, "cannot send the request to the flush service");
    if (attr_read(s, reply, flush_reply_spec, err) != 0)
        pq_fatal(EX_PROTOCOL, "flush service: %s", vstr_str(err));
    status = attr_get(reply, "status");
    reason = attr_get(reply, "reason");
    if (strcmp(status, FLUSH_STAT_OK) == 0) {
        if (msg_verbose)
            msg_info("%s: %s", value, reason);
    } else if (strcmp(status, FLUSH_STAT_BAD) == 0) {
        pq_fatal(EX_USAGE, "Cannot flush %s: %s", value, reason);
    } else if (strcmp(status, FLUSH_STAT_DENY) == 0) {
        pq_fatal(EX_UNAVAILABLE, "Cannot flush mail for %s: %s", value, reason);
    } else {
        pq_fatal(EX_UNAVAILABLE, "Cannot flush %s: %s", value, reason);
    }
    stream_close(s);
    attr_list_free(req);
    attr_list_free(reply);
    vstr_free(err);
}

static void set_mode(enum mode *mode, enum mode want)
{
    if (*mode != MODE_NONE && *mode != want)
        usage();
    *mode = want;
}

static int queue_id_syntax(const char *id)
{
    size_t len = strlen(id);

    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'Z')
              || (id[i] >= 'a' && id[i] <= 'z')))
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    const char *config_arg = NULL, *arg = NULL;
    enum mode mode = MODE_NONE;
    int ch;

    sanitize_process();
    log_init("postqueue");
    while ((ch = getopt(argc, argv, "c:fi:jps:v")) != -1) {
        switch (ch) {
        case 'c':
            config_arg = optarg;
            break;
        case 'f':
            set_mode(&mode, MODE_FLUSH);
            break;
        case 'i':
            set_mode(&mode, MODE_FLUSH_ID);
            arg = optarg;
            break;
        case 'j':
            set_mode(&mode, MODE_JSON);
            break;
        case 'p':
            set_mode(&mode, MODE_LIST);
            break;
        case 's':
            set_mode(&mode, MODE_FLUSH_SITE);
            arg = optarg;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            usage();
        }
    }
    if (optind != argc || mode == MODE_NONE)
        usage();
    if (mode == MODE_FLUSH_ID && !queue_id_syntax(arg))
        pq_fatal(EX_USAGE, "invalid queue id");
    if (mode == MODE_FLUSH_SITE && !flush_site_valid(arg))
        pq_fatal(EX_USAGE, "invalid site name");
    config_load_setid_or_exit(config_arg, EX_CONFIG);
    if (chdir(config_str("queue_directory")) != 0)
        pq_fatal(EX_CONFIG, "cannot change to the queue directory %s: %s",
                 config_str("queue_directory"), strerror(errno));

    switch (mode) {
    case MODE_LIST:
    case MODE_JSON:
        check_authorized("authorized_mailq_users", "view the mail queue");
        show_queue(mode);
        break;
    case MODE_FLUSH:
        check_authorized("authorized_flush_users", "flush the mail queue");
        if (trigger_send(QMGR_TRIGGER, TRIGGER_FLUSH) != 0)
            pq_fatal(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
        break;
    case MODE_FLUSH_ID:
        check_authorized("authorized_flush_users", "flush the mail queue");
        flush_request(FLUSH_REQ_ID, "queue_id", arg);
        break;
    case MODE_FLUSH_SITE:
        check_authorized("authorized_flush_users", "flush the mail queue");
        flush_request(FLUSH_REQ_SITE, "site", arg);
        break;
    case MODE_NONE:
        usage();
    }
    return EX_OK;
}

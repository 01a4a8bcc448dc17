/* Unit tests of the queue manager's message life cycle, in a temporary
 * queue directory with in-process fake delivery agents (private/local,
 * private/smtp) and a fake bounce service (private/bounce): corrupt files
 * go to corrupt/, remote mail without an smtp agent is deferred (defer
 * log, retry time as mtime), sent and bounced recipients are marked done
 * in place with status log entries, bounce and success notifications are
 * flushed before a file is removed (and the file is kept when bounce is
 * down), expiry, delay warnings (W record rewritten), slices of
 * recipients, dead destinations, a failing agent defers its recipients,
 * and a reply about offsets that were not asked for is refused. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "attr.h"
#include "event.h"
#include "mail_proto.h"
#include "match_list.h"
#include "qmgr/qmgr.h"
#include "queue.h"
#include "record.h"
#include "status_log.h"
#include "vstr.h"

static char topdir[] = "/tmp/test_qmgr_activeXXXXXX";
static int agent_listen = -1;
static int agent_mode;          /* see agent_reply() */
static int agent_requests;
static const char *agent_path = "private/local";
static int bounce_listen = -1;
static int bounce_mode;
static vstr *bounce_kinds;      /* "kind kind ..." of flush requests */

enum { AGENT_NORMAL, AGENT_CRASH, AGENT_BAD_OFFSET, AGENT_DEST_DOWN };
enum { BOUNCE_OK, BOUNCE_FAIL };

/* ---- queue files ---- */

static void put(vstr *b, int type, const char *s)
{
    rec_append(b, type, s, strlen(s));
}

/* Write incoming/ID with the given recipients ('D' prefix: done; '+'
 * prefix: NOTIFY=SUCCESS), arrived age seconds ago, with a W record when
 * warn >= 0. */
static void write_queue_file_ex(const char *id, const char *const *rcpts, size_t n, long age,
                                long long warn)
{
    vstr *b = vstr_new(512), *z = vstr_new(64), *path = vstr_new(64);
    unsigned char hdr[5];
    size_t zpos, zhdr = rec_header(hdr, REC_SIZE, REC_SIZE_WIDTH), i;
    FILE *fp;

    put(b, REC_VERSION, "1");
    zpos = vstr_len(b);
    vstr_printf(z, "%-*s", REC_SIZE_WIDTH, "0 0 0");
    rec_append(b, REC_SIZE, vstr_str(z), vstr_len(z));
    vstr_reset(z);
    vstr_printf(z, "%lld.000000", (long long) time(NULL) - age);
    put(b, REC_TIME, vstr_str(z));
    if (warn >= 0) {
        vstr_reset(z);
        vstr_printf(z, "%-*lld", REC_WARN_WIDTH, warn);
        put(b, REC_WARN, vstr_str(z));
    }
    put(b, REC_SENDER, "sender@example.org");
    for (i = 0; i < n; i++) {
        if (rcpts[i][0] == '+')
            put(b, REC_NOTIFY, "2");
        put(b, rcpts[i][0] == 'D' ? REC_DONE : REC_RCPT,
            rcpts[i] + (rcpts[i][0] == 'D' || rcpts[i][0] == '+'));
    }
    vstr_reset(z);
    vstr_printf(z, "%-*lld", REC_SIZE_WIDTH, 0LL);
    vstr_reset(z);
    {
        vstr *t = vstr_new(64);

        vstr_printf(t, "6 %zu %zu", vstr_len(b), n);
        vstr_printf(z, "%-*s", REC_SIZE_WIDTH, vstr_str(t));
        vstr_free(t);
    }
    memcpy(vstr_str(b) + zpos + zhdr, vstr_str(z), REC_SIZE_WIDTH);
    put(b, REC_MESSAGE, "");
    put(b, REC_LINE, "body");
    put(b, REC_XTRA, "");
    put(b, REC_END, "");
    queue_path(path, QUEUE_INCOMING, id);
    fp = fopen(vstr_str(path), "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(vstr_str(b), 1, vstr_len(b), fp), vstr_len(b));
    fclose(fp);
    vstr_free(b);
    vstr_free(z);
    vstr_free(path);
}

static void write_queue_file(const char *id, const char *const *rcpts, size_t n)
{
    write_queue_file_ex(id, rcpts, n, 100, -1);
}

static int exists(const char *queue, const char *id)
{
    vstr *path = vstr_new(64);
    int ok;

    queue_path(path, queue, id);
    ok = access(vstr_str(path), F_OK) == 0;
    vstr_free(path);
    return ok;
}

static char *slurp(const char *queue, const char *id)
{
    vstr *path = vstr_new(64), *text = vstr_new(256);
    char buf[4096];
    size_t n;
    FILE *fp;

    queue_path(path, queue, id);
    fp = fopen(vstr_str(path), "r");
    if (fp != NULL) {
        while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
            vstr_append(text, buf, n);
        fclose(fp);
    }
    vstr_free(path);
    return vstr_export(text);
}

/* ---- fake agent ---- */

struct agent_conn {
    int fd;
    vstr *in;
};

static void agent_reply(struct agent_conn *c, const attr_list *req)
{
    attr_list *rep = attr_list_new();
    vstr *out = vstr_new(256);
    size_t i, k = 0;

    agent_requests++;
    for (i = 0; i < attr_count(req); i++) {
        const char *addr;

        if (strcmp(attr_name(req, i), "rcpt_offset") != 0)
            continue;
        addr = attr_value(req, i + 1);
        attr_add(rep, "rcpt_offset", agent_mode == AGENT_BAD_OFFSET ? "1" : attr_value(req, i));
        if (agent_mode == AGENT_DEST_DOWN) {
            attr_add(rep, "rcpt_status", "deferred");
            attr_add(rep, "rcpt_dsn", "4.4.1");
            attr_add(rep, "rcpt_reason", "connect to mx.example[192.0.2.1]:25: Connection refused");
            attr_add(rep, "rcpt_action", "delayed");
            attr_add(rep, "rcpt_relay", "none");
        } else if (strncmp(addr, "bounce", 6) == 0) {
            attr_add(rep, "rcpt_status", "bounced");
            attr_add(rep, "rcpt_dsn", "5.1.1");
            attr_add(rep, "rcpt_reason", "user unknown");
            attr_add(rep, "rcpt_action", "failed");
            attr_add(rep, "rcpt_relay", "local");
        } else if (strncmp(addr, "defer", 5) == 0) {
            attr_add(rep, "rcpt_status", "deferred");
            attr_add(rep, "rcpt_dsn", "4.2.2");
            attr_add(rep, "rcpt_reason", "mailbox full");
            attr_add(rep, "rcpt_action", "delayed");
            attr_add(rep, "rcpt_relay", "local");
        } else {
            attr_add(rep, "rcpt_status", "sent");
            attr_add(rep, "rcpt_dsn", "2.0.0");
            attr_add(rep, "rcpt_reason", "delivered");
            attr_add(rep, "rcpt_action", "delivered");
            attr_add(rep, "rcpt_relay", "local");
        }
        k++;
    }
    assert_true(k > 0);
    assert_int_equal(attr_encode(out, rep), 0);
    assert_int_equal(write(c->fd, vstr_str(out), vstr_len(out)), (ssize_t) vstr_len(out));
    attr_list_free(rep);
    vstr_free(out);
}

static void agent_conn_ready(int fd, int events, void *ctx)
{
    struct agent_conn *c = ctx;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    attr_list *req = attr_list_new();
    vstr *err = vstr_new(64);
    ssize_t used;

    if (n > 0)
        vstr_append(c->in, buf, (size_t) n);
    used = attr_parse(vstr_str(c->in), vstr_len(c->in), req, delivery_request_spec, err);
    assert_true(used >= 0);
    if (used > 0 || n <= 0) {
        if (used > 0) {
            assert_string_equal(attr_get(req, "queue_name"), "active");
            if (agent_mode != AGENT_DEST_DOWN)
                assert_string_equal(attr_get(req, "nexthop"), "localhost");
            if (agent_mode != AGENT_CRASH)
                agent_reply(c, req);
        }
        event_del(fd);
        close(fd);
        vstr_free(c->in);
        free(c);
    }
    attr_list_free(req);
    vstr_free(err);
}

static void agent_accept(int lfd, int events, void *ctx)
{
    int fd = accept(lfd, NULL, NULL);
    struct agent_conn *c;
    vstr *ann = vstr_new(64);

    if (fd < 0)
        return;
    c = calloc(1, sizeof(*c));
    c->fd = fd;
    c->in = vstr_new(256);
    attr_announce_encode(ann, PROTO_DELIVERY, PROTO_VERSION);
    assert_int_equal(write(fd, vstr_str(ann), vstr_len(ann)), (ssize_t) vstr_len(ann));
    vstr_free(ann);
    event_set(fd, EV_READ, agent_conn_ready, c);
}

static void agent_start(void)
{
    struct sockaddr_un sun;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, agent_path);
    agent_listen = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(agent_listen >= 0);
    assert_int_equal(bind(agent_listen, (struct sockaddr *) &sun, sizeof(sun)), 0);
    assert_int_equal(listen(agent_listen, 16), 0);
    event_set(agent_listen, EV_READ, agent_accept, NULL);
}

static void agent_stop(void)
{
    event_del(agent_listen);
    close(agent_listen);
    unlink(agent_path);
    agent_listen = -1;
}

/* ---- fake bounce service ---- */

static void bounce_conn_ready(int fd, int events, void *ctx)
{
    struct agent_conn *c = ctx;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    attr_list *req = attr_list_new(), *rep = attr_list_new();
    vstr *err = vstr_new(64), *out = vstr_new(64);
    ssize_t used;

    if (n > 0)
        vstr_append(c->in, buf, (size_t) n);
    used = attr_parse(vstr_str(c->in), vstr_len(c->in), req, bounce_request_spec, err);
    assert_true(used >= 0);
    if (used > 0) {
        const char *kind = attr_get(req, "kind"), *id = attr_get(req, "queue_id");

        assert_string_equal(attr_get(req, "request"), "flush");
        assert_string_equal(attr_get(req, "queue_name"), "active");
        /* The queue file must still be there while bounce reads it. */
        assert_true(exists(QUEUE_ACTIVE, id));
        vstr_printf(bounce_kinds, "%s ", kind);
        if (bounce_mode == BOUNCE_OK) {
            if (strcmp(kind, "bounce") == 0)
                status_log_remove(QUEUE_BOUNCE_LOG, id);
            else if (strcmp(kind, "success") == 0)
                status_log_remove(QUEUE_TRACE_LOG, id);
            attr_add(rep, "status", "0");
            attr_add(rep, "queue_id", "BBBBBBB0000000B");
        } else {
            attr_add(rep, "status", "451");
            attr_add(rep, "reason", "4.3.0 cleanup unavailable");
        }
        assert_int_equal(attr_encode(out, rep), 0);
        assert_int_equal(write(fd, vstr_str(out), vstr_len(out)), (ssize_t) vstr_len(out));
    }
    if (used > 0 || n <= 0) {
        event_del(fd);
        close(fd);
        vstr_free(c->in);
        free(c);
    }
    attr_list_free(req);
    attr_list_free(rep);
    vstr_free(err);
    vstr_free(out);
}

static void bounce_accept(int lfd, int events, void *ctx)
{
    int fd = accept(lfd, NULL, NULL);
    struct agent_conn *c;
    vstr *ann = vstr_new(64);

    if (fd < 0)
        return;
    c = calloc(1, sizeof(*c));
    c->fd = fd;
    c->in = vstr_new(256);
    attr_announce_encode(ann, PROTO_BOUNCE, PROTO_VERSION);
    assert_int_equal(write(fd, vstr_str(ann), vstr_len(ann)), (ssize_t) vstr_len(ann));
    vstr_free(ann);
    event_set(fd, EV_READ, bounce_conn_ready, c);
}

static void bounce_start(int mode)
{
    struct sockaddr_un sun;

    bounce_mode = mode;
    vstr_reset(bounce_kinds);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, BOUNCE_SOCKET);
    bounce_listen = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(bounce_listen >= 0);
    assert_int_equal(bind(bounce_listen, (struct sockaddr *) &sun, sizeof(sun)), 0);
    assert_int_equal(listen(bounce_listen, 16), 0);
    event_set(bounce_listen, EV_READ, bounce_accept, NULL);
}

static void bounce_stop(void)
{
    event_del(bounce_listen);
    close(bounce_listen);
    unlink(BOUNCE_SOCKET);
    bounce_listen = -1;
}

/* The entries of a status log, as "rcpt status action reason" lines. */
static char *log_lines(const char *log, const char *id)
{
    struct status_entry *e = NULL;
    size_t n = 0, i;
    vstr *err = vstr_new(64), *out = vstr_new(256);

    assert_int_equal(status_log_read(log, id, &e, &n, err), 0);
    for (i = 0; i < n; i++)
        vstr_printf(out, "%s %s %s %s\n", e[i].rcpt, e[i].status, e[i].action, e[i].reason);
    status_log_free(e, n);
    vstr_free(err);
    return vstr_export(out);
}

/* Run the event loop until no message is active (bounded). */
static void run_until_idle(void)
{
    int i;

    for (i = 0; i < 500 && qmgr_active_count() > 0; i++)
        event_run_once(20);
    assert_int_equal(qmgr_active_count(), 0);
}

/* ---- setup ---- */

static int setup(void **state)
{
    static const char *const dirs[] = {"incoming", "active", "deferred", "corrupt", "defer",
                                       "bounce", "trace", "private", NULL};
    vstr *err = vstr_new(16);
    int i;

    assert_non_null(mkdtemp(topdir));
    assert_int_equal(chdir(topdir), 0);
    for (i = 0; dirs[i]; i++)
        assert_int_equal(mkdir(dirs[i], 0700), 0);
    qmgr_conf.active_limit = 100;
    qmgr_conf.queue_run_delay = 300;
    qmgr_conf.minimal_backoff = 300;
    qmgr_conf.maximal_backoff = 4000;
    qmgr_conf.process_limit = 10;
    qmgr_conf.announce_timeout = 5;
    qmgr_conf.reply_timeout = 5;
    qmgr_conf.throttle_time = 1;
    qmgr_conf.initial_concurrency = 5;
    qmgr_conf.dead_time = 1;
    qmgr_conf.max_lifetime = 5 * 86400;
    qmgr_conf.bounce_lifetime = 5 * 86400;
    qmgr_conf.rcpt_limit = 2;       /* small: messages go in slices */
    qmgr_conf.bounce_retry = 60;
    bounce_kinds = vstr_new(64);
    qmgr_conf.resolver.mydestination = match_list_domain("localhost", 0, err);
    qmgr_conf.resolver.myorigin = "localhost";
    assert_non_null(qmgr_conf.resolver.mydestination);
    vstr_free(err);
    event_init();
    return 0;
}

static int teardown(void **state)
{
    vstr *cmd = vstr_new(64);

    vstr_printf(cmd, "rm -rf '%s'", topdir);
    if (chdir("/") == 0 && system(vstr_str(cmd)) != 0)
        fprintf(stderr, "cannot remove %s\n", topdir);
    vstr_free(cmd);
    return 0;
}

/* Forget the files of earlier tests, so that a flush takes only ours. */
static void clear_queues(void)
{
    if (system("rm -rf deferred/* defer/* bounce/* trace/*") != 0)
        fail_msg("cannot clear the queues");
}

/* ---- tests ---- */

static void test_corrupt_file_moved(void **state)
{
    FILE *fp = fopen("incoming/AAAAAAA0000000A", "w");

    assert_non_null(fp);
    fputs("V\0011S\001x", fp);
    fclose(fp);
    qmgr_scan_incoming();
    run_until_idle();
    assert_true(exists(QUEUE_CORRUPT, "AAAAAAA0000000A"));
    assert_false(exists(QUEUE_ACTIVE, "AAAAAAA0000000A"));
    assert_false(exists(QUEUE_INCOMING, "AAAAAAA0000000A"));
}

/* Remote mail goes to the smtp transport; without an smtp agent it is
 * deferred (and the flush trigger retries it). */
static void test_remote_without_agent_deferred(void **state)
{
    static const char *const rcpts[] = {"a@elsewhere.example", "Db@localhost"};
    struct stat st;
    vstr *path = vstr_new(64);
    char *log;

    write_queue_file("AAAAAAA0000000B", rcpts, 2);
    qmgr_scan_incoming();
    run_until_idle();
    assert_true(exists(QUEUE_DEFERRED, "AAAAAAA0000000B"));
    queue_path(path, QUEUE_DEFERRED, "AAAAAAA0000000B");
    assert_int_equal(stat(vstr_str(path), &st), 0);
    /* Arrived 100s ago: backoff is the minimum, 300s. */
    assert_true(st.st_mtime >= time(NULL) + 295 && st.st_mtime <= time(NULL) + 300);
    log = log_lines(QUEUE_DEFER_LOG, "AAAAAAA0000000B");
    assert_string_equal(log, "a@elsewhere.example 4.3.0 delayed delivery agent smtp unavailable\n");
    free(log);
    /* Not due yet: a deferred scan leaves it alone; a flush takes it. */
    qmgr_scan_deferred();
    assert_int_equal(qmgr_active_count(), 0);
    assert_true(exists(QUEUE_DEFERRED, "AAAAAAA0000000B"));
    qmgr_flush();
    run_until_idle();
    assert_true(exists(QUEUE_DEFERRED, "AAAAAAA0000000B"));
    vstr_free(path);
}

/* Four recipients in two slices (qmgr_message_recipient_limit 2). */
static void test_delivery_outcomes(void **state)
{
    static const char *const rcpts[] = {"one@localhost", "bounce@localhost", "defer@localhost",
                                        "two@LOCALHOST"};
    char *log, *file;

    clear_queues();
    agent_mode = AGENT_NORMAL;
    agent_requests = 0;
    agent_start();
    bounce_start(BOUNCE_OK);
    write_queue_file("AAAAAAA0000000C", rcpts, 4);
    qmgr_scan_incoming();
    run_until_idle();
    assert_int_equal(agent_requests, 4);    /* local: one recipient per request */
    assert_true(exists(QUEUE_DEFERRED, "AAAAAAA0000000C"));
    /* The bounce was flushed (and bounce removed its log). */
    assert_string_equal(vstr_str(bounce_kinds), "bounce ");
    assert_false(exists(QUEUE_BOUNCE_LOG, "AAAAAAA0000000C"));
    log = log_lines(QUEUE_DEFER_LOG, "AAAAAAA0000000C");
    assert_string_equal(log, "defer@localhost 4.2.2 delayed mailbox full\n");
    free(log);
    /* Done marks in place: only the deferred recipient is still an R. */
    file = slurp(QUEUE_DEFERRED, "AAAAAAA0000000C");
    assert_non_null(strstr(file, "D\015one@localhost"));
    assert_non_null(strstr(file, "D\020bounce@localhost"));
    assert_non_null(strstr(file, "R\017defer@localhost"));
    assert_non_null(strstr(file, "D\015two@LOCALHOST"));
    free(file);
    bounce_stop();
    agent_stop();
}

/* The bounce log entry is written before the recipient is done; while
 * bounce is down the file stays queued, to be retried soon. */
static void test_bounce_unavailable(void **state)
{
    static const char *const rcpts[] = {"bounce@localhost", "ok@localhost"};
    struct stat st;
    vstr *path = vstr_new(64);
    char *log;

    clear_queues();
    agent_mode = AGENT_NORMAL;
    agent_start();
    bounce_start(BOUNCE_FAIL);
    write_queue_file("AAAAAAA0000000I", rcpts, 2);
    qmgr_scan_incoming();
    run_until_idle();
    assert_string_equal(vstr_str(bounce_kinds), "bounce ");
    assert_true(exists(QUEUE_DEFERRED, "AAAAAAA0000000I"));
    queue_path(path, QUEUE_DEFERRED, "AAAAAAA0000000I");
    assert_int_equal(stat(vstr_str(path), &st), 0);
    assert_true(st.st_mtime <= time(NULL) + 60);
    log = log_lines(QUEUE_BOUNCE_LOG, "AAAAAAA0000000I");
    assert_string_equal(log, "bounce@localhost 5.1.1 failed user unknown\n");
    free(log);
    bounce_stop();
    /* No bounce service at all: still kept. */
    qmgr_flush();
    run_until_idle();
    assert_true(exists(QUEUE_DEFERRED, "AAAAAAA0000000I"));
    /* bounce is back: nothing is delivered again, the notice goes out,
     * the file is removed. */
    agent_requests = 0;
    bounce_start(BOUNCE_OK);
    qmgr_flush();
    run_until_idle();
    assert_int_equal(agent_requests, 0);
    assert_string_equal(vstr_str(bounce_kinds), "bounce ");
    assert_false(exists(QUEUE_DEFERRED, "AAAAAAA0000000I"));
    assert_false(exists(QUEUE_ACTIVE, "AAAAAAA0000000I"));
    bounce_stop();
    agent_stop();
    vstr_free(path);
}

static void test_all_sent_removed(void **state)
{
    static const char *const rcpts[] = {"x@localhost", "Dy@localhost", "+postmaster"};

    clear_queues();
    agent_mode = AGENT_NORMAL;
    agent_requests = 0;
    agent_start();
    bounce_start(BOUNCE_OK);
    write_queue_file("AAAAAAA0000000D", rcpts, 3);
    qmgr_scan_incoming();
    run_until_idle();
    assert_int_equal(agent_requests, 2);
    /* NOTIFY=SUCCESS: a trace entry and a success notification. */
    assert_string_equal(vstr_str(bounce_kinds), "success ");
    assert_false(exists(QUEUE_TRACE_LOG, "AAAAAAA0000000D"));
    assert_false(exists(QUEUE_ACTIVE, "AAAAAAA0000000D"));
    assert_false(exists(QUEUE_DEFERRED, "AAAAAAA0000000D"));
    assert_false(exists(QUEUE_INCOMING, "AAAAAAA0000000D"));
    bounce_stop();
    agent_stop();
}

/* Deferred again after maximal_queue_lifetime: returned to the sender
 * with the last deferral reason. */
static void test_expired(void **state)
{
    static const char *const rcpts[] = {"defer@localhost", "sent@localhost"};
    char *log;

    clear_queues();
    agent_mode = AGENT_NORMAL;
    agent_start();
    bounce_start(BOUNCE_FAIL);      /* keep the bounce log to look at */
    qmgr_conf.max_lifetime = 50;
    write_queue_file("AAAAAAA0000000J", rcpts, 2);      /* 100s old */
    qmgr_scan_incoming();
    run_until_idle();
    qmgr_conf.max_lifetime = 5 * 86400;
    assert_string_equal(vstr_str(bounce_kinds), "bounce ");
    log = log_lines(QUEUE_BOUNCE_LOG, "AAAAAAA0000000J");
    assert_string_equal(log, "defer@localhost 4.2.2 failed mailbox full\n");
    free(log);
    /* Nothing pending any more: no defer log. */
    assert_false(exists(QUEUE_DEFER_LOG, "AAAAAAA0000000J"));
    log = slurp(QUEUE_DEFERRED, "AAAAAAA0000000J");
    assert_non_null(strstr(log, "D\017defer@localhost"));
    free(log);
    bounce_stop();
    bounce_start(BOUNCE_OK);
    qmgr_flush();
    run_until_idle();
    assert_false(exists(QUEUE_DEFERRED, "AAAAAAA0000000J"));
    bounce_stop();
    agent_stop();
}

/* A delay warning once its time has come, then W = 0 in the file. */
static void test_delay_warning(void **state)
{
    static const char *const rcpts[] = {"defer@localhost"};
    vstr *w = vstr_new(32);
    char *file;

    clear_queues();
    agent_mode = AGENT_NORMAL;
    agent_start();
    bounce_start(BOUNCE_OK);
    write_queue_file_ex("AAAAAAA0000000K", rcpts, 1, 100, (long long) time(NULL) - 10);
    qmgr_scan_incoming();
    run_until_idle();
    assert_string_equal(vstr_str(bounce_kinds), "delay ");
    assert_true(exists(QUEUE_DEFERRED, "AAAAAAA0000000K"));
    file = slurp(QUEUE_DEFERRED, "AAAAAAA0000000K");
    vstr_printf(w, "W\024%-*d", REC_WARN_WIDTH, 0);
    assert_non_null(strstr(file, vstr_str(w)));
    free(file);
    /* Once only. */
    vstr_reset(bounce_kinds);
    qmgr_flush();
    run_until_idle();
    assert_string_equal(vstr_str(bounce_kinds), "");
    /* Not yet due: nothing. */
    write_queue_file_ex("AAAAAAA0000000L", rcpts, 1, 100, (long long) time(NULL) + 3600);
    qmgr_scan_incoming();
    run_until_idle();
    assert_string_equal(vstr_str(bounce_kinds), "");
    bounce_stop();
    agent_stop();
    vstr_free(w);
}

/* A destination whose connections fail becomes dead: later mail for it
 * is deferred without a delivery attempt until the dead time is over. */
static void test_dead_destination(void **state)
{
    static const char *const rcpts[] = {"a@down.example"};
    int before;
    char *log;

    clear_queues();
    sleep(1);       /* the smtp transport pause of an earlier test */
    agent_mode = AGENT_DEST_DOWN;
    agent_path = "private/smtp";
    agent_requests = 0;
    qmgr_conf.initial_concurrency = 1;
    agent_start();
    bounce_start(BOUNCE_OK);
    write_queue_file("AAAAAAA0000000M", rcpts, 1);
    qmgr_scan_incoming();
    run_until_idle();
    assert_int_equal(agent_requests, 1);
    before = agent_requests;
    write_queue_file("AAAAAAA0000000N", rcpts, 1);
    qmgr_scan_incoming();
    run_until_idle();
    assert_int_equal(agent_requests, before);       /* no new attempt */
    log = log_lines(QUEUE_DEFER_LOG, "AAAAAAA0000000N");
    assert_non_null(strstr(log, "4.4.1 delayed delivery temporarily suspended: connect to "));
    free(log);
    /* After the dead time one probe goes out. */
    sleep(1);
    event_run_once(50);
    qmgr_flush();
    run_until_idle();
    assert_true(agent_requests > before);
    bounce_stop();
    agent_stop();
    agent_path = "private/local";
    qmgr_conf.initial_concurrency = 5;
}

static void expect_agent_failure(const char *id)
{
    static const char *const rcpts[] = {"z@localhost"};
    char *log;

    write_queue_file(id, rcpts, 1);
    qmgr_scan_incoming();
    run_until_idle();
    assert_true(exists(QUEUE_DEFERRED, id));
    log = log_lines(QUEUE_DEFER_LOG, id);
    assert_string_equal(log, "z@localhost 4.3.0 delayed delivery agent local unavailable\n");
    free(log);
    log = slurp(QUEUE_DEFERRED, id);
    assert_non_null(strstr(log, "R\013z@localhost"));
    free(log);
}

static void test_agent_missing(void **state)
{
    expect_agent_failure("AAAAAAA0000000E");
}

static void test_agent_crash(void **state)
{
    sleep(1);       /* let the transport pause of the previous test pass */
    agent_mode = AGENT_CRASH;
    agent_start();
    expect_agent_failure("AAAAAAA0000000F");
    agent_stop();
}

static void test_agent_bad_offset(void **state)
{
    sleep(1);
    agent_mode = AGENT_BAD_OFFSET;
    agent_start();
    expect_agent_failure("AAAAAAA0000000G");
    agent_stop();
}

static void test_recover(void **state)
{
    static const char *const rcpts[] = {"q@localhost"};

    write_queue_file("AAAAAAA0000000H", rcpts, 1);
    assert_int_equal(rename("incoming/AAAAAAA0000000H", "active/AAAAAAA0000000H"), 0);
    qmgr_recover();
    assert_true(exists(QUEUE_INCOMING, "AAAAAAA0000000H"));
    assert_false(exists(QUEUE_ACTIVE, "AAAAAAA0000000H"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corrupt_file_moved),
        cmocka_unit_test(test_remote_without_agent_deferred),
        cmocka_unit_test(test_delivery_outcomes),
        cmocka_unit_test(test_bounce_unavailable),
        cmocka_unit_test(test_all_sent_removed),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_delay_warning),
        cmocka_unit_test(test_dead_destination),
        cmocka_unit_test(test_agent_missing),
        cmocka_unit_test(test_agent_crash),
        cmocka_unit_test(test_agent_bad_offset),
        cmocka_unit_test(test_recover),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

/* Unit tests of the queue manager's message life cycle, in a temporary
 * queue directory with an in-process fake delivery agent on
 * private/local: corrupt files go to corrupt/, recipients without a route
 * are deferred (defer log, retry time as mtime), sent and bounced
 * recipients are marked done in place (bounce reasons kept in bounce/),
 * finished files are removed, a failing agent defers its recipients, and
 * a reply about offsets that were not asked for is refused. */
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
#include "vstr.h"

static char topdir[] = "/tmp/test_qmgr_activeXXXXXX";
static int agent_listen = -1;
static int agent_mode;          /* see agent_reply() */
static int agent_requests;

enum { AGENT_NORMAL, AGENT_CRASH, AGENT_BAD_OFFSET };

/* ---- queue files ---- */

static void put(vstr *b, int type, const char *s)
{
    rec_append(b, type, s, strlen(s));
}

/* Write incoming/ID with the given recipients ('D' prefix: done). */
static void write_queue_file(const char *id, const char *const *rcpts, size_t n)
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
    vstr_printf(z, "%lld.000000", (long long) time(NULL) - 100);
    put(b, REC_TIME, vstr_str(z));
    put(b, REC_SENDER, "sender@example.org");
    for (i = 0; i < n; i++)
        put(b, rcpts[i][0] == 'D' ? REC_DONE : REC_RCPT, rcpts[i] + (rcpts[i][0] == 'D'));
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
        if (strncmp(addr, "bounce", 6) == 0) {
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
    strcpy(sun.sun_path, "private/local");
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
    unlink("private/local");
    agent_listen = -1;
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
                                       "bounce", "private", NULL};
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

static void test_no_route_deferred(void **state)
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
    log = slurp(QUEUE_DEFER_LOG, "AAAAAAA0000000B");
    assert_string_equal(log, "a@elsewhere.example\t4.4.0\tno route to that destination yet\n");
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

static void test_delivery_outcomes(void **state)
{
    static const char *const rcpts[] = {"one@localhost", "bounce@localhost", "defer@localhost",
                                        "two@LOCALHOST"};
    char *log, *file;

    agent_mode = AGENT_NORMAL;
    agent_requests = 0;
    agent_start();
    write_queue_file("AAAAAAA0000000C", rcpts, 4);
    qmgr_scan_incoming();
    run_until_idle();
    assert_int_equal(agent_requests, 4);    /* local: one recipient per request */
    assert_true(exists(QUEUE_DEFERRED, "AAAAAAA0000000C"));
    log = slurp(QUEUE_BOUNCE_LOG, "AAAAAAA0000000C");
    assert_string_equal(log, "bounce@localhost\t5.1.1\tuser unknown\n");
    free(log);
    log = slurp(QUEUE_DEFER_LOG, "AAAAAAA0000000C");
    assert_string_equal(log, "defer@localhost\t4.2.2\tmailbox full\n");
    free(log);
    /* Done marks in place: only the deferred recipient is still an R. */
    file = slurp(QUEUE_DEFERRED, "AAAAAAA0000000C");
    assert_non_null(strstr(file, "D\015one@localhost"));
    assert_non_null(strstr(file, "D\020bounce@localhost"));
    assert_non_null(strstr(file, "R\017defer@localhost"));
    assert_non_null(strstr(file, "D\015two@LOCALHOST"));
    free(file);
    agent_stop();
}

static void test_all_sent_removed(void **state)
{
    static const char *const rcpts[] = {"x@localhost", "Dy@localhost", "postmaster"};

    agent_mode = AGENT_NORMAL;
    agent_requests = 0;
    agent_start();
    write_queue_file("AAAAAAA0000000D", rcpts, 3);
    qmgr_scan_incoming();
    run_until_idle();
    assert_int_equal(agent_requests, 2);
    assert_false(exists(QUEUE_ACTIVE, "AAAAAAA0000000D"));
    assert_false(exists(QUEUE_DEFERRED, "AAAAAAA0000000D"));
    assert_false(exists(QUEUE_INCOMING, "AAAAAAA0000000D"));
    agent_stop();
}

static void expect_agent_failure(const char *id)
{
    static const char *const rcpts[] = {"z@localhost"};
    char *log;

    write_queue_file(id, rcpts, 1);
    qmgr_scan_incoming();
    run_until_idle();
    assert_true(exists(QUEUE_DEFERRED, id));
    log = slurp(QUEUE_DEFER_LOG, id);
    assert_string_equal(log, "z@localhost\t4.3.0\tdelivery agent local unavailable\n");
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
        cmocka_unit_test(test_no_route_deferred),
        cmocka_unit_test(test_delivery_outcomes),
        cmocka_unit_test(test_all_sent_removed),
        cmocka_unit_test(test_agent_missing),
        cmocka_unit_test(test_agent_crash),
        cmocka_unit_test(test_agent_bad_offset),
        cmocka_unit_test(test_recover),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

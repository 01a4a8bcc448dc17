/* Unit tests for showq's queue file reader and its listing entries:
 * pending recipients only (R, also after X; not D), size from the Z
 * record, arrival from T, deferral reasons from defer/, maildrop files
 * (file size and mtime), vanished, truncated and non-regular files, the
 * recipient cap, and the encoded entry read back by postqueue's reader. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "queue.h"
#include "record.h"
#include "showq.h"
#include "showq_proto.h"
#include "status_log.h"
#include "vstr.h"

#define ID "1LGCNRVI27NC4KC"
#define ID2 "1LGCNRVI3OJS898"
#define HELLO "protocol\0mail_queue_list_protocol\0\0"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_showq.XXXXXX");
    if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) != 0)
        return -1;
    mkdir(QUEUE_DEFERRED, 0700);
    mkdir(QUEUE_DEFERRED "/C", 0700);
    mkdir(QUEUE_DEFERRED "/8", 0700);
    mkdir(QUEUE_MAILDROP, 0700);
    mkdir(QUEUE_DEFER_LOG, 0700);
    mkdir(QUEUE_DEFER_LOG "/C", 0700);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    if (chdir("/") != 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *queue, const char *id, const vstr *img)
{
    vstr *path = vstr_new(64);
    FILE *fp;

    queue_path(path, queue, id);
    fp = fopen(vstr_str(path), "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(vstr_str(img), 1, vstr_len(img), fp), vstr_len(img));
    fclose(fp);
    vstr_free(path);
}

static void rec(vstr *img, int type, const char *data)
{
    rec_append(img, type, data, strlen(data));
}

/* A deferred file: returns the offset of the first pending R. */
static size_t deferred_image(vstr *img, const char *sender)
{
    size_t offset;

    rec(img, REC_VERSION, "1");
    rec(img, REC_SIZE, "1234 100 3                                      ");
    rec(img, REC_TIME, "1700000000.123456");
    rec(img, REC_SENDER, sender);
    rec(img, REC_DONE, "done@example.net");
    offset = vstr_len(img);
    rec(img, REC_RCPT, "b@example.net");
    rec(img, REC_MESSAGE, "");
    rec(img, REC_LINE, "Subject: x");
    rec(img, REC_LINE, "");
    rec(img, REC_LINE, "body");
    rec(img, REC_XTRA, "");
    rec(img, REC_RCPT, "late@example.net");
    rec(img, REC_END, "");
    return offset;
}

struct got {
    struct showq_entry e;
    int count;
    char buf[2048];
};

static void keep(const struct showq_entry *e, void *ctx)
{
    struct got *g = ctx;

    g->count++;
    snprintf(g->buf, sizeof(g->buf), "%s %s %lld %lld %d <%s>", e->queue_name, e->queue_id,
             e->arrival, e->size, e->forced_expire, e->sender);
    for (size_t i = 0; i < e->nrcpt; i++) {
        size_t n = strlen(g->buf);

        snprintf(g->buf + n, sizeof(g->buf) - n, " %s(%s)", e->rcpts[i].address,
                 e->rcpts[i].reason);
    }
}

static void test_deferred_file(void **state)
{
    vstr *img = vstr_new(256), *err = vstr_new(64), *enc = vstr_new(256);
    struct showq_file f;
    struct status_entry e = {"b@example.net", "", 0, 0, "4.3.0", "delayed", "none",
                             "host said: 451 try later", 1700000001};
    struct got g = {.count = 0};
    showq_reader *r;

    (void)state;
    e.offset = (long long)deferred_image(img, "a@example.org\nX-Injected: 1");
    write_file(QUEUE_DEFERRED, ID, img);
    assert_int_equal(status_log_append(QUEUE_DEFER_LOG, ID, &e, 0), 0);
    assert_int_equal(showq_file_read(QUEUE_DEFERRED, ID, 1, 100, &f, err), 0);
    assert_int_equal(f.arrival, 1700000000);
    assert_int_equal(f.size, 1234);
    assert_int_equal(f.nrcpt, 2);
    assert_string_equal(f.rcpts[0].address, "b@example.net");
    assert_string_equal(f.rcpts[0].reason, "host said: 451 try later");
    assert_string_equal(f.rcpts[1].address, "late@example.net");
    assert_string_equal(f.rcpts[1].reason, "");

    /* The entry goes through the codec and back through the reader. */
    vstr_append(enc, HELLO, sizeof(HELLO) - 1);
    showq_file_encode(enc, QUEUE_DEFERRED, ID, &f);
    vstr_putc(enc, '\0');
    r = showq_reader_new(keep, &g);
    assert_int_equal(showq_reader_feed(r, vstr_str(enc), vstr_len(enc), err), 1);
    showq_reader_free(r);
    assert_int_equal(g.count, 1);
    assert_string_equal(g.buf, "deferred " ID " 1700000000 1234 0 <a@example.org X-Injected: 1>"
                        " b@example.net(host said: 451 try later) late@example.net()");
    showq_file_free(&f);

    /* Without reasons, and with a cap on recipients. */
    assert_int_equal(showq_file_read(QUEUE_DEFERRED, ID, 0, 1, &f, err), 0);
    assert_int_equal(f.nrcpt, 1);
    assert_int_equal(f.more_rcpts, 1);
    assert_string_equal(f.rcpts[0].reason, "");
    showq_file_free(&f);
    vstr_free(img);
    vstr_free(err);
    vstr_free(enc);
}

static void test_maildrop_file(void **state)
{
    vstr *img = vstr_new(256), *err = vstr_new(64);
    struct showq_file f;
    struct timeval tv[2] = {{1600000000, 0}, {1600000000, 0}};

    (void)state;
    rec(img, REC_FLAGS, "0");
    rec(img, REC_SENDER, "user");
    rec(img, REC_RCPT, "x@example.net");
    rec(img, REC_MESSAGE, "");
    rec(img, REC_LINE, "hello");
    rec(img, REC_XTRA, "");
    rec(img, REC_END, "");
    write_file(QUEUE_MAILDROP, ID2, img);
    assert_int_equal(utimes(QUEUE_MAILDROP "/" ID2, tv), 0);
    assert_int_equal(showq_file_read(QUEUE_MAILDROP, ID2, 0, 100, &f, err), 0);
    assert_int_equal(f.size, (long long)vstr_len(img));
    assert_int_equal(f.arrival, 1600000000);
    assert_string_equal(f.sender, "user");
    assert_int_equal(f.nrcpt, 1);
    showq_file_free(&f);
    vstr_free(img);
    vstr_free(err);
}

static void test_bad_files(void **state)
{
    vstr *img = vstr_new(256), *err = vstr_new(64);
    struct showq_file f;
    unsigned char junk[] = {'Q', 1, 'x'};

    (void)state;
    assert_int_equal(showq_file_read(QUEUE_DEFERRED, ID2, 1, 100, &f, err), -1);
    assert_string_equal(vstr_str(err), "vanished");
    /* Truncated: no end record. */
    deferred_image(img, "a@example.org");
    vstr_truncate(img, vstr_len(img) - 2);
    write_file(QUEUE_DEFERRED, ID2, img);
    assert_int_equal(showq_file_read(QUEUE_DEFERRED, ID2, 1, 100, &f, err), -1);
    /* A bad record type. */
    vstr_setn(img, junk, sizeof(junk));
    write_file(QUEUE_DEFERRED, ID2, img);
    assert_int_equal(showq_file_read(QUEUE_DEFERRED, ID2, 1, 100, &f, err), -1);
    /* A length running past the end. */
    vstr_setn(img, "R\x7f" "abc", 5);
    write_file(QUEUE_DEFERRED, ID2, img);
    assert_int_equal(showq_file_read(QUEUE_DEFERRED, ID2, 1, 100, &f, err), -1);
    /* Not a regular file. */
    assert_int_equal(unlink(QUEUE_DEFERRED "/8/" ID2), 0);
    assert_int_equal(symlink("/etc/passwd", QUEUE_DEFERRED "/8/" ID2), 0);
    assert_int_equal(showq_file_read(QUEUE_DEFERRED, ID2, 1, 100, &f, err), -1);
    unlink(QUEUE_DEFERRED "/8/" ID2);
    vstr_free(img);
    vstr_free(err);
}

static void test_many_recipients(void **state)
{
    struct showq_file f = {0};
    vstr *enc = vstr_new(1 << 16), *err = vstr_new(64);
    struct got g = {.count = 0};
    showq_reader *r;
    char addr[32];

    (void)state;
    f.sender = strdup("s@example.org");
    f.rcpts = calloc(SHOWQ_MAX_LISTED_RCPTS + 10, sizeof(*f.rcpts));
    for (size_t i = 0; i < SHOWQ_MAX_LISTED_RCPTS + 10; i++) {
        snprintf(addr, sizeof(addr), "r%zu@example.net", i);
        f.rcpts[i].address = strdup(addr);
        f.rcpts[i].reason = strdup("");
    }
    f.nrcpt = SHOWQ_MAX_LISTED_RCPTS + 10;
    vstr_append(enc, HELLO, sizeof(HELLO) - 1);
    showq_file_encode(enc, QUEUE_DEFERRED, ID, &f);
    vstr_putc(enc, '\0');
    r = showq_reader_new(keep, &g);
    assert_int_equal(showq_reader_feed(r, vstr_str(enc), vstr_len(enc), err), 1);
    assert_int_equal(g.count, 1);
    showq_reader_free(r);
    showq_file_free(&f);
    vstr_free(enc);
    vstr_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deferred_file),
        cmocka_unit_test(test_maildrop_file),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_many_recipients),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

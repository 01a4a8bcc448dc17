// sources: qmgr/qmgr_message.c
/* libFuzzer target for the queue manager's queue file reader: arbitrary
 * bytes as a queue file must be read as a message or rejected as corrupt,
 * never crash, leak or read out of bounds. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "qmgr/qmgr_message.h"
#include "stream.h"
#include "vstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    struct qmgr_message *m;
    vstr *why;
    stream *s;

    /* One memory-backed file, rewritten for each input: the reader works
     * on a stream over a descriptor, as with a real queue file. */
    if (fd < 0 && (fd = memfd_create("fuzz_queue_file", 0)) < 0)
        return 0;
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size
        || lseek(fd, 0, SEEK_SET) != 0)
        return 0;
    why = vstr_new(64);
    s = stream_fdopen(fd);
    /* A small recipient cap keeps huge inputs cheap. */
    m = qmgr_message_read(s, "0123456789ABCDE", 1000, why);
    if (m != NULL) {
        size_t i, pending = 0;

        for (i = 0; i < m->nrcpt; i++)
            if (m->rcpts[i].state == QMGR_RCPT_PENDING)
                pending++;
        if (pending != m->npending || m->nrcpt == 0 || m->sender == NULL || m->arrival == NULL)
            __builtin_trap();
        qmgr_message_free(m);
    }
    /* The slice reader (two pending recipients at a time): memory safety
     * and a consistent slice (it has no 1000-recipient cap, so it may
     * accept what the reader above refused). */
    if (lseek(fd, 0, SEEK_SET) == 0 && stream_seek(s, 0) == 0) {
        struct qmgr_message *sl = qmgr_message_read_slice(s, "0123456789ABCDE", 2, 0, why);

        if (sl != NULL) {
            if (sl->npending > 2 || sl->nrcpt != sl->npending
                || (sl->unread_pending > 0) != (sl->next_offset >= 0))
                __builtin_trap();
            qmgr_message_free(sl);
        }
    }
    stream_free(s);
    vstr_free(why);
    return 0;
}

/* postsuper's pure decisions (see postsuper.h): parsing id lists from
 * untrusted input, which queues each operation accepts, how the
 * structure check treats a directory entry, and which temporary files
 * are old enough to purge. */
#include "config.h"
#include <string.h>
#include "log.h"
#include "postsuper.h"
#include "queue.h"
#include "queue_id.h"

int postsuper_ids_parse(const char *text, size_t len, argv_t *ids, vstr *bad)
{
    const char *p = text, *end = text + len;
    char shown[64];
    int nbad = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *eol = nl ? nl : end, *b = p, *e = eol;

        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (e > b) {
            size_t n = (size_t) (e - b);

            if (n == QUEUE_ID_LEN && memchr(b, '\0', n) == NULL) {
                char id[QUEUE_ID_LEN + 1];

                memcpy(id, b, n);
                id[n] = '\0';
                if (queue_id_valid(id)) {
                    argv_add(ids, id);
                    goto next;
                }
            }
            log_printable(shown, sizeof(shown), b, n);
            vstr_printf(bad, "invalid queue id: %s\n", shown);
            nbad++;
        }
next:
        p = nl ? nl + 1 : end;
    }
    return nbad;
}

int postsuper_queue_allowed(int op, const char *queue)
{
    static const char *const message_queues[] = {
        QUEUE_HOLD, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_MAILDROP, QUEUE_CORRUPT,
        NULL,
    };
    int i;

    /* Release only ever takes mail out of hold/. */
    if (op == 'H')
        return strcmp(queue, QUEUE_HOLD) == 0;
    for (i = 0; message_queues[i] != NULL; i++)
        if (strcmp(queue, message_queues[i]) == 0)
            break;
    if (message_queues[i] == NULL)
        return 0;
    /* Hold and requeue of a file in maildrop/ or corrupt/ would feed
     * unvalidated input to qmgr: only delete works there. */
    if ((op == 'h' || op == 'r')
        && (strcmp(queue, QUEUE_MAILDROP) == 0 || strcmp(queue, QUEUE_CORRUPT) == 0))
        return 0;
    return 1;
}

static int is_hash_letter_name(const char *name)
{
    return name[0] != '\0' && name[1] == '\0'
           && strchr("0123456789ABCDEFGHIJKLMNOPQRSTUV", name[0]) != NULL;
}

static int is_log_queue(const char *queue)
{
    return strcmp(queue, QUEUE_DEFER_LOG) == 0 || strcmp(queue, QUEUE_BOUNCE_LOG) == 0
           || strcmp(queue, QUEUE_TRACE_LOG) == 0;
}

enum postsuper_fix postsuper_classify(const char *queue, const char *sub, const char *name,
                                      int is_dir)
{
    int hashed = queue_is_hashed(queue);
    size_t len = strlen(name);

    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return FIX_SKIP;
    /* Temporary files (cleanup's incoming/.ID, status log rewrites'
     * .ID.tmp) belong to a live writer or to -p. */
    if (name[0] == '.')
        return FIX_SKIP;
    if (is_dir) {
        /* Hash directories: the top level of a hashed queue, and (from
         * an older layout) of a flat queue, whose files -s moves up. */
        if (sub[0] == '\0' && is_hash_letter_name(name))
            return FIX_SKIP;
        return FIX_UNKNOWN;
    }
    if (!queue_id_valid(name))
        return is_log_queue(queue) ? FIX_UNKNOWN : FIX_CORRUPT;
    if (hashed)
        return sub[0] != '\0' && sub[0] == name[len - 1] && sub[1] == '\0' ? FIX_NONE : FIX_MOVE;
    return sub[0] == '\0' ? FIX_NONE : FIX_MOVE;
}

int postsuper_temp_is_stale(const char *queue, const char *name, time_t mtime, time_t now,
                            long max_age)
{
    size_t len = strlen(name);
    char id[QUEUE_ID_LEN + 1];

    if (name[0] != '.')
        return 0;
    if (strcmp(queue, QUEUE_INCOMING) == 0) {
        if (!queue_id_valid(name + 1))
            return 0;
    } else if (is_log_queue(queue)) {
        if (len != QUEUE_ID_LEN + 5 || strcmp(name + 1 + QUEUE_ID_LEN, ".tmp") != 0)
            return 0;
        memcpy(id, name + 1, QUEUE_ID_LEN);
        id[QUEUE_ID_LEN] = '\0';
        if (!queue_id_valid(id))
            return 0;
    } else {
        return 0;
    }
    /* A file from the future (clock step) is not stale. */
    return mtime <= now && (long long) (now - mtime) > (long long) max_age;
}

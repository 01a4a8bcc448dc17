/* The queue directory: names of the queues, where a queue file of a given
 * id lives (hashed queues use one level of subdirectories named by the
 * id's last letter), creation of the whole tree with the right owners and
 * modes, and iteration over the ids in a queue.  All paths are relative to
 * queue_directory, which is every daemon's working directory (or root,
 * when chrooted). */
#ifndef POSTHORN_QUEUE_H
#define POSTHORN_QUEUE_H
#include <sys/types.h>
#include "vstr.h"

#define QUEUE_INCOMING "incoming"
#define QUEUE_ACTIVE "active"
#define QUEUE_DEFERRED "deferred"
#define QUEUE_HOLD "hold"
#define QUEUE_CORRUPT "corrupt"
#define QUEUE_MAILDROP "maildrop"
#define QUEUE_DEFER_LOG "defer"
#define QUEUE_BOUNCE_LOG "bounce"
#define QUEUE_TRACE_LOG "trace"

/* Hashed queues: deferred, defer, bounce, trace. */
int queue_is_hashed(const char *queue);
/* "queue/id" or "queue/X/id". */
void queue_path(vstr *out, const char *queue, const char *id);
/* Name of the in-progress file cleanup writes before the rename that
 * makes it visible: "incoming/.ID". */
void queue_temp_path(vstr *out, const char *id);

/* Create every queue subdirectory under qdir (which must exist) with its
 * owner and mode, and fix owner/mode of existing ones:
 *   incoming active deferred hold corrupt defer bounce trace private: owner 0700
 *   maildrop: owner, group setgid_gid, 01730
 *   public: owner, group setgid_gid, 0710
 *   pid: root (the caller), 0755
 * Returns 0, or -1 with the problem in err. */
int queue_tree_create(const char *qdir, uid_t owner, gid_t setgid_gid, vstr *err);
/* Check the tree without changing it; one line per problem in problems,
 * each saying how to fix it. Returns the count.  A missing subdirectory is
 * not a problem: master creates it at start. */
int queue_tree_check(const char *qdir, uid_t owner, vstr *problems);

/* Iterate over the valid queue ids in a queue (temp files and other names
 * are skipped).  Order is unspecified. */
typedef struct queue_scan queue_scan;
queue_scan *queue_scan_open(const char *queue);     /* NULL + errno on failure */
const char *queue_scan_next(queue_scan *qs);        /* NULL at end */
void queue_scan_close(queue_scan *qs);

/* Move a queue file between queues with one atomic rename (creating a
 * missing hash subdirectory).  No directory fsync: the file was already
 * durable, and after a crash it is in one queue or the other, both of
 * which are scanned at start; only a file's creation must reach the disk
 * before mail is acknowledged.  0 or -1 (errno). */
int queue_move(const char *from_queue, const char *to_queue, const char *id);

#endif

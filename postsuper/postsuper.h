/* postsuper's decisions that do not touch the file system: the queue
 * id lists it reads from the command line and standard input, which
 * queues an operation may name, what the structure check does with a
 * directory entry, and which temporary files are stale.  Kept apart from
 * main() so the unit tests can call them. */
#ifndef POSTHORN_POSTSUPER_H
#define POSTHORN_POSTSUPER_H
#include <stddef.h>
#include <time.h>
#include "argv.h"
#include "vstr.h"

/* Longest standard input "postsuper -d -" and friends accept. */
#define POSTSUPER_STDIN_MAX (64L * 1024 * 1024)

/* Add the ids of text (one per line, surrounding blanks and empty lines
 * ignored) to ids.  A line that is not a valid queue id is counted and
 * described in bad (one line each, printable); returns the count. */
int postsuper_ids_parse(const char *text, size_t len, argv_t *ids, vstr *bad);

/* Is name a queue postsuper may act on, and may it for this operation
 * ('d', 'h', 'H', 'r')? */
int postsuper_queue_allowed(int op, const char *queue);

/* What the structure check (-s) does with one entry of a queue
 * directory.  queue is a message queue (incoming, active, deferred,
 * hold) or a status log (defer, bounce, trace); sub is the hash
 * subdirectory the entry is in ("" at the top); is_dir says whether the
 * entry is a directory. */
enum postsuper_fix {
    FIX_NONE,           /* right where it belongs */
    FIX_SKIP,           /* a temporary file or a hash directory: not ours */
    FIX_MOVE,           /* valid id in the wrong (sub)directory: move it */
    FIX_CORRUPT,        /* a message file with a bad name: to corrupt/ */
    FIX_UNKNOWN,        /* something else: report it, leave it */
};
enum postsuper_fix postsuper_classify(const char *queue, const char *sub, const char *name,
                                      int is_dir);

/* Is name a temporary file that -p may remove from queue when it is
 * older than max_age seconds (mtime) at time now?  incoming/.ID left by
 * cleanup, and .ID.tmp left by a status log rewrite; anything else is
 * never touched. */
int postsuper_temp_is_stale(const char *queue, const char *name, time_t mtime, time_t now,
                            long max_age);

#endif

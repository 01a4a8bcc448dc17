/* The contract between master and the services it forks, in one place.
 *
 * A child is exec'd as
 *     DAEMON_DIR/COMMAND -c CONFIG_DIR -n SERVICE -t TYPE [-u] [-Z] [-s COUNT]
 *                        [-v] [-o name=value ...] [args from master.cf ...]
 *   -u  unprivileged: drop to mail_owner (master.cf unpriv=y)
 *   -Z  chroot into queue_directory (master.cf chroot=y)
 *   -s  number of listening sockets handed over (default 1)
 * with its working directory set to queue_directory and
 *   fd 0,1,2             /dev/null (logging goes to syslog or maillog_file)
 *   MASTER_STATUS_FD     write end of the status pipe
 *   MASTER_LISTEN_FD ... the service's listening sockets (FIFO read side for
 *                        type fifo)
 * Every other descriptor is closed.
 *
 * The child writes a struct master_status to the status pipe whenever it
 * becomes available for new clients (avail=1) or stops being so (avail=0).
 * A write of this size to a pipe is atomic.  The master forks another
 * process for a listener only while no child of that service is available.
 */
#ifndef POSTHORN_MASTER_PROTO_H
#define POSTHORN_MASTER_PROTO_H
#include <sys/types.h>

#define MASTER_STATUS_FD 3
#define MASTER_LISTEN_FD 4

struct master_status {
    pid_t pid;
    int avail;
};

/* Wakeup and trigger requests written to trigger services (qmgr, pickup). */
#define TRIGGER_WAKEUP 'W'      /* scan for new work */
#define TRIGGER_FLUSH 'F'       /* deferred mail: retry now */
#define TRIGGER_DEFERRED 'D'    /* scan deferred/ for files already due (their
                                 * mtime, the retry time, is not in the
                                 * future): sent after postsuper -H or a
                                 * flush of one message or site, which set
                                 * the mtime of the files concerned */

#endif

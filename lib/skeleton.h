/* Server skeletons.  A daemon's main() is one call into one of these, with
 * its service callback and hooks; the skeleton owns option parsing
 * (master_proto.h), configuration loading, logging setup, the privilege
 * drop and chroot, the master status pipe, max_idle / max_use, and clean
 * exit when the master goes away.
 *
 *   single_server: one client at a time per process (cleanup, local).
 *   multi_server:  an event loop holding many clients (smtpd).
 *   trigger_server: woken by one-byte triggers on its listener and by the
 *                  master's wakeup timer; runs an event loop (qmgr).
 *
 * Hooks run in this order: pre_jail (as root, before chroot: open files
 * from outside the jail), post_jail (after the drop, before serving).
 * Daemons that are run without the master (tests) need -c and -S: see
 * master_proto.h. */
#ifndef POSTHORN_SKELETON_H
#define POSTHORN_SKELETON_H
#include "stream.h"

struct server_hooks {
    void (*pre_jail)(void *ctx);
    void (*post_jail)(void *ctx);
    void *ctx;
    int privileged;         /* service must run as root (local): refuse -u */
    int single_instance;    /* maxproc must be 1 (qmgr) */
    /* A lookup table changed and this process cannot read the new file
     * (table_stale_spec()): the skeleton restarts the process between
     * clients (single_server: exits; multi_server: drains).  A trigger
     * server with state to wind down sets this (called once) to do so,
     * then calls trigger_server_restart(); without it the trigger server
     * exits at once. */
    void (*tables_changed)(void *ctx);
};

/* Info about the running service, valid after the skeleton started. */
const char *server_service_name(void);     /* -n */
int server_is_chrooted(void);

/* One client per process; service() gets a connected stream (timeout
 * already set from ipc_timeout) and returns when done; the skeleton closes
 * it. */
int single_server_main(int argc, char **argv, void (*service)(stream *client, void *ctx),
                       const struct server_hooks *hooks);

/* Event-driven: on_accept(fd) gets each new non-blocking client socket and
 * registers it with event.h.  The daemon calls multi_server_disconnect()
 * when a client is finished, so the skeleton can track availability
 * (at most session_cap_param's value of clients at once, read after the
 * configuration is loaded; NULL: one), idle time and max_use. */
int multi_server_main(int argc, char **argv, void (*on_accept)(int fd, void *ctx),
                      const char *session_cap_param, const struct server_hooks *hooks);
void multi_server_disconnect(void);
/* Stop accepting and exit once every client is gone (used on SIGTERM and
 * when the master goes away; the skeleton calls it itself then). */
void multi_server_drain(void);
/* fn is called once when draining starts, so the daemon can tell its
 * clients goodbye (smtpd: 421) and disconnect them. */
void multi_server_on_drain(void (*fn)(void));
int multi_server_draining(void);

/* Trigger server: on_trigger(buf, len) for each batch of trigger bytes
 * (TRIGGER_* from master_proto.h); the daemon may also use event.h. */
int trigger_server_main(int argc, char **argv, void (*on_trigger)(const char *buf, size_t len, void *ctx),
                        const struct server_hooks *hooks);
/* Exit so that the master starts a successor at once (for a FIFO
 * listener: a wakeup request is left in the FIFO).  For a trigger server
 * that wound down after tables_changed. */
void trigger_server_restart(void) __attribute__((noreturn));

/* Connect to a local service socket ("private/cleanup"), relative to the
 * queue directory; blocking or non-blocking.  -1 with errno. */
int service_connect(const char *path, int nonblock);
/* Send a one-byte trigger to a trigger service ("public/qmgr", a FIFO or a
 * UNIX socket); never blocks.  0 or -1. */
int trigger_send(const char *path, char what);

#endif

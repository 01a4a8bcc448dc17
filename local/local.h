/* local(8) internals: one recipient's delivery state and result, the
 * mailbox writers (local_deliver.c) and address resolution
 * (local_resolve.c). */
#ifndef POSTHORN_LOCAL_H
#define POSTHORN_LOCAL_H
#include <stddef.h>
#include <sys/types.h>
#include "argv.h"
#include "stream.h"
#include "vstr.h"

enum local_status {
    LOCAL_SENT = 0,
    LOCAL_BOUNCED = 1,
    LOCAL_DEFERRED = 2,     /* worst: one deferred target defers the recipient */
};

struct local_result {
    enum local_status status;
    vstr *dsn;              /* "2.0.0" */
    vstr *reason;           /* "delivered to maildir" */
};

/* Who a delivery runs as. */
struct local_identity {
    uid_t uid;
    gid_t gid;
};

/* Who a command or file delivery runs as, with the account details a
 * command's environment names (strings owned by the struct). */
struct local_runas {
    struct local_identity id;
    char *name;
    char *home;
    char *shell;
};

/* The message being delivered (one queue file, one recipient). */
struct local_message {
    const char *queue_id;
    const char *sender;
    stream *qf;             /* the queue file */
    off_t content_offset;   /* offset of the M record */
    const char *delivered_to;   /* for Delivered-To: (set per mailbox); NULL: none */
    const char *orig_rcpt;      /* ORIGINAL_RECIPIENT of commands */
    const char *orcpt;          /* the recipient's DSN original recipient, or "" */
    int notify;                 /* its DSN notify mask, 0 = not given */
    long flags;                 /* REC_FLAG_* of the request */
    argv_t *delivered_list;     /* Delivered-To: values already in the message,
                                 * lower case (loop detection) */
};

#define LOCAL_MAX_DEPTH 20

/* Per-process settings, read once from main.cf. */
struct local_config {
    const char *myhostname;
    const char *recipient_delimiter;
    const char *home_mailbox;
    const char *mail_spool_directory;
    const char *luser_relay;
    long mailbox_size_limit;
    struct local_identity default_privs;
    int as_root;            /* running as root: switch identities */
    uid_t mail_owner_uid;   /* never run a command or write a file as this */
    int allow_commands;     /* SOURCE_* mask (local_parse.h) */
    int allow_files;
    int delivered_mask;     /* DELIVERED_* mask: prepend_delivered_header */
    long command_time_limit;
    const char *command_shell;      /* local_command_shell; "" for the default */
    const char *export_environment;
    const char *forward_path;       /* raw: expanded per recipient */
};

void local_result_init(struct local_result *r);
void local_result_free(struct local_result *r);
/* Record an outcome; the worst one so far is kept (deferred > bounced >
 * sent). */
void local_result_set(struct local_result *r, enum local_status status, const char *dsn,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Record a failed system call: temporary errors defer, others bounce. */
void local_result_errno(struct local_result *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Mailbox writers (local_deliver.c).  Paths are absolute or relative to the
 * working directory; the write runs as id. */
void deliver_maildir(const struct local_config *cfg, struct local_message *msg, const char *dir,
                     const struct local_identity *id, struct local_result *r);
void deliver_mbox(const struct local_config *cfg, struct local_message *msg, const char *path,
                  const struct local_identity *id, int spool, struct local_result *r);
/* Copy the message (Return-Path:, Delivered-To:, content) to out;
 * mboxrd: quote From_ lines.  0, or -1 with errno (EINVAL when the
 * queue file is malformed). */
int local_copy_message(stream *out, struct local_message *msg, int mboxrd);

/* Switch the effective identity for one delivery (a no-op when not
 * running as root) and back.  0, or -1 with errno (identity unchanged). */
int local_identity_enter(const struct local_config *cfg, const struct local_identity *id);
void local_identity_leave(const struct local_config *cfg);

/* Run |command (without the '|') as runas with the message on its
 * standard input (local_command.c).  env describes the recipient. */
struct command_env;
void deliver_command(const struct local_config *cfg, struct local_message *msg,
                     const char *command, const struct local_runas *runas,
                     const struct command_env *env, struct local_result *r);

/* Forwarding through cleanup (local_forward.c): write a new message with
 * the original sender and content, "Delivered-To: delivered_to" on top
 * (when not NULL), to rcpts.  0 with the new queue id, or -1 with why. */
int local_forward_submit(struct local_message *msg, const char *delivered_to,
                         const argv_t *rcpts, vstr *queue_id, vstr *why);
/* Collect the Delivered-To: values of the message's headers into
 * msg->delivered_list (bounded).  0, or -1 when the content is malformed. */
int local_collect_delivered(struct local_message *msg);

/* Resolve and deliver one recipient address (local_resolve.c). */
void local_deliver_recipient(const struct local_config *cfg, struct local_message *msg,
                             const char *address, struct local_result *r);
/* The resolver's tables; NULL when alias_maps is empty. */
void local_resolve_init(void);

void local_service(stream *client, void *ctx);

#endif

/* sendmail(1) internals: the command line, the message reader that turns
 * stdin into submission records, and the modes (-bs, -bv, -bp, -bi, -q).
 * Logic lives in functions the unit tests call; main() only wires them. */
#ifndef POSTHORN_SENDMAIL_H
#define POSTHORN_SENDMAIL_H
#include <stddef.h>
#include "argv.h"
#include "stream.h"
#include "vstr.h"

#define SM_RCPT_MAX 10000       /* command-line / SMTP recipients */
#define SM_ENVID_MAX 100        /* RFC 3461 */
#define SM_FULLNAME_MAX 256
#define SM_HDR_COLLECT_MAX (1024 * 1024)  /* To/Cc/Bcc text looked at for -t */

enum sm_mode {
    SM_MODE_DELIVER,        /* -bm (default): message on stdin */
    SM_MODE_SMTP,           /* -bs */
    SM_MODE_MAILQ,          /* -bp, mailq */
    SM_MODE_NEWALIASES,     /* -bi, -I, newaliases */
    SM_MODE_VERIFY,         /* -bv */
    SM_MODE_FLUSH,          /* -q, -qR site, -qI id */
};

struct sm_opts {
    enum sm_mode mode;
    int extract;            /* -t */
    int ignore_dots;        /* -i, -oi */
    int verbose;            /* -v */
    const char *config_dir; /* -c DIR, or the directory of -C FILE */
    char *config_dir_buf;
    const char *sender;     /* -f / -r; NULL: the login name */
    const char *full_name;  /* -F; NULL: the gecos name */
    int notify;             /* -N as DSN_NOTIFY_* mask; 0: not given */
    const char *ret;        /* -R as "FULL" / "HDRS"; NULL: not given */
    vstr *envid;            /* -V, xtext-decoded; empty: not given */
    const char *flush_site; /* -qR site */
    const char *flush_id;   /* -qI id */
    argv_t *rcpt_args;      /* operands */
};

/* sendmail_opts.c */
void sm_opts_init(struct sm_opts *o);
void sm_opts_free(struct sm_opts *o);
/* Parse the command line (argv[0] picks mailq / newaliases).  0, or -1
 * with the reason in err (a usage error). */
int sm_parse_args(struct sm_opts *o, int argc, char **argv, vstr *err);
/* "never" or a list of success, delay, failure -> DSN_NOTIFY_* mask;
 * -1 when malformed. */
int sm_parse_notify(const char *s);
/* "full" / "hdrs" (any case) -> "FULL" / "HDRS"; NULL when malformed. */
const char *sm_parse_ret(const char *s);
/* Split one recipient argument ("a@b, Name <c@d>") into out, bounded by
 * SM_RCPT_MAX in total.  0, or -1 with the reason in err. */
int sm_rcpt_split(const char *arg, argv_t *out, vstr *err);
/* The -f argument: "" or "<>" is the null sender; else exactly one
 * address.  0, or -1 with the reason in err. */
int sm_sender_parse(const char *arg, vstr *out, vstr *err);
/* The gecos full name: the first comma-separated field, '&' replaced by
 * the login name with its first letter capitalized. */
void sm_gecos_name(vstr *out, const char *gecos, const char *login);

/* sendmail_msg.c: the message as submission records. */
struct sm_message {
    vstr *recs;             /* M, L/C records (no X/E) */
    long size;              /* content bytes (each line + 2) */
    long lines;
    argv_t *to_fields;      /* values of To:, Cc:, Bcc: */
    argv_t *resent_fields;  /* values of Resent-To:, -Cc:, -Bcc: */
    int saw_resent;
};
struct sm_message *sm_message_new(void);
void sm_message_free(struct sm_message *m);
/* Feed one input line or piece (terminator removed).  is_piece: more of
 * this line follows.  Returns 0, or -1 when message_size_limit is
 * exceeded. */
int sm_message_line(struct sm_message *m, const char *p, size_t len, int is_piece, long limit);
/* Read stdin to the end (or to a lone "." line unless ignore_dots).
 * LF or CRLF line ends; long lines become C pieces.  0, or a sysexits
 * code with the reason in err. */
int sm_read_message(stream *in, int ignore_dots, long limit, struct sm_message *m, vstr *err);
/* Number of recipients the header names, as cleanup will extract them
 * (Resent-* fields when any is present). */
size_t sm_message_header_rcpts(const struct sm_message *m);

/* The envelope records of a submission (F S A [Y] R...). */
void sm_envelope(vstr *out, int flags, const char *sender, const char *full_name,
                 const char *envid, const char *ret, int notify, const argv_t *rcpts);

/* sendmail_submit.c: run postdrop with the records on its stdin.
 * Returns 0 or a sysexits code (postdrop's own, or ours with a message
 * printed). */
int sm_postdrop(const struct sm_opts *o, const vstr *records);
/* Is user in authorized_submit_users (names, !name, type:table,
 * static:anyone)?  1 yes, 0 no, -1 the list is broken. */
int sm_user_authorized(const char *list, const char *user);
/* Replace this process by $command_directory/NAME with args (NULL ended);
 * only returns on failure (message printed). */
void sm_exec_command(const struct sm_opts *o, const char *name, const char *const *args);

/* sendmail_smtp.c: -bs on stdin/stdout.  Returns an exit status. */
int sm_smtp_session(const struct sm_opts *o, stream *in, stream *out, const char *sender_login,
                    const char *full_name);

/* sendmail_verify.c: -bv.  Prints one line per address; returns 0 or
 * EX_NOUSER when an address cannot be delivered. */
int sm_verify(const struct sm_opts *o, const argv_t *rcpts, stream *out);

/* One "sendmail: fatal: ..." line on stderr, exit status. */
void sm_fatal(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void sm_verbose(const struct sm_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

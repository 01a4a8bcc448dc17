/* The SMTP server protocol as a pure state machine: one session struct,
 * one function per input event (a command line, a DATA line, the outcome
 * of a policy check or of cleanup).  Each call appends the reply text to
 * s->reply and returns the actions the I/O layer (smtpd.c) must take.
 * No sockets, no clock, no configuration lookups: everything comes in
 * through struct smtp_config and the session fields the caller sets. */
#ifndef POSTHORN_SMTP_PROTO_H
#define POSTHORN_SMTP_PROTO_H
#include <stddef.h>
#include "vstr.h"

struct smtp_config {
    const char *myhostname;
    const char *myorigin;           /* appended to unqualified addresses */
    long message_size_limit;
    long recipient_limit;
    long soft_error_limit;
    long hard_error_limit;
    size_t line_length_limit;
    int disable_vrfy;
    int smtputf8_enable;
    int helo_required;
    int strict_rfc821;
    int bare_newline_reject_code;   /* 5xx for smtpd_forbid_bare_newline=reject */
};

/* Actions returned by the smtp_proto_* calls (bit mask). */
#define SMTP_ACT_DISCONNECT 1   /* flush s->reply, then close the session */
#define SMTP_ACT_RCPT_CHECK 2   /* run the relay policy on s->pending_rcpt,
                                 * then call smtp_proto_rcpt_result() */
#define SMTP_ACT_DATA 4         /* open the cleanup stream, then call
                                 * smtp_proto_data_begin() */
#define SMTP_ACT_DELAY 8        /* delay this reply by smtpd_error_sleep_time */

/* Line terminators as the I/O layer saw them. */
#define SMTP_TERM_CRLF 0
#define SMTP_TERM_LF 1          /* bare LF */
#define SMTP_TERM_NONE 2        /* DATA only: a piece of a longer line */

/* smtp_proto_data_input() results. */
#define SMTP_DATA_LINE 0        /* forward *out as an L record */
#define SMTP_DATA_PIECE 1       /* forward *out as a C record */
#define SMTP_DATA_SKIP 2        /* message too big: forward nothing */
#define SMTP_DATA_END 3         /* end of message: send E / finish */
#define SMTP_DATA_DISCONNECT 4  /* reply in s->reply, then close */

struct smtp_rcpt {
    char *addr;
    char *orcpt;                /* "type;address" or NULL */
    int notify;                 /* DSN_NOTIFY_* mask, 0 if not given */
};

/* Per-command counters for the "disconnect from" log line. */
enum smtp_verb {
    SMTP_V_HELO, SMTP_V_EHLO, SMTP_V_STARTTLS, SMTP_V_AUTH, SMTP_V_MAIL, SMTP_V_RCPT,
    SMTP_V_DATA, SMTP_V_BDAT, SMTP_V_RSET, SMTP_V_NOOP, SMTP_V_VRFY, SMTP_V_EXPN,
    SMTP_V_ETRN, SMTP_V_TURN, SMTP_V_HELP, SMTP_V_QUIT, SMTP_V_UNKNOWN, SMTP_V_COUNT
};

struct smtp_session {
    const struct smtp_config *cfg;
    vstr *reply;                /* reply text to send, CRLF terminated lines */

    /* Set by the caller about the client. */
    int client_in_mynetworks;
    int bare_lf_reject;         /* smtpd_forbid_bare_newline=reject applies */

    /* Session state. */
    vstr *helo_name;            /* empty until HELO/EHLO */
    int esmtp;
    int errors;
    int in_data;
    enum smtp_verb last_verb;   /* for "lost connection after X" */
    int seen_cmd;               /* any command yet */
    int after_eom;              /* nothing since the end of a message */
    unsigned ok_count[SMTP_V_COUNT], total_count[SMTP_V_COUNT];

    /* The mail transaction. */
    int in_mail;
    vstr *sender;
    long declared_size;         /* SIZE=, -1 if none */
    int body_8bit;              /* BODY=8BITMIME */
    int smtputf8;
    vstr *envid;                /* decoded ENVID, empty if none */
    vstr *ret;                  /* "FULL", "HDRS" or empty */
    struct smtp_rcpt *rcpts;
    size_t nrcpt, rcpt_cap;
    struct smtp_rcpt pending_rcpt;  /* valid while SMTP_ACT_RCPT_CHECK */

    /* DATA phase. */
    long data_size;             /* bytes of content seen (lines + 2) */
    int data_too_big;
    int data_at_line_start;     /* the next input starts a new line */
    int data_prev_crlf;         /* ... and the previous line ended in CR LF */
};

void smtp_proto_init(struct smtp_session *s, const struct smtp_config *cfg);
void smtp_proto_free(struct smtp_session *s);
/* The 220 greeting. */
void smtp_proto_greeting(struct smtp_session *s, const char *banner);
/* One command line without its terminator. */
int smtp_proto_command(struct smtp_session *s, const char *line, size_t len, int term);
/* A command line longer than line_length_limit (the rest is discarded). */
int smtp_proto_line_too_long(struct smtp_session *s);
/* Outcome of the relay policy for s->pending_rcpt: reject is a full reply
 * line without CRLF ("554 5.7.1 <a@b>: Relay access denied"), or NULL to
 * accept the recipient. */
int smtp_proto_rcpt_result(struct smtp_session *s, const char *reject);
/* After SMTP_ACT_DATA: ok = the cleanup stream is open (354), else 451. */
int smtp_proto_data_begin(struct smtp_session *s, int ok);
/* One DATA line or piece (term SMTP_TERM_*); out and outlen get the content
 * to forward (dot-unstuffed). */
int smtp_proto_data_input(struct smtp_session *s, const char *p, size_t len, int term,
                          const char **out, size_t *outlen);
/* After SMTP_DATA_END: status 0 = queued as queue_id; otherwise an SMTP
 * code from cleanup (or 552 for too big, 451 for a local failure) and
 * reason starting with an enhanced status code.  Ends the transaction. */
int smtp_proto_data_end(struct smtp_session *s, int status, const char *queue_id,
                        const char *reason);
/* End the transaction (RSET semantics) without a reply. */
void smtp_proto_reset(struct smtp_session *s);
/* "ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3" */
void smtp_proto_counts(const struct smtp_session *s, vstr *out);
const char *smtp_verb_name(enum smtp_verb v);  /* "RCPT", "DATA", ... */
/* "CONNECT" before any command, "END-OF-MESSAGE" right after a message,
 * else the last command's name. */
const char *smtp_proto_last(const struct smtp_session *s);

#endif

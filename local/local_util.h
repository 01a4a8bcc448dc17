/* Pure helpers of local(8): alias target classification and splitting,
 * luser_relay expansion, mbox From_ lines and quoting, Maildir file names,
 * and Postfix-style delay formatting.  No I/O, so unit tests call them. */
#ifndef POSTHORN_LOCAL_UTIL_H
#define POSTHORN_LOCAL_UTIL_H
#include <stddef.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include "argv.h"
#include "vstr.h"

enum alias_target_kind {
    TARGET_MAILDIR,     /* "/path/ending/in/slash/" */
    TARGET_MBOX,        /* "/path/to/file" */
    TARGET_ADDRESS,     /* "name" or "name@domain" */
    TARGET_COMMAND,     /* "|command" */
    TARGET_INCLUDE,     /* ":include:/path" */
    TARGET_USER_MAILBOX, /* "\user": that mailbox, no aliases or .forward */
    TARGET_INVALID,     /* empty, control characters, ... */
};

enum alias_target_kind alias_target_classify(const char *target);
/* Split an alias value into its targets: separated by commas (and the
 * white space around them); a target in double quotes may contain commas
 * and spaces, the quotes are removed.  -1 on an unterminated quote. */
int alias_value_split(const char *value, argv_t *targets);

/* Values luser_relay may refer to. */
struct luser_vars {
    const char *user;       /* local part without extension */
    const char *local;      /* whole local part */
    const char *extension;  /* "" when none */
    const char *recipient;  /* local@domain */
    const char *domain;
    /* Other $names (main.cf parameters): append the value of the name
     * (len bytes) to out; -1 when unknown.  NULL: only the names above. */
    int (*param)(vstr *out, const char *name, size_t len);
};
/* Expand $user $local $extension $recipient $domain (also ${name}) in
 * pattern; other names through vars->param.  Values that could escape a path ("/", "..", a leading ".",
 * control characters) are refused, as is an empty $user.  0, or -1 with
 * the problem in err. */
int luser_relay_expand(vstr *out, const char *pattern, const struct luser_vars *vars, vstr *err);

/* How many '>' to add before a line for mboxrd: 1 when the line matches
 * ^>*From , else 0. */
int mbox_quote_needed(const char *line, size_t len);
/* "From SENDER DATE\n" with an asctime() style date in UTC; the null
 * sender is MAILER-DAEMON. */
void mbox_from_line(vstr *out, const char *sender, time_t t);

/* Maildir file name: "SEC.MUSECPpidQcounter.host" with '/' and ':' in
 * host encoded as \057 and \072. */
void maildir_unique_name(vstr *out, const struct timeval *tv, pid_t pid, unsigned long counter,
                         const char *host);


#endif

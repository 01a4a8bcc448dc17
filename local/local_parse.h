/* Pure parsers of local(8)'s forwarding features, kept free of I/O so
 * unit tests and the fuzzer call them: .forward and :include: file text,
 * forward_path expansion, |command splitting, the environment of a
 * command, the mapping of a command's exit status to a delivery result,
 * Delivered-To: header recognition, and the keyword lists of
 * allow_mail_to_commands / allow_mail_to_files / prepend_delivered_header. */
#ifndef POSTHORN_LOCAL_PARSE_H
#define POSTHORN_LOCAL_PARSE_H
#include <stddef.h>
#include "argv.h"
#include "vstr.h"

#define LOCAL_FORWARD_MAX_SIZE 65536   /* bytes of one .forward / :include: file */
#define LOCAL_MAX_TARGETS 1000         /* destinations in one such file */
#define COMMAND_OUTPUT_KEEP 400        /* bytes of command output kept for the DSN */

/* Where a destination came from (allow_mail_to_* keywords). */
#define SOURCE_ALIAS 1
#define SOURCE_FORWARD 2
#define SOURCE_INCLUDE 4
#define SOURCE_RELAY 8      /* luser_relay: main.cf itself, always allowed */
/* prepend_delivered_header keywords. */
#define DELIVERED_COMMAND 1
#define DELIVERED_FILE 2
#define DELIVERED_FORWARD 4

/* The mask of the keywords of list (comma/space separated) that appear in
 * names[] (bit i for names[i], NULL-terminated); unknown words are
 * appended to unknown (space separated) when it is not NULL. */
int keyword_mask(const char *list, const char *const *names, vstr *unknown);

/* Take apart the text of a .forward or :include: file (len bytes, NUL
 * bytes refused): '#' comment lines and empty lines are skipped, every
 * other line is an alias value (alias_value_split).  At most
 * LOCAL_FORWARD_MAX_SIZE bytes and LOCAL_MAX_TARGETS destinations.
 * 0, or -1 with the problem (and line number) in err. */
int forward_text_parse(const char *text, size_t len, argv_t *targets, vstr *err);

/* Values forward_path may refer to. */
struct forward_vars {
    const char *user;
    const char *home;
    const char *shell;
    const char *local;
    const char *extension;      /* "" when none */
    const char *recipient;
    const char *domain;
    const char *recipient_delimiter;
    /* Other $names (main.cf parameters), as in struct luser_vars. */
    int (*param)(vstr *out, const char *name, size_t len);
};
/* Expand one forward_path element: $name, ${name}, ${name?text} (text
 * when the value is not empty), ${name:text} (text when it is empty).
 * Address-derived values that could escape a path are refused.
 * 0 expanded; 1 the element uses an empty $extension/$home plainly and
 * is to be skipped; -1 error (text in err). */
int forward_path_expand(vstr *out, const char *pattern, const struct forward_vars *v, vstr *err);

/* Split a |command (without the '|') into argv when it has no shell
 * metacharacters: 1 and out filled; 0 when it needs a shell (out
 * untouched); -1 when it is empty or has control characters. */
int command_split(const char *cmd, argv_t *out);

/* What a command's environment holds (values may be NULL: "" then). */
struct command_env {
    const char *home, *logname, *shell;
    const char *sender, *recipient, *local, *domain, *extension, *orig_recipient;
};
/* Build NAME=value strings: HOME LOGNAME USER SHELL PATH SENDER RECIPIENT
 * LOCAL DOMAIN EXTENSION ORIGINAL_RECIPIENT, then each name of
 * export_list that get() knows (and is not one of those).  Control
 * characters in values become '_'. */
void command_env_build(argv_t *env, const struct command_env *e, const char *export_list,
                       const char *(*get)(const char *name));

/* Result of a finished command: 0 delivered, 1 bounce, 2 defer (the
 * values of enum local_status); *dsn is the status code.  wstatus is
 * waitpid()'s; timed_out when it was killed for command_time_limit.
 * reason gets the text for the log and the DSN, with the first bytes of
 * output (made printable). */
int command_result(int wstatus, int timed_out, const char *cmd, const char *output,
                   size_t outlen, vstr *reason, const char **dsn);

/* If line (len bytes, no terminator) is a Delivered-To: header, put its
 * value (trimmed, lower case) in value and return 1; else 0. */
int delivered_to_header(const char *line, size_t len, vstr *value);

#endif

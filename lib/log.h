/* Logging: syslog (facility mail by default), maillog_file, or stderr when
 * running in the foreground.  Five levels: info, warn, error, fatal
 * (environment problem: log and exit 1, master throttles the service) and
 * panic (a bug: log and abort for a core).  Untrusted strings must pass
 * through log_printable() before they reach a log line. */
#ifndef POSTHORN_LOG_H
#define POSTHORN_LOG_H
#include <stddef.h>

extern int msg_verbose;

/* progname appears in every line as "progname[pid]: ".  Until log_open is
 * called, messages go to stderr. */
void log_init(const char *progname);
/* Destination: "syslog" (default), "stderr", or a file path (maillog_file).
 * facility is a syslog facility name ("mail", "local0", ...). */
void log_open(const char *destination, const char *facility);
/* Also copy every message to stderr (foreground mode, command-line tools). */
void log_also_stderr(int on);
void log_close(void);
const char *log_progname(void);

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Hook run by msg_fatal before exit (e.g. to tell a client "421"). */
void msg_set_fatal_hook(void (*hook)(void));

/* Copy at most maxlen bytes of src (srclen bytes) into dst (dstsize bytes
 * including the NUL), replacing non-printable bytes with '?' and marking
 * truncation with "...".  Returns dst. */
char *log_printable(char *dst, size_t dstsize, const char *src, size_t srclen);

#endif

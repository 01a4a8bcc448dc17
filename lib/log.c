/* Logging for every posthorn program: syslog, a maillog_file written with
 * one write(2) per line (so concurrent processes never interleave), or
 * stderr.  Lines have Postfix's shape, "progname[pid]: warning: text", so
 * existing log tools parse them.  Also the five message levels and the
 * helper that makes untrusted text safe to log. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

#define LOG_LINE_MAX 4096       /* longer message text is truncated */

int msg_verbose;

enum log_dest { DEST_PRE_OPEN, DEST_SYSLOG, DEST_STDERR, DEST_FILE };

static char log_name[64] = "posthorn";
static enum log_dest log_dest = DEST_PRE_OPEN;
static int log_fd = -1;
static int log_copy_stderr;
static char log_host[256];
static void (*fatal_hook)(void);
static int fatal_depth;

static const struct {
    const char *name;
    int value;
} facility_names[] = {
    {"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
    {"auth", LOG_AUTH}, {"authpriv", LOG_AUTHPRIV},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    {NULL, 0},
};

/* The name is used as given: daemons pass "posthorn/smtpd" (Postfix's
 * shape, which log tools key on), commands pass their basename. */
void log_init(const char *progname)
{
    snprintf(log_name, sizeof(log_name), "%s", progname);
}

const char *log_progname(void)
{
    return log_name;
}

static void set_short_hostname(void)
{
    char *dot;

    if (gethostname(log_host, sizeof(log_host) - 1) != 0 || log_host[0] == '\0')
        snprintf(log_host, sizeof(log_host), "localhost");
    log_host[sizeof(log_host) - 1] = '\0';
    if ((dot = strchr(log_host, '.')) != NULL && dot != log_host)
        *dot = '\0';
}

void log_open(const char *destination, const char *facility)
{
    int fac = LOG_MAIL;
    int i;

    log_close();
    /* Load the time zone and host name now: after a chroot they may be
     * out of reach. */
    tzset();
    set_short_hostname();
    if (destination == NULL || *destination == '\0' || strcmp(destination, "syslog") == 0) {
        if (facility != NULL && *facility != '\0') {
            for (i = 0; facility_names[i].name != NULL; i++)
                if (strcasecmp(facility_names[i].name, facility) == 0)
                    break;
            if (facility_names[i].name == NULL)
                msg_warn("unknown syslog facility \"%s\", using \"mail\"", facility);
            else
                fac = facility_names[i].value;
        }
        openlog(log_name, LOG_PID | LOG_NDELAY, fac);
        log_dest = DEST_SYSLOG;
    } else if (strcmp(destination, "stderr") == 0) {
        log_dest = DEST_STDERR;
    } else {
        int fd = open(destination, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

        if (fd < 0)
            msg_fatal("open log file %s: %m", destination);
        log_fd = fd;
        log_dest = DEST_FILE;
    }
}

void log_also_stderr(int on)
{
    log_copy_stderr = on;
}

void log_close(void)
{
    if (log_dest == DEST_SYSLOG)
        closelog();
    else if (log_dest == DEST_FILE && log_fd >= 0)
        close(log_fd);
    log_fd = -1;
    log_dest = DEST_PRE_OPEN;
}

/* Write the whole buffer; a log write that fails has nowhere to go. */
static void write_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t) n;
    }
}

/* One full syslog-shaped line, written with a single write(2). */
static void write_stamped_line(int fd, const char *text)
{
    char line[LOG_LINE_MAX + 512];
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    int n;

    if (localtime_r(&now, &tm) == NULL || strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
        snprintf(stamp, sizeof(stamp), "%lld", (long long) now);
    n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s\n", stamp,
                 log_host[0] ? log_host : "localhost", log_name, (long) getpid(), text);
    if (n < 0)
        return;
    if ((size_t) n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    write_all(fd, line, (size_t) n);
}

static void write_plain_line(int fd, const char *text)
{
    char line[LOG_LINE_MAX + 128];
    int n = snprintf(line, sizeof(line), "%s: %s\n", log_name, text);

    if (n < 0)
        return;
    if ((size_t) n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    write_all(fd, line, (size_t) n);
}

static void log_emit(int priority, const char *prefix, const char *fmt, va_list ap)
{
    char text[LOG_LINE_MAX + 1];
    size_t plen = strlen(prefix);
    int saved_errno = errno;

    memcpy(text, prefix, plen + 1);
    errno = saved_errno;        /* for %m */
    vsnprintf(text + plen, sizeof(text) - plen, fmt, ap);
    switch (log_dest) {
    case DEST_PRE_OPEN:
        write_plain_line(STDERR_FILENO, text);
        break;
    case DEST_SYSLOG:
        syslog(priority, "%s", text);
        break;
    case DEST_STDERR:
        write_stamped_line(STDERR_FILENO, text);
        break;
    case DEST_FILE:
        write_stamped_line(log_fd, text);
        break;
    }
    if (log_copy_stderr && log_dest != DEST_PRE_OPEN && log_dest != DEST_STDERR)
        write_plain_line(STDERR_FILENO, text);
    errno = saved_errno;
}

void msg_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emit(LOG_INFO, "", fmt, ap);
    va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emit(LOG_WARNING, "warning: ", fmt, ap);
    va_end(ap);
}

void msg_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emit(LOG_ERR, "error: ", fmt, ap);
    va_end(ap);
}

void msg_set_fatal_hook(void (*hook)(void))
{
    fatal_hook = hook;
}

void msg_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emit(LOG_CRIT, "fatal: ", fmt, ap);
    va_end(ap);
    /* A hook that itself fails fatally must not loop. */
    if (fatal_depth++ == 0 && fatal_hook != NULL)
        fatal_hook();
    if (fatal_depth > 1)
        _exit(1);
    exit(1);
}

void msg_panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emit(LOG_CRIT, "panic: ", fmt, ap);
    va_end(ap);
    abort();
}

char *log_printable(char *dst, size_t dstsize, const char *src, size_t srclen)
{
    size_t room, n, i;
    int truncated = 0;

    if (dstsize == 0)
        return dst;
    room = dstsize - 1;
    n = srclen;
    if (n > room) {
        truncated = 1;
        n = room >= 3 ? room - 3 : room;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char) src[i];

        dst[i] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
    }
    if (truncated && room >= 3) {
        memcpy(dst + i, "...", 3);
        i += 3;
    }
    dst[i] = '\0';
    return dst;
}

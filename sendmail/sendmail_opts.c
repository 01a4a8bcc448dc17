/* sendmail(1) command line: the options of the traditional sendmail
 * command (with the legacy ones accepted and ignored), mailq and
 * newaliases chosen by the program name, and the checks of -f, -N, -R,
 * -V and the recipient operands. */
#include "config.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "argv.h"
#include "header_addr.h"
#include "mail_addr.h"
#include "mem.h"
#include "record.h"
#include "sendmail.h"
#include "vstr.h"

void sm_opts_init(struct sm_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->mode = SM_MODE_DELIVER;
    o->envid = vstr_new(16);
    o->rcpt_args = argv_new();
}

void sm_opts_free(struct sm_opts *o)
{
    vstr_free(o->envid);
    argv_free(o->rcpt_args);
    free(o->config_dir_buf);
}

int sm_parse_notify(const char *s)
{
    argv_t *words = argv_split(s, ", \t");
    int mask = 0;

    for (size_t i = 0; i < words->n; i++) {
        if (strcasecmp(words->v[i], "never") == 0)
            mask |= DSN_NOTIFY_NEVER;
        else if (strcasecmp(words->v[i], "success") == 0)
            mask |= DSN_NOTIFY_SUCCESS;
        else if (strcasecmp(words->v[i], "delay") == 0)
            mask |= DSN_NOTIFY_DELAY;
        else if (strcasecmp(words->v[i], "failure") == 0)
            mask |= DSN_NOTIFY_FAILURE;
        else
            mask = -1;
        if (mask < 0)
            break;
    }
    argv_free(words);
    /* "never" cannot be combined with anything else (RFC 3461). */
    if (mask == 0 || (mask > 0 && (mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER))
        return -1;
    return mask;
}

const char *sm_parse_ret(const char *s)
{
    if (strcasecmp(s, "full") == 0)
        return "FULL";
    if (strcasecmp(s, "hdrs") == 0)
        return "HDRS";
    return NULL;
}

static int text_printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 32 || s[i] == 127)
            return 0;
    return 1;
}

int sm_rcpt_split(const char *arg, argv_t *out, vstr *err)
{
    size_t bad = 0, len = strlen(arg);
    size_t before = out->n;

    if (out->n >= SM_RCPT_MAX) {
        vstr_printf(err, "too many recipients (limit %d)", SM_RCPT_MAX);
        return -1;
    }
    header_addr_parse(arg, len, SM_RCPT_MAX - out->n, out, &bad);
    if (bad > 0 || !text_printable(arg, len)) {
        vstr_puts(err, "bad recipient address syntax: ");
        vstr_append(err, arg, len > 100 ? 100 : len);
        return -1;
    }
    for (size_t i = before; i < out->n; i++) {
        if (strlen(out->v[i]) > MAIL_ADDR_MAX || !text_printable(out->v[i], strlen(out->v[i]))) {
            vstr_puts(err, "bad recipient address");
            return -1;
        }
    }
    return 0;
}

int sm_sender_parse(const char *arg, vstr *out, vstr *err)
{
    argv_t *a;
    size_t bad = 0;
    int ret = -1;

    vstr_reset(out);
    if (*arg == '\0' || strcmp(arg, "<>") == 0)
        return 0;
    a = argv_new();
    header_addr_parse(arg, strlen(arg), 2, a, &bad);
    if (bad > 0 || a->n != 1 || !text_printable(arg, strlen(arg))
        || strlen(a->v[0]) > MAIL_ADDR_MAX) {
        vstr_puts(err, "bad sender address syntax: ");
        vstr_append(err, arg, strlen(arg) > 100 ? 100 : strlen(arg));
    } else {
        vstr_set(out, a->v[0]);
        ret = 0;
    }
    argv_free(a);
    return ret;
}

void sm_gecos_name(vstr *out, const char *gecos, const char *login)
{
    const char *p;

    vstr_reset(out);
    for (p = gecos; *p != '\0' && *p != ','; p++) {
        if (vstr_len(out) >= SM_FULLNAME_MAX)
            break;
        if (*p == '&') {
            if (*login != '\0') {
                vstr_putc(out, toupper((unsigned char)login[0]));
                vstr_puts(out, login + 1);
            }
        } else if ((unsigned char)*p >= 32 && *p != 127) {
            vstr_putc(out, *p);
        }
    }
    if (vstr_len(out) > SM_FULLNAME_MAX)
        vstr_truncate(out, SM_FULLNAME_MAX);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash != NULL ? slash + 1 : path;
}

/* -b mode letter. */
static int set_mode(struct sm_opts *o, const char *arg, vstr *err)
{
    static const struct {
        const char *name;
        enum sm_mode mode;
    } modes[] = {
        {"m", SM_MODE_DELIVER}, {"s", SM_MODE_SMTP}, {"p", SM_MODE_MAILQ},
        {"i", SM_MODE_NEWALIASES}, {"v", SM_MODE_VERIFY},
    };

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(arg, modes[i].name) == 0) {
            o->mode = modes[i].mode;
            return 0;
        }
    }
    vstr_printf(err, "unsupported mode: -b%.20s", arg);
    return -1;
}

/* -q[time] | -qR site | -qI id */
static int set_queue_run(struct sm_opts *o, const char *arg, const char *next, int *used_next,
                         vstr *err)
{
    o->mode = SM_MODE_FLUSH;
    if (arg[0] == 'R' || arg[0] == 'I') {
        const char *val = arg[1] != '\0' ? arg + 1 : next;

        if (val == NULL || *val == '\0') {
            vstr_printf(err, "option -q%c requires an argument", arg[0]);
            return -1;
        }
        if (arg[1] == '\0')
            *used_next = 1;
        if (arg[0] == 'R')
            o->flush_site = val;
        else
            o->flush_id = val;
    }
    /* -q with an interval: a single queue run, as a flush does. */
    return 0;
}

/* Options that take an argument; the ones after '|' are ignored. */
#define OPTS_WITH_ARG "bcCfFNrRVq|BhLopOXe"
#define OPTS_FLAGS "itvmnUGIx"

int sm_parse_args(struct sm_opts *o, int argc, char **argv, vstr *err)
{
    const char *prog = argc > 0 ? base_name(argv[0]) : "sendmail";
    int i;

    if (strcmp(prog, "mailq") == 0)
        o->mode = SM_MODE_MAILQ;
    else if (strcmp(prog, "newaliases") == 0)
        o->mode = SM_MODE_NEWALIASES;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (a[0] != '-' || a[1] == '\0')
            break;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        for (const char *p = a + 1; *p != '\0'; p++) {
            int ch = (unsigned char)*p;
            const char *val;
            int used_next = 0;

            if (ch == 'q') {
                if (set_queue_run(o, p + 1, i + 1 < argc ? argv[i + 1] : NULL, &used_next, err) < 0)
                    return -1;
                i += used_next;
                break;
            }
            if (ch != '|' && strchr(OPTS_FLAGS, ch) != NULL) {
                switch (ch) {
                case 'i':
                    o->ignore_dots = 1;
                    break;
                case 't':
                    o->extract = 1;
                    break;
                case 'v':
                    o->verbose++;
                    break;
                case 'I':
                    o->mode = SM_MODE_NEWALIASES;
                    break;
                default:
                    break;      /* -m -n -U -G -x: accepted, no effect */
                }
                continue;
            }
            if (ch == '|' || strchr(OPTS_WITH_ARG, ch) == NULL) {
                vstr_printf(err, "usage: sendmail [options] [recipient ...]: unknown option -%c",
                            isprint(ch) ? ch : '?');
                return -1;
            }
            if (p[1] != '\0') {
                val = p + 1;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                vstr_printf(err, "option -%c requires an argument", ch);
                return -1;
            }
            switch (ch) {
            case 'b':
                if (set_mode(o, val, err) < 0)
                    return -1;
                break;
            case 'c':
                o->config_dir = val;
                break;
            case 'C': {
                /* sendmail compatibility: the configuration file names
                 * the configuration directory. */
                const char *slash = strrchr(val, '/');

                free(o->config_dir_buf);
                o->config_dir_buf = slash == NULL ? xstrdup(".")
                                  : slash == val ? xstrdup("/")
                                                 : xstrndup(val, (size_t)(slash - val));
                o->config_dir = o->config_dir_buf;
                break;
            }
            case 'f':
            case 'r':
                o->sender = val;
                break;
            case 'F':
                o->full_name = val;
                break;
            case 'N':
                if ((o->notify = sm_parse_notify(val)) < 0) {
                    vstr_printf(err, "bad -N option value: %.50s", val);
                    return -1;
                }
                break;
            case 'R':
                if ((o->ret = sm_parse_ret(val)) == NULL) {
                    vstr_printf(err, "bad -R option value: %.50s (use full or hdrs)", val);
                    return -1;
                }
                break;
            case 'V':
                vstr_reset(o->envid);
                if (xtext_decode(o->envid, val, strlen(val)) < 0 || vstr_len(o->envid) == 0
                    || vstr_len(o->envid) > SM_ENVID_MAX
                    || !text_printable(vstr_str(o->envid), vstr_len(o->envid))) {
                    vstr_printf(err, "bad -V option value (envelope id): %.50s", val);
                    return -1;
                }
                break;
            case 'o':
                /* -oi (also "-o i") means -i; other legacy -o options
                 * are accepted silently. */
                if (strcmp(val, "i") == 0)
                    o->ignore_dots = 1;
                break;
            default:
                break;      /* -B -h -L -p -O -X -e: accepted, ignored */
            }
            break;          /* the argument used the rest of this word */
        }
    }
    for (; i < argc; i++)
        argv_add(o->rcpt_args, argv[i]);
    return 0;
}

/* master.cf parsing for the master and for `posthorn check` / postconf -M:
 * one service per logical line (service type private unpriv chroot wakeup
 * maxproc command args), validated column by column; every problem is
 * reported, and a file with any problem yields no services at all. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "argv.h"
#include "config_text.h"
#include "master_cf.h"
#include "mem.h"
#include "vstr.h"

#define MASTER_CF_MAX_SIZE (4 * 1024 * 1024)
#define MASTER_CF_MAX_SERVICES 10000
#define WAKEUP_MAX (365L * 86400)
#define MAXPROC_MAX 1000000

/* Split a logical line into fields at whitespace; "{ text }" is one field
 * (the braces and surrounding whitespace removed), as in Postfix 3. */
static argv_t *fields_split(const char *line, const char *label, int lineno, vstr *err)
{
    argv_t *a = argv_new();
    const char *p = line;

    for (;;) {
        while (isspace((unsigned char) *p))
            p++;
        if (*p == 0)
            break;
        if (*p == '{') {
            const char *start = ++p;
            int level = 1;
            while (*p && level > 0) {
                if (*p == '{')
                    level++;
                else if (*p == '}')
                    level--;
                if (level > 0)
                    p++;
            }
            if (level > 0) {
                vstr_printf(err, "%s:%d: missing '}'\n", label, lineno);
                argv_free(a);
                return NULL;
            }
            const char *end = p;
            while (start < end && isspace((unsigned char) *start))
                start++;
            while (end > start && isspace((unsigned char) end[-1]))
                end--;
            argv_addn(a, start, (size_t) (end - start));
            p++;
            if (*p && !isspace((unsigned char) *p)) {
                vstr_printf(err, "%s:%d: text after '}'\n", label, lineno);
                argv_free(a);
                return NULL;
            }
        } else {
            const char *start = p;
            while (*p && !isspace((unsigned char) *p))
                p++;
            argv_addn(a, start, (size_t) (p - start));
        }
    }
    return a;
}

/* y / n / - ; returns 1, 0, or def; -2 if bad. */
static int yes_no(const char *s, int def)
{
    if (strcmp(s, "-") == 0)
        return def;
    if (strcmp(s, "y") == 0 || strcmp(s, "yes") == 0)
        return 1;
    if (strcmp(s, "n") == 0 || strcmp(s, "no") == 0)
        return 0;
    return -2;
}

static int number_parse(const char *s, long max, long *out, const char **end)
{
    long v = 0;
    const char *p = s;

    if (!isdigit((unsigned char) *p))
        return -1;
    while (isdigit((unsigned char) *p)) {
        v = v * 10 + (*p - '0');
        if (v > max)
            return -1;
        p++;
    }
    *out = v;
    *end = p;
    return 0;
}

static int name_check(const char *name, const char *type, vstr *why)
{
    for (const char *p = name; *p; p++) {
        if (!isprint((unsigned char) *p)) {
            vstr_puts(why, "service name contains a non-printable character");
            return -1;
        }
    }
    if (strcmp(type, "inet") == 0) {
        const char *port = name;
        if (*name == '[') {
            const char *close = strchr(name, ']');
            if (close == NULL || close[1] != ':') {
                vstr_puts(why, "an IPv6 service name must look like [address]:port");
                return -1;
            }
            port = close + 2;
        } else if (strrchr(name, ':')) {
            const char *colon = strrchr(name, ':');
            if (colon == name) {
                vstr_puts(why, "missing host before ':'");
                return -1;
            }
            if (memchr(name, ':', (size_t) (colon - name))) {
                vstr_puts(why, "IPv6 addresses in service names need brackets: [address]:port");
                return -1;
            }
            port = colon + 1;
        }
        if (*port == 0) {
            vstr_puts(why, "missing port after ':'");
            return -1;
        }
        if (strchr(port, '/')) {
            vstr_puts(why, "'/' in an inet service name");
            return -1;
        }
    } else {
        /* unix and fifo names are paths under private/ or public/ */
        if (name[0] == '/' || strstr(name, "..")) {
            vstr_puts(why, "a unix or fifo service name must be a relative name without \"..\"");
            return -1;
        }
    }
    return 0;
}

/* Parse one logical line into svc; 0 or -1 (problems appended to err). */
static int service_parse(const char *line, const char *label, int lineno,
                         struct master_service *svc, vstr *err)
{
    argv_t *f;
    vstr *why;
    long num;
    const char *end;
    int bad = 0, v;

    memset(svc, 0, sizeof(*svc));
    if ((f = fields_split(line, label, lineno, err)) == NULL)
        return -1;
    svc->lineno = lineno;
    if (f->n < 8) {
        vstr_printf(err, "%s:%d: expected at least 8 fields (service type private unpriv "
                    "chroot wakeup maxproc command), found %zu\n", label, lineno, f->n);
        argv_free(f);
        return -1;
    }
#define PROBLEM(...) do { vstr_printf(err, "%s:%d: ", label, lineno); \
        vstr_printf(err, __VA_ARGS__); vstr_putc(err, '\n'); bad = 1; } while (0)
    if (strcmp(f->v[1], "inet") != 0 && strcmp(f->v[1], "unix") != 0
        && strcmp(f->v[1], "fifo") != 0)
        PROBLEM("service %.100s: unsupported service type \"%.50s\" (use inet, unix or fifo)",
                f->v[0], f->v[1]);
    why = vstr_new(64);
    if (!bad && name_check(f->v[0], f->v[1], why) < 0)
        PROBLEM("service \"%.100s\": %s", f->v[0], vstr_str(why));
    vstr_free(why);

    if ((v = yes_no(f->v[2], 1)) < -1)
        PROBLEM("private column: \"%.20s\" (use y, n or -)", f->v[2]);
    /* Internet services cannot be private */
    svc->private_ = strcmp(f->v[1], "inet") == 0 ? 0 : v;
    if ((v = yes_no(f->v[3], 1)) < -1)
        PROBLEM("unpriv column: \"%.20s\" (use y, n or -)", f->v[3]);
    svc->unpriv = v;
    if ((v = yes_no(f->v[4], 0)) < -1)
        PROBLEM("chroot column: \"%.20s\" (use y, n or -)", f->v[4]);
    svc->chroot = v;

    if (strcmp(f->v[5], "-") == 0) {
        svc->wakeup = 0;
    } else if (number_parse(f->v[5], WAKEUP_MAX, &num, &end) < 0
               || (*end && strcmp(end, "?") != 0)) {
        PROBLEM("wakeup column: \"%.20s\" (use seconds, optionally followed by '?', or -)",
                f->v[5]);
    } else {
        svc->wakeup = (int) num;
        svc->wakeup_if_used = *end == '?';
    }
    if (strcmp(f->v[6], "-") == 0) {
        svc->maxproc = -1;
    } else if (number_parse(f->v[6], MAXPROC_MAX, &num, &end) < 0 || *end) {
        PROBLEM("maxproc column: \"%.20s\" (use a number of processes, 0 for no limit, or -)",
                f->v[6]);
    } else {
        svc->maxproc = (int) num;
    }

    svc->args = argv_new();
    for (size_t i = 7; i < f->n; i++) {
        const char *a = f->v[i];
        if (i == 7 && a[0] == '-')
            PROBLEM("command \"%.100s\": expected a program name", a);
        if (strcmp(a, "-o") == 0) {
            if (i + 1 >= f->n) {
                PROBLEM("\"-o\" without name=value");
                break;
            }
            const char *nv = f->v[++i];
            const char *eq = strchr(nv, '=');
            if (eq == NULL || eq == nv) {
                PROBLEM("\"-o %.100s\": expected -o name=value", nv);
                continue;
            }
            /* "-o { name = value }" keeps spaces around '='; normalize */
            vstr *norm = vstr_new(64);
            const char *ne = eq;
            while (ne > nv && isspace((unsigned char) ne[-1]))
                ne--;
            const char *vs = eq + 1;
            while (isspace((unsigned char) *vs))
                vs++;
            if (ne == nv) {
                PROBLEM("\"-o %.100s\": expected -o name=value", nv);
                vstr_free(norm);
                continue;
            }
            vstr_append(norm, nv, (size_t) (ne - nv));
            vstr_putc(norm, '=');
            vstr_puts(norm, vs);
            argv_add(svc->args, "-o");
            argv_add(svc->args, vstr_str(norm));
            vstr_free(norm);
        } else if (strncmp(a, "-o", 2) == 0 && i > 7) {
            const char *eq = strchr(a + 2, '=');
            if (eq == NULL || eq == a + 2)
                PROBLEM("\"%.100s\": expected -o name=value", a);
            argv_add(svc->args, "-o");
            argv_add(svc->args, a + 2);
        } else {
            argv_add(svc->args, a);
        }
    }
#undef PROBLEM
    svc->name = xstrdup(f->v[0]);
    svc->type = xstrdup(f->v[1]);
    argv_free(f);
    return bad ? -1 : 0;
}

static void service_clear(struct master_service *svc)
{
    free(svc->name);
    free(svc->type);
    if (svc->args)
        argv_free(svc->args);
}

void master_cf_free(struct master_service *svcs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        service_clear(&svcs[i]);
    free(svcs);
}

static int logical_line_done(const char *line, const char *label, int lineno,
                             struct master_service **svcs, size_t *n, size_t *cap, vstr *err)
{
    struct master_service svc;

    if (service_parse(line, label, lineno, &svc, err) < 0) {
        service_clear(&svc);
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*svcs)[i].name, svc.name) == 0 && strcmp((*svcs)[i].type, svc.type) == 0) {
            vstr_printf(err, "%s:%d: duplicate service %s/%s (first defined on line %d)\n",
                        label, lineno, svc.name, svc.type, (*svcs)[i].lineno);
            service_clear(&svc);
            return -1;
        }
    }
    if (*n >= MASTER_CF_MAX_SERVICES) {
        vstr_printf(err, "%s:%d: more than %d services\n", label, lineno, MASTER_CF_MAX_SERVICES);
        service_clear(&svc);
        return -1;
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *svcs = xreallocarray(*svcs, *cap, sizeof(**svcs));
    }
    (*svcs)[(*n)++] = svc;
    return 0;
}

struct parse_ctx {
    const char *label;
    struct master_service *list;
    size_t count, cap;
    vstr *err;
    int status;
};

static int parse_line(const char *line, int lineno, void *ctx)
{
    struct parse_ctx *pc = ctx;

    if (logical_line_done(line, pc->label, lineno, &pc->list, &pc->count, &pc->cap, pc->err) < 0)
        pc->status = -1;
    return 0;                   /* report every problem, not just the first */
}

static int parse_orphan(const char *line, int lineno, void *ctx)
{
    struct parse_ctx *pc = ctx;

    (void) line;
    vstr_printf(pc->err, "%s:%d: continuation line (starts with whitespace) without "
                "a service line before it\n", pc->label, lineno);
    pc->status = -1;
    return 0;
}

int master_cf_parse_text(const char *text, const char *label, struct master_service **svcs,
                         size_t *n, vstr *err)
{
    struct parse_ctx pc = {label, NULL, 0, 0, err, 0};

    *svcs = NULL;
    *n = 0;
    (void) config_text_lines(text, parse_line, parse_orphan, &pc);
    if (pc.status < 0) {
        master_cf_free(pc.list, pc.count);
        return -1;
    }
    *svcs = pc.list;
    *n = pc.count;
    return 0;
}

int master_cf_parse(const char *path, struct master_service **svcs, size_t *n, vstr *err)
{
    vstr *text = vstr_new(4096);
    int rc;

    *svcs = NULL;
    *n = 0;
    rc = config_text_read(path, MASTER_CF_MAX_SIZE, text, err);
    if (rc == 0)
        rc = master_cf_parse_text(vstr_str(text), "master.cf", svcs, n, err);
    vstr_free(text);
    return rc;
}

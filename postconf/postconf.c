/* postconf: show main.cf parameters (current, -d defaults, -n only those
 * set, -h values only, -x expanded), edit main.cf in place (-e, -X, -#)
 * keeping comments, order and other lines, and show master.cf services
 * (-M) and the lookup table types (-m).  Everything comes from the one
 * parameter table (lib/params_table.c) and lib/params.c. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "argv.h"
#include "config_text.h"
#include "log.h"
#include "master_cf.h"
#include "mem.h"
#include "params.h"
#include "safe_file.h"
#include "vstr.h"

#define MAIN_CF_EDIT_MAX (16 * 1024 * 1024)    /* same bound as the loader */

enum postconf_mode {
    MODE_SHOW,          /* print parameters */
    MODE_EDIT,          /* -e name=value... */
    MODE_REMOVE,        /* -X name... */
    MODE_COMMENT,       /* -# name... */
    MODE_TABLES,        /* -m */
};

struct postconf_opts {
    const char *config_arg;
    enum postconf_mode mode;
    int master;         /* -M: the modes act on master.cf services */
    int defaults;       /* -d */
    int only_set;       /* -n */
    int values_only;    /* -h */
    int expand;         /* -x */
    char **names;       /* operands */
    int name_count;
};

static void usage(void)
{
    fprintf(stderr, "usage: postconf [-c config_dir] [-d | -n] [-h] [-x] [name...]\n"
            "       postconf [-c config_dir] -e name=value...\n"
            "       postconf [-c config_dir] -X name...\n"
            "       postconf [-c config_dir] -# name...\n"
            "       postconf [-c config_dir] -M [service[/type]...]\n"
            "       postconf [-c config_dir] -Me service/type='service type ... command'...\n"
            "       postconf [-c config_dir] -MX service/type...\n"
            "       postconf [-c config_dir] -M# service/type...\n"
            "       postconf -m\n");
    exit(1);
}

static void mode_set(struct postconf_opts *o, enum postconf_mode mode)
{
    if (o->mode != MODE_SHOW && o->mode != mode)
        usage();
    o->mode = mode;
}

static void opts_parse(int argc, char **argv, struct postconf_opts *o)
{
    int ch;

    memset(o, 0, sizeof(*o));
    while ((ch = getopt(argc, argv, "c:dehmMnvxX#")) != -1) {
        switch (ch) {
        case 'c':
            o->config_arg = optarg;
            break;
        case 'd':
            o->defaults = 1;
            break;
        case 'e':
            mode_set(o, MODE_EDIT);
            break;
        case 'h':
            o->values_only = 1;
            break;
        case 'm':
            mode_set(o, MODE_TABLES);
            break;
        case 'M':
            o->master = 1;
            break;
        case 'n':
            o->only_set = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'x':
            o->expand = 1;
            break;
        case 'X':
            mode_set(o, MODE_REMOVE);
            break;
        case '#':
            mode_set(o, MODE_COMMENT);
            break;
        default:
            usage();
        }
    }
    o->names = argv + optind;
    o->name_count = argc - optind;
    if (o->defaults && o->only_set)
        usage();
    if (o->master && (o->mode == MODE_TABLES || o->defaults || o->only_set))
        usage();
    if ((o->mode == MODE_EDIT || o->mode == MODE_REMOVE || o->mode == MODE_COMMENT)
        && o->name_count == 0)
        usage();
}

/* ---- showing parameters ---- */

static void config_load_or_die(const char *dir)
{
    vstr *err = vstr_new(128);

    if (config_load(dir, err) < 0) {
        while (err->len && err->data[err->len - 1] == '\n')
            vstr_truncate(err, err->len - 1);
        msg_fatal("%s", vstr_str(err));
    }
    vstr_free(err);
}

static int name_compare(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The names to show when none are given: the whole table plus names that
 * only main.cf sets (-n: just what main.cf sets), sorted. */
static argv_t *names_all(const struct postconf_opts *o)
{
    argv_t *names = argv_new();
    const char *name;

    if (!o->only_set)
        for (unsigned i = 0; i < param_table_size; i++)
            argv_add(names, param_table[i].name);
    if (!o->defaults)
        for (unsigned i = 0; (name = config_set_name(i)) != NULL; i++)
            if (o->only_set || param_find(name) == NULL)
                argv_add(names, name);
    qsort(names->v, names->n, sizeof(*names->v), name_compare);
    return names;
}

/* Print one parameter; unknown names get a warning and no output. */
static void param_show(const struct postconf_opts *o, const char *name, vstr *out, vstr *err)
{
    const char *raw;

    raw = o->defaults && param_find(name) == NULL ? NULL : config_raw(name);
    if (raw == NULL) {
        msg_warn("%s: unknown parameter", name);
        return;
    }
    if (o->only_set && !config_is_set(name))
        return;
    vstr_reset(out);
    if (o->expand) {
        vstr_reset(err);
        if (config_expand(out, raw, err) < 0) {
            msg_warn("%s: cannot expand value: %s", name, vstr_str(err));
            vstr_set(out, raw);
        }
    } else {
        vstr_set(out, raw);
    }
    if (o->values_only)
        printf("%s\n", vstr_str(out));
    else if (out->len)
        printf("%s = %s\n", name, vstr_str(out));
    else
        printf("%s =\n", name);
}

static int params_show(const struct postconf_opts *o)
{
    vstr *out = vstr_new(256), *err = vstr_new(64);

    /* -d must not see main.cf: every value then comes from the table */
    if (!o->defaults)
        config_load_or_die(config_dir_choose(o->config_arg));
    if (o->name_count > 0) {
        for (int i = 0; i < o->name_count; i++)
            param_show(o, o->names[i], out, err);
    } else {
        argv_t *names = names_all(o);

        for (size_t i = 0; i < names->n; i++)
            param_show(o, names->v[i], out, err);
        argv_free(names);
    }
    vstr_free(out);
    vstr_free(err);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- editing main.cf ---- */

/* main.cf as physical lines (without newlines); NULL marks a deleted line. */
struct cf_lines {
    char **v;
    size_t n, cap;
};

static void cf_lines_add(struct cf_lines *l, char *line)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    l->v[l->n++] = line;
}

static void cf_lines_split(struct cf_lines *l, const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *stop = nl ? nl : end;

        cf_lines_add(l, xstrndup(p, (size_t) (stop - p)));
        p = nl ? nl + 1 : end;
    }
}

enum line_kind { LINE_START, LINE_CONT, LINE_SKIP };

/* The same classification as config_text_lines(): blank and comment lines
 * are skipped without ending a logical line. */
static enum line_kind line_kind(const char *line)
{
    const char *p = line;

    while (isspace((unsigned char) *p))
        p++;
    if (*p == 0 || *p == '#')
        return LINE_SKIP;
    return p == line ? LINE_START : LINE_CONT;
}

/* Does this parameter line set name? */
static int line_sets(const char *line, const char *name)
{
    size_t len = strlen(name);
    const char *p = line + len;

    if (strncmp(line, name, len) != 0)
        return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '=';
}

/* Index just past the last continuation line of the logical line that
 * starts at start. */
static size_t logical_end(const struct cf_lines *l, size_t start)
{
    size_t end = start + 1;

    for (size_t i = start + 1; i < l->n; i++) {
        if (l->v[i] == NULL)
            continue;
        enum line_kind k = line_kind(l->v[i]);
        if (k == LINE_START)
            break;
        if (k == LINE_CONT)
            end = i + 1;
    }
    return end;
}

/* Apply fn to every physical line of each logical line whose first line
 * satisfies starts(line, key) (first: the index of that first line).
 * Returns how many logical lines matched. */
static int cf_find_by(struct cf_lines *l, int (*starts)(const char *, const void *),
                      const void *key,
                      void (*fn)(struct cf_lines *, size_t first, size_t i, void *), void *ctx)
{
    int found = 0;

    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i] == NULL || line_kind(l->v[i]) != LINE_START || !starts(l->v[i], key))
            continue;
        size_t end = logical_end(l, i);
        found++;
        for (size_t k = i; k < end; k++)
            if (l->v[k] && line_kind(l->v[k]) != LINE_SKIP)
                fn(l, i, k, ctx);
        i = end - 1;
    }
    return found;
}

static int line_sets_key(const char *line, const void *name)
{
    return line_sets(line, name);
}

/* The main.cf settings of name. */
static int cf_find(struct cf_lines *l, const char *name,
                   void (*fn)(struct cf_lines *, size_t first, size_t i, void *), void *ctx)
{
    return cf_find_by(l, line_sets_key, name, fn, ctx);
}

static void line_delete(struct cf_lines *l, size_t first, size_t i, void *ctx)
{
    (void) first;
    (void) ctx;
    xfree(l->v[i]);
}

/* -e: the first setting becomes the new line, later ones (and every
 * continuation line) go, so the new value is the one that counts. */
struct replace_ctx {
    const char *new_line;
    int done;
};

static void line_replace(struct cf_lines *l, size_t first, size_t i, void *ctx)
{
    struct replace_ctx *rc = ctx;

    xfree(l->v[i]);
    if (i == first && !rc->done) {
        l->v[i] = xstrdup(rc->new_line);
        rc->done = 1;
    }
}

static void line_comment(struct cf_lines *l, size_t first, size_t i, void *ctx)
{
    vstr *v = vstr_new(strlen(l->v[i]) + 8);
    const char *name = ctx;

    if (i == first) {
        const char *value = strchr(l->v[i], '=') + 1;

        while (isspace((unsigned char) *value))
            value++;
        vstr_printf(v, "#%s = %s", name, value);
    } else {
        vstr_printf(v, "#%s", l->v[i]);
    }
    free(l->v[i]);
    l->v[i] = vstr_export(v);
}

/* The name a parameter name may be: what the main.cf loader accepts. */
static int name_valid(const char *name, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) name[i];
        if (isspace(c) || c == '=' || c == '$' || c == '{' || c == '}' || c == '('
            || c == ')' || c == '#' || !isprint(c))
            return 0;
    }
    return 1;
}

static void edit_one(struct cf_lines *l, enum postconf_mode mode, const char *arg)
{
    if (mode == MODE_EDIT) {
        const char *eq = strchr(arg, '=');
        const char *value, *end;
        struct replace_ctx rc = {NULL, 0};
        vstr *line = vstr_new(128);
        char *name;

        if (eq == NULL)
            msg_fatal("-e %s: expected name=value", arg);
        end = eq;
        while (end > arg && isspace((unsigned char) end[-1]))
            end--;
        while (isspace((unsigned char) *arg) && arg < end)
            arg++;
        if (!name_valid(arg, (size_t) (end - arg)))
            msg_fatal("-e %s: bad parameter name", arg);
        value = eq + 1;
        while (isspace((unsigned char) *value))
            value++;
        if (strchr(value, '\n'))
            msg_fatal("-e %s: a value cannot contain a newline", arg);
        name = xstrndup(arg, (size_t) (end - arg));
        if (param_find(name) == NULL)
            msg_warn("%s: unknown parameter", name);
        if (*value)
            vstr_printf(line, "%s = %s", name, value);
        else
            vstr_printf(line, "%s =", name);
        rc.new_line = vstr_str(line);
        if (cf_find(l, name, line_replace, &rc) == 0)
            cf_lines_add(l, xstrdup(vstr_str(line)));
        vstr_free(line);
        free(name);
    } else {
        if (!name_valid(arg, strlen(arg)))
            msg_fatal("%s: bad parameter name", arg);
        if (mode == MODE_REMOVE)
            (void) cf_find(l, arg, line_delete, NULL);
        else
            (void) cf_find(l, arg, line_comment, (void *) arg);
    }
}

/* Write the lines to a temporary file next to path with its mode and
 * owner, sync it, and rename it over path. */
static void cf_write_atomic(const char *path, const struct cf_lines *l, const struct stat *st)
{
    vstr *tmp = vstr_new(256), *text = vstr_new(4096);
    int fd;
    size_t off = 0;

    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i] == NULL)
            continue;
        vstr_puts(text, l->v[i]);
        vstr_putc(text, '\n');
    }
    vstr_printf(tmp, "%s.postconf.%ld", path, (long) getpid());
    fd = safe_create(vstr_str(tmp), 0, st->st_mode & 07777);
    if (fd < 0 && errno == EEXIST && unlink(vstr_str(tmp)) == 0)
        fd = safe_create(vstr_str(tmp), 0, st->st_mode & 07777);
    if (fd < 0)
        msg_fatal("create %s: %m", vstr_str(tmp));
    /* the umask must not narrow the mode; keep the owner when we can */
    if (fchmod(fd, st->st_mode & 07777) < 0)
        msg_warn("chmod %s: %m", vstr_str(tmp));
    if (geteuid() == 0 && fchown(fd, st->st_uid, st->st_gid) < 0)
        msg_warn("chown %s: %m", vstr_str(tmp));
    while (off < text->len) {
        ssize_t n = write(fd, text->data + off, text->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = errno;
            (void) unlink(vstr_str(tmp));
            errno = saved;
            msg_fatal("write %s: %m", vstr_str(tmp));
        }
        off += (size_t) n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        int saved = errno;
        (void) unlink(vstr_str(tmp));
        errno = saved;
        msg_fatal("sync %s: %m", vstr_str(tmp));
    }
    if (rename_durable(vstr_str(tmp), path) < 0) {
        int saved = errno;
        (void) unlink(vstr_str(tmp));
        errno = saved;
        msg_fatal("rename %s to %s: %m", vstr_str(tmp), path);
    }
    vstr_free(tmp);
    vstr_free(text);
}

static int main_cf_edit(const struct postconf_opts *o)
{
    vstr *path = vstr_new(256), *text = vstr_new(4096), *err = vstr_new(128);
    struct cf_lines lines = {NULL, 0, 0};
    struct stat st;

    vstr_printf(path, "%s/main.cf", config_dir_choose(o->config_arg));
    if (stat(vstr_str(path), &st) < 0)
        msg_fatal("%s: %m", vstr_str(path));
    if (config_text_read(vstr_str(path), MAIN_CF_EDIT_MAX, text, err) < 0) {
        while (err->len && err->data[err->len - 1] == '\n')
            vstr_truncate(err, err->len - 1);
        msg_fatal("%s", vstr_str(err));
    }
    cf_lines_split(&lines, vstr_str(text), text->len);
    for (int i = 0; i < o->name_count; i++)
        edit_one(&lines, o->mode, o->names[i]);
    cf_write_atomic(vstr_str(path), &lines, &st);
    for (size_t i = 0; i < lines.n; i++)
        free(lines.v[i]);
    free(lines.v);
    vstr_free(path);
    vstr_free(text);
    vstr_free(err);
    return 0;
}

/* ---- master.cf and table types ---- */

/* "name", "name/type": does the service match? */
static int service_selected(const struct postconf_opts *o, const struct master_service *s)
{
    if (o->name_count == 0)
        return 1;
    for (int i = 0; i < o->name_count; i++) {
        const char *sel = o->names[i], *slash = strrchr(sel, '/');
        size_t len = slash ? (size_t) (slash - sel) : strlen(sel);

        if (strlen(s->name) == len && strncmp(s->name, sel, len) == 0
            && (slash == NULL || strcmp(slash + 1, s->type) == 0))
            return 1;
    }
    return 0;
}

/* One master.cf line with "-" wherever the value is the default. */
static void service_print(const struct master_service *s)
{
    char wakeup[32], maxproc[32];

    if (s->wakeup == 0)
        strcpy(wakeup, "-");
    else
        snprintf(wakeup, sizeof(wakeup), "%d%s", s->wakeup, s->wakeup_if_used ? "?" : "");
    if (s->maxproc < 0)
        strcpy(maxproc, "-");
    else
        snprintf(maxproc, sizeof(maxproc), "%d", s->maxproc);
    printf("%-10s %-5s %-7s %-7s %-7s %-7s %-7s", s->name, s->type,
           strcmp(s->type, "inet") == 0 || !s->private_ ? "n" : "-",
           s->unpriv ? "-" : "n", s->chroot ? "y" : "-", wakeup, maxproc);
    for (size_t i = 0; i < s->args->n; i++)
        printf(" %s", s->args->v[i]);
    printf("\n");
}

static int master_show(const struct postconf_opts *o)
{
    vstr *path = vstr_new(256), *err = vstr_new(128);
    struct master_service *svcs = NULL;
    size_t n = 0;

    vstr_printf(path, "%s/master.cf", config_dir_choose(o->config_arg));
    if (master_cf_parse(vstr_str(path), &svcs, &n, err) < 0) {
        while (err->len && err->data[err->len - 1] == '\n')
            vstr_truncate(err, err->len - 1);
        msg_fatal("%s: %s", vstr_str(path), vstr_str(err));
    }
    for (size_t i = 0; i < n; i++)
        if (service_selected(o, &svcs[i]))
            service_print(&svcs[i]);
    master_cf_free(svcs, n);
    vstr_free(path);
    vstr_free(err);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- editing master.cf (-Me, -MX, -M#) ---- */

/* Split "service/type" (the key of -MX and -M#, the part before '=' of
 * -Me); the service may itself contain '/' only in a UNIX path, so the
 * type is after the last one. */
static void service_key_split(const char *key, size_t len, vstr *name, vstr *type)
{
    const char *slash = NULL;

    for (const char *p = key; p < key + len; p++)
        if (*p == '/')
            slash = p;

    if (slash == NULL || slash == key || slash + 1 == key + len)
        msg_fatal("%.*s: expected service/type", (int) len, key);
    vstr_setn(name, key, (size_t) (slash - key));
    vstr_setn(type, slash + 1, (size_t) (key + len - slash - 1));
    if (strcmp(vstr_str(type), "inet") != 0 && strcmp(vstr_str(type), "unix") != 0
        && strcmp(vstr_str(type), "fifo") != 0)
        msg_fatal("%.*s: the type must be inet, unix or fifo", (int) len, key);
}

/* Does this first line of a master.cf entry declare service name/type? */
static int line_declares(const char *line, const char *name, const char *type)
{
    size_t nlen = strlen(name), tlen = strlen(type);
    const char *p = line;

    if (strncmp(p, name, nlen) != 0 || !isspace((unsigned char) p[nlen]))
        return 0;
    p += nlen;
    while (isspace((unsigned char) *p))
        p++;
    return strncmp(p, type, tlen) == 0 && (p[tlen] == 0 || isspace((unsigned char) p[tlen]));
}

struct service_key {
    const char *name, *type;
};

static int line_declares_key(const char *line, const void *key)
{
    const struct service_key *k = key;

    return line_declares(line, k->name, k->type);
}

/* The master.cf entries of service name/type. */
static int service_find(struct cf_lines *l, const char *name, const char *type,
                        void (*fn)(struct cf_lines *, size_t first, size_t i, void *), void *ctx)
{
    struct service_key key = {name, type};

    return cf_find_by(l, line_declares_key, &key, fn, ctx);
}

static void service_line_comment(struct cf_lines *l, size_t first, size_t i, void *ctx)
{
    vstr *v = vstr_new(strlen(l->v[i]) + 2);

    (void) first;
    (void) ctx;
    vstr_printf(v, "#%s", l->v[i]);
    free(l->v[i]);
    l->v[i] = vstr_export(v);
}

/* -Me service/type=entry: the entry must parse on its own and declare the
 * same service and type; it replaces the existing entry in place, or is
 * appended. */
static void master_edit_one(struct cf_lines *l, enum postconf_mode mode, const char *arg)
{
    vstr *name = vstr_new(64), *type = vstr_new(8), *err = vstr_new(128);
    const char *eq = strchr(arg, '=');

    if (mode == MODE_EDIT) {
        struct master_service *svc = NULL;
        size_t n = 0;
        struct replace_ctx rc = {NULL, 0};
        const char *entry;

        if (eq == NULL)
            msg_fatal("-Me %s: expected service/type=entry", arg);
        service_key_split(arg, (size_t) (eq - arg), name, type);
        entry = eq + 1;
        while (isspace((unsigned char) *entry))
            entry++;
        if (strchr(entry, '\n'))
            msg_fatal("-Me %s: an entry cannot contain a newline", arg);
        if (master_cf_parse_text(entry, "entry", &svc, &n, err) < 0) {
            while (err->len && err->data[err->len - 1] == '\n')
                vstr_truncate(err, err->len - 1);
            msg_fatal("-Me %s/%s: %s", vstr_str(name), vstr_str(type), vstr_str(err));
        }
        if (n != 1 || strcmp(svc[0].name, vstr_str(name)) != 0
            || strcmp(svc[0].type, vstr_str(type)) != 0)
            msg_fatal("-Me %s/%s: the entry must declare service %s of type %s",
                      vstr_str(name), vstr_str(type), vstr_str(name), vstr_str(type));
        master_cf_free(svc, n);
        rc.new_line = entry;
        if (service_find(l, vstr_str(name), vstr_str(type), line_replace, &rc) == 0)
            cf_lines_add(l, xstrdup(entry));
    } else {
        if (eq != NULL)
            msg_fatal("%s: expected service/type", arg);
        service_key_split(arg, strlen(arg), name, type);
        if (service_find(l, vstr_str(name), vstr_str(type),
                         mode == MODE_REMOVE ? line_delete : service_line_comment, NULL) == 0)
            msg_warn("%s/%s: no such service in master.cf", vstr_str(name), vstr_str(type));
    }
    vstr_free(name);
    vstr_free(type);
    vstr_free(err);
}

static int master_cf_edit(const struct postconf_opts *o)
{
    vstr *path = vstr_new(256), *text = vstr_new(4096), *err = vstr_new(128);
    struct cf_lines lines = {NULL, 0, 0};
    struct master_service *svcs = NULL;
    size_t n = 0;
    struct stat st;

    if (o->name_count == 0)
        usage();
    vstr_printf(path, "%s/master.cf", config_dir_choose(o->config_arg));
    if (stat(vstr_str(path), &st) < 0)
        msg_fatal("%s: %m", vstr_str(path));
    if (config_text_read(vstr_str(path), MAIN_CF_EDIT_MAX, text, err) < 0) {
        while (err->len && err->data[err->len - 1] == '\n')
            vstr_truncate(err, err->len - 1);
        msg_fatal("%s", vstr_str(err));
    }
    cf_lines_split(&lines, vstr_str(text), text->len);
    for (int i = 0; i < o->name_count; i++)
        master_edit_one(&lines, o->mode, o->names[i]);
    /* Never leave a master.cf that master(8) would refuse. */
    vstr_reset(text);
    for (size_t i = 0; i < lines.n; i++) {
        if (lines.v[i] == NULL)
            continue;
        vstr_puts(text, lines.v[i]);
        vstr_putc(text, '\n');
    }
    if (master_cf_parse_text(vstr_str(text), vstr_str(path), &svcs, &n, err) < 0) {
        while (err->len && err->data[err->len - 1] == '\n')
            vstr_truncate(err, err->len - 1);
        msg_fatal("not changed: the result would be invalid: %s", vstr_str(err));
    }
    master_cf_free(svcs, n);
    cf_write_atomic(vstr_str(path), &lines, &st);
    for (size_t i = 0; i < lines.n; i++)
        free(lines.v[i]);
    free(lines.v);
    vstr_free(path);
    vstr_free(text);
    vstr_free(err);
    return 0;
}

static int table_types_show(void)
{
    static const char *const types[] = {"btree", "hash", "inline", "static", "texthash"};

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        printf("%s\n", types[i]);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int postconf_run(const struct postconf_opts *o)
{
    if (o->master)
        return o->mode == MODE_SHOW ? master_show(o) : master_cf_edit(o);
    switch (o->mode) {
    case MODE_EDIT:
    case MODE_REMOVE:
    case MODE_COMMENT:
        return main_cf_edit(o);
    case MODE_TABLES:
        return table_types_show();
    case MODE_SHOW:
        break;
    }
    return params_show(o);
}

int main(int argc, char **argv)
{
    struct postconf_opts opts;

    log_init("postconf");
    opts_parse(argc, argv, &opts);
    return postconf_run(&opts);
}

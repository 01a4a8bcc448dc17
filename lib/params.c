/* main.cf: loading (Postfix syntax), raw and expanded parameter values,
 * $name expansion, typed accessors with range checks, validation for
 * `posthorn check` / postconf, and the choice of the configuration
 * directory.  Values are stored raw and expanded on use; expansions are
 * cached until config_set() or config_load() changes something. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "log.h"
#include "mem.h"
#include "config_text.h"
#include "params.h"
#include "vstr.h"

#define MAIN_CF_MAX_SIZE (16 * 1024 * 1024)   /* refuse absurd main.cf files */
#define EXPAND_MAX_DEPTH 100
#define EXPAND_MAX_LEN (1024 * 1024)            /* bound runaway $a$a$a growth */

/* One parameter name we know something about: set in main.cf, overridden,
 * or merely looked up (to cache its expansion). */
struct entry {
    char *name;
    char *file_value;   /* from main.cf, or NULL */
    char *override;     /* from config_set, or NULL */
    char *computed;     /* computed default (myhostname, mydomain) */
    char *cache;        /* expanded value, or NULL */
    int file_order;     /* position among names set in main.cf, -1 if not */
};

static struct entry *entries;
static size_t entry_count, entry_cap;
static int file_names;              /* names set in main.cf */
static char *chosen_dir;
static vstr *unknown_names;
/* Strings handed out by config_str stay valid for the life of the process
 * even after a cache flush: callers may keep them. */
static char **retired;
static size_t retired_count, retired_cap;

const struct param_def *param_find(const char *name)
{
    for (unsigned i = 0; i < param_table_size; i++)
        if (strcmp(param_table[i].name, name) == 0)
            return &param_table[i];
    return NULL;
}

static struct entry *entry_find(const char *name)
{
    for (size_t i = 0; i < entry_count; i++)
        if (strcmp(entries[i].name, name) == 0)
            return &entries[i];
    return NULL;
}

static struct entry *entry_get(const char *name)
{
    struct entry *e = entry_find(name);

    if (e)
        return e;
    if (entry_count == entry_cap) {
        entry_cap = entry_cap ? entry_cap * 2 : 64;
        entries = xreallocarray(entries, entry_cap, sizeof(*entries));
    }
    e = &entries[entry_count++];
    memset(e, 0, sizeof(*e));
    e->name = xstrdup(name);
    e->file_order = -1;
    return e;
}

static void retire(char **p)
{
    if (*p == NULL)
        return;
    if (retired_count == retired_cap) {
        retired_cap = retired_cap ? retired_cap * 2 : 32;
        retired = xreallocarray(retired, retired_cap, sizeof(*retired));
    }
    retired[retired_count++] = *p;
    *p = NULL;
}

static void caches_flush(void)
{
    for (size_t i = 0; i < entry_count; i++) {
        retire(&entries[i].cache);
        retire(&entries[i].computed);
    }
}

/* ---- configuration directory ---- */

const char *config_dir_choose(const char *cmdline_dir)
{
    const char *env = getenv("POSTHORN_CONFIG_DIR");
    const char *dir;

    if (cmdline_dir && *cmdline_dir)
        dir = cmdline_dir;
    else if (env && *env)
        dir = env;
    else
        dir = DEF_CONFIG_DIR;
    if (dir != chosen_dir) {        /* config_dir_choose(config_dir()) */
        free(chosen_dir);
        chosen_dir = xstrdup(dir);
    }
    return chosen_dir;
}

const char *config_dir(void)
{
    return chosen_dir ? chosen_dir : config_dir_choose(NULL);
}

/* ---- loading ---- */

static void file_values_clear(void)
{
    size_t keep = 0;

    caches_flush();
    for (size_t i = 0; i < entry_count; i++) {
        struct entry *e = &entries[i];

        xfree(e->file_value);
        e->file_order = -1;
        /* forget names that main.cf alone brought in (a reload may drop
         * them); names handed out by config_set_name stay valid */
        if (e->override == NULL && param_find(e->name) == NULL) {
            retire(&e->name);
            continue;
        }
        entries[keep++] = *e;
    }
    entry_count = keep;
    file_names = 0;
}

/* One logical line "name = value" (continuations already joined). */
static int logical_line_store(const char *line, const char *label, int lineno, vstr *err)
{
    const char *eq = strchr(line, '=');
    const char *p;
    char *name;

    if (eq == NULL) {
        vstr_printf(err, "%s:%d: missing '=' after parameter name\n", label, lineno);
        return -1;
    }
    p = eq;
    while (p > line && isspace((unsigned char) p[-1]))
        p--;
    if (p == line) {
        vstr_printf(err, "%s:%d: missing parameter name before '='\n", label, lineno);
        return -1;
    }
    name = xstrndup(line, (size_t) (p - line));
    for (const char *c = name; *c; c++) {
        if (isspace((unsigned char) *c) || *c == '$' || *c == '{' || *c == '}'
            || *c == '(' || *c == ')' || !isprint((unsigned char) *c)) {
            vstr_printf(err, "%s:%d: bad parameter name (invalid character)\n", label, lineno);
            free(name);
            return -1;
        }
    }
    p = eq + 1;
    while (isspace((unsigned char) *p))
        p++;

    struct entry *e = entry_get(name);
    if (e->file_value) {
        msg_warn("%s:%d: parameter %s set again; the later value is used", label, lineno, name);
        free(e->file_value);
    } else {
        e->file_order = file_names++;
    }
    e->file_value = xstrdup(p);
    free(name);
    return 0;
}

struct load_ctx {
    const char *label;
    vstr *err;
    int status;
};

static int load_line(const char *line, int lineno, void *ctx)
{
    struct load_ctx *lc = ctx;

    if (logical_line_store(line, lc->label, lineno, lc->err) < 0)
        lc->status = -1;
    return 0;                   /* report every problem, not just the first */
}

static int load_orphan(const char *line, int lineno, void *ctx)
{
    struct load_ctx *lc = ctx;

    (void) line;
    vstr_printf(lc->err, "%s:%d: continuation line (starts with whitespace) "
                "without a preceding parameter line\n", lc->label, lineno);
    lc->status = -1;
    return 0;
}

int config_load_text(const char *text, const char *label, vstr *err)
{
    struct load_ctx lc = {label, err, 0};

    file_values_clear();
    (void) config_text_lines(text, load_line, load_orphan, &lc);
    return lc.status;
}

int config_load(const char *dir, vstr *err)
{
    vstr *path = vstr_new(256);
    vstr *text = vstr_new(4096);
    char *absolute = realpath(dir, NULL);
    int status;

    /* Daemons chdir to the queue and hand the directory to their children:
     * remember where it really is. */
    if (absolute != NULL)
        dir = absolute;

    vstr_printf(path, "%s/main.cf", dir);
    status = config_text_read(vstr_str(path), MAIN_CF_MAX_SIZE, text, err);
    if (status == 0)
        status = config_load_text(vstr_str(text), vstr_str(path), err);
    else
        file_values_clear();
    /* The directory we loaded from is the configuration directory, whatever
     * main.cf says (as with Postfix's -c). */
    config_set("config_directory", dir);
    if (chosen_dir == NULL || strcmp(chosen_dir, dir) != 0) {
        free(chosen_dir);
        chosen_dir = xstrdup(dir);
    }
    free(absolute);
    vstr_free(path);
    vstr_free(text);
    return status;
}

void config_load_or_exit(const char *cmdline_dir, int exit_status)
{
    vstr *err = vstr_new(128);

    if (config_load(config_dir_choose(cmdline_dir), err) < 0) {
        /* One log line: drop the newline that ends the error text. */
        while (err->len > 0 && err->data[err->len - 1] == '\n')
            vstr_truncate(err, err->len - 1);
        msg_error("%s", vstr_str(err));
        exit(exit_status);
    }
    vstr_free(err);
}

void config_set(const char *name, const char *value)
{
    struct entry *e = entry_get(name);

    xfree(e->override);
    if (value)
        e->override = xstrdup(value);
    caches_flush();
}

/* ---- raw values and computed defaults ---- */

/* Defaults that depend on the host (param_def.def == NULL).  Computing
 * mydomain expands $myhostname, which may add entries, so no entry pointer
 * is held across the computation. */
static const char *computed_default(const char *name)
{
    struct entry *e = entry_find(name);
    char *value;

    if (e && e->computed)
        return e->computed;
    if (strcmp(name, "myhostname") == 0) {
        vstr *v = vstr_new(256);
        char host[1025];

        /* gethostname only: never a DNS lookup that could hang start-up */
        if (gethostname(host, sizeof(host)) != 0 || host[0] == 0)
            strcpy(host, "localhost");
        host[sizeof(host) - 1] = 0;
        vstr_puts(v, host);
        if (strchr(host, '.') == NULL)
            vstr_puts(v, ".localdomain");
        value = vstr_export(v);
    } else if (strcmp(name, "mydomain") == 0) {
        vstr *v = vstr_new(256);
        vstr *er = vstr_new(64);
        const char *dot;

        if (config_expand(v, "$myhostname", er) < 0)
            vstr_reset(v);
        dot = strchr(vstr_str(v), '.');
        value = xstrdup(dot && dot[1] ? dot + 1 : "localdomain");
        vstr_free(v);
        vstr_free(er);
    } else {
        value = xstrdup("");
    }
    e = entry_get(name);
    if (e->computed)
        free(value);
    else
        e->computed = value;
    return e->computed;
}

const char *config_raw(const char *name)
{
    struct entry *e = entry_find(name);
    const struct param_def *d;

    if (e && e->override)
        return e->override;
    if (e && e->file_value)
        return e->file_value;
    d = param_find(name);
    if (d == NULL)
        return NULL;
    if (d->def)
        return d->def;
    return computed_default(name);
}

int config_is_set(const char *name)
{
    struct entry *e = entry_find(name);

    return e && (e->override || e->file_value);
}

/* ---- expansion ---- */

static int name_char(int c)
{
    return isalnum(c) || c == '_';
}

static int expand(vstr *out, const char *text, vstr *err, int depth);

static int expand_name(vstr *out, const char *name, vstr *err, int depth)
{
    const char *raw = config_raw(name);

    if (raw == NULL)
        return 0;       /* unknown names expand to nothing, as in Postfix */
    return expand(out, raw, err, depth + 1);
}

static int expand(vstr *out, const char *text, vstr *err, int depth)
{
    const char *p = text;

    if (depth > EXPAND_MAX_DEPTH) {
        vstr_printf(err, "expansion recursion deeper than %d levels (a parameter that "
                    "refers to itself?)", EXPAND_MAX_DEPTH);
        return -1;
    }
    while (*p) {
        const char *dollar = strchr(p, '$');

        if (dollar == NULL) {
            vstr_puts(out, p);
            break;
        }
        vstr_append(out, p, (size_t) (dollar - p));
        p = dollar + 1;
        if (*p == '$') {
            vstr_putc(out, '$');
            p++;
        } else if (name_char((unsigned char) *p)) {
            const char *start = p;
            char *name;
            int rc;

            while (name_char((unsigned char) *p))
                p++;
            name = xstrndup(start, (size_t) (p - start));
            rc = expand_name(out, name, err, depth);
            free(name);
            if (rc < 0)
                return -1;
        } else if (*p == '{' || *p == '(') {
            char open = *p, close = open == '{' ? '}' : ')';
            const char *start = ++p;
            const char *q = p;
            const char *op = NULL;
            int level = 1;
            char *name;
            int rc = 0;

            while (name_char((unsigned char) *q))
                q++;
            if (q == start) {
                vstr_printf(err, "missing parameter name after \"$%c\"", open);
                return -1;
            }
            name = xstrndup(start, (size_t) (q - start));
            if (*q == '?' || *q == ':') {
                op = q;
                q++;
            } else if (*q == 0) {
                vstr_printf(err, "unterminated \"$%c%s\"", open, name);
                free(name);
                return -1;
            } else if (*q != close) {
                vstr_printf(err, "bad character '%c' in parameter name after \"$%c%s\"",
                            isprint((unsigned char) *q) ? *q : '?', open, name);
                free(name);
                return -1;
            }
            /* find the matching close, allowing nested ${...} in the text */
            const char *body = q;
            if (op) {
                while (*q) {
                    if (*q == open)
                        level++;
                    else if (*q == close && --level == 0)
                        break;
                    q++;
                }
            }
            if (*q != close) {
                vstr_printf(err, "unterminated \"$%c%s\"", open, name);
                free(name);
                return -1;
            }
            if (op == NULL) {
                rc = expand_name(out, name, err, depth);
            } else {
                vstr *val = vstr_new(64);
                const char *raw = config_raw(name);
                int nonempty;
                /* only whether the value is empty matters: skip expanding
                 * it when it contains nothing to expand */
                if (raw == NULL || strchr(raw, '$') == NULL) {
                    nonempty = raw && *raw;
                } else {
                    rc = expand_name(val, name, err, depth);
                    nonempty = val->len > 0;
                }
                if (rc == 0 && ((*op == '?') == nonempty)) {
                    char *sub = xstrndup(body, (size_t) (q - body));
                    rc = expand(out, sub, err, depth + 1);
                    free(sub);
                }
                vstr_free(val);
            }
            free(name);
            if (rc < 0)
                return -1;
            p = q + 1;
        } else {
            /* a lone '$' (end of text, or before punctuation) stays literal */
            vstr_putc(out, '$');
        }
        if (out->len > EXPAND_MAX_LEN) {
            vstr_printf(err, "expansion result longer than %d bytes", EXPAND_MAX_LEN);
            return -1;
        }
    }
    return 0;
}

int config_expand(vstr *out, const char *text, vstr *err)
{
    return expand(out, text, err, 0);
}

/* ---- typed values ---- */

static const struct param_def *def_or_panic(const char *name)
{
    const struct param_def *d = param_find(name);

    if (d == NULL)
        msg_panic("parameter %s is not in the parameter table", name);
    return d;
}

const char *config_str(const char *name)
{
    struct entry *e;
    vstr *out, *err;

    /* fast path: a cache exists only for names already checked */
    e = entry_find(name);
    if (e && e->cache)
        return e->cache;
    def_or_panic(name);
    out = vstr_new(64);
    err = vstr_new(64);
    if (config_expand(out, config_raw(name), err) < 0)
        msg_fatal("main.cf: parameter %s: %s", name, vstr_str(err));
    vstr_free(err);
    /* e may have moved if expansion added entries */
    e = entry_get(name);
    e->cache = vstr_export(out);
    return e->cache;
}

static int parse_decimal(const char *s, int allow_sign, long *val, const char **end)
{
    const char *p = s;
    int neg = 0;
    long v = 0;

    if (allow_sign && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (!isdigit((unsigned char) *p))
        return -1;
    while (isdigit((unsigned char) *p)) {
        int d = *p - '0';
        if (v > (LONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        p++;
    }
    *val = neg ? -v : v;
    *end = p;
    return 0;
}

long param_parse_time(const char *s)
{
    const char *end;
    long v, mult = 1;

    if (parse_decimal(s, 0, &v, &end) < 0)
        return -1;
    switch (*end) {
    case 0:
    case 's': case 'S': mult = 1; break;
    case 'm': case 'M': mult = 60; break;
    case 'h': case 'H': mult = 3600; break;
    case 'd': case 'D': mult = 86400; break;
    case 'w': case 'W': mult = 7 * 86400; break;
    default:
        return -1;
    }
    if (*end && end[1] != 0)
        return -1;
    if (v > LONG_MAX / mult)
        return -1;
    return v * mult;
}

static int bool_parse(const char *s)
{
    if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0)
        return 1;
    if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0)
        return 0;
    return -1;
}

static int range_check(const struct param_def *d, long v, const char *unit, vstr *why)
{
    if ((d->min != 0 || d->max != 0) && (v < d->min || v > d->max)) {
        vstr_printf(why, "value %ld%s out of range [%ld, %ld]", v, unit, d->min, d->max);
        return -1;
    }
    return 0;
}

/* Check one expanded value against its type; *num gets the number. */
static int value_check(const struct param_def *d, enum param_type type, const char *value,
                       long *num, vstr *why)
{
    const char *end;
    long v = 0;

    switch (type) {
    case PARAM_STR:
    case PARAM_LIST:
        return 0;
    case PARAM_BOOL:
        v = bool_parse(value);
        if (v < 0) {
            vstr_printf(why, "bad boolean \"%s\" (use yes or no)", value);
            return -1;
        }
        *num = v;
        return 0;
    case PARAM_INT:
        if (parse_decimal(value, 1, &v, &end) < 0 || *end) {
            vstr_printf(why, "bad integer \"%s\"", value);
            return -1;
        }
        *num = v;
        return range_check(d, v, "", why);
    case PARAM_TIME:
        v = param_parse_time(value);
        if (v < 0) {
            vstr_printf(why, "bad time \"%s\" (a number with optional unit s, m, h, d or w)",
                        value);
            return -1;
        }
        *num = v;
        return range_check(d, v, "s", why);
    case PARAM_SIZE:
        if (parse_decimal(value, 0, &v, &end) < 0 || *end) {
            vstr_printf(why, "bad size \"%s\" (a number of bytes)", value);
            return -1;
        }
        *num = v;
        return range_check(d, v, "", why);
    }
    return 0;
}

static long config_number(const char *name, enum param_type type)
{
    const struct param_def *d = def_or_panic(name);
    const char *value = config_str(name);
    vstr *why = vstr_new(64);
    long num = 0;

    if (value_check(d, type, value, &num, why) < 0)
        msg_fatal("main.cf: parameter %s: %s", name, vstr_str(why));
    vstr_free(why);
    return num;
}

long config_int(const char *name)
{
    return config_number(name, PARAM_INT);
}

int config_bool(const char *name)
{
    return (int) config_number(name, PARAM_BOOL);
}

long config_time(const char *name)
{
    return config_number(name, PARAM_TIME);
}

long config_size(const char *name)
{
    return config_number(name, PARAM_SIZE);
}

/* ---- validation and listing ---- */

static int validate_one(const char *name, vstr *problems)
{
    const struct param_def *d = param_find(name);
    vstr *out = vstr_new(64);
    vstr *why = vstr_new(64);
    int bad = 0;
    long num;

    if (config_expand(out, config_raw(name), why) < 0)
        bad = 1;
    else if (d && value_check(d, d->type, vstr_str(out), &num, why) < 0)
        bad = 1;
    if (bad)
        vstr_printf(problems, "main.cf: parameter %s: %s\n", name, vstr_str(why));
    vstr_free(out);
    vstr_free(why);
    return bad;
}

int config_validate(vstr *problems)
{
    int count = 0;

    /* everything that is set, plus table defaults (a default may refer to
     * a parameter whose value is bad) */
    for (size_t i = 0; i < entry_count; i++)
        if (entries[i].override || entries[i].file_value)
            count += validate_one(entries[i].name, problems);
    for (unsigned i = 0; i < param_table_size; i++)
        if (!config_is_set(param_table[i].name))
            count += validate_one(param_table[i].name, problems);
    return count;
}

const char *config_unknown_names(void)
{
    if (unknown_names == NULL)
        unknown_names = vstr_new(64);
    vstr_reset(unknown_names);
    for (int order = 0; order < file_names; order++) {
        const char *name = config_set_name((unsigned) order);
        if (name && param_find(name) == NULL) {
            if (unknown_names->len)
                vstr_putc(unknown_names, ' ');
            vstr_puts(unknown_names, name);
        }
    }
    return vstr_str(unknown_names);
}

const char *config_set_name(unsigned i)
{
    for (size_t k = 0; k < entry_count; k++)
        if (entries[k].file_value && entries[k].file_order == (int) i)
            return entries[k].name;
    return NULL;
}

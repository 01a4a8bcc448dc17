/* Pure parsers of local(8)'s forwarding features (see local_parse.h):
 * .forward / :include: text, forward_path expansion, |command splitting,
 * command environments and exit statuses, Delivered-To: recognition.
 * Everything here takes untrusted text and bounds what it accepts. */
#include "config.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include "argv.h"
#include "local_parse.h"
#include "local_util.h"
#include "vstr.h"

int keyword_mask(const char *list, const char *const *names, vstr *unknown)
{
    argv_t *words = argv_split(list, LIST_DELIMS);
    int mask = 0;
    size_t i, j;

    for (i = 0; i < words->n; i++) {
        for (j = 0; names[j] != NULL; j++)
            if (strcasecmp(words->v[i], names[j]) == 0)
                break;
        if (names[j] != NULL) {
            mask |= 1 << j;
        } else if (unknown != NULL) {
            if (vstr_len(unknown) > 0)
                vstr_putc(unknown, ' ');
            vstr_puts(unknown, words->v[i]);
        }
    }
    argv_free(words);
    return mask;
}

int forward_text_parse(const char *text, size_t len, argv_t *targets, vstr *err)
{
    vstr *line = vstr_new(128);
    const char *p = text, *end = text + len, *nl;
    size_t lineno = 0, skip, first, i;
    int ret = -1;

    if (len > LOCAL_FORWARD_MAX_SIZE) {
        vstr_printf(err, "file is larger than %d bytes", LOCAL_FORWARD_MAX_SIZE);
        goto out;
    }
    if (memchr(text, '\0', len) != NULL) {
        vstr_puts(err, "file contains a NUL byte");
        goto out;
    }
    while (p < end) {
        lineno++;
        nl = memchr(p, '\n', end - p);
        if (nl == NULL)
            nl = end;
        vstr_setn(line, p, nl - p);
        p = nl < end ? nl + 1 : end;
        for (skip = 0; skip < vstr_len(line) && isspace((unsigned char)vstr_str(line)[skip]);
             skip++)
            ;
        if (skip == vstr_len(line) || vstr_str(line)[skip] == '#')
            continue;
        first = targets->n;
        if (alias_value_split(vstr_str(line) + skip, targets) != 0) {
            vstr_printf(err, "line %zu: unterminated quoted string", lineno);
            goto out;
        }
        /* An empty quoted destination ("") names nothing. */
        for (i = first; i < targets->n;) {
            if (*targets->v[i] != '\0') {
                i++;
                continue;
            }
            free(targets->v[i]);
            memmove(&targets->v[i], &targets->v[i + 1], (targets->n - i) * sizeof(char *));
            targets->n--;
        }
        if (targets->n > LOCAL_MAX_TARGETS) {
            vstr_printf(err, "more than %d destinations", LOCAL_MAX_TARGETS);
            goto out;
        }
    }
    ret = 0;
out:
    vstr_free(line);
    return ret;
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Can this address-derived value be placed into a file name? */
static int path_safe(const char *v)
{
    return strchr(v, '/') == NULL && strstr(v, "..") == NULL && v[0] != '.' && !has_control(v);
}

#define FORWARD_EXPAND_DEPTH 5

static int forward_expand_depth(vstr *out, const char *pattern, size_t plen,
                                const struct forward_vars *v, vstr *err, int depth)
{
    static const char *const names[] = {"user", "home", "shell", "local", "extension",
                                        "recipient", "domain", "recipient_delimiter"};
    const char *values[8];
    const char *p = pattern, *end = pattern + plen;
    const char *name, *alt = NULL;
    size_t nlen, alt_len = 0, i;
    int braced, op, ret, undefined = 0, level;

    if (depth > FORWARD_EXPAND_DEPTH) {
        vstr_puts(err, "forward_path: nesting too deep");
        return -1;
    }
    values[0] = v->user;
    values[1] = v->home;
    values[2] = v->shell;
    values[3] = v->local;
    values[4] = v->extension;
    values[5] = v->recipient;
    values[6] = v->domain;
    values[7] = v->recipient_delimiter;
    for (i = 0; i < 8; i++)
        if (values[i] == NULL)
            values[i] = "";
    while (p < end) {
        if (*p != '$') {
            vstr_putc(out, *p++);
            continue;
        }
        p++;
        if (p < end && *p == '$') {
            vstr_putc(out, *p++);
            continue;
        }
        braced = (p < end && *p == '{');
        if (braced)
            p++;
        name = p;
        while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            p++;
        nlen = p - name;
        op = 0;
        if (braced) {
            if (p < end && (*p == '?' || *p == ':')) {
                op = *p++;
                alt = p;
                for (level = 1; p < end; p++) {
                    if (*p == '{')
                        level++;
                    else if (*p == '}' && --level == 0)
                        break;
                }
                alt_len = p - alt;
            }
            if (p >= end || *p != '}') {
                vstr_puts(err, "forward_path: bad ${...}");
                return -1;
            }
            p++;
        }
        if (nlen == 0) {
            vstr_puts(err, "forward_path: \"$\" without a name");
            return -1;
        }
        for (i = 0; i < 8; i++)
            if (strlen(names[i]) == nlen && strncmp(names[i], name, nlen) == 0)
                break;
        if (i == 8) {
            /* A main.cf parameter: its value, no conditional forms. */
            if (op != 0 || v->param == NULL || v->param(out, name, nlen) != 0) {
                vstr_printf(err, "forward_path: unknown name \"$%.*s\"", (int)nlen, name);
                return -1;
            }
            continue;
        }
        if (op == '?' || op == ':') {
            if ((op == '?') == (values[i][0] != '\0')) {
                ret = forward_expand_depth(out, alt, alt_len, v, err, depth + 1);
                if (ret < 0)
                    return ret;
                undefined |= ret;
            }
            continue;
        }
        if (values[i][0] == '\0' && (i == 1 || i == 4)) {
            undefined = 1;      /* no extension / no home: skip this element */
            continue;
        }
        if (i != 1 && i != 2 && i != 7 && values[i][0] != '\0' && !path_safe(values[i])) {
            vstr_printf(err, "forward_path: unsafe value for $%s", names[i]);
            return -1;
        }
        vstr_puts(out, values[i]);
    }
    return undefined;
}

int forward_path_expand(vstr *out, const char *pattern, const struct forward_vars *v, vstr *err)
{
    vstr_reset(out);
    return forward_expand_depth(out, pattern, strlen(pattern), v, err, 0);
}

/* Characters that make a command line need a shell. */
#define SHELL_META "\"$&'()*;<>?[\\]`{|}~!#^=%"

int command_split(const char *cmd, argv_t *out)
{
    const char *p = cmd, *start;
    int any = 0;

    for (p = cmd; *p; p++) {
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return -1;
        if (*p == 0x7f)
            return -1;
        if (*p != ' ' && *p != '\t')
            any = 1;
    }
    if (!any)
        return -1;
    if (strpbrk(cmd, SHELL_META) != NULL)
        return 0;
    for (p = cmd; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        argv_addn(out, start, p - start);
    }
    return 1;
}

static void env_add(argv_t *env, const char *name, const char *value)
{
    vstr *s = vstr_new(64);
    const char *p;

    vstr_printf(s, "%s=", name);
    for (p = value ? value : ""; *p; p++)
        vstr_putc(s, ((unsigned char)*p < 0x20 || *p == 0x7f) ? '_' : *p);
    argv_add(env, vstr_str(s));
    vstr_free(s);
}

void command_env_build(argv_t *env, const struct command_env *e, const char *export_list,
                       const char *(*get)(const char *name))
{
    static const char *const own[] = {"HOME", "LOGNAME", "USER", "SHELL", "PATH", "SENDER",
                                      "RECIPIENT", "LOCAL", "DOMAIN", "EXTENSION",
                                      "ORIGINAL_RECIPIENT", NULL};
    argv_t *names = argv_split(export_list ? export_list : "", LIST_DELIMS);
    const char *value;
    size_t i, j;

    env_add(env, "HOME", e->home);
    env_add(env, "LOGNAME", e->logname);
    env_add(env, "USER", e->logname);
    env_add(env, "SHELL", e->shell);
    env_add(env, "PATH", "/usr/bin:/bin");
    env_add(env, "SENDER", e->sender);
    env_add(env, "RECIPIENT", e->recipient);
    env_add(env, "LOCAL", e->local);
    env_add(env, "DOMAIN", e->domain);
    env_add(env, "EXTENSION", e->extension);
    env_add(env, "ORIGINAL_RECIPIENT", e->orig_recipient);
    for (i = 0; i < names->n; i++) {
        const char *n = names->v[i];

        if (strchr(n, '=') != NULL || *n == '\0')
            continue;
        for (j = 0; own[j] != NULL; j++)
            if (strcmp(own[j], n) == 0)
                break;
        if (own[j] != NULL || get == NULL || (value = get(n)) == NULL)
            continue;
        env_add(env, n, value);
    }
    argv_free(names);
}

/* sysexits.h codes as Postfix's documentation treats them: a status code
 * and whether the failure is temporary. */
static const struct {
    int code;
    const char *dsn;
    const char *text;
} sys_exits[] = {
    {64, "5.3.0", "command line usage error"},
    {65, "5.6.0", "data format error"},
    {66, "5.3.0", "cannot open input"},
    {67, "5.1.1", "user unknown"},
    {68, "5.1.2", "host name unknown"},
    {69, "5.3.0", "service unavailable"},
    {70, "5.3.0", "internal software error"},
    {71, "4.3.0", "system resource problem"},
    {72, "5.3.0", "critical OS file missing"},
    {73, "5.2.0", "can't create user output file"},
    {74, "5.3.0", "input/output error"},
    {75, "4.3.0", "temporary failure"},
    {76, "5.5.0", "remote error in protocol"},
    {77, "5.7.0", "permission denied"},
    {78, "5.3.5", "local configuration error"},
};

static void printable_append(vstr *out, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        vstr_putc(out, (c < 0x20 || c >= 0x7f) ? '?' : c);
    }
}

int command_result(int wstatus, int timed_out, const char *cmd, const char *output,
                   size_t outlen, vstr *reason, const char **dsn)
{
    int status, code;
    size_t i, cmdlen = strlen(cmd);

    vstr_reset(reason);
    /* Trailing white space of the output says nothing. */
    while (outlen > 0 && isspace((unsigned char)output[outlen - 1]))
        outlen--;
    if (outlen > COMMAND_OUTPUT_KEEP)
        outlen = COMMAND_OUTPUT_KEEP;
    if (cmdlen > 100)
        cmdlen = 100;
    if (timed_out) {
        *dsn = "4.3.0";
        vstr_puts(reason, "command time limit exceeded: \"");
        printable_append(reason, cmd, cmdlen);
        vstr_putc(reason, '"');
        status = 2;
    } else if (WIFSIGNALED(wstatus)) {
        *dsn = "4.3.0";
        vstr_printf(reason, "command killed by signal %d: \"", WTERMSIG(wstatus));
        printable_append(reason, cmd, cmdlen);
        vstr_putc(reason, '"');
        status = 2;
    } else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
        *dsn = "2.0.0";
        vstr_puts(reason, "delivered to command: ");
        printable_append(reason, cmd, cmdlen);
        return 0;
    } else if (WIFEXITED(wstatus)) {
        code = WEXITSTATUS(wstatus);
        *dsn = "5.3.0";
        for (i = 0; i < sizeof(sys_exits) / sizeof(sys_exits[0]); i++)
            if (sys_exits[i].code == code)
                break;
        if (i < sizeof(sys_exits) / sizeof(sys_exits[0])) {
            *dsn = sys_exits[i].dsn;
            vstr_printf(reason, "command died with status %d (%s): \"", code, sys_exits[i].text);
        } else {
            vstr_printf(reason, "command died with status %d: \"", code);
        }
        printable_append(reason, cmd, cmdlen);
        vstr_putc(reason, '"');
        status = (*dsn)[0] == '4' ? 2 : 1;
    } else {
        *dsn = "4.3.0";
        vstr_puts(reason, "command ended abnormally");
        status = 2;
    }
    if (outlen > 0) {
        vstr_puts(reason, ". Command output: ");
        printable_append(reason, output, outlen);
    }
    return status;
}

int delivered_to_header(const char *line, size_t len, vstr *value)
{
    static const char name[] = "delivered-to:";
    size_t n = sizeof(name) - 1, start, end;

    if (len < n || strncasecmp(line, name, n) != 0)
        return 0;
    for (start = n; start < len && isspace((unsigned char)line[start]); start++)
        ;
    for (end = len; end > start && isspace((unsigned char)line[end - 1]); end--)
        ;
    vstr_setn(value, line + start, end - start);
    for (start = 0; start < vstr_len(value); start++)
        vstr_str(value)[start] = (char)tolower((unsigned char)vstr_str(value)[start]);
    return 1;
}

/* Pure helpers of local(8) (see local_util.h): how alias targets look,
 * luser_relay expansion with path-safe values, mboxrd From_ handling,
 * Maildir names and delay formatting. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "argv.h"
#include "local_util.h"
#include "vstr.h"

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

enum alias_target_kind alias_target_classify(const char *target)
{
    size_t len = strlen(target);

    if (len == 0 || has_control(target))
        return TARGET_INVALID;
    if (target[0] == '|')
        return len > 1 ? TARGET_COMMAND : TARGET_INVALID;
    if (strncmp(target, ":include:", 9) == 0)
        return len > 9 ? TARGET_INCLUDE : TARGET_INVALID;
    if (target[0] == '\\')
        return (len > 1 && strpbrk(target + 1, " \\/") == NULL) ? TARGET_USER_MAILBOX
                                                                   : TARGET_INVALID;
    if (target[0] == '/')
        return target[len - 1] == '/' ? TARGET_MAILDIR : TARGET_MBOX;
    if (target[0] == '@' || target[len - 1] == '@' || strchr(target, ' ') != NULL)
        return TARGET_INVALID;
    return TARGET_ADDRESS;
}

int alias_value_split(const char *value, argv_t *targets)
{
    const char *p = value;
    const char *start, *end;
    size_t quoted_len;
    vstr *item = vstr_new(64);

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '\0')
            break;
        vstr_reset(item);
        if (*p == '"') {
            start = ++p;
            end = strchr(start, '"');
            if (end == NULL) {
                vstr_free(item);
                return -1;
            }
            vstr_append(item, start, end - start);
            p = end + 1;
            /* Anything glued to the closing quote belongs to the item;
             * white space before the next comma does not. */
            quoted_len = vstr_len(item);
            while (*p && *p != ',')
                vstr_putc(item, *p++);
            while (vstr_len(item) > quoted_len && strchr(" \t\r\n", vstr_str(item)[vstr_len(item) - 1]))
                vstr_truncate(item, vstr_len(item) - 1);
        } else {
            start = p;
            while (*p && *p != ',')
                p++;
            end = p;
            while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'
                                   || end[-1] == '\n'))
                end--;
            vstr_append(item, start, end - start);
        }
        argv_addn(targets, vstr_str(item), vstr_len(item));
    }
    vstr_free(item);
    return 0;
}

/* Can this address-derived value be placed into a file name? */
static int path_safe(const char *v)
{
    return strchr(v, '/') == NULL && strstr(v, "..") == NULL && v[0] != '.' && !has_control(v);
}

int luser_relay_expand(vstr *out, const char *pattern, const struct luser_vars *vars, vstr *err)
{
    static const char *const names[] = {"user", "local", "extension", "recipient", "domain"};
    const char *values[5];
    const char *p = pattern;
    const char *name;
    size_t nlen, i;
    int braced;

    values[0] = vars->user;
    values[1] = vars->local;
    values[2] = vars->extension ? vars->extension : "";
    values[3] = vars->recipient;
    values[4] = vars->domain;
    vstr_reset(out);
    while (*p) {
        if (*p != '$') {
            vstr_putc(out, *p++);
            continue;
        }
        p++;
        if (*p == '$') {
            vstr_putc(out, *p++);
            continue;
        }
        braced = (*p == '{');
        if (braced)
            p++;
        name = p;
        while ((*p >= 'a' && *p <= 'z') || *p == '_')
            p++;
        nlen = p - name;
        if (braced) {
            if (*p != '}') {
                vstr_printf(err, "luser_relay: bad ${...} in \"%s\"", pattern);
                return -1;
            }
            p++;
        }
        for (i = 0; i < 5; i++)
            if (strlen(names[i]) == nlen && strncmp(names[i], name, nlen) == 0)
                break;
        if (i == 5) {
            if (nlen == 0 || vars->param == NULL || vars->param(out, name, nlen) != 0) {
                vstr_printf(err, "luser_relay: unknown name \"$%.*s\"", (int)nlen, name);
                return -1;
            }
            continue;
        }
        if (i == 0 && values[0][0] == '\0') {
            vstr_puts(err, "luser_relay: empty $user");
            return -1;
        }
        if (values[i][0] != '\0' && !path_safe(values[i])) {
            vstr_printf(err, "luser_relay: unsafe value for $%s", names[i]);
            return -1;
        }
        vstr_puts(out, values[i]);
    }
    return 0;
}

int mbox_quote_needed(const char *line, size_t len)
{
    size_t i = 0;

    while (i < len && line[i] == '>')
        i++;
    return len - i >= 5 && memcmp(line + i, "From ", 5) == 0;
}

void mbox_from_line(vstr *out, const char *sender, time_t t)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;

    gmtime_r(&t, &tm);
    vstr_printf(out, "From %s %s %s %2d %02d:%02d:%02d %d\n",
                (sender == NULL || *sender == '\0') ? "MAILER-DAEMON" : sender, days[tm.tm_wday],
                months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                tm.tm_year + 1900);
}

void maildir_unique_name(vstr *out, const struct timeval *tv, pid_t pid, unsigned long counter,
                         const char *host)
{
    const char *h;

    vstr_printf(out, "%lld.M%06ldP%ldQ%lu.", (long long)tv->tv_sec, (long)tv->tv_usec, (long)pid,
                counter);
    for (h = host; *h; h++) {
        if (*h == '/')
            vstr_puts(out, "\\057");
        else if (*h == ':')
            vstr_puts(out, "\\072");
        else
            vstr_putc(out, *h);
    }
}

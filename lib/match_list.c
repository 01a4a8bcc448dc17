/* Address and domain match lists (mynetworks, mydestination,
 * relay_domains, ...): patterns are compiled once when the list is made;
 * matching walks them in order and the first pattern that matches decides
 * (a "!" pattern that matches means "no match"). */
#include "config.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "argv.h"
#include "log.h"
#include "match_list.h"
#include "mem.h"
#include "table.h"
#include "vstr.h"

#define INCLUDE_MAX_DEPTH 10
#define INCLUDE_MAX_SIZE (16 * 1024 * 1024)
#define PATTERN_MAX 100000

enum pattern_kind { PAT_NONE, PAT_NET, PAT_DOMAIN, PAT_TABLE };

struct pattern {
    enum pattern_kind kind;
    int negate;
    /* PAT_NET */
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
    /* PAT_DOMAIN: lower case, no trailing dot; subdomains_only for ".x" */
    char *domain;
    int subdomains_only;
    table *tab;
};

struct match_list {
    int is_domain;
    int parent_matches;
    struct pattern *p;
    size_t n, cap;
};

static struct pattern *pattern_add(match_list *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->p = xreallocarray(l->p, l->cap, sizeof(*l->p));
    }
    memset(&l->p[l->n], 0, sizeof(l->p[0]));
    return &l->p[l->n++];
}

/* Numeric address, with optional [brackets] and optional /prefix (inside or
 * outside the brackets).  Returns 1 parsed, 0 not an address, -1 an
 * address with an error (in err). */
static int net_parse(const char *text, struct pattern *pat, vstr *err)
{
    char *s = xstrdup(text), *addr = s, *slash, *end;
    int bracketed = 0, rc = 0;
    long prefix = -1;

    if (*addr == '[') {
        char *close = strchr(addr, ']');
        if (close == NULL) {
            vstr_printf(err, "missing ']' in \"%.100s\"", text);
            free(s);
            return -1;
        }
        bracketed = 1;
        addr++;
        if (close[1] == '/') {
            /* "[addr]/len": move the prefix inside */
            memmove(close, close + 1, strlen(close + 1) + 1);
        } else if (close[1] != 0) {
            vstr_printf(err, "text after ']' in \"%.100s\"", text);
            free(s);
            return -1;
        } else {
            *close = 0;
        }
    }
    slash = strchr(addr, '/');
    if (slash) {
        *slash = 0;
        errno = 0;
        if (!isdigit((unsigned char) slash[1])) {
            prefix = -2;
        } else {
            prefix = strtol(slash + 1, &end, 10);
            if (*end || errno)
                prefix = -2;
        }
    }
    if (inet_pton(AF_INET, addr, pat->addr) == 1 && !bracketed) {
        pat->family = AF_INET;
    } else if (inet_pton(AF_INET6, addr, pat->addr) == 1) {
        pat->family = AF_INET6;
    } else {
        if (bracketed) {
            vstr_printf(err, "bad IPv6 address in \"%.100s\"", text);
            rc = -1;
        }
        free(s);
        return rc;
    }
    int bits = pat->family == AF_INET ? 32 : 128;
    if (prefix == -2 || prefix > bits) {
        vstr_printf(err, "bad network prefix length in \"%.100s\" (0 to %d)", text, bits);
        free(s);
        return -1;
    }
    pat->prefix = prefix < 0 ? bits : (int) prefix;
    /* Like Postfix: 10.1.2.3/8 is probably a mistake for 10.0.0.0/8 */
    for (int b = pat->prefix; b < bits; b++) {
        if (pat->addr[b / 8] & (0x80 >> (b % 8))) {
            vstr_printf(err, "non-null host address bits in \"%.100s\"", text);
            free(s);
            return -1;
        }
    }
    pat->kind = PAT_NET;
    free(s);
    return 1;
}

static int looks_like_table(const char *s)
{
    const char *p = s;

    while (isalnum((unsigned char) *p) || *p == '_')
        p++;
    return p > s && *p == ':';
}

static char *domain_normalize(const char *s)
{
    char *d = xstrdup(s);
    size_t len = strlen(d);

    for (char *p = d; *p; p++)
        *p = (char) tolower((unsigned char) *p);
    while (len > 0 && d[len - 1] == '.')
        d[--len] = 0;
    return d;
}

static int list_add_text(match_list *l, const char *text, const char *where, int negate_all,
                         int depth, vstr *err);

static int file_include(match_list *l, const char *path, int negate, int depth, vstr *err)
{
    int fd;
    vstr *text;
    char buf[8192];
    ssize_t n;
    int rc;

    if (depth >= INCLUDE_MAX_DEPTH) {
        vstr_printf(err, "%s: files included more than %d levels deep", path, INCLUDE_MAX_DEPTH);
        return -1;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        vstr_printf(err, "open %s: %s", path, strerror(errno));
        return -1;
    }
    text = vstr_new(1024);
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || text->len + (size_t) n > INCLUDE_MAX_SIZE) {
            vstr_printf(err, "read %s: %s", path, n < 0 ? strerror(errno) : "file too large");
            close(fd);
            vstr_free(text);
            return -1;
        }
        vstr_append(text, buf, (size_t) n);
    }
    close(fd);
    /* drop comment lines, then treat the rest as one list */
    vstr *clean = vstr_new(text->len + 1);
    for (char *line = vstr_str(text), *next; line && *line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = 0;
        char *q = line;
        while (isspace((unsigned char) *q))
            q++;
        if (*q == '#')
            continue;
        vstr_puts(clean, line);
        vstr_putc(clean, '\n');
    }
    rc = list_add_text(l, vstr_str(clean), path, negate, depth + 1, err);
    vstr_free(clean);
    vstr_free(text);
    return rc;
}

static int pattern_compile(match_list *l, const char *tok, const char *where, int negate_all,
                           int depth, vstr *err)
{
    int negate = negate_all;
    struct pattern pat;
    int rc;

    while (*tok == '!') {
        negate = !negate;
        tok++;
    }
    if (*tok == 0) {
        vstr_printf(err, "%s: \"!\" without a pattern", where);
        return -1;
    }
    if (*tok == '/')
        return file_include(l, tok, negate, depth, err);
    if (l->n >= PATTERN_MAX) {
        vstr_printf(err, "%s: more than %d patterns", where, PATTERN_MAX);
        return -1;
    }
    memset(&pat, 0, sizeof(pat));
    pat.negate = negate;
    if (!l->is_domain) {
        rc = net_parse(tok, &pat, err);
        if (rc < 0) {
            vstr_printf(err, " (in %s)", where);
            return -1;
        }
        if (rc == 0 && !looks_like_table(tok)) {
            vstr_printf(err, "%s: \"%.100s\" is not an IP address, network/prefix or type:table",
                        where, tok);
            return -1;
        }
    }
    if (pat.kind != PAT_NET && looks_like_table(tok)) {
        pat.kind = PAT_TABLE;
        pat.tab = table_open(tok, 0, err);
        if (pat.tab == NULL) {
            vstr_printf(err, " (in %s)", where);
            return -1;
        }
    } else if (l->is_domain) {
        pat.kind = PAT_DOMAIN;
        if (*tok == '.') {
            pat.subdomains_only = 1;
            tok++;
        }
        pat.domain = domain_normalize(tok);
        if (*pat.domain == 0 || strchr(pat.domain, '[') || strchr(pat.domain, '{')) {
            vstr_printf(err, "%s: bad domain pattern \"%.100s\"", where, tok);
            free(pat.domain);
            return -1;
        }
    }
    *pattern_add(l) = pat;
    return 0;
}

static int list_add_text(match_list *l, const char *text, const char *where, int negate_all,
                         int depth, vstr *err)
{
    argv_t *toks = table_split(text, err);

    if (toks == NULL) {
        vstr_printf(err, " (in %s)", where);
        return -1;
    }
    for (size_t i = 0; i < toks->n; i++) {
        if (pattern_compile(l, toks->v[i], where, negate_all, depth, err) < 0) {
            argv_free(toks);
            return -1;
        }
    }
    argv_free(toks);
    return 0;
}

static match_list *list_new(const char *spec, int is_domain, int parent_matches, vstr *err)
{
    match_list *l = xcalloc(1, sizeof(*l));

    l->is_domain = is_domain;
    l->parent_matches = parent_matches;
    if (list_add_text(l, spec, "match list", 0, 0, err) < 0) {
        match_list_free(l);
        return NULL;
    }
    return l;
}

match_list *match_list_addr(const char *spec, vstr *err)
{
    return list_new(spec, 0, 0, err);
}

match_list *match_list_domain(const char *spec, int parent_matches, vstr *err)
{
    return list_new(spec, 1, parent_matches, err);
}

static int net_match(const struct pattern *pat, int family, const unsigned char *addr)
{
    int full, rest;

    if (family != pat->family)
        return 0;
    full = pat->prefix / 8;
    rest = pat->prefix % 8;
    if (memcmp(addr, pat->addr, (size_t) full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char) (0xff << (8 - rest));
        if ((addr[full] & mask) != (pat->addr[full] & mask))
            return 0;
    }
    return 1;
}

int match_list_match_addr(const match_list *l, const char *addr)
{
    unsigned char bin[16];
    int family;
    char *a = xstrdup(addr), *p = a, *pct;
    char v4[INET_ADDRSTRLEN];
    size_t len;
    vstr *result = NULL;
    int matched = 0;

    if (*p == '[') {
        p++;
        len = strlen(p);
        if (len > 0 && p[len - 1] == ']')
            p[len - 1] = 0;
    }
    if (strncasecmp(p, "ipv6:", 5) == 0)
        p += 5;
    if ((pct = strchr(p, '%')) != NULL)
        *pct = 0;       /* scope id */
    if (inet_pton(AF_INET, p, bin) == 1) {
        family = AF_INET;
    } else if (inet_pton(AF_INET6, p, bin) == 1) {
        family = AF_INET6;
        /* an IPv4-mapped address matches IPv4 patterns */
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(bin, mapped, 12) == 0) {
            memmove(bin, bin + 12, 4);
            family = AF_INET;
            if (inet_ntop(AF_INET, bin, v4, sizeof(v4)))
                p = v4;
        }
    } else {
        free(a);
        return 0;
    }
    for (size_t i = 0; i < l->n; i++) {
        const struct pattern *pat = &l->p[i];
        int hit = 0;

        if (pat->kind == PAT_NET) {
            hit = net_match(pat, family, bin);
        } else if (pat->kind == PAT_TABLE) {
            if (result == NULL)
                result = vstr_new(64);
            hit = table_lookup(pat->tab, p, result) == 1;
        }
        if (hit) {
            matched = !pat->negate;
            break;
        }
    }
    if (result)
        vstr_free(result);
    free(a);
    return matched;
}

static int domain_table_match(const match_list *l, table *tab, const char *d, vstr *result)
{
    vstr *key;
    int hit = 0;

    if (table_lookup(tab, d, result) == 1)
        return 1;
    key = vstr_new(64);
    for (const char *p = strchr(d, '.'); p && !hit; p = strchr(p + 1, '.')) {
        vstr_set(key, p);    /* ".parent.domain" */
        hit = table_lookup(tab, vstr_str(key), result) == 1;
        if (!hit && l->parent_matches && p[1])
            hit = table_lookup(tab, p + 1, result) == 1;
    }
    vstr_free(key);
    return hit;
}

int match_list_match_domain(const match_list *l, const char *domain)
{
    char *d = domain_normalize(domain);
    size_t dlen = strlen(d);
    vstr *result = NULL;
    int matched = 0;

    for (size_t i = 0; i < l->n; i++) {
        const struct pattern *pat = &l->p[i];
        int hit = 0;

        if (pat->kind == PAT_DOMAIN) {
            size_t plen = strlen(pat->domain);
            int exact = strcmp(d, pat->domain) == 0;
            int sub = dlen > plen && d[dlen - plen - 1] == '.'
                      && strcmp(d + dlen - plen, pat->domain) == 0;
            hit = pat->subdomains_only ? sub : exact || (l->parent_matches && sub);
        } else if (pat->kind == PAT_TABLE) {
            if (result == NULL)
                result = vstr_new(64);
            hit = domain_table_match(l, pat->tab, d, result);
        }
        if (hit) {
            matched = !pat->negate;
            break;
        }
    }
    if (result)
        vstr_free(result);
    free(d);
    return matched;
}

void match_list_free(match_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->p[i].domain);
        table_close(l->p[i].tab);
    }
    free(l->p);
    free(l);
}

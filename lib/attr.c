/* The inter-process codec: lists of NAME NUL VALUE NUL ended by an empty
 * name.  The reader bounds the count and every length before it stores
 * anything, checks names against the caller's spec (unknown, duplicate,
 * missing), and reads the list to its end even when it will report a
 * semantic error, so the connection stays in step; only a broken length
 * cap ends the conversation.  The writer refuses what the reader would
 * refuse, and also CR/LF in values, so forged lines cannot be injected. */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "attr.h"
#include "log.h"
#include "mem.h"

struct attr {
    char *name;
    char *value;
};

struct attr_list {
    struct attr *a;
    size_t n;
    size_t cap;
};

attr_list *attr_list_new(void)
{
    return xcalloc(1, sizeof(attr_list));
}

void attr_list_reset(attr_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->a[i].name);
        free(l->a[i].value);
    }
    l->n = 0;
}

void attr_list_free(attr_list *l)
{
    if (l == NULL)
        return;
    attr_list_reset(l);
    free(l->a);
    free(l);
}

static void attr_add_n(attr_list *l, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;

        l->a = xreallocarray(l->a, cap, sizeof(struct attr));
        l->cap = cap;
    }
    l->a[l->n].name = xstrndup(name, nlen);
    l->a[l->n].value = xstrndup(value, vlen);
    l->n++;
}

void attr_add(attr_list *l, const char *name, const char *value)
{
    attr_add_n(l, name, strlen(name), value, strlen(value));
}

void attr_addf(attr_list *l, const char *name, const char *fmt, ...)
{
    vstr *tmp = vstr_new(64);
    va_list ap;

    va_start(ap, fmt);
    vstr_vprintf(tmp, fmt, ap);
    va_end(ap);
    attr_add_n(l, name, strlen(name), vstr_str(tmp), vstr_len(tmp));
    vstr_free(tmp);
}

void attr_add_long(attr_list *l, const char *name, long value)
{
    attr_addf(l, name, "%ld", value);
}

size_t attr_count(const attr_list *l)
{
    return l->n;
}

const char *attr_name(const attr_list *l, size_t i)
{
    return i < l->n ? l->a[i].name : NULL;
}

const char *attr_value(const attr_list *l, size_t i)
{
    return i < l->n ? l->a[i].value : NULL;
}

const char *attr_get(const attr_list *l, const char *name)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (strcmp(l->a[i].name, name) == 0)
            return l->a[i].value;
    return NULL;
}

int attr_get_long(const attr_list *l, const char *name, long min, long max, long *out)
{
    const char *v = attr_get(l, name);
    char *end;
    long n;

    if (v == NULL || *v == '\0' || !(*v == '-' || (*v >= '0' && *v <= '9')))
        return -1;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

/* Names: 1..ATTR_MAX_NAME of [a-z0-9_]. */
static int name_valid(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > ATTR_MAX_NAME)
        return 0;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

static int value_valid(const char *s, size_t len)
{
    return len <= ATTR_MAX_VALUE && memchr(s, '\n', len) == NULL && memchr(s, '\r', len) == NULL
           && memchr(s, '\0', len) == NULL;
}

static void set_err(vstr *err, const char *what, const char *name, size_t nlen)
{
    char safe[ATTR_MAX_NAME + 8];

    if (err == NULL)
        return;
    vstr_reset(err);
    if (name == NULL) {
        vstr_puts(err, what);
    } else {
        log_printable(safe, sizeof(safe), name, nlen);
        vstr_printf(err, "%s \"%s\"", what, safe);
    }
}

static const struct attr_spec *spec_find(const struct attr_spec *spec, const char *name, size_t nlen)
{
    for (; spec->name != NULL; spec++)
        if (strlen(spec->name) == nlen && memcmp(spec->name, name, nlen) == 0)
            return spec;
    return NULL;
}

static int list_has(const attr_list *l, const char *name, size_t nlen)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (strlen(l->a[i].name) == nlen && memcmp(l->a[i].name, name, nlen) == 0)
            return 1;
    return 0;
}

/* Take one received attribute.  After the first semantic error (*bad set,
 * reason in err) nothing more is stored, but the caller keeps reading to
 * the end of the list. */
static void accept_attr(attr_list *out, const struct attr_spec *spec, const char *name, size_t nlen,
                        const char *value, size_t vlen, int *bad, vstr *err)
{
    const struct attr_spec *sp = NULL;

    if (*bad)
        return;
    if (!name_valid(name, nlen)) {
        set_err(err, "invalid attribute name", name, nlen);
    } else if (!value_valid(value, vlen)) {
        set_err(err, "invalid value for attribute", name, nlen);
    } else if (spec != NULL && (sp = spec_find(spec, name, nlen)) == NULL) {
        set_err(err, "unexpected attribute", name, nlen);
    } else if ((sp == NULL || !(sp->flags & ATTR_REPEAT)) && list_has(out, name, nlen)) {
        set_err(err, "duplicate attribute", name, nlen);
    } else {
        attr_add_n(out, name, nlen, value, vlen);
        return;
    }
    *bad = 1;
}

static int check_required(const attr_list *out, const struct attr_spec *spec, vstr *err)
{
    if (spec == NULL)
        return 0;
    for (; spec->name != NULL; spec++) {
        if ((spec->flags & ATTR_REQUIRED) && attr_get(out, spec->name) == NULL) {
            set_err(err, "missing attribute", spec->name, strlen(spec->name));
            return -1;
        }
    }
    return 0;
}

int attr_encode(vstr *out, const attr_list *l)
{
    size_t i;

    if (l->n > ATTR_MAX_COUNT)
        return -1;
    for (i = 0; i < l->n; i++)
        if (!name_valid(l->a[i].name, strlen(l->a[i].name))
            || !value_valid(l->a[i].value, strlen(l->a[i].value)))
            return -1;
    for (i = 0; i < l->n; i++) {
        vstr_append(out, l->a[i].name, strlen(l->a[i].name) + 1);
        vstr_append(out, l->a[i].value, strlen(l->a[i].value) + 1);
    }
    vstr_putc(out, '\0');
    return 0;
}

int attr_write(stream *s, const attr_list *l)
{
    vstr *buf = vstr_new(256);
    int st;

    if (attr_encode(buf, l) != 0) {
        msg_warn("attr_write: refusing to send an attribute list with an invalid name or value");
        vstr_free(buf);
        errno = EINVAL;
        return STREAM_ERROR;
    }
    st = stream_write(s, vstr_str(buf), vstr_len(buf));
    vstr_free(buf);
    if (st != STREAM_OK)
        return st;
    return stream_flush(s);
}

ssize_t attr_parse(const void *buf, size_t len, attr_list *out, const struct attr_spec *spec,
                   vstr *err)
{
    const char *p = buf;
    const char *name, *value, *nul;
    size_t pos = 0, nlen, vlen, room, count = 0;
    int bad = 0;

    attr_list_reset(out);
    for (;;) {
        /* Name: look no further than the cap allows. */
        room = len - pos;
        nul = memchr(p + pos, '\0', room < ATTR_MAX_NAME + 1 ? room : ATTR_MAX_NAME + 1);
        if (nul == NULL) {
            if (room > ATTR_MAX_NAME) {
                set_err(err, "attribute name too long", NULL, 0);
                return -1;
            }
            return 0;
        }
        name = p + pos;
        nlen = (size_t) (nul - name);
        pos += nlen + 1;
        if (nlen == 0)
            break;
        if (++count > ATTR_MAX_COUNT) {
            set_err(err, "too many attributes", NULL, 0);
            return -1;
        }
        room = len - pos;
        nul = memchr(p + pos, '\0', room < ATTR_MAX_VALUE + 1 ? room : ATTR_MAX_VALUE + 1);
        if (nul == NULL) {
            if (room > ATTR_MAX_VALUE) {
                set_err(err, "attribute value too long", name, nlen);
                return -1;
            }
            return 0;
        }
        value = p + pos;
        vlen = (size_t) (nul - value);
        pos += vlen + 1;
        accept_attr(out, spec, name, nlen, value, vlen, &bad, err);
    }
    if (bad || check_required(out, spec, err) != 0)
        return -1;
    return (ssize_t) pos;
}

/* Read one NUL-terminated string of at most max bytes into v. */
static int read_string(stream *s, vstr *v, size_t max)
{
    int c;

    vstr_reset(v);
    for (;;) {
        c = stream_getc(s);
        if (c < 0)
            return c;
        if (c == 0)
            return STREAM_OK;
        if (vstr_len(v) >= max)
            return STREAM_TOOLONG;
        vstr_putc(v, c);
    }
}

int attr_read(stream *s, attr_list *out, const struct attr_spec *spec, vstr *err)
{
    vstr *name = vstr_new(ATTR_MAX_NAME + 1);
    vstr *value = vstr_new(256);
    size_t count = 0;
    int bad = 0, st, ret;

    attr_list_reset(out);
    for (;;) {
        st = read_string(s, name, ATTR_MAX_NAME);
        if (st == STREAM_TOOLONG) {
            set_err(err, "attribute name too long", NULL, 0);
            ret = -1;
            goto done;
        }
        if (st != STREAM_OK) {
            if (err != NULL)
                vstr_set(err, stream_strerror(st));
            ret = st;
            goto done;
        }
        if (vstr_len(name) == 0)
            break;
        if (++count > ATTR_MAX_COUNT) {
            set_err(err, "too many attributes", NULL, 0);
            ret = -1;
            goto done;
        }
        st = read_string(s, value, ATTR_MAX_VALUE);
        if (st == STREAM_TOOLONG) {
            set_err(err, "attribute value too long", vstr_str(name), vstr_len(name));
            ret = -1;
            goto done;
        }
        if (st != STREAM_OK) {
            if (err != NULL)
                vstr_set(err, stream_strerror(st));
            ret = st;
            goto done;
        }
        accept_attr(out, spec, vstr_str(name), vstr_len(name), vstr_str(value), vstr_len(value),
                    &bad, err);
    }
    ret = (bad || check_required(out, spec, err) != 0) ? -1 : 0;
done:
    vstr_free(name);
    vstr_free(value);
    return ret;
}

void attr_announce_encode(vstr *out, const char *protocol, int version)
{
    attr_list *l = attr_list_new();

    attr_add(l, "protocol", protocol);
    attr_add_long(l, "version", version);
    if (attr_encode(out, l) != 0)
        msg_panic("attr_announce_encode: invalid protocol name \"%s\"", protocol);
    attr_list_free(l);
}

int attr_announce(stream *s, const char *protocol, int version)
{
    vstr *buf = vstr_new(64);
    int st;

    attr_announce_encode(buf, protocol, version);
    st = stream_write(s, vstr_str(buf), vstr_len(buf));
    vstr_free(buf);
    return st != STREAM_OK ? st : stream_flush(s);
}

static const struct attr_spec announce_spec[] = {
    {"protocol", ATTR_REQUIRED},
    {"version", ATTR_REQUIRED},
    {NULL, 0},
};

int attr_check_announce(const attr_list *l, const char *protocol, int version, vstr *err)
{
    const char *got = attr_get(l, "protocol");
    long v;

    if (got == NULL || strcmp(got, protocol) != 0
        || attr_get_long(l, "version", 0, INT_MAX, &v) != 0 || v != version) {
        if (err != NULL) {
            char safe[128];
            const char *gotv = attr_get(l, "version");

            vstr_reset(err);
            vstr_printf(err, "expected protocol %s version %d, got ", protocol, version);
            log_printable(safe, sizeof(safe), got ? got : "(none)", strlen(got ? got : "(none)"));
            vstr_printf(err, "%s version ", safe);
            log_printable(safe, sizeof(safe), gotv ? gotv : "(none)", strlen(gotv ? gotv : "(none)"));
            vstr_puts(err, safe);
        }
        return -1;
    }
    return 0;
}

int attr_expect(stream *s, const char *protocol, int version, vstr *err)
{
    attr_list *l = attr_list_new();
    int st = attr_read(s, l, announce_spec, err);

    if (st == 0)
        st = attr_check_announce(l, protocol, version, err);
    attr_list_free(l);
    return st;
}

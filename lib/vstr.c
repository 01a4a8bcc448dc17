/* Growable strings with an explicit length.  The buffer always has room
 * for a terminating NUL after len bytes, so vstr_str() doubles as a C
 * string while binary data (with NULs) stays intact. */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "mem.h"
#include "vstr.h"

vstr *vstr_new(size_t hint)
{
    vstr *v = xmalloc(sizeof(*v));

    if (hint < 16)
        hint = 16;
    if (hint == SIZE_MAX)
        msg_panic("vstr_new: size overflow");
    v->cap = hint;
    v->data = xmalloc(v->cap + 1);
    v->len = 0;
    v->data[0] = '\0';
    return v;
}

void vstr_free(vstr *v)
{
    if (v == NULL)
        return;
    free(v->data);
    free(v);
}

void vstr_reset(vstr *v)
{
    v->len = 0;
    v->data[0] = '\0';
}

void vstr_truncate(vstr *v, size_t len)
{
    if (len < v->len) {
        v->len = len;
        v->data[len] = '\0';
    }
}

void vstr_reserve(vstr *v, size_t extra)
{
    size_t need;

    if (extra > SIZE_MAX - 1 - v->len)
        msg_fatal("vstr_reserve: size overflow");
    need = v->len + extra;
    if (need <= v->cap)
        return;
    /* Grow geometrically so appending n bytes costs O(n) overall. */
    size_t cap = v->cap;
    while (cap < need)
        cap = cap > (SIZE_MAX - 1) / 2 ? need : cap * 2;
    v->data = xrealloc(v->data, cap + 1);
    v->cap = cap;
}

void vstr_append(vstr *v, const void *p, size_t n)
{
    if (n == 0)
        return;
    vstr_reserve(v, n);
    memmove(v->data + v->len, p, n);
    v->len += n;
    v->data[v->len] = '\0';
}

void vstr_puts(vstr *v, const char *s)
{
    vstr_append(v, s, strlen(s));
}

void vstr_putc(vstr *v, int c)
{
    vstr_reserve(v, 1);
    v->data[v->len++] = (char) c;
    v->data[v->len] = '\0';
}

void vstr_vprintf(vstr *v, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(v->data + v->len, v->cap - v->len + 1, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        msg_panic("vstr_vprintf: bad format \"%s\"", fmt);
    if ((size_t) n > v->cap - v->len) {
        vstr_reserve(v, (size_t) n);
        n = vsnprintf(v->data + v->len, v->cap - v->len + 1, fmt, ap);
        if (n < 0)
            msg_panic("vstr_vprintf: bad format \"%s\"", fmt);
    }
    v->len += (size_t) n;
}

void vstr_printf(vstr *v, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstr_vprintf(v, fmt, ap);
    va_end(ap);
}

void vstr_set(vstr *v, const char *s)
{
    vstr_setn(v, s, strlen(s));
}

void vstr_setn(vstr *v, const void *p, size_t n)
{
    if (p >= (const void *) v->data && p < (const void *) (v->data + v->cap + 1)) {
        /* Source inside our own buffer: move it down. */
        memmove(v->data, p, n);
        v->len = n;
        v->data[n] = '\0';
        return;
    }
    vstr_reset(v);
    vstr_append(v, p, n);
}

char *vstr_export(vstr *v)
{
    char *s = v->data;

    free(v);
    return s;
}

/* Growable, length-carrying strings.  The data is always NUL-terminated
 * (so vstr_str() is usable as a C string) but may also hold NUL bytes;
 * protocol code uses ->len, never strlen(). */
#ifndef POSTHORN_VSTR_H
#define POSTHORN_VSTR_H
#include <stdarg.h>
#include <stddef.h>

typedef struct vstr {
    char *data;
    size_t len;
    size_t cap;
} vstr;

vstr *vstr_new(size_t hint);
void vstr_free(vstr *v);
void vstr_reset(vstr *v);                       /* len = 0 */
void vstr_truncate(vstr *v, size_t len);        /* len = min(len, v->len) */
void vstr_reserve(vstr *v, size_t extra);       /* room for extra more bytes */
void vstr_append(vstr *v, const void *p, size_t n);
void vstr_puts(vstr *v, const char *s);
void vstr_putc(vstr *v, int c);
void vstr_printf(vstr *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));  /* appends */
void vstr_vprintf(vstr *v, const char *fmt, va_list ap);
void vstr_set(vstr *v, const char *s);          /* replace contents */
void vstr_setn(vstr *v, const void *p, size_t n);
#define vstr_str(v) ((v)->data)
#define vstr_len(v) ((v)->len)
/* Give up the buffer (caller frees with free()); the vstr is freed. */
char *vstr_export(vstr *v);

#endif

/* Allocation that never returns NULL to callers: out of memory is fatal
 * (logged, exit), so no caller carries an unchecked-NULL path.  Size
 * arithmetic is overflow-checked here, once. */
#ifndef POSTHORN_MEM_H
#define POSTHORN_MEM_H
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Free and clear a pointer (NULL-safe). */
#define xfree(p) do { free(p); (p) = NULL; } while (0)

#endif

/* Allocation wrappers: every allocation either succeeds or ends the
 * process through msg_fatal, and multiplications are overflow-checked
 * here so callers never do size arithmetic by hand. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "mem.h"

static void out_of_memory(size_t size)
{
    msg_fatal("out of memory allocating %zu bytes", size);
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p;

    if (n == 0 || size == 0)
        n = size = 1;
    p = calloc(n, size);
    if (p == NULL)
        out_of_memory(n * size);
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *xreallocarray(void *ptr, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        msg_fatal("allocation size overflow: %zu * %zu", n, size);
    return xrealloc(ptr, n * size);
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p;

    if (len == SIZE_MAX)
        out_of_memory(len);
    p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* Growable NULL-terminated string lists: argument vectors for exec and
 * the parsed form of main.cf list parameters. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "argv.h"
#include "mem.h"

argv_t *argv_new(void)
{
    argv_t *a = xmalloc(sizeof(*a));

    a->cap = 8;
    a->n = 0;
    a->v = xreallocarray(NULL, a->cap, sizeof(char *));
    a->v[0] = NULL;
    return a;
}

void argv_free(argv_t *a)
{
    size_t i;

    if (a == NULL)
        return;
    for (i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    free(a);
}

void argv_addn(argv_t *a, const char *s, size_t len)
{
    /* Keep one slot for the terminating NULL. */
    if (a->n + 1 >= a->cap) {
        a->v = xreallocarray(a->v, a->cap * 2, sizeof(char *));
        a->cap *= 2;
    }
    a->v[a->n++] = xstrndup(s, len);
    a->v[a->n] = NULL;
}

void argv_add(argv_t *a, const char *s)
{
    argv_addn(a, s, strlen(s));
}

argv_t *argv_split(const char *s, const char *delims)
{
    argv_t *a = argv_new();
    size_t len;

    for (;;) {
        s += strspn(s, delims);
        if (*s == '\0')
            break;
        len = strcspn(s, delims);
        argv_addn(a, s, len);
        s += len;
    }
    return a;
}

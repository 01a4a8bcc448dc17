/* NULL-terminated, growable lists of strings (argument vectors and the
 * comma/space separated lists of main.cf). */
#ifndef POSTHORN_ARGV_H
#define POSTHORN_ARGV_H
#include <stddef.h>

typedef struct argv_t {
    char **v;       /* v[n] == NULL */
    size_t n;
    size_t cap;
} argv_t;

argv_t *argv_new(void);
void argv_free(argv_t *a);
void argv_add(argv_t *a, const char *s);        /* copies s */
void argv_addn(argv_t *a, const char *s, size_t len);
/* Split s at any of delims, dropping empty fields. */
argv_t *argv_split(const char *s, const char *delims);
/* The list syntax of main.cf: separated by commas and/or whitespace. */
#define LIST_DELIMS ", \t\r\n"

#endif

// sources:
/* libFuzzer target for lib/header_addr.c: any bytes as an address-list
 * header value, with a small and a large address cap, and the display
 * name quoting. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "argv.h"
#include "header_addr.h"
#include "mem.h"
#include "vstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    argv_t *a = argv_new();
    vstr *v = vstr_new(64);
    size_t bad = 0, n;
    char *s;

    n = header_addr_parse((const char *)data, size, size > 0 ? data[0] % 8 : 3, a, &bad);
    if (n != a->n)
        __builtin_trap();
    for (size_t i = 0; i < a->n; i++)
        if (strlen(a->v[i]) == 0 || strlen(a->v[i]) > HEADER_ADDR_MAX_LEN)
            __builtin_trap();
    argv_free(a);
    a = argv_new();
    (void)header_addr_parse((const char *)data, size, 1000, a, &bad);
    argv_free(a);
    s = xstrndup((const char *)data, size);
    header_addr_quote_phrase(v, s);
    free(s);
    vstr_free(v);
    return 0;
}

// sources:
/* libFuzzer target for the status log reader (status_log_parse): any
 * bytes must be rejected cleanly or parsed into entries that re-encode to
 * an image that parses back to the same entries; nothing may crash, leak
 * or read out of bounds. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "status_log.h"
#include "vstr.h"

static int same(const struct status_entry *a, const struct status_entry *b)
{
    return strcmp(a->rcpt, b->rcpt) == 0 && strcmp(a->orcpt, b->orcpt) == 0
           && a->notify == b->notify && a->offset == b->offset
           && strcmp(a->status, b->status) == 0 && strcmp(a->action, b->action) == 0
           && strcmp(a->relay, b->relay) == 0 && strcmp(a->reason, b->reason) == 0
           && a->when == b->when;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct status_entry *e = NULL, *e2 = NULL;
    size_t n = 0, n2 = 0, i;
    vstr *err = vstr_new(64);
    vstr *img;

    if (status_log_parse((const char *)data, size, &e, &n, err) == 0) {
        img = vstr_new(size + 16);
        for (i = 0; i < n; i++)
            status_log_encode(img, &e[i]);
        if (status_log_parse(vstr_str(img), vstr_len(img), &e2, &n2, err) != 0 || n2 != n)
            abort();
        for (i = 0; i < n; i++)
            if (!same(&e[i], &e2[i]))
                abort();
        status_log_free(e2, n2);
        vstr_free(img);
    } else if (e != NULL || n != 0) {
        abort();
    }
    status_log_free(e, n);
    vstr_free(err);
    return 0;
}

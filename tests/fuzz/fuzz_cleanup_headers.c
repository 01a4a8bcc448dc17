// sources: cleanup/cleanup_headers.c
/* libFuzzer target for cleanup's header scanner: the input is split into
 * lines at "\n" and fed to hdr_scan_line() until the header ends, as
 * cleanup does with a client's content records; the collected
 * Message-ID must stay bounded. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup/cleanup_headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *end = p + size;
    const char *nl;
    size_t vlen;
    hdr_scan h;
    enum hdr_kind kind;

    hdr_scan_init(&h);
    while (p < end) {
        nl = memchr(p, '\n', end - p);
        if (nl == NULL)
            nl = end;
        (void)hdr_field_value(p, nl - p, "from", &vlen);
        kind = hdr_scan_line(&h, p, nl - p);
        if (kind == HDR_KIND_EMPTY || kind == HDR_KIND_OTHER)
            break;
        p = nl + 1;
    }
    if (strlen(hdr_scan_msgid(&h)) > HDR_MSGID_MAX)
        abort();
    hdr_scan_free(&h);
    return 0;
}

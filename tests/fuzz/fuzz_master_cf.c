/* libFuzzer target: master.cf text through the service parser (no
 * sources beyond lib/). */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include "master_cf.h"
#include "mem.h"
#include "vstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *) data, size);
    vstr *err = vstr_new(64);
    struct master_service *svcs;
    size_t n;

    if (master_cf_parse_text(text, "master.cf", &svcs, &n, err) == 0)
        master_cf_free(svcs, n);
    free(text);
    vstr_free(err);
    return 0;
}

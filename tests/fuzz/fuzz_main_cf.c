/* libFuzzer target: main.cf text through the parser, validation and
 * $name expansion of every value (no sources beyond lib/). */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "mem.h"
#include "params.h"
#include "vstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *) data, size);
    vstr *err = vstr_new(64), *out = vstr_new(64);
    const char *name;

    config_load_text(text, "main.cf", err);
    vstr_reset(err);
    config_validate(err);
    config_unknown_names();
    for (unsigned i = 0; (name = config_set_name(i)) != NULL; i++) {
        vstr_reset(out);
        vstr_reset(err);
        config_expand(out, config_raw(name), err);
    }
    /* the raw text as a value, too */
    vstr_reset(out);
    config_expand(out, text, err);
    free(text);
    vstr_free(err);
    vstr_free(out);
    return 0;
}

// sources: postcat/postcat_print.c
/* libFuzzer target for postcat's printer: arbitrary bytes as a queue file
 * must be printed or rejected with an error naming an offset, for every
 * choice of sections, without a crash or an out-of-bounds read. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "postcat/postcat.h"
#include "stream.h"
#include "vstr.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    static const int choices[] = {POSTCAT_ALL, POSTCAT_ENVELOPE, POSTCAT_HEADER, POSTCAT_BODY};
    vstr *err = vstr_new(64);
    size_t i;

    if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
        abort();
    for (i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
        int fd = input_fd(data, size);
        stream *s = stream_fdopen(dup(fd));
        int ret;

        vstr_reset(err);
        ret = postcat_print(s, devnull, "fuzz", choices[i], err);
        stream_close(s);
        /* Every rejection says where. */
        if (ret < 0 && strstr(vstr_str(err), "offset") == NULL)
            abort();
    }
    vstr_free(err);
    return 0;
}

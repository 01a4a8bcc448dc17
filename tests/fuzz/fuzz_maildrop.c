/* libFuzzer target for maildrop files (lib/maildrop.h), the hostile input
 * of pickup and postdrop: arbitrary bytes are validated from a buffer in
 * both modes and read back through a stream with maildrop_read_info; the
 * buffer validator and the stream reader must agree, and nothing may
 * crash, leak or read out of bounds.  The first input byte picks small
 * or default limits so the size and count checks are reached too. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "maildrop.h"
#include "vstr.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct maildrop_limits lim;
    struct maildrop_info info;
    vstr *why = vstr_new(64);
    int file_ok, read_ok;

    if (size == 0) {
        vstr_free(why);
        return 0;
    }
    maildrop_limits_init(&lim, (data[0] & 1) ? 200 : 10240000);
    lim.max_rcpts = (data[0] & 2) ? 2 : MAILDROP_RCPT_MAX;
    data++;
    size--;
    (void)maildrop_validate(data, size, MAILDROP_SUBMISSION, &lim, why);
    file_ok = maildrop_validate(data, size, MAILDROP_FILE, &lim, why) == 0;
    read_ok = maildrop_read_info(input_fd(data, size), &lim, 5, &info, why) == 0;
    if (file_ok != read_ok)
        abort();
    if (read_ok) {
        if (info.sender == NULL || info.rcpts == NULL || (long)info.rcpts->n != info.rcpt_count
            || info.size != (long long)size || info.uid < 0 || info.time_sec < 0)
            abort();
        maildrop_info_free(&info);
    }
    vstr_free(why);
    return 0;
}

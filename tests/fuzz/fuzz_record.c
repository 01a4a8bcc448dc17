/* libFuzzer target for queue file records: arbitrary bytes are parsed
 * record by record from a buffer (rec_parse) and from a stream (rec_get);
 * both readers must agree on every record and on where the input stops
 * being valid, and neither may crash or read out of bounds. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include "record.h"
#include "stream.h"
#include "vstr.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vstr *rdata = vstr_new(0), *copy = vstr_new(0);
    stream *s = stream_fdopen(input_fd(data, size));
    size_t pos = 0;
    const char *pdata;
    size_t plen;
    ssize_t n;
    off_t off;
    int ptype, stype, st;

    for (;;) {
        n = rec_parse(data + pos, size - pos, &ptype, &pdata, &plen);
        st = rec_get(s, &stype, rdata, &off);
        if (n > 0) {
            size_t consumed = (size_t) n;

            /* a complete record: the stream reader sees the same */
            if (st != REC_OK || stype != ptype || vstr_len(rdata) != plen
                || memcmp(vstr_str(rdata), pdata, plen) != 0 || off != (off_t) pos)
                abort();
            if (!rec_type_valid(ptype) || plen > REC_MAX_LEN || (size_t) n > size - pos)
                abort();
            /* re-encoding gives a record that parses back the same */
            vstr_reset(copy);
            rec_append(copy, ptype, pdata, plen);
            n = rec_parse(vstr_str(copy), vstr_len(copy), &stype, &pdata, &plen);
            if (n != (ssize_t) vstr_len(copy) || stype != ptype || plen != vstr_len(rdata))
                abort();
            pos += consumed;
            continue;
        }
        if (n == 0) {
            /* nothing left, or a record cut short */
            if (pos == size ? st != REC_EOF : st != REC_CORRUPT)
                abort();
        } else if (n == REC_CORRUPT) {
            if (st != REC_CORRUPT)
                abort();
        } else {
            abort();
        }
        break;
    }
    stream_free(s);     /* the file is reused */
    vstr_free(rdata);
    vstr_free(copy);
    return 0;
}

// sources: postqueue/showq_client.c postqueue/postqueue_format.c
/* libFuzzer target for postqueue's reader of the showq stream (any local
 * user's postqueue reads it from a socket): any bytes, fed whole or in
 * pieces, must be rejected cleanly or yield entries that the mailq and
 * JSON formatters can print; both feeds must agree; nothing may crash,
 * leak or read out of bounds. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "showq/showq_proto.h"
#include "vstr.h"

struct fuzz_ctx {
    showq_listing *listing;
    vstr *out;
    size_t count;
};

static void on_entry(const struct showq_entry *e, void *ctx)
{
    struct fuzz_ctx *fc = ctx;

    fc->count++;
    vstr_reset(fc->out);
    showq_listing_entry(fc->listing, e, fc->out);
    showq_json_entry(e, fc->out);
}

/* Feed data in pieces of the given size; returns the final status. */
static int run(const uint8_t *data, size_t size, size_t piece, size_t *count)
{
    struct fuzz_ctx fc = {showq_listing_new(), vstr_new(256), 0};
    showq_reader *r = showq_reader_new(on_entry, &fc);
    vstr *err = vstr_new(64);
    int status = 0;

    for (size_t off = 0; off < size && status >= 0; off += piece) {
        size_t n = size - off < piece ? size - off : piece;

        status = showq_reader_feed(r, data + off, n, err);
    }
    if (status == 0 && showq_reader_done(r))
        __builtin_trap();
    if (status == 1 && !showq_reader_done(r))
        __builtin_trap();
    if (status < 0 && vstr_len(err) == 0)
        __builtin_trap();
    vstr_reset(fc.out);
    showq_listing_end(fc.listing, fc.out);
    *count = fc.count;
    showq_reader_free(r);
    showq_listing_free(fc.listing);
    vstr_free(fc.out);
    vstr_free(err);
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t piece, whole_count, split_count;
    int whole, split;

    if (size < 1)
        return 0;
    piece = (size_t)(data[0] % 16) + 1;
    data++, size--;
    whole = run(data, size, size ? size : 1, &whole_count);
    split = run(data, size, piece, &split_count);
    if (whole != split || whole_count != split_count)
        __builtin_trap();
    return 0;
}

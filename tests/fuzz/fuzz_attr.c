/* libFuzzer target for the attribute list codec: arbitrary bytes are
 * parsed from a buffer (attr_parse) and from a stream (attr_read), with no
 * spec and with the strictest spec in use; the two readers must agree,
 * an accepted list must re-encode to bytes that parse back identically,
 * and nothing may crash or read out of bounds. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "attr.h"
#include "mail_proto.h"
#include "stream.h"
#include "vstr.h"
#include "fuzz_input.h"

static int same_lists(const attr_list *a, const attr_list *b)
{
    size_t i;

    if (attr_count(a) != attr_count(b))
        return 0;
    for (i = 0; i < attr_count(a); i++)
        if (strcmp(attr_name(a, i), attr_name(b, i)) != 0 || strcmp(attr_value(a, i), attr_value(b, i)) != 0)
            return 0;
    return 1;
}

static void check_one(const uint8_t *data, size_t size, const struct attr_spec *spec)
{
    attr_list *parsed = attr_list_new(), *read = attr_list_new(), *again = attr_list_new();
    vstr *err = vstr_new(0), *enc = vstr_new(0);
    stream *s = stream_fdopen(input_fd(data, size));
    ssize_t n = attr_parse(data, size, parsed, spec, err);
    int st = attr_read(s, read, spec, err);

    if (n > 0) {
        if (st != 0 || (size_t) n > size || stream_offset(s) != (off_t) n || !same_lists(parsed, read))
            abort();
        /* what was accepted re-encodes to exactly the bytes consumed */
        if (attr_encode(enc, parsed) != 0 || vstr_len(enc) != (size_t) n
            || memcmp(vstr_str(enc), data, (size_t) n) != 0)
            abort();
        if (attr_parse(vstr_str(enc), vstr_len(enc), again, spec, err) != n || !same_lists(parsed, again))
            abort();
        (void) attr_check_announce(parsed, "cleanup", 1, err);
    } else if (n == 0 || n == -1) {
        /* incomplete (EOF) or a protocol error: never success */
        if (st == 0)
            abort();
        if (n == -1 && vstr_len(err) == 0)
            abort();
    } else {
        abort();
    }
    stream_free(s);
    attr_list_free(parsed);
    attr_list_free(read);
    attr_list_free(again);
    vstr_free(err);
    vstr_free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_one(data, size, NULL);
    check_one(data, size, delivery_request_spec);
    return 0;
}

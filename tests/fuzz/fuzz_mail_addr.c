/* libFuzzer target for the address parser (lib/mail_addr.c): the first
 * byte picks the PATH_* flags, the rest is a MAIL FROM / RCPT TO argument.
 * A parsed address must be bounded, NUL-free, 8-bit only under
 * SMTPUTF8, and parse again to itself inside <>; the parameters after it
 * go through smtp_params_parse, and xtext must round-trip. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mail_addr.h"
#include "vstr.h"

static int count_param(const char *key, const char *value, void *ctx)
{
    size_t *n = ctx;

    if (key == NULL || *key == 0)
        abort();
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vstr *addr, *again, *wrapped, *x1, *x2;
    const char *s, *rest = NULL, *why = NULL;
    size_t len, nparams = 0;
    int flags;

    if (size == 0)
        return 0;
    flags = data[0] & (PATH_ALLOW_EMPTY | PATH_SMTPUTF8 | PATH_ALLOW_BARE);
    s = (const char *) data + 1;
    len = size - 1;
    addr = vstr_new(16);
    again = vstr_new(16);
    wrapped = vstr_new(16);
    x1 = vstr_new(16);
    x2 = vstr_new(16);

    if (smtp_path_parse(s, len, flags, addr, &rest, &why) == 0) {
        if (rest < s || rest > s + len)
            abort();
        if (addr->len > MAIL_ADDR_MAX || memchr(addr->data, 0, addr->len) != NULL)
            abort();
        if (!(flags & PATH_SMTPUTF8) && has_8bit(addr->data, addr->len))
            abort();
        if (addr->len == 0 && !(flags & PATH_ALLOW_EMPTY))
            abort();
        vstr_putc(wrapped, '<');
        vstr_append(wrapped, addr->data, addr->len);
        vstr_putc(wrapped, '>');
        if (smtp_path_parse(wrapped->data, wrapped->len, flags | PATH_ALLOW_EMPTY, again, &rest,
                            &why) != 0
            || again->len != addr->len || memcmp(again->data, addr->data, addr->len) != 0)
            abort();
        (void) mail_addr_domain(addr->data);
        mail_addr_local(again, addr->data);
        (void) smtp_params_parse(s, len, 32, count_param, &nparams);
        if (nparams > 32)
            abort();
    } else if (why == NULL) {
        abort();
    }

    /* xtext: decode(encode(b)) == b for any bytes. */
    xtext_encode(x1, s, len);
    if (xtext_decode(x2, x1->data, x1->len) != 0 || x2->len != len || memcmp(x2->data, s, len) != 0)
        abort();
    (void) xtext_decode(x2, s, len);
    (void) utf8_valid(s, len);

    vstr_free(addr);
    vstr_free(again);
    vstr_free(wrapped);
    vstr_free(x1);
    vstr_free(x2);
    return 0;
}

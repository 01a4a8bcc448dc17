// sources: local/local_parse.c local/local_util.c
/* libFuzzer target for local(8)'s forwarding parsers: the input is the
 * text of a .forward / :include: file (also an alias value); every
 * destination found is classified and commands are split; the input is
 * also a forward_path pattern, a header line for Delivered-To: and the
 * output of a command in a delivery status.  Checks: bounded results,
 * no NUL or control characters where they must not be. */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "argv.h"
#include "local/local_parse.h"
#include "local/local_util.h"
#include "vstr.h"

static int no_param(vstr *out, const char *name, size_t len)
{
    (void)out;
    (void)name;
    (void)len;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    argv_t *targets = argv_new();
    argv_t *args;
    vstr *err = vstr_new(32);
    vstr *out = vstr_new(32);
    vstr *reason = vstr_new(32);
    char *str = malloc(size + 1);
    struct forward_vars v = {"bob", "/home/bob", "/bin/sh", "bob+x", "x", "bob+x@example.org",
                             "example.org", "+", no_param};
    const char *dsn = NULL;
    size_t i, j;
    int rc;

    memcpy(str, data, size);
    str[size] = '\0';
    if (forward_text_parse(text, size, targets, err) == 0) {
        if (targets->n > LOCAL_MAX_TARGETS)
            abort();
        for (i = 0; i < targets->n; i++) {
            const char *t = targets->v[i];

            if (*t == '\0')
                abort();
            if (alias_target_classify(t) == TARGET_COMMAND) {
                args = argv_new();
                rc = command_split(t + 1, args);
                if (rc == 1 && args->n == 0)
                    abort();
                for (j = 0; j < args->n; j++)
                    if (*args->v[j] == '\0' || strpbrk(args->v[j], " \t\n") != NULL)
                        abort();
                argv_free(args);
            }
        }
    } else if (size <= LOCAL_FORWARD_MAX_SIZE && vstr_len(err) == 0) {
        abort();
    }
    vstr_reset(err);
    rc = forward_path_expand(out, str, &v, err);
    if (rc < -1 || rc > 1)
        abort();
    if (delivered_to_header(text, size, out) == 1 && vstr_len(out) > size)
        abort();
    rc = command_result(size > 0 ? data[0] << 8 : 0, size > 1 && (data[1] & 1), str, text, size,
                        reason, &dsn);
    if (rc < 0 || rc > 2 || dsn == NULL || memchr(vstr_str(reason), '\n', vstr_len(reason)))
        abort();
    argv_free(targets);
    vstr_free(err);
    vstr_free(out);
    vstr_free(reason);
    free(str);
    return 0;
}

/* Reading configuration-shaped text: the bounded whole-file read and the
 * logical-line walk (continuations, comments) that main.cf, master.cf and
 * table sources share. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "config_text.h"

int config_text_read(const char *path, size_t max, vstr *out, vstr *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char buf[16384];
    ssize_t n;

    if (fd < 0) {
        vstr_printf(err, "open %s: %s\n", path, strerror(errno));
        return -1;
    }
    vstr_reset(out);
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vstr_printf(err, "read %s: %s\n", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (out->len + (size_t) n > max) {
            vstr_printf(err, "%s: file larger than %zu bytes\n", path, max);
            close(fd);
            return -1;
        }
        vstr_append(out, buf, (size_t) n);
    }
    close(fd);
    if (memchr(out->data, 0, out->len) != NULL) {
        vstr_printf(err, "%s: file contains a NUL byte\n", path);
        return -1;
    }
    return 0;
}

static void append_piece(vstr *logical, const char *p, const char *end)
{
    while (end > p && isspace((unsigned char) end[-1]))
        end--;
    vstr_append(logical, p, (size_t) (end - p));
}

int config_text_lines(const char *text, config_line_fn line_fn, config_line_fn orphan_fn,
                      void *ctx)
{
    vstr *logical = vstr_new(256);
    int have = 0, lineno = 0, logical_lineno = 0, rc = 0;
    const char *p = text;

    while (*p && rc == 0) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        const char *q = p;

        lineno++;
        while (q < end && isspace((unsigned char) *q))
            q++;
        if (q == end || *q == '#') {
            /* blank or comment: a continued value may have comments inside */
        } else if (q != p) {
            if (have) {
                vstr_putc(logical, ' ');
                append_piece(logical, q, end);
            } else if (orphan_fn != NULL) {
                rc = orphan_fn(NULL, lineno, ctx);
            }
        } else {
            if (have)
                rc = line_fn(vstr_str(logical), logical_lineno, ctx);
            vstr_reset(logical);
            append_piece(logical, p, end);
            have = 1;
            logical_lineno = lineno;
        }
        p = nl ? nl + 1 : end;
    }
    if (have && rc == 0)
        rc = line_fn(vstr_str(logical), logical_lineno, ctx);
    vstr_free(logical);
    return rc;
}

/* The text shape shared by main.cf, master.cf and table source files:
 * a line that starts with whitespace continues the logical line before
 * it; blank lines and lines whose first non-blank is '#' are skipped and
 * do not end a logical line.  Also the bounded read of such a file. */
#ifndef POSTHORN_CONFIG_TEXT_H
#define POSTHORN_CONFIG_TEXT_H
#include <stddef.h>
#include "vstr.h"

/* Read the whole file at path into out (replaced).  Fails, with the reason
 * in err (appended, ending in a newline), on I/O errors, beyond max bytes,
 * and on a NUL byte (no text file has one). */
int config_text_read(const char *path, size_t max, vstr *out, vstr *err);

/* Call line_fn for every logical line (pieces joined by one space, the
 * trailing white space of each piece removed) with the number of the
 * physical line it starts on; call orphan_fn (may be NULL) for a
 * continuation line with no logical line before it.  A callback returning
 * non-zero stops the walk, and that value is returned; else 0. */
typedef int (*config_line_fn)(const char *line, int lineno, void *ctx);
int config_text_lines(const char *text, config_line_fn line_fn, config_line_fn orphan_fn,
                      void *ctx);

#endif

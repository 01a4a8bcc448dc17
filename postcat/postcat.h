/* postcat's printer: one queue file (or maildrop file) shown in
 * Postfix's postcat layout, sections selectable.  Apart from main() so
 * that unit tests and the fuzzer drive it directly. */
#ifndef POSTHORN_POSTCAT_H
#define POSTHORN_POSTCAT_H
#include <stdio.h>
#include "stream.h"
#include "vstr.h"

#define POSTCAT_ENVELOPE 1      /* -e: envelope records and the *** banners */
#define POSTCAT_HEADER 2        /* -h: message header lines */
#define POSTCAT_BODY 4          /* -b: the rest of the message */
#define POSTCAT_ALL (POSTCAT_ENVELOPE | POSTCAT_HEADER | POSTCAT_BODY)

/* Print the records of in (read from its start) to out; label names the
 * file in the banners ("deferred/X/ID").  Returns 0, or -1 with the
 * problem and its file offset in err (what came before is printed). */
int postcat_print(stream *in, FILE *out, const char *label, int sections, vstr *err);

#endif

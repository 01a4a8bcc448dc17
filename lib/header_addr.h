/* RFC 5322 address lists as they appear in To:, Cc:, Bcc: (and in the
 * arguments of sendmail): "Name <a@b>, c@d (comment), group: x@y, z@w;".
 * The parser is lenient about obsolete forms (spaces around dots and
 * at-signs, source routes, missing separators) and strict about bounds:
 * every address, the comment nesting depth and the number of addresses
 * are capped.  Display names and comments are dropped; what remains is
 * the addr-spec as written (a quoted local part keeps its quotes). */
#ifndef POSTHORN_HEADER_ADDR_H
#define POSTHORN_HEADER_ADDR_H
#include <stddef.h>
#include "argv.h"
#include "vstr.h"

#define HEADER_ADDR_MAX_LEN 512     /* longer addresses are dropped */
#define HEADER_ADDR_MAX_DEPTH 32    /* deeper comment nesting: rest is comment */

/* Append to out each address found in the header value s (len bytes; CR,
 * LF and TAB count as white space, so folded values can be passed whole).
 * At most max addresses are appended.  Returns the number of addresses
 * appended; *bad (if not NULL) gets the number of malformed mailboxes
 * skipped (too long, unbalanced brackets, control characters). */
size_t header_addr_parse(const char *s, size_t len, size_t max, argv_t *out, size_t *bad);

/* A display name for a From: header: as is when it is made of atoms and
 * spaces only, else a quoted string with '"' and '\' escaped.  Control
 * characters are replaced by spaces. */
void header_addr_quote_phrase(vstr *out, const char *name);

#endif

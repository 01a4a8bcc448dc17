/* Mail addresses: parsing of RFC 5321 reverse/forward paths as they appear
 * in MAIL FROM and RCPT TO (with the ESMTP parameters after them), and the
 * small operations every daemon needs on an address. */
#ifndef POSTHORN_MAIL_ADDR_H
#define POSTHORN_MAIL_ADDR_H
#include <stddef.h>
#include "vstr.h"

#define MAIL_ADDR_MAX 512   /* RFC 5321: path <= 256 octets; generous but bounded */

#define PATH_ALLOW_EMPTY 1   /* "<>" accepted (MAIL FROM) */
#define PATH_SMTPUTF8 2      /* non-ASCII UTF-8 accepted in local part / domain */
#define PATH_ALLOW_BARE 4    /* missing <> tolerated (strict_rfc821_envelopes=no) */

/* Parse a path at the start of s (len bytes; leading spaces allowed).
 * On success returns 0, addr holds "local@domain" (local part as written,
 * quoted strings kept, source route dropped; "" for <>), and *rest points
 * after the path (to the ESMTP parameters).  On failure returns -1 and
 * *why is a short reason for a 501 reply. */
int smtp_path_parse(const char *s, size_t len, int flags, vstr *addr, const char **rest,
                    const char **why);

/* Split ESMTP parameters "KEY=VALUE KEY2" (after a path).  Calls fn for each
 * with key (upper-cased) and value (NULL when absent); stops and returns
 * fn's nonzero result; returns -1 on syntax error, at most max params. */
int smtp_params_parse(const char *s, size_t len, size_t max,
                      int (*fn)(const char *key, const char *value, void *ctx), void *ctx);

/* xtext (RFC 3461) decoding for ORCPT and ENVID: 0 ok, -1 malformed. */
int xtext_decode(vstr *out, const char *in, size_t len);
void xtext_encode(vstr *out, const char *in, size_t len);

/* Domain part ("" when none), and local part of "local@domain". */
const char *mail_addr_domain(const char *addr);
void mail_addr_local(vstr *out, const char *addr);
/* Lowercase ASCII in place. */
void lowercase(char *s);
/* Remove a recipient_delimiter extension from a local part: "user+ext" ->
 * user "user", ext "ext" (ext NULL-able).  delims is the set of delimiter
 * characters; empty means none. */
void mail_addr_split_ext(const char *local, const char *delims, vstr *user, vstr *ext);
/* Is the string valid UTF-8 (and does it contain non-ASCII)? */
int utf8_valid(const char *s, size_t len);
int has_8bit(const char *s, size_t len);

#endif

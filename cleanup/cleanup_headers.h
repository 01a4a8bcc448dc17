/* Message header helpers for cleanup(8): classifying header lines, noting
 * the Message-ID:, Date: and From: fields, and formatting the Date: and
 * Message-ID: values cleanup adds to locally submitted mail.  Pure
 * functions (no I/O) so unit tests and the fuzzer can drive them. */
#ifndef POSTHORN_CLEANUP_HEADERS_H
#define POSTHORN_CLEANUP_HEADERS_H
#include <stddef.h>
#include <time.h>
#include "vstr.h"

enum hdr_kind {
    HDR_KIND_FIELD,     /* "name: value" */
    HDR_KIND_CONT,      /* starts with SP or TAB: continues the previous field */
    HDR_KIND_EMPTY,     /* the empty line that separates header and body */
    HDR_KIND_OTHER,     /* anything else: not part of a header */
};

/* Classify one physical line (without its terminator). */
enum hdr_kind hdr_line_kind(const char *line, size_t len);

/* When line is a field named name (ASCII case-insensitive, optional white
 * space before the colon), return its value (after the colon) and its
 * length; else NULL. */
const char *hdr_field_value(const char *line, size_t len, const char *name, size_t *vlen);

#define HDR_SEEN_MSGID 1
#define HDR_SEEN_DATE 2
#define HDR_SEEN_FROM 4

#define HDR_MSGID_MAX 998   /* longest Message-ID value kept (RFC 5322 line) */

/* The header scanner: fed the header's lines one by one. */
typedef struct hdr_scan {
    int seen;           /* HDR_SEEN_* */
    int current;        /* HDR_SEEN_* bit of the field being continued, 0 none */
    int lines;          /* header lines accepted so far */
    vstr *msgid;        /* value of the first Message-ID: field, unfolded */
} hdr_scan;

void hdr_scan_init(hdr_scan *h);
void hdr_scan_free(hdr_scan *h);
/* Feed one complete line (or its first bytes when very long).  Returns
 * HDR_KIND_FIELD or HDR_KIND_CONT when the line belongs to the header,
 * HDR_KIND_EMPTY or HDR_KIND_OTHER when the header ends before it.  A
 * continuation line before any field is HDR_KIND_OTHER. */
enum hdr_kind hdr_scan_line(hdr_scan *h, const char *line, size_t len);
/* The Message-ID value with surrounding white space removed ("" if none). */
const char *hdr_scan_msgid(hdr_scan *h);

/* Address fields that sendmail -t extraction looks at (cleanup_message.c). */
enum hdr_addr_field {
    HDR_ADDR_NONE,          /* any other field */
    HDR_ADDR_TO,            /* To: or Cc: */
    HDR_ADDR_BCC,           /* Bcc: (taken, then removed) */
    HDR_ADDR_RESENT_TO,     /* Resent-To: or Resent-Cc: */
    HDR_ADDR_RESENT_BCC,    /* Resent-Bcc: */
    HDR_ADDR_RESENT_OTHER,  /* any other Resent-* field */
};

/* Which address field line (a HDR_KIND_FIELD line) is; for the recipient
 * fields *value / *vlen get the value after the colon. */
enum hdr_addr_field hdr_addr_field(const char *line, size_t len, const char **value,
                                   size_t *vlen);

/* "<YYYYMMDDhhmmss.ID@host>" with the UTC time t. */
void hdr_make_msgid(vstr *out, time_t t, const char *id, const char *host);

#endif

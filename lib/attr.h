/* The one IPC codec: attribute lists over UNIX stream sockets.  On the
 * wire an attribute is NAME NUL VALUE NUL; a list ends with an empty name
 * (a single NUL).  Servers announce themselves first with the list
 * {protocol=NAME, version=N}.
 * The reader is strict: it caps the count and every length, rejects
 * missing, duplicate (unless ATTR_REPEAT) and unknown names, and always
 * consumes the whole list.  The writer refuses NUL and newline in values. */
#ifndef POSTHORN_ATTR_H
#define POSTHORN_ATTR_H
#include <stddef.h>
#include <sys/types.h>
#include "stream.h"
#include "vstr.h"

#define ATTR_MAX_COUNT 4096
#define ATTR_MAX_NAME 64
#define ATTR_MAX_VALUE 65536

typedef struct attr_list attr_list;

attr_list *attr_list_new(void);
void attr_list_free(attr_list *l);
void attr_list_reset(attr_list *l);
void attr_add(attr_list *l, const char *name, const char *value);
void attr_addf(attr_list *l, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void attr_add_long(attr_list *l, const char *name, long value);
size_t attr_count(const attr_list *l);
const char *attr_name(const attr_list *l, size_t i);
const char *attr_value(const attr_list *l, size_t i);
/* First value of name, or NULL. */
const char *attr_get(const attr_list *l, const char *name);
/* Parse a decimal value: 0 ok, -1 missing or not a number in [min, max]. */
int attr_get_long(const attr_list *l, const char *name, long min, long max, long *out);

#define ATTR_REQUIRED 1
#define ATTR_REPEAT 2
struct attr_spec {
    const char *name;
    int flags;
};  /* arrays end with { NULL, 0 } */

/* Encode; -1 (nothing appended) when a name or value is invalid. */
int attr_encode(vstr *out, const attr_list *l);
/* encode + write + flush: 0, a STREAM_* error, or STREAM_ERROR with errno
 * EINVAL (nothing written, a warning logged) when the list is invalid. */
int attr_write(stream *s, const attr_list *l);
/* Parse one list from a buffer: bytes consumed (> 0), 0 when incomplete,
 * -1 on a protocol error (text in err).  spec NULL accepts any names. */
ssize_t attr_parse(const void *buf, size_t len, attr_list *out, const struct attr_spec *spec,
                   vstr *err);
/* Read one list: 0, -1 protocol error (err), or a STREAM_* status (err
 * then says which).  Note STREAM_EOF is also -1: check err, or treat any
 * nonzero result as "drop the connection". */
int attr_read(stream *s, attr_list *out, const struct attr_spec *spec, vstr *err);

/* Announce / check the protocol name and version. */
int attr_announce(stream *s, const char *protocol, int version);
void attr_announce_encode(vstr *out, const char *protocol, int version);
int attr_expect(stream *s, const char *protocol, int version, vstr *err);
/* Check an already parsed announcement list. */
int attr_check_announce(const attr_list *l, const char *protocol, int version, vstr *err);

#endif

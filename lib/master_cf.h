/* master.cf parsing: Postfix's columns (service type private unpriv chroot
 * wakeup maxproc command args), "-" for defaults, continuation lines that
 * start with whitespace, comments, and "-o name=value" overrides (kept in
 * args, in order, for the daemon skeleton to apply). */
#ifndef POSTHORN_MASTER_CF_H
#define POSTHORN_MASTER_CF_H
#include <stddef.h>
#include "argv.h"
#include "vstr.h"

struct master_service {
    char *name;         /* "smtp", "127.0.0.1:2525", "cleanup" */
    char *type;         /* "inet", "unix", "fifo" */
    int private_;       /* default y; inet services are never private */
    int unpriv;         /* default y */
    int chroot;         /* default n */
    int wakeup;         /* seconds between wakeup triggers, 0 = none */
    int wakeup_if_used; /* wakeup field ended in '?' */
    int maxproc;        /* -1 = default_process_limit, 0 = unlimited */
    argv_t *args;       /* command name, then its arguments */
    int lineno;
};

/* Parses the whole file; on any error returns -1 with every problem in err
 * ("master.cf:LINE: ...") and no services.  Duplicate service name+type
 * is an error. */
int master_cf_parse(const char *path, struct master_service **svcs, size_t *n, vstr *err);
/* Same, from a string (unit tests, postconf -M). */
int master_cf_parse_text(const char *text, const char *label, struct master_service **svcs,
                         size_t *n, vstr *err);
void master_cf_free(struct master_service *svcs, size_t n);

#endif

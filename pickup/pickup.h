/* pickup(8) internals shared by its files: the configuration read before
 * the jail, and the handling of one maildrop file. */
#ifndef POSTHORN_PICKUP_H
#define POSTHORN_PICKUP_H
#include <time.h>
#include "vstr.h"

struct pickup_conf {
    long long message_size_limit;
    char *myhostname;
    int ipc_timeout;            /* seconds for each exchange with cleanup */
};
extern struct pickup_conf pickup_conf;

enum pickup_result {
    PICKUP_DONE,                /* handed to cleanup and removed */
    PICKUP_QUARANTINED,         /* moved to corrupt/ (or removed) */
    PICKUP_SKIPPED,             /* gone meanwhile, or not readable now */
    PICKUP_RETRY_LATER,         /* cleanup unavailable: stop this scan */
};

/* Handle maildrop/ID. */
enum pickup_result pickup_file(const char *id);

#endif

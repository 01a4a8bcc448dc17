/* cleanup(8): the single writer of new queue files.  main() hands the
 * single_server skeleton the per-connection service (cleanup_service.c);
 * everything else lives in functions unit tests can call. */
#include "config.h"
#include <signal.h>
#include <time.h>
#include "cleanup.h"
#include "skeleton.h"

/* Before the chroot: load the time zone for Date: headers, and survive a
 * client that disconnects before reading its reply. */
static void cleanup_pre_jail(void *ctx)
{
    (void)ctx;
    tzset();
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    static const struct server_hooks hooks = {
        .pre_jail = cleanup_pre_jail,
    };

    return single_server_main(argc, argv, cleanup_service, &hooks);
}

/* The one audited privilege drop.  The user is resolved before the jail
 * (the password database is outside it); then supplementary groups are
 * replaced, the gid is set, the process chroots and changes to "/", and
 * finally every uid is set.  The result is verified; any failure is fatal,
 * because a daemon that keeps root by accident is worse than no daemon. */
#include "config.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1     /* accept4, pipe2, setresuid */
#endif
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <unistd.h>
#include "log.h"
#include "privs.h"

int privs_lookup(const char *user, uid_t *uid, gid_t *gid)
{
    struct passwd *pw;

    errno = 0;
    pw = getpwnam(user);
    if (pw == NULL)
        return -1;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

/* Set all three uids/gids and check that the change cannot be undone. */
static void privs_set_ids(uid_t uid, gid_t gid)
{
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;

    if (setgroups(1, &gid) < 0)
        msg_fatal("setgroups(%ld): %m", (long) gid);
    if (setresgid(gid, gid, gid) < 0)
        msg_fatal("setresgid(%ld): %m", (long) gid);
    if (setresuid(uid, uid, uid) < 0)
        msg_fatal("setresuid(%ld): %m", (long) uid);
    if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
        msg_fatal("getresuid: %m");
    if (ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid || sgid != gid)
        msg_fatal("privilege drop to uid %ld gid %ld did not stick", (long) uid, (long) gid);
    /* Root must be gone for good: getting it back has to fail. */
    if (uid != 0 && setuid(0) == 0)
        msg_fatal("privilege drop to uid %ld is reversible", (long) uid);
}

void privs_drop(uid_t uid, gid_t gid, const char *jail)
{
    if (getuid() != 0 && geteuid() != 0)
        return;
    if (uid == 0)
        msg_fatal("refusing to drop privileges to uid 0");
    if (setgroups(1, &gid) < 0)
        msg_fatal("setgroups(%ld): %m", (long) gid);
    if (setgid(gid) < 0)
        msg_fatal("setgid(%ld): %m", (long) gid);
    if (jail != NULL) {
        if (chroot(jail) < 0)
            msg_fatal("chroot(%s): %m", jail);
        if (chdir("/") < 0)
            msg_fatal("chdir(/) in %s: %m", jail);
    }
    privs_set_ids(uid, gid);
}

void privs_become(uid_t uid, gid_t gid)
{
    if (getuid() != 0 && geteuid() != 0) {
        if (uid != getuid())
            msg_fatal("cannot become uid %ld: not running as root", (long) uid);
        return;
    }
    privs_set_ids(uid, gid);
}

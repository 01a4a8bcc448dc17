/* The one audited privilege drop: resolve the user before the jail,
 * setgid, clear supplementary groups, chroot + chdir, then setresuid.
 * Every failure is fatal. */
#ifndef POSTHORN_PRIVS_H
#define POSTHORN_PRIVS_H
#include <sys/types.h>

/* Look up a user; 0 and uid/gid set, or -1 (no such user). */
int privs_lookup(const char *user, uid_t *uid, gid_t *gid);
/* Drop to uid/gid, chrooting into jail first when jail is not NULL.  When
 * the process is not root: no change of identity, and a chroot request is
 * ignored (a development instance); the caller logs that once. */
void privs_drop(uid_t uid, gid_t gid, const char *jail);
/* Become uid/gid permanently (local delivery as the recipient). */
void privs_become(uid_t uid, gid_t gid);

#endif

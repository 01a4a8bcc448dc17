/* File helpers that keep the queue's durability promise: exclusive,
 * no-follow creation; fsync of a file and of the directory holding a name;
 * rename followed by directory fsync. */
#ifndef POSTHORN_SAFE_FILE_H
#define POSTHORN_SAFE_FILE_H
#include <sys/types.h>

/* open(path, O_CREAT|O_EXCL|O_WRONLY|O_NOFOLLOW|O_CLOEXEC, mode), flags may
 * add O_RDWR/O_APPEND.  -1 with errno. */
int safe_create(const char *path, int flags, mode_t mode);
/* Open an existing regular file without following a symlink, refusing
 * anything that is not a regular file with a single link. */
int safe_open_existing(const char *path, int flags);
/* fsync the directory that contains path ("a/b/c" -> "a/b"). */
int fsync_parent_dir(const char *path);
int fsync_dir(const char *dir);
/* rename(from, to), then fsync the directory of to, and of from when it
 * differs. */
int rename_durable(const char *from, const char *to);
/* mkdir -p with mode for components created. */
int mkdir_p(const char *path, mode_t mode);

#endif

/* File operations behind the queue's durability promise: creation that
 * never follows a symlink or reuses a name, opening of existing files that
 * refuses anything but a plain singly-linked file, and fsync of
 * directories after a name is created or renamed. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mem.h"
#include "safe_file.h"

int safe_create(const char *path, int flags, mode_t mode)
{
    int accmode = (flags & O_RDWR) ? O_RDWR : O_WRONLY;

    flags &= ~(O_RDONLY | O_WRONLY | O_RDWR | O_TRUNC);
    return open(path, O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | accmode | flags, mode);
}

int safe_open_existing(const char *path, int flags)
{
    struct stat st;
    int fd;

    flags &= ~(O_CREAT | O_EXCL);
    fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0) {
        int saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
        close(fd);
        errno = S_ISREG(st.st_mode) ? EMLINK : EINVAL;
        return -1;
    }
    /* O_NONBLOCK only protected the open against FIFOs; drop it unless
     * the caller asked for it. */
    if (!(flags & O_NONBLOCK)) {
        int fl = fcntl(fd, F_GETFL);

        if (fl >= 0)
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    return fd;
}

int fsync_dir(const char *dir)
{
    int fd, ret, saved;

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ret = fsync(fd);
    saved = errno;
    close(fd);
    errno = saved;
    return ret;
}

/* "a/b/c" -> "a/b", "c" -> ".", "/c" -> "/". Caller frees. */
static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return xstrdup(".");
    while (slash > path && slash[-1] == '/')
        slash--;
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t) (slash - path));
}

int fsync_parent_dir(const char *path)
{
    char *dir = parent_dir(path);
    int ret = fsync_dir(dir);
    int saved = errno;

    free(dir);
    errno = saved;
    return ret;
}

int rename_durable(const char *from, const char *to)
{
    char *from_dir, *to_dir;
    int ret = 0, saved = 0;

    if (rename(from, to) != 0)
        return -1;
    from_dir = parent_dir(from);
    to_dir = parent_dir(to);
    if (fsync_dir(to_dir) != 0) {
        ret = -1;
        saved = errno;
    }
    if (strcmp(from_dir, to_dir) != 0 && fsync_dir(from_dir) != 0 && ret == 0) {
        ret = -1;
        saved = errno;
    }
    free(from_dir);
    free(to_dir);
    if (ret != 0)
        errno = saved;
    return ret;
}

int mkdir_p(const char *path, mode_t mode)
{
    char *copy = xstrdup(path);
    char *p = copy;
    struct stat st;
    int ret = 0;

    for (;;) {
        while (*p == '/')
            p++;
        p += strcspn(p, "/");
        char saved = *p;

        *p = '\0';
        if (mkdir(copy, mode) != 0 && errno != EEXIST) {
            ret = -1;
            break;
        }
        if (stat(copy, &st) != 0) {
            ret = -1;
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            ret = -1;
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(copy);
    return ret;
}

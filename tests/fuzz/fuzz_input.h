/* Fuzz targets whose parser reads a file descriptor: the input goes into
 * one temporary file, reused for every input, and its descriptor is
 * returned positioned at the start. */
#ifndef POSTHORN_FUZZ_INPUT_H
#define POSTHORN_FUZZ_INPUT_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

static int input_fd(const uint8_t *data, size_t size)
{
    static FILE *tmp;
    size_t done = 0;
    ssize_t n;
    int fd;

    if (tmp == NULL && (tmp = tmpfile()) == NULL)
        abort();
    fd = fileno(tmp);
    if (ftruncate(fd, 0) != 0)
        abort();
    while (done < size) {
        n = pwrite(fd, data + done, size - done, (off_t) done);
        if (n <= 0)
            abort();
        done += (size_t) n;
    }
    if (lseek(fd, 0, SEEK_SET) != 0)
        abort();
    return fd;
}

#endif

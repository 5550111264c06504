/*
 * io.h - the fd calls as our wrappers dispatch them, for any fd, returning
 * >= 0 or -errno.  For internal callers (cookie streams) that must not go
 * through the exported wrappers.
 */
#ifndef PRELOAD_IO_H
#define PRELOAD_IO_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "fdtab.h"

ssize_t io_readv(int fd, const struct iovec *iov, int n);
ssize_t io_writev(int fd, const struct iovec *iov, int n);
off_t io_lseek(int fd, off_t off, int whence);
int io_close(int fd);
void io_release(struct sfd *e);
int io_adopt_copy(int newfd, const struct sfd *e);
void identify_fds(const int *fds, int n);
void identify_all(void);

#endif

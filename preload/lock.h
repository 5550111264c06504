/*
 * lock.h - fcntl, OFD and flock locks on scheme files, kept by the
 * serving code of their scheme (lock.c says how).  Each returns 0 or
 * -errno.
 */
#ifndef PRELOAD_LOCK_H
#define PRELOAD_LOCK_H

#include <fcntl.h>
#include <stdbool.h>

#include "fdtab.h"

bool lock_fcntl_cmd(int cmd);
int lock_fcntl(int fd, struct sfd *e, int cmd, struct flock *fl);
int lock_flock(int fd, struct sfd *e, int op);
void lock_closing(int fd, struct sfd *e);

#endif

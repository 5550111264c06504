/*
 * equeue.h - event: queues (Redox's epoll-like scheme).
 */
#ifndef PRELOAD_EQUEUE_H
#define PRELOAD_EQUEUE_H

#include <stddef.h>
#include <sys/types.h>

#include "fdops.h"
#include "fdtab.h"

int equeue_open(int flags);
ssize_t equeue_read(int fd, struct sfd *e, void *buf, size_t n);
ssize_t equeue_write(int fd, struct sfd *e, const void *buf, size_t n);
extern const struct sfd_ops fdops_eventq;

#endif

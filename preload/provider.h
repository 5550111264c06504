/*
 * provider.h - schemes this process provides.
 *
 * open(":name", O_CREAT) registers the name with the broker over a
 * connection of its own and returns an fd the program reads packets from
 * and writes answers to.  The fd is (a dup of) the epoll fd of a struct
 * serve, so poll, select and epoll work on it as they are.
 */
#ifndef PRELOAD_PROVIDER_H
#define PRELOAD_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fdtab.h"
#include "state.h"

int provider_create(const char *name, size_t len, int flags);
void provider_hold(struct sfd *e);
void provider_put(struct sfd *e);
void provider_keep_on_fork(bool keep);
extern const struct st_fork_hook provider_fork_hook;
extern const struct sfd_ops fdops_provider;

#endif

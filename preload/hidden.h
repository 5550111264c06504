/*
 * hidden.h - our own fds inside a program.
 *
 * Channels, the broker connection and a provider's sockets are moved high
 * (above half the fd limit, at most from 1024 up) where programs rarely
 * look, marked close-on-exec, and entered in the fd table as hidden: the
 * program's close(), close_range() and closefrom() pass over them, its
 * calls on them fail with EBADF as on a closed fd, and a dup2() onto one
 * first moves ours elsewhere (the owner is told through `relocate`).
 */
#ifndef PRELOAD_HIDDEN_H
#define PRELOAD_HIDDEN_H

#include <stdbool.h>

typedef void (*hidden_relocate_fn)(void *ctx, int oldfd, int newfd);

int hidden_move(int fd, hidden_relocate_fn fn, void *ctx);
void hidden_close(int fd);
bool hidden_is(int fd);
void hidden_evict(int fd);

#endif

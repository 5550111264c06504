/*
 * pool.h - closed scheme files kept for the next open.
 *
 * Making and unmaking a description's socket pair is most of what an
 * open and a close cost.  When the program closes an fd of a scheme file
 * that no other fd and no other process can hold, we keep the socket
 * (hidden) and tell the provider (WIRE_OP_PARK), which hears SYS_CLOSE at
 * once, as it would at the socket's end.  The next open of that scheme by
 * this process offers it, and the provider's new file takes it over
 * (WIRE_REUSED); an offer not taken closes it.
 *
 * "No other can hold it": opened here (not inherited across exec or
 * received), and nothing since that could have shared it.  Fork,
 * posix_spawn, system and popen (their children inherit fds), a dup, an
 * fd sent with SCM_RIGHTS and a subscription bump pool_gen, which a file
 * must still carry from its open.  A raw clone(), a process taking our
 * fds with pidfd_getfd, and SCM_RIGHTS by a raw system call or io_uring
 * are not seen (README, Limits).
 */
#ifndef PRELOAD_POOL_H
#define PRELOAD_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "fdtab.h"
#include "state.h"

/* The generation a file opened now carries (never 0). */
uint64_t pool_gen(void);

/* Something may have shared every fd open now. */
void pool_shared(void);

/* Park the file fd (its entry e, already out of the table): true if
 * done, fd is then no longer the program's; false: close it as usual. */
bool pool_park(int fd, struct sfd *e);

/* A parked socket offered to an open: the caller's until taken or
 * dropped (fd is hidden, and follows it if it must move). */
struct pool_ticket {
	int fd;
	uint64_t key; /* its description */
};

/* A parked socket of this provider for an open to offer, if any. */
bool pool_offer(uint64_t broker, uint64_t inst, struct pool_ticket *t);

/* The provider took the offer: the socket at the lowest free fd, as
 * open() would give (or -errno). */
int pool_take(struct pool_ticket *t, bool cloexec);

/* It did not: close the socket, whose end frees it in the provider. */
void pool_drop(struct pool_ticket *t);

extern const struct st_fork_hook pool_fork_hook;

#endif

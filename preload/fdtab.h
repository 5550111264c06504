/*
 * fdtab.h - which of the program's fds are ours.
 *
 * A lookup is two loads
 * and no lock, so that an ordinary read() pays nothing measurable; an
 * entry is set after the fd exists and cleared before it is closed, so a
 * racing open() in another thread can never inherit a stale entry.
 */
#ifndef PRELOAD_FDTAB_H
#define PRELOAD_FDTAB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "fdops.h"

struct epset;
struct provider;
struct sfd_ops;

struct sfd {
	const struct sfd_ops *ops;  /* what its kind does (fdops.h) */
	uint64_t broker, inst, key; /* a scheme file: which description */
	uint64_t gen;		    /* a scheme file: pool_gen at open, 0 once
				       it took a flock or OFD lock
				       (never parked: lock.c) */
	char *dtext;		    /* a scheme file: getdents64's listing */
	size_t dlen, dpos;	    /* (dir.c, under ST_FDTAB) */
	long dindex;
	struct provider *prov;		    /* a scheme this process provides */
	struct epset *es;		    /* an event: queue or epoll set */
	void (*relocate)(void *, int, int); /* one of ours: it must move */
	void *ctx;
	struct sfd *next_free;
};

#define FDTAB_CHUNK_BITS 10
#define FDTAB_CHUNKS	 1024 /* 2^20 fds */

extern _Atomic(struct sfd *) *_Atomic fdtab_top[FDTAB_CHUNKS];

static inline struct sfd *
fdtab_get(int fd)
{
	_Atomic(struct sfd *) *chunk;
	unsigned u = (unsigned)fd;

	if (u >= (unsigned)FDTAB_CHUNKS << FDTAB_CHUNK_BITS)
		return 0;
	chunk = atomic_load_explicit(&fdtab_top[u >> FDTAB_CHUNK_BITS],
				     memory_order_acquire);
	if (chunk == 0)
		return 0;
	return atomic_load_explicit(&chunk[u & ((1u << FDTAB_CHUNK_BITS) - 1)],
				    memory_order_acquire);
}

int fdtab_set(int fd, struct sfd *e);
struct sfd *fdtab_take(int fd);
int fdtab_next(int from);
struct sfd *sfd_new(const struct sfd_ops *ops);
struct sfd *sfd_copy(struct sfd *e);
void sfd_free(struct sfd *e);

#endif

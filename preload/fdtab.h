/*
 * fdtab.h - which of the program's fds are ours.
 *
 * The only global mutable state of the preload.  A lookup is two loads
 * and no lock, so that an ordinary read() pays nothing measurable; an
 * entry is set after the fd exists and cleared before it is closed, so a
 * racing open() in another thread can never inherit a stale entry.
 */
#ifndef PRELOAD_FDTAB_H
#define PRELOAD_FDTAB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum sfd_type {
	SFD_CLIENT = 1, /* an open file of some scheme */
	SFD_PROVIDER,	/* a scheme this process provides */
	SFD_HIDDEN,	/* one of our own fds: the program cannot see it */
	SFD_EVENTQ,	/* an event: queue (an epoll fd we speak for) */
	SFD_EPOLL,	/* a program's epoll fd that watches scheme fds */
};

struct provider;
struct epset;

struct sfd {
	int type;
	uint64_t broker, inst, key;	    /* SFD_CLIENT: which description */
	uint64_t gen;			    /* SFD_CLIENT: pool_gen at open */
	char *dtext;			    /* SFD_CLIENT: getdents64's listing */
	size_t dlen, dpos;		    /* (dir.c, under ST_FDTAB) */
	long dindex;
	struct provider *prov;		    /* SFD_PROVIDER */
	struct epset *es;		    /* SFD_EVENTQ, SFD_EPOLL */
	void (*relocate)(void *, int, int); /* SFD_HIDDEN: it must move */
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

/*
 * Provider fds, event: queues and watched epoll sets are kernel fds that
 * behave as what they are for most calls: those pass straight through.
 */
static inline int
sfd_native(const struct sfd *e)
{
	return e->type == SFD_PROVIDER || e->type == SFD_EVENTQ ||
	       e->type == SFD_EPOLL;
}

int fdtab_set(int fd, struct sfd *e);
struct sfd *fdtab_take(int fd);
struct sfd *sfd_new(int type);
struct sfd *sfd_copy(const struct sfd *e);
void sfd_free(struct sfd *e);

#endif

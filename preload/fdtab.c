/*
 * fdtab.c - which of the program's fds are ours (see fdtab.h).
 *
 * Chunks of the table and entries are never given back: a reader that
 * loaded a pointer just before another thread closed the fd still reads
 * valid memory.  What it reads may describe the file the fd referred to a
 * moment ago, which is the race the program made by closing an fd another
 * thread is using; the kernel's own fd table has the same one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdtab.h"
#include "state.h"

_Atomic(struct sfd *) *_Atomic fdtab_top[FDTAB_CHUNKS];

static struct sfd *freelist;

/*
 * libc's syscall() itself, bound by its version: the preload exports one
 * of its own (wrap_syscall.c), which would look the fd table up, and no
 * REAL() either, which may have to dlsym (and allocate) first.
 */
long libc_syscall(long nr, ...);
__asm__(".symver libc_syscall, syscall@GLIBC_2.2.5");

/* Zeroed memory of our own, never given back: MAP_FAILED if none. */
static void *
sys_anon(size_t len)
{
	long r = libc_syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return r == -1 ? MAP_FAILED : (void *)r;
}

static _Atomic(struct sfd *) *
chunk_for(unsigned u)
{
	_Atomic(struct sfd *) *c;
	size_t len = sizeof(*c) << FDTAB_CHUNK_BITS;

	c = atomic_load(&fdtab_top[u >> FDTAB_CHUNK_BITS]);
	if (c != NULL)
		return c;
	/*
	 * mmap, not malloc: this may run inside the program's allocator; and
	 * the system call itself, not our wrapper, nor libc's through a
	 * lookup that might allocate.
	 */
	c = sys_anon(len);
	if (c == MAP_FAILED)
		return NULL;
	atomic_store(&fdtab_top[u >> FDTAB_CHUNK_BITS], c);
	return c;
}

int
fdtab_set(int fd, struct sfd *e)
{
	_Atomic(struct sfd *) *c;
	struct sfd *old;
	unsigned u = (unsigned)fd;

	if (fd < 0 || u >= (unsigned)FDTAB_CHUNKS << FDTAB_CHUNK_BITS)
		return e == NULL ? 0 : -EMFILE;
	st_lock(ST_FDTAB);
	c = e != NULL ? chunk_for(u)
		      : atomic_load(&fdtab_top[u >> FDTAB_CHUNK_BITS]);
	if (c == NULL) {
		st_unlock(ST_FDTAB);
		return e == NULL ? 0 : -ENOMEM;
	}
	old = atomic_exchange(&c[u & ((1u << FDTAB_CHUNK_BITS) - 1)], e);
	st_unlock(ST_FDTAB);
	if (old != NULL && old != e)
		sfd_free(old);
	return 0;
}

/* Clear an fd's entry and hand it to the caller (who frees it). */
struct sfd *
fdtab_take(int fd)
{
	_Atomic(struct sfd *) *c;
	unsigned u = (unsigned)fd;

	if (fd < 0 || u >= (unsigned)FDTAB_CHUNKS << FDTAB_CHUNK_BITS)
		return NULL;
	c = atomic_load(&fdtab_top[u >> FDTAB_CHUNK_BITS]);
	if (c == NULL)
		return NULL;
	return atomic_exchange(&c[u & ((1u << FDTAB_CHUNK_BITS) - 1)], NULL);
}

/*
 * The first fd from `from` on that has a record, or -1: a walk of the
 * table that skips the chunks never made.
 */
int
fdtab_next(int from)
{
	const unsigned mask = (1u << FDTAB_CHUNK_BITS) - 1;
	unsigned u = from > 0 ? (unsigned)from : 0;

	for (; u < (unsigned)FDTAB_CHUNKS << FDTAB_CHUNK_BITS; u++) {
		if (atomic_load(&fdtab_top[u >> FDTAB_CHUNK_BITS]) == NULL) {
			u |= mask; /* a chunk with no entries */
			continue;
		}
		if (fdtab_get((int)u) != NULL)
			return (int)u;
	}
	return -1;
}

struct sfd *
sfd_new(const struct sfd_ops *ops)
{
	struct sfd *e;
	size_t i, n = 4096 / sizeof(*e);

	st_lock(ST_FDTAB);
	if (freelist == NULL) {
		e = sys_anon(n * sizeof(*e));
		if (e == MAP_FAILED) {
			st_unlock(ST_FDTAB);
			return NULL;
		}
		for (i = 0; i < n; i++) {
			e[i].next_free = freelist;
			freelist = &e[i];
		}
	}
	e = freelist;
	freelist = e->next_free;
	st_unlock(ST_FDTAB);
	memset(e, 0, sizeof(*e));
	e->ops = ops;
	return e;
}

struct sfd *
sfd_copy(struct sfd *e)
{
	struct sfd *n = sfd_new(e->ops);

	if (n != NULL) {
		*n = *e;
		n->next_free = NULL;
		n->dtext = NULL; /* a copy lists afresh */
		n->dlen = n->dpos = 0;
		n->dindex = 0;
	}
	return n;
}

void
sfd_free(struct sfd *e)
{
	if (e == NULL)
		return;
	st_lock(ST_FDTAB);
	free(e->dtext);
	e->dtext = NULL;
	e->next_free = freelist;
	freelist = e;
	st_unlock(ST_FDTAB);
}

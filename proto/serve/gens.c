/*
 * gens.c - the scheme's change count, which clients keeping stats read
 * (scheme.h "Caching", preload/attrcache.c).
 *
 * Every request that may change a file of the scheme, from any client,
 * passes here on its way to the provider: the count goes up once when it
 * is asked and once more when it is answered, before its client hears
 * the answer.  A client reads the count before it asks a stat, and uses
 * the stat again only while the count has not moved: so no answer given
 * before a change was complete is used after it, whoever made it, and
 * stats kept are as coherent between processes as the kernel's cache of
 * a FUSE file system is.  The provider's own changes (not asked of it by
 * a request) do not move the count: they are seen once the grant runs
 * out.  One count for the whole scheme: a rename or an unlink changes
 * what many paths name, and a count per file could not say so.
 *
 * The count is the first 8 bytes of a memfd made at the first
 * WIRE_OP_GENS, mapped here writable and sealed (F_SEAL_FUTURE_WRITE) so
 * that the clients it is passed to can only read it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "serve_impl.h"
#include "../sys.h"

#define GENS_SIZE 4096

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* Whether req may change a file (or what a stat of one says). */
bool
sv_gens_changes(const struct wire_req *req)
{
	if (req->op == SYS_OPEN)
		return wire_open_changes((uint32_t)req->arg[2]);
	if (req->op == WIRE_OP_AT)
		return wire_op_changes((uint32_t)req->arg[0]);
	return wire_op_changes(req->op);
}

void
sv_gens_bump(struct serve *s)
{
	if (s->gens != NULL)
		atomic_fetch_add_explicit(s->gens, 1, memory_order_seq_cst);
}

/*
 * The memfd holding a count, mapped into *count: an fd, or -errno.  Its
 * owner (serve.c) hides it, passes it, and closes it.
 */
int
sv_gens_make(_Atomic uint64_t **count)
{
	int fd, saved = errno;
	void *m;

	fd = memfd_create("scheme-gens", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		errno = saved;
		return -ENOMEM;
	}
	if (ftruncate(fd, GENS_SIZE) < 0 ||
	    (m = mmap(NULL, GENS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      0)) == MAP_FAILED) {
		SYS(close)(fd);
		errno = saved;
		return -ENOMEM;
	}
	if (SYS(fcntl)(fd, F_ADD_SEALS,
		       F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE |
			   F_SEAL_SEAL) < 0) {
		munmap(m, GENS_SIZE);
		SYS(close)(fd);
		errno = saved;
		return -EOPNOTSUPP; /* a kernel before 5.1: clients could write */
	}
	*count = m;
	errno = saved;
	return fd;
}

void
sv_gens_unmap(_Atomic uint64_t *count)
{
	if (count != NULL)
		munmap((void *)count, GENS_SIZE);
}

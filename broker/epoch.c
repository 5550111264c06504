/*
 * epoch.c - the epoch table: for every pid, how many times the process
 * with that pid changed namespace.
 *
 * A channel the broker makes for a process is handed to its provider with
 * the process's pid and epoch at that moment (NEWCHAN); the provider
 * refuses requests that name a path on it once the table says otherwise
 * (proto/serve.h).  So a channel made before setrens, by raw code or by
 * anything the preload does not track, opens nothing by name afterwards,
 * and the broker keeps no fd per channel to get there.
 *
 * The table is a memfd of one uint32_t per pid the kernel can hand out.
 * Its pages exist only where pids were looked up (a hole reads as zeros
 * and costs nothing until touched).  We map it writable, then seal it
 * against shrinking, growing and any further writable mapping
 * (F_SEAL_FUTURE_WRITE), and hand the fd to every provider at CREATE: a
 * provider can only map it read-only and can neither change an epoch nor
 * make our mapping fault.  The built-in schemes read our mapping.
 *
 * Ordering: epoch_bump() stores with release before the broker answers
 * the setrens; a client sends a request only after it read that answer,
 * and the provider loads with acquire when the request comes, so it sees
 * the new epoch.  The broker is single-threaded: a CONNECT handled before
 * the setrens records the old epoch, one handled after it the new.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

/*
 * The kernel's ceiling for pid_max on 64-bit (PID_MAX_LIMIT): pid_max may
 * be raised up to it while we run, and a pid past the table could not be
 * checked.  The holes make the size nearly free.
 */
#define PID_CEILING (4u << 20)

static uint32_t
pid_count(void)
{
	unsigned long v = 0;
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");

	if (f != NULL) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	if (v < PID_CEILING)
		v = PID_CEILING;
	return v > (1u << 30) ? 1u << 30 : (uint32_t)v;
}

/* 0, or -errno: the broker then runs without (and logs why). */
int
epoch_init(struct broker *b)
{
	uint32_t n = pid_count();
	size_t len = (size_t)n * sizeof(*b->epochs);
	void *m = MAP_FAILED;
	int fd, r = 0;

	b->epochs = NULL;
	b->nepochs = 0;
	b->epoch_fd = -1;
	fd = memfd_create("scheme-epochs", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, (off_t)len) < 0 ||
	    (m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
		MAP_FAILED ||
	    fcntl(fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE |
		      F_SEAL_SEAL) < 0)
		r = -errno;
	if (r < 0) {
		if (m != MAP_FAILED)
			munmap(m, len);
		if (fd >= 0)
			close(fd);
		log_warnx("no epoch table (%s): a channel made before setrens "
			  "keeps naming paths",
			  strerror(-r));
		return r;
	}
	b->epochs = m;
	b->nepochs = n;
	b->epoch_fd = fd;
	return 0;
}

void
epoch_free(struct broker *b)
{
	if (b->epochs != NULL)
		munmap((void *)b->epochs,
		       (size_t)b->nepochs * sizeof(*b->epochs));
	if (b->epoch_fd >= 0)
		close(b->epoch_fd);
	b->epochs = NULL;
	b->nepochs = 0;
	b->epoch_fd = -1;
}

uint32_t
epoch_of(const struct broker *b, pid_t pid)
{
	if (b->epochs == NULL || pid < 0 || (uint32_t)pid >= b->nepochs)
		return 0;
	return atomic_load_explicit(&b->epochs[pid], memory_order_relaxed);
}

/*
 * Can pid's epoch be bumped?  -ERANGE for a pid beyond the table,
 * -EOVERFLOW once it has changed 2^32 - 1 times (the count must never
 * come back to a channel's).  setrens() asks before anything moves, so
 * that the bump at COMMIT cannot fail.
 */
int
epoch_check(const struct broker *b, pid_t pid)
{
	if (b->epochs == NULL)
		return 0; /* no table: nothing to tell (logged at start) */
	if (pid < 0 || (uint32_t)pid >= b->nepochs)
		return -ERANGE;
	if (atomic_load_explicit(&b->epochs[pid], memory_order_relaxed) ==
	    UINT32_MAX)
		return -EOVERFLOW;
	return 0;
}

/*
 * pid changed namespace: every channel made for it before names no path
 * from now on.  Called before the setrens is answered.
 */
int
epoch_bump(struct broker *b, pid_t pid)
{
	int r = epoch_check(b, pid);

	if (r < 0) {
		log_warnx("pid %d: no epoch to bump: its old channels keep "
			  "naming paths",
			  (int)pid);
		return r;
	}
	if (b->epochs != NULL)
		atomic_store_explicit(&b->epochs[pid],
				      atomic_load_explicit(&b->epochs[pid],
							   memory_order_relaxed) +
					  1,
				      memory_order_release);
	return 0;
}

/*
 * memfs_locks.h - scheme-memfs --own-locks: the provider takes file locks
 * over (SYS_LOCK, scheme.h "Locks") and keeps them in a table of its own.
 */
#ifndef TOOLS_MEMFS_LOCKS_H
#define TOOLS_MEMFS_LOCKS_H

#include <stdint.h>

#include <scheme/scheme.h>

/*
 * One SYS_LOCK on the file numbered ino (0 when the request names no
 * file: CANCEL, RELEASE_ALL).  Returns the answer, or SCHEME_DEFER for a
 * SETW kept (copied from p): answer(copy, result) answers it later.
 */
int64_t ml_lock(const struct scheme_packet *p, uint64_t ino,
		struct scheme_lock *lk,
		void (*answer)(struct scheme_packet *, int64_t));

/* The handle closed: its kept waits are answered -EBADF. */
void ml_closed(uint64_t handle);

/* For .stats: locks held now, and the releases asked (RELEASE*). */
unsigned long ml_held(void);
unsigned long ml_releases(void);

#endif

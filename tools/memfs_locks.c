/*
 * memfs_locks.c - scheme-memfs --own-locks: file locks kept by the
 * provider (scheme.h "Locks"), as a provider that must keep them itself
 * would (one whose files are shared with another system, say).
 *
 * A deliberately small table: one array of locks, each a file (its inode
 * number), an owner, a type and a byte range; flock locks are whole-file
 * and meet only each other.  A SET replaces what its owner held in the
 * range (a lock strictly around it splits in two); same-type neighbours
 * are not merged, which changes nothing that can be seen but F_GETLK's
 * report of one lock in the way.  A SETW that must wait is kept, and
 * retried whenever locks go; there is no deadlock detection (EDEADLK),
 * which a real provider would add.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "memfs_locks.h"

#define ML_MAX_LOCKS 4096
#define ML_MAX_WAITS 64

struct ml {
	uint64_t ino, owner;
	int64_t start, end;
	int32_t pid;
	int16_t type;
	uint8_t kind; /* SCHEME_LOCK_POSIX, _OFD, _FLOCK */
};

struct ml_wait {
	struct scheme_packet p; /* its c stays valid until answered */
	uint64_t ino;
};

static struct ml locks[ML_MAX_LOCKS];
static size_t nlocks;
static struct ml_wait waits[ML_MAX_WAITS];
static size_t nwaits;
static unsigned long releases;
static void (*answer_fn)(struct scheme_packet *, int64_t);

static bool
meets(const struct ml *l, uint64_t ino, const struct scheme_lock *lk)
{
	return l->ino == ino && l->owner != lk->owner &&
	       (l->kind == SCHEME_LOCK_FLOCK) ==
		   (lk->kind == SCHEME_LOCK_FLOCK) &&
	       l->start <= lk->end && lk->start <= l->end &&
	       (l->type == F_WRLCK || lk->type == F_WRLCK);
}

/* The first lock of another owner in lk's way, or NULL. */
static const struct ml *
conflict(uint64_t ino, const struct scheme_lock *lk)
{
	for (size_t i = 0; i < nlocks; i++)
		if (meets(&locks[i], ino, lk))
			return &locks[i];
	return NULL;
}

static void
drop(size_t i)
{
	locks[i] = locks[--nlocks];
}

static int
add(uint64_t ino, const struct scheme_lock *lk, int64_t start, int64_t end,
    int16_t type)
{
	if (nlocks == ML_MAX_LOCKS)
		return -ENOLCK;
	locks[nlocks++] = (struct ml){.ino = ino,
				      .owner = lk->owner,
				      .start = start,
				      .end = end,
				      .pid = lk->pid,
				      .type = type,
				      .kind = lk->kind};
	return 0;
}

/* The owner's locks on ino within lk's range go (ranges outside stay). */
static int
clear(uint64_t ino, const struct scheme_lock *lk)
{
	if (nlocks + 1 > ML_MAX_LOCKS)
		return -ENOLCK; /* room for a split, before anything moves */
	for (size_t i = 0; i < nlocks;) {
		struct ml *l = &locks[i];

		if (l->ino != ino || l->owner != lk->owner ||
		    (l->kind == SCHEME_LOCK_FLOCK) !=
			(lk->kind == SCHEME_LOCK_FLOCK) ||
		    l->end < lk->start || lk->end < l->start) {
			i++;
			continue;
		}
		if (l->start < lk->start && l->end > lk->end) {
			add(ino, lk, lk->end + 1, l->end, l->type);
			l->end = lk->start - 1;
		} else if (l->start < lk->start) {
			l->end = lk->start - 1;
		} else if (l->end > lk->end) {
			l->start = lk->end + 1;
		} else {
			drop(i);
			continue;
		}
		i++;
	}
	return 0;
}

/* SET: 0 once lk holds (or is dropped), -EAGAIN if another is in the way. */
static int
set(uint64_t ino, const struct scheme_lock *lk)
{
	int r;

	/* flock: the old lock goes first, as flock(2) says. */
	if (lk->kind == SCHEME_LOCK_FLOCK && (r = clear(ino, lk)) < 0)
		return r;
	if (lk->type != F_UNLCK && conflict(ino, lk) != NULL)
		return -EAGAIN;
	if ((r = clear(ino, lk)) < 0 || lk->type == F_UNLCK)
		return r;
	return add(ino, lk, lk->start, lk->end, lk->type);
}

static void
unwait(size_t i, int64_t res)
{
	struct scheme_packet p = waits[i].p;

	waits[i] = waits[--nwaits];
	answer_fn(&p, res);
}

/* Locks went: the waits that can go now are granted, in turn. */
static void
retry(void)
{
	for (size_t i = 0; i < nwaits;) {
		struct scheme_lock *lk =
		    (struct scheme_lock *)(uintptr_t)waits[i].p.c;
		int r = set(waits[i].ino, lk);

		if (r == -EAGAIN) {
			i++;
			continue;
		}
		unwait(i, r);
		i = 0; /* a grant reorders nothing, but unwait moved one */
	}
}

static int64_t
get(uint64_t ino, struct scheme_lock *lk)
{
	const struct ml *c = conflict(ino, lk);

	if (c == NULL) {
		lk->type = F_UNLCK;
		return 0;
	}
	lk->type = c->type;
	lk->start = c->start;
	lk->end = c->end;
	lk->pid = c->kind == SCHEME_LOCK_POSIX ? c->pid : -1;
	return 0;
}

/* The owner's every lock goes, and its waits end (RELEASE_ALL). */
static void
release_all(uint64_t owner)
{
	for (size_t i = 0; i < nlocks;)
		if (locks[i].owner == owner)
			drop(i);
		else
			i++;
	for (size_t i = 0; i < nwaits;)
		if (((struct scheme_lock *)(uintptr_t)waits[i].p.c)->owner ==
		    owner)
			unwait(i, -EINTR);
		else
			i++;
}

static int64_t
cancel(uint64_t id)
{
	for (size_t i = 0; i < nwaits; i++)
		if (waits[i].p.id == id) {
			unwait(i, -EINTR);
			break;
		}
	return 0;
}

static int64_t
keep(const struct scheme_packet *p, uint64_t ino)
{
	if (nwaits == ML_MAX_WAITS)
		return -ENOLCK;
	waits[nwaits].p = *p;
	waits[nwaits++].ino = ino;
	return SCHEME_DEFER;
}

int64_t
ml_lock(const struct scheme_packet *p, uint64_t ino, struct scheme_lock *lk,
	void (*answer)(struct scheme_packet *, int64_t))
{
	struct scheme_lock all = *lk;
	int64_t r = 0;

	answer_fn = answer;
	switch (lk->cmd) {
	case SCHEME_LOCK_GET:
		return get(ino, lk);
	case SCHEME_LOCK_SET:
	case SCHEME_LOCK_SETW:
		r = set(ino, lk);
		if (r == -EAGAIN && lk->cmd == SCHEME_LOCK_SETW)
			return keep(p, ino);
		break;
	case SCHEME_LOCK_CANCEL:
		return cancel(lk->wait);
	case SCHEME_LOCK_RELEASE:
		releases++;
		all.start = 0;
		all.end = SCHEME_LOCK_EOF;
		r = clear(ino, &all);
		break;
	case SCHEME_LOCK_RELEASE_ALL:
		releases++;
		release_all(lk->owner);
		break;
	default:
		return -EINVAL;
	}
	retry();
	return r;
}

void
ml_closed(uint64_t handle)
{
	for (size_t i = 0; i < nwaits;)
		if (waits[i].p.b == handle)
			unwait(i, -EBADF);
		else
			i++;
}

unsigned long
ml_held(void)
{
	return (unsigned long)nlocks;
}

unsigned long
ml_releases(void)
{
	return releases;
}

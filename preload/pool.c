/*
 * pool.c - see pool.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "../proto/wire/wire.h"
#include "chan.h"
#include "hidden.h"
#include "pool.h"
#include "real.h"
#include "state.h"

#define POOL_MAX 8 /* parked sockets per process, any scheme */

struct parked {
	int fd; /* hidden; -1: a free slot */
	uint64_t broker, inst, key;
	uint64_t age;
};

static _Atomic uint64_t gen = 1;
static struct parked slot[POOL_MAX] = {
    [0 ... POOL_MAX - 1] = {.fd = -1},
};
static uint64_t clock_;

uint64_t
pool_gen(void)
{
	return atomic_load_explicit(&gen, memory_order_acquire);
}

void
pool_shared(void)
{
	atomic_fetch_add_explicit(&gen, 1, memory_order_acq_rel);
}

static void
relocate(void *ctx, int oldfd, int newfd)
{
	struct parked *p = ctx;

	if (p->fd == oldfd)
		p->fd = newfd;
}

bool
pool_park(int fd, struct sfd *e)
{
	struct wire_req req;
	struct parked *p, *old = NULL;
	struct chan *ch;
	int evict = -1;

	/* Not worth a new channel (a close by another thread, or by a
	 * signal handler while a call is under way): closed as usual. */
	if (e->gen == 0 || e->gen != pool_gen() ||
	    (ch = chan_idle(e->broker, e->inst)) == NULL)
		return false;
	wire_req_init(&req, WIRE_OP_PARK, e->key);
	if (chan_post(ch, &req) < 0)
		return false;
	chan_release(ch);
	st_lock(ST_POOL);
	for (p = slot; p < slot + POOL_MAX; p++) {
		if (p->fd < 0) {
			old = p;
			break;
		}
		if (old == NULL || p->age < old->age)
			old = p; /* the oldest goes if none is free */
	}
	if (old->fd >= 0)
		evict = old->fd; /* its end frees it in the provider */
	old->broker = e->broker;
	old->inst = e->inst;
	old->key = e->key;
	old->age = ++clock_;
	old->fd = hidden_move(fd, relocate, old);
	st_unlock(ST_POOL);
	hidden_close(evict);
	return true;
}

static void
relocate_ticket(void *ctx, int oldfd, int newfd)
{
	struct pool_ticket *t = ctx;

	if (t->fd == oldfd)
		t->fd = newfd;
}

bool
pool_offer(uint64_t broker, uint64_t inst, struct pool_ticket *t)
{
	struct parked *p, *best = NULL;
	struct sfd *h;

	st_lock(ST_POOL);
	for (p = slot; p < slot + POOL_MAX; p++)
		if (p->fd >= 0 && p->broker == broker && p->inst == inst &&
		    (best == NULL || p->age > best->age))
			best = p;
	if (best != NULL) {
		t->fd = best->fd;
		t->key = best->key;
		best->fd = -1;
		if ((h = fdtab_get(t->fd)) != NULL && h->ops->ours) {
			h->relocate = relocate_ticket;
			h->ctx = t;
		}
	}
	st_unlock(ST_POOL);
	return best != NULL;
}

int
pool_take(struct pool_ticket *t, bool cloexec)
{
	int fd = REAL(fcntl)(t->fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	int err = errno;

	hidden_close(t->fd);
	errno = err;
	return fd < 0 ? -err : fd;
}

void
pool_drop(struct pool_ticket *t)
{
	hidden_close(t->fd);
}

static void
fork_prepare(void)
{
	pool_shared(); /* the child holds every fd open now */
}

/* The parked sockets are the parent's to offer: close our copies. */
static void
fork_child(void)
{
	struct parked *p;

	for (p = slot; p < slot + POOL_MAX; p++)
		if (p->fd >= 0) {
			hidden_close(p->fd);
			p->fd = -1;
		}
}

const struct st_fork_hook pool_fork_hook = {ST_POOL, fork_prepare, NULL,
					    fork_child};

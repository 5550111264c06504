/*
 * mutex.c - the slow paths of serve's lock and condition (mutex.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>

#include "../sys.h"
#include "mutex.h"

static void
futex(_Atomic uint32_t *w, int op, uint32_t val)
{
	int saved = errno;

	(void)SYS(futex)((uint32_t *)w, op | FUTEX_PRIVATE_FLAG, val);
	errno = saved;
}

/* Held (seen: 1 or 2): mark it waited for, and sleep until it is free. */
void
sv_mutex_wait(struct sv_mutex *m, uint32_t seen)
{
	if (seen != 2)
		seen = atomic_exchange_explicit(&m->v, 2, memory_order_acquire);
	while (seen != 0) {
		futex(&m->v, FUTEX_WAIT, 2);
		seen = atomic_exchange_explicit(&m->v, 2, memory_order_acquire);
	}
}

void
sv_mutex_wake(struct sv_mutex *m)
{
	futex(&m->v, FUTEX_WAKE, 1);
}

/* With m held; returns with it held, after a signal or spuriously. */
void
sv_cond_wait(struct sv_cond *c, struct sv_mutex *m)
{
	uint32_t seq = atomic_load_explicit(&c->seq, memory_order_relaxed);

	sv_unlock(m);
	futex(&c->seq, FUTEX_WAIT, seq);
	sv_lock(m);
}

/* With the waiter's mutex held. */
void
sv_cond_signal(struct sv_cond *c)
{
	atomic_fetch_add_explicit(&c->seq, 1, memory_order_relaxed);
	futex(&c->seq, FUTEX_WAKE, 1);
}

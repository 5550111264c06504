/*
 * mutex.h - serve's lock, and the waker's wait for work: futex words.
 *
 * Every request and every answer takes serve's lock (twice for a direct
 * read: serve.c).  pthread_mutex_lock and _unlock cost about 55
 * instructions a pair in glibc, for a type check, elision and the
 * owner's bookkeeping that serve never asks for; this lock is one atomic
 * exchange each way when nobody waits.  A word of three states, as in
 * Drepper's "Futexes Are Tricky": 0 free, 1 held, 2 held and perhaps
 * waited for (its unlock wakes one waiter).  Private futexes: a forked
 * child's copy is its own (serve_lock/serve_unlock around fork).
 *
 * Neither is a cancellation point; nor was pthread_mutex_lock.
 */
#ifndef PROTO_SERVE_MUTEX_H
#define PROTO_SERVE_MUTEX_H

#include <stdatomic.h>
#include <stdint.h>

struct sv_mutex {
	_Atomic uint32_t v;
};

#define SV_MUTEX_INIT                                                          \
	{                                                                      \
		0                                                              \
	}

void sv_mutex_wait(struct sv_mutex *m, uint32_t seen);
void sv_mutex_wake(struct sv_mutex *m);

static inline void
sv_lock(struct sv_mutex *m)
{
	uint32_t seen = 0;

	if (!atomic_compare_exchange_strong_explicit(
		&m->v, &seen, 1, memory_order_acquire, memory_order_relaxed))
		sv_mutex_wait(m, seen);
}

static inline void
sv_unlock(struct sv_mutex *m)
{
	if (atomic_exchange_explicit(&m->v, 0, memory_order_release) == 2)
		sv_mutex_wake(m);
}

/*
 * A condition without a mutex of its own: a count bumped by every
 * signal.  The waiter reads it with the lock held, drops the lock and
 * sleeps unless it moved; a signal, made with the lock held, cannot fall
 * between the two unheard.
 */
struct sv_cond {
	_Atomic uint32_t seq;
};

void sv_cond_wait(struct sv_cond *c, struct sv_mutex *m);
void sv_cond_signal(struct sv_cond *c);

#endif

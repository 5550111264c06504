/*
 * waker.c - the thread that ends a direct read (serve.c, "Direct reads").
 *
 * While a thread of the provider blocks in read() of one channel's
 * request pipe, nothing else it serves can wake it: other channels, the
 * description sockets, the timers and the kick all sit in serve's epoll
 * set.  The waker waits on that set (through an epoll set of its own that
 * holds it: ready whenever it is), and when anything there is ready it
 * rings the channel (pipe.c, sv_pipe_ring), whose reader then goes back
 * to epoll_wait() and finds it.  It waits only while a direct read is on
 * and not yet rung; else on its condition variable, so that it never
 * competes with a thread in epoll_wait() for the events themselves.
 *
 * One per scheme, made at the first direct read, with every signal
 * blocked (the program's signals are the program's threads').  A forked
 * child has none (threads do not survive fork): it is made again there
 * when the child reads directly in turn (a daemon() provider).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "../sys.h"
#include "serve_impl.h"

static atomic_uint forks = 1; /* bumped in every forked child */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
forked(void)
{
	atomic_fetch_add(&forks, 1);
}

static void
hook(void)
{
	pthread_atfork(NULL, NULL, forked);
}

static void *
waker(void *arg)
{
	struct serve *s = arg;
	struct epoll_event ev;
	int n, ep;

	sv_lock(&s->lock);
	while (!s->w.stop) {
		if (s->direct == NULL || s->w.rung) {
			sv_cond_wait(&s->w.cv, &s->lock);
			continue;
		}
		ep = s->w.ep;
		sv_unlock(&s->lock);
		n = SYS(epoll_wait)(ep, &ev, 1, -1);
		sv_lock(&s->lock);
		/* An error too ends the read: its reader will see epoll's. */
		if (n != 0 && s->direct != NULL && !s->w.rung) {
			s->w.rung = true;
			sv_pipe_ring(s->direct);
		}
	}
	sv_unlock(&s->lock);
	return NULL;
}

/*
 * With s->lock held and s->w.ep made: whether the waker runs in this
 * process, made now if it does not.  False when it cannot be made (then
 * never again: no direct reads for this scheme).
 */
bool
sv_waker_here(struct serve *s)
{
	unsigned now;
	sigset_t all, old;
	int r;

	now = atomic_load_explicit(&forks, memory_order_relaxed);
	if (s->w.forks == now) /* every request of a direct read asks */
		return true;
	if (s->w.failed)
		return false;
	pthread_once(&once, hook); /* before the first waker: then counted */
	now = atomic_load(&forks);
	/* First, or in a child, where nobody waits on the parent's copy. */
	s->w.stop = false;
	sigfillset(&all);
	SYS(pthread_sigmask)(SIG_SETMASK, &all, &old);
	r = SYS(pthread_create)(&s->w.t, NULL, waker, s);
	SYS(pthread_sigmask)(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		s->w.failed = true;
		return false;
	}
	s->w.forks = now;
	return true;
}

/* Without s->lock: stop the waker, if this process has one, and wait. */
void
sv_waker_stop(struct serve *s)
{
	int saved = errno;

	if (s->w.forks == 0 || s->w.forks != atomic_load(&forks))
		return;
	sv_lock(&s->lock);
	s->w.stop = true;
	sv_cond_signal(&s->w.cv);
	sv_unlock(&s->lock);
	/* Out of its epoll_wait(), if it is in one: the kick is in the set. */
	(void)SYS(write)(s->kick, &(uint64_t){1}, sizeof(uint64_t));
	pthread_join(s->w.t, NULL);
	s->w.forks = 0;
	errno = saved;
}

/*
 * wrap_poll.c - waiting for readiness: poll, ppoll, select, pselect, and
 * epoll_ctl/epoll_wait/epoll_pwait/epoll_pwait2.
 *
 * Calls that involve no scheme fd go straight to the kernel (for epoll,
 * a set that never watched one is not ours to look at).  poll and select
 * with scheme fds are poll.c's; an epoll set watching scheme fds is
 * epset.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#include <scheme/scheme.h>

#include "../proto/serve/deadline.h"
#include "client.h"
#include "epset.h"
#include "fdops.h"
#include "uaccess.h"
#include "wrap.h"

void __chk_fail(void) __attribute__((noreturn));

/*
 * Whether any of the fds is a scheme's.  An array we may not read (or
 * absurdly long) is left to the kernel, which says EFAULT (or EINVAL).
 */
static bool
any_ours(const struct pollfd *fds, nfds_t n)
{
	if (n > (1u << 20) || ua_read_ok(fds, n * sizeof(*fds)) < 0)
		return false;
	for (nfds_t i = 0; i < n; i++) {
		struct sfd *e = fdtab_get(fds[i].fd);

		if (e != NULL && (e->ops->requests || e->ops->ours))
			return true;
	}
	return false;
}

/*
 * glibc 2.36 declares poll's and ppoll's array write-only (a fortify
 * attribute; the kernel reads it), which our definitions inherit: reading
 * it here is what poll does.
 */
#pragma GCC diagnostic push
#ifndef __clang__ /* a gcc warning: clang does not know its name */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

EXPORT int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	int saved = errno;

	if (LIKELY(!any_ours(fds, n)))
		return REAL(poll)(fds, n, timeout);
	if (ua_write_ok(fds, n * sizeof(*fds)) < 0) /* revents */
		return (int)wrap_ret(-EFAULT, saved);
	return (int)wrap_ret(sc_poll(fds, n, timeout < 0 ? -1 : timeout, NULL),
			     saved);
}

EXPORT int
__poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return poll(fds, n, timeout);
}

static long
ts_ms(const struct timespec *ts)
{
	if (ts == NULL)
		return -1;
	return ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
}

EXPORT int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
      const sigset_t *mask)
{
	int saved = errno;

	if (LIKELY(!any_ours(fds, n)))
		return REAL(ppoll)(fds, n, ts, mask);
	if (ua_write_ok(fds, n * sizeof(*fds)) < 0 ||
	    (ts != NULL && ua_read_ok(ts, sizeof(*ts)) < 0) ||
	    (mask != NULL && ua_read_ok(mask, _NSIG / 8) < 0))
		return (int)wrap_ret(-EFAULT, saved);
	return (int)wrap_ret(sc_poll(fds, n, ts_ms(ts), mask), saved);
}

#pragma GCC diagnostic pop

/*
 * The bytes of a set select reads for nfds fds, as the kernel copies them:
 * whole longs.
 */
static size_t
set_bytes(int nfds)
{
	int n = nfds < FD_SETSIZE ? nfds : FD_SETSIZE;

	return (size_t)(n + 63) / 64 * 8;
}

/*
 * Whether the sets and the time may be used (write: written back too);
 * if not, the kernel says EFAULT.
 */
static bool
select_args_ok(int nfds, fd_set *r, fd_set *w, fd_set *x, const void *t,
	       size_t tlen, bool write)
{
	fd_set *sets[3] = {r, w, x};
	size_t len = nfds > 0 ? set_bytes(nfds) : 0;

	for (int i = 0; i < 3; i++)
		if (sets[i] != NULL && (write ? ua_write_ok(sets[i], len)
					      : ua_read_ok(sets[i], len)) < 0)
			return false;
	return t == NULL || (write ? ua_write_ok((void *)t, tlen)
				   : ua_read_ok(t, tlen)) == 0;
}

/* select and pselect with scheme fds: as poll, then back into the sets. */
static int
select_ours(int nfds, fd_set *r, fd_set *w, fd_set *x)
{
	if (!select_args_ok(nfds, r, w, x, NULL, 0, false))
		return 0; /* the kernel's EFAULT */
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
		struct sfd *e;

		if (!(r && FD_ISSET(fd, r)) && !(w && FD_ISSET(fd, w)) &&
		    !(x && FD_ISSET(fd, x)))
			continue;
		e = fdtab_get(fd);
		if (e != NULL && (e->ops->requests || e->ops->ours))
			return 1;
	}
	return 0;
}

static int
select_poll(int nfds, fd_set *r, fd_set *w, fd_set *x, long ms,
	    const sigset_t *mask)
{
	struct pollfd p[FD_SETSIZE];
	int fd, n = 0, k, count = 0;

	if (nfds < 0 || nfds > FD_SETSIZE)
		return -EINVAL;
	for (fd = 0; fd < nfds; fd++) {
		short ev = (r && FD_ISSET(fd, r) ? POLLIN : 0) |
			   (w && FD_ISSET(fd, w) ? POLLOUT : 0) |
			   (x && FD_ISSET(fd, x) ? POLLPRI : 0);

		if (ev)
			p[n++] = (struct pollfd){fd, ev, 0};
	}
	k = sc_poll(p, (nfds_t)n, ms, mask);
	if (k < 0)
		return k;
	for (int i = 0; i < n; i++) {
		if (p[i].revents & POLLNVAL)
			return -EBADF;
		fd = p[i].fd;
		if (r && FD_ISSET(fd, r) &&
		    !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			FD_CLR(fd, r);
		if (w && FD_ISSET(fd, w) &&
		    !(p[i].revents & (POLLOUT | POLLERR)))
			FD_CLR(fd, w);
		if (x && FD_ISSET(fd, x) && !(p[i].revents & POLLPRI))
			FD_CLR(fd, x);
		count += (r && FD_ISSET(fd, r)) + (w && FD_ISSET(fd, w)) +
			 (x && FD_ISSET(fd, x));
	}
	return count;
}

EXPORT int
select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	struct timespec start, end;
	int saved = errno, k;
	long ms;

	if (LIKELY(!select_ours(nfds, r, w, x)))
		return REAL(select)(nfds, r, w, x, tv);
	if (!select_args_ok(nfds, r, w, x, tv, sizeof(*tv), true))
		return (int)wrap_ret(-EFAULT, saved);
	ms = tv ? tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000 : -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	k = select_poll(nfds, r, w, x, ms, NULL);
	if (tv != NULL) { /* as Linux: what is left of the time */
		long us;

		clock_gettime(CLOCK_MONOTONIC, &end);
		us = tv->tv_sec * 1000000L + tv->tv_usec -
		     ((end.tv_sec - start.tv_sec) * 1000000L +
		      (end.tv_nsec - start.tv_nsec) / 1000);
		if (us < 0)
			us = 0;
		tv->tv_sec = us / 1000000;
		tv->tv_usec = us % 1000000;
	}
	return (int)wrap_ret(k, saved);
}

EXPORT int
pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts,
	const sigset_t *mask)
{
	int saved = errno;

	if (LIKELY(!select_ours(nfds, r, w, x)))
		return REAL(pselect)(nfds, r, w, x, ts, mask);
	if (!select_args_ok(nfds, r, w, x, NULL, 0, true) ||
	    (ts != NULL && ua_read_ok(ts, sizeof(*ts)) < 0) ||
	    (mask != NULL && ua_read_ok(mask, _NSIG / 8) < 0))
		return (int)wrap_ret(-EFAULT, saved);
	return (int)wrap_ret(select_poll(nfds, r, w, x, ts_ms(ts), mask),
			     saved);
}

/* EPOLLIN and friends as EVENT_* (an fd watched for nothing: for reads). */
static uint32_t
interest(uint32_t events)
{
	uint32_t f =
	    (events & (EPOLLIN | EPOLLRDNORM | EPOLLRDHUP) ? EVENT_READ : 0) |
	    (events & (EPOLLOUT | EPOLLWRNORM) ? EVENT_WRITE : 0);

	return f ? f : EVENT_READ;
}

EXPORT int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct sfd *e = fdtab_get(fd), *ep = fdtab_get(epfd);
	struct epset *es;
	int saved = errno;

	if (LIKELY(e == NULL && ep == NULL))
		return REAL(epoll_ctl)(epfd, op, fd, ev);
	if ((e != NULL && e->ops->ours) || (ep != NULL && ep->ops->ours))
		return (int)wrap_ret(-EBADF, saved);
	if (e == NULL || e->ops->subscribe == NULL)
		return REAL(epoll_ctl)(epfd, op, fd, ev);
	if (op != EPOLL_CTL_DEL && ua_read_ok(ev, sizeof(*ev)) < 0)
		return (int)wrap_ret(-EFAULT, saved);
	if ((es = epset_attach(epfd)) == NULL)
		return (int)wrap_ret(-ENOMEM, saved);
	return (int)wrap_ret(
	    epset_ctl(es, epfd, op, fd, ev ? interest(ev->events) : 0,
		      ev ? ev->events : 0, ev ? ev->data.u64 : 0),
	    saved);
}

/*
 * A set that watches scheme fds: wait, translate, and wait again when
 * everything that woke us had nothing to say (until the time is up).
 */
static int
epoll_ours(struct epset *es, int epfd, struct epoll_event *ev, int max,
	   long timeout, const sigset_t *mask)
{
	struct deadline dl;
	int n, out, saved = errno;

	deadline_start(&dl, timeout);
	for (;;) {
		n = REAL(epoll_pwait)(epfd, ev, max, (int)deadline_left(&dl),
				      mask);
		if (n <= 0)
			return n;
		out = epset_translate(es, epfd, ev, n);
		if (out > 0 || deadline_left(&dl) == 0) {
			errno = saved;
			return out;
		}
	}
}

EXPORT int
epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	struct epset *es = epset_of(epfd);

	if (LIKELY(es == NULL))
		return REAL(epoll_wait)(epfd, ev, max, timeout);
	return epoll_ours(es, epfd, ev, max, timeout, NULL);
}

EXPORT int
epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
	    const sigset_t *mask)
{
	struct epset *es = epset_of(epfd);

	if (LIKELY(es == NULL))
		return REAL(epoll_pwait)(epfd, ev, max, timeout, mask);
	return epoll_ours(es, epfd, ev, max, timeout, mask);
}

EXPORT int
epoll_pwait2(int epfd, struct epoll_event *ev, int max,
	     const struct timespec *ts, const sigset_t *mask)
{
	struct epset *es = epset_of(epfd);

	if (LIKELY(es == NULL))
		return REAL(epoll_pwait2)(epfd, ev, max, ts, mask);
	if (ts != NULL && ua_read_ok(ts, sizeof(*ts)) < 0) {
		errno = EFAULT;
		return -1;
	}
	return epoll_ours(es, epfd, ev, max, ts_ms(ts), mask);
}

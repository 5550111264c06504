/*
 * equeue.c - event: queues, as a Redox daemon uses them:
 *
 *	int q = open("event:", O_RDWR);
 *	write(q, &(struct scheme_event){fd, EVENT_READ, token}, 24);
 *	read(q, evs, n * 24);		(blocks; O_NONBLOCK: EAGAIN)
 *
 * The broker owns the name (a namespace may not hold it); the queue
 * itself lives here, an epoll set (epset.c) whose fd the program gets,
 * so that waiting on it costs one wake-up from whoever posts, and so that
 * a registration holds no reference to what it watches: a pipe or socket
 * registered here still sees EOF and hang-ups when its owner closes it.
 *
 * Writing: each entry registers (flags = interest, data = token), changes,
 * or with flags 0 removes an fd.  A bad fd fails the write with EBADF;
 * the entries before it stay registered.  Events are edges: a scheme fd
 * is asked SYS_FEVENT when registered (ready flags arrive at once), then
 * reports each post; a plain fd reports when it becomes ready.
 *
 * Reading: at least one event (id = the fd, flags, the token).  After an
 * fd is closed its events stop; a scheme fd whose open file ends (last fd
 * closed anywhere, or its provider gone) reports its interest once and
 * is forgotten; an fd number reused and registered again reports only
 * for the new file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>

#include <scheme/scheme.h>

#include "../proto/wire/wire.h"
#include "bconn.h"
#include "epset.h"
#include "equeue.h"
#include "real.h"
#include "uaccess.h"

#define BATCH 64

/* Is event: in this process's namespace?  The broker says. */
static int
allowed(void)
{
	struct wire_ctl req, rep;
	int fd = -1, r;

	wire_ctl_init(&req, WIRE_CTL_CONNECT);
	r = bconn_call(&req, "event", 5, &rep, NULL, 0, &fd);
	if (fd >= 0)
		REAL(close)(fd);
	return r;
}

int
equeue_open(int flags)
{
	struct epset *es;
	struct sfd *e;
	int r, fd;

	if ((r = allowed()) < 0)
		return r;
	if ((flags & O_ACCMODE) == O_RDONLY && (flags & O_CREAT))
		return -EINVAL;
	fd = REAL(epoll_create1)((flags & O_CLOEXEC) ? EPOLL_CLOEXEC : 0);
	if (fd < 0)
		return -errno;
	es = epset_new(true, (flags & O_NONBLOCK) != 0);
	e = sfd_new(&fdops_eventq);
	if (es == NULL || e == NULL) {
		REAL(close)(fd);
		sfd_free(e);
		if (es != NULL)
			epset_put(es);
		return -ENOMEM;
	}
	e->es = es;
	if (fdtab_set(fd, e) < 0) {
		REAL(close)(fd);
		sfd_free(e);
		epset_put(es);
		return -ENOMEM;
	}
	return fd;
}

ssize_t
equeue_read(int fd, struct sfd *e, void *buf, size_t n)
{
	struct epoll_event ev[BATCH];
	struct scheme_event out[BATCH];
	size_t want = n / sizeof(out[0]);
	int k, got;

	if (want == 0)
		return -EINVAL;
	if (want > BATCH)
		want = BATCH;
	if ((want = ua_write_span(buf, want * sizeof(out[0])) /
		    sizeof(out[0])) == 0)
		return -EFAULT; /* buf cannot be written (uaccess.h) */
	for (;;) {
		k = REAL(epoll_wait)(fd, ev, (int)want,
				     epset_nonblock(e->es) ? 0 : -1);
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EAGAIN;
		got = epset_events(e->es, fd, ev, k, out);
		if (got > 0) {
			memcpy(buf, out, (size_t)got * sizeof(out[0]));
			return got * (ssize_t)sizeof(out[0]);
		}
		/* only events of registrations since gone: wait again */
	}
}

ssize_t
equeue_write(int fd, struct sfd *e, const void *buf, size_t n)
{
	struct scheme_event ev;
	struct sfd *w;
	size_t i;
	int r, op;

	if (n % sizeof(ev) != 0)
		return -EINVAL;
	if (n > 0 && (n = ua_read_span(buf, n) / sizeof(ev) * sizeof(ev)) == 0)
		return -EFAULT; /* buf cannot be read (uaccess.h) */
	for (i = 0; i < n; i += sizeof(ev)) {
		memcpy(&ev, (const char *)buf + i, sizeof(ev));
		w = fdtab_get((int)ev.id);
		if (ev.id > INT32_MAX || (w != NULL && w->ops->ours) ||
		    REAL(fcntl)((int)ev.id, F_GETFD) < 0)
			return -EBADF; /* those before stay registered */
		op = ev.flags == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_ADD;
		r = epset_ctl(e->es, fd, op, (int)ev.id, (uint32_t)ev.flags,
			      EPOLLET, ev.data);
		if (r == -EEXIST)
			r = epset_ctl(e->es, fd, EPOLL_CTL_MOD, (int)ev.id,
				      (uint32_t)ev.flags, EPOLLET, ev.data);
		if (r == -ENOENT && op == EPOLL_CTL_DEL)
			r = 0;
		if (r < 0)
			return r;
	}
	return (ssize_t)n;
}

/*
 * The ops of an event: queue (fdops.h): reads and writes are scheme
 * events; the rest is the kernel's, on the epoll fd the queue is.
 */
static ssize_t
q_readv(int fd, struct sfd *e, const struct iovec *iov, int n)
{
	int r = ua_iov_first(iov, n);

	return r < 0 ? r : equeue_read(fd, e, iov[0].iov_base, iov[0].iov_len);
}

static ssize_t
q_writev(int fd, struct sfd *e, const struct iovec *iov, int n)
{
	int r = ua_iov_first(iov, n);

	return r < 0 ? r : equeue_write(fd, e, iov[0].iov_base, iov[0].iov_len);
}

static int
q_fcntl(int fd, struct sfd *e, int cmd, uintptr_t arg)
{
	int r;

	if (cmd == F_SETFL)
		epset_setfl(e->es, (int)arg);
	r = REAL(fcntl)(fd, cmd, arg);
	return r < 0 ? -errno : r;
}

const struct sfd_ops fdops_eventq = {
    .kind = "event queue",
    .readv = q_readv,
    .writev = q_writev,
    .fcntl = q_fcntl,
    .hold = epset_record_hold,
    .put = epset_record_put,
};

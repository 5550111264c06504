/*
 * hidden.c - our own fds inside a program (see hidden.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/resource.h>

#include "fdops.h"
#include "fdtab.h"
#include "hidden.h"
#include "real.h"

static int base; /* 1024 once the limit was seen at 2048 or more */

/*
 * Where our fds go: above half the fd limit, at most from 1024.  Once the
 * limit has been seen at 2048 or more, 1024 is kept without asking the
 * kernel again (an open and a close of a parked file each move an fd): a
 * program that lowers its limit to 1024 or less makes the move fail with
 * EINVAL, and hidden_dup asks again; under 2048 it is asked every time.
 */
static int
hidden_base(bool again)
{
	struct rlimit rl;
	int b = __atomic_load_n(&base, __ATOMIC_RELAXED);

	if (b == 1024 && !again)
		return b;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < 64)
		b = 3;
	else if (rl.rlim_cur >= 2048)
		b = 1024;
	else
		b = (int)(rl.rlim_cur / 2);
	__atomic_store_n(&base, b, __ATOMIC_RELAXED);
	return b;
}

/* A close-on-exec copy of fd in the hidden range, or -1 (errno). */
static int
hidden_dup(int fd)
{
	int n = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, hidden_base(false));

	if (n < 0 && errno == EINVAL)
		n = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, hidden_base(true));
	return n;
}

/* Returns the fd to use from now on: moved if it could be, else the same. */
int
hidden_move(int fd, hidden_relocate_fn fn, void *ctx)
{
	struct sfd *e;
	int saved = errno, n;

	if (fd < 0)
		return fd;
	n = hidden_dup(fd);
	if (n >= 0) {
		REAL(close)(fd);
		fd = n;
	}
	e = sfd_new(&fdops_ours);
	if (e != NULL) {
		e->relocate = fn;
		e->ctx = ctx;
		if (fdtab_set(fd, e) < 0)
			sfd_free(e);
	}
	errno = saved;
	return fd;
}

void
hidden_close(int fd)
{
	int saved = errno;

	if (fd < 0)
		return;
	sfd_free(fdtab_take(fd));
	REAL(close)(fd);
	errno = saved;
}

bool
hidden_is(int fd)
{
	struct sfd *e = fdtab_get(fd);

	return e != NULL && e->ops == &fdops_ours;
}

/*
 * The program is about to take this number (dup2, dup3): move our fd
 * out of the way and tell its owner where it went.
 */
void
hidden_evict(int fd)
{
	struct sfd *e = fdtab_get(fd);
	int saved = errno, n;

	if (e == NULL || e->ops != &fdops_ours)
		return;
	n = hidden_dup(fd);
	if (n < 0)
		n = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 3);
	if (n >= 0) {
		fdtab_take(fd);
		if (fdtab_set(n, e) < 0)
			sfd_free(e);
		else if (e->relocate != NULL)
			e->relocate(e->ctx, fd, n);
	}
	errno = saved;
}

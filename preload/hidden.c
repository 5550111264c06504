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

static int
hidden_base(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < 64)
		return 3;
	if (rl.rlim_cur >= 2048)
		return 1024;
	return (int)(rl.rlim_cur / 2);
}

/* Returns the fd to use from now on: moved if it could be, else the same. */
int
hidden_move(int fd, hidden_relocate_fn fn, void *ctx)
{
	struct sfd *e;
	int saved = errno, n;

	if (fd < 0)
		return fd;
	n = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, hidden_base());
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
	n = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, hidden_base());
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

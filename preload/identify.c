/*
 * identify.c - recognising scheme fds that arrived without us: inherited
 * across exec, or received over SCM_RIGHTS.
 *
 * A description's fd names itself (wire_fdname), so the fd alone says
 * which broker, provider and description it is; nothing has to cross exec
 * in the environment, and a program that clears its environment or passes
 * fds to an unrelated process loses nothing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/wire.h"
#include "bconn.h"
#include "fdtab.h"
#include "io.h"
#include "real.h"
#include "stdio.h"

bool
identify_fd(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	uint64_t broker, inst, key;
	struct sfd *e;
	int saved = errno;

	if (fdtab_get(fd) != NULL)
		return false;
	if (REAL(getsockname)(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    wire_fdname_parse(&sa, len, &broker, &inst, &key) < 0) {
		errno = saved;
		return false;
	}
	errno = saved;
	e = sfd_new(SFD_CLIENT);
	if (e == NULL)
		return false;
	e->broker = broker;
	e->inst = inst;
	e->key = key;
	if (fdtab_set(fd, e) < 0) {
		sfd_free(e);
		return false;
	}
	return true;
}

/*
 * A namespace token we were born with (an exec in a namespace): only at
 * start-up, so that a token received later over a socket never moves a
 * process into another namespace behind its back.
 */
static void
adopt_token(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	uint64_t broker;

	if (fdtab_get(fd) == NULL &&
	    REAL(getsockname)(fd, (struct sockaddr *)&sa, &len) == 0 &&
	    wire_nsname_parse(&sa, len, &broker) == 0)
		bconn_token_set(fd);
}

static void
identify_start(int fd)
{
	adopt_token(fd);
	identify_fd(fd);
}

/* Every open fd, from /proc/self/fd (or the first 256 without /proc). */
void
identify_all(void)
{
	char buf[4096];
	long n, pos;
	int dir, fd, saved = errno;

	dir = REAL(open)("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		for (fd = 0; fd < 256; fd++)
			identify_start(fd);
		errno = saved;
		return;
	}
	while ((n = REAL(getdents64)(dir, buf, sizeof(buf))) > 0) {
		for (pos = 0; pos < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + pos);

			pos += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			fd = atoi(d->d_name);
			if (fd != dir)
				identify_start(fd);
		}
	}
	REAL(close)(dir);
	errno = saved;
}

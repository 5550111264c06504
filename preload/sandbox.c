/*
 * sandbox.c - see sandbox.h.
 *
 * All or nothing.  Everything that can refuse is checked before anything
 * is applied: the sockets held, the threads, Landlock's presence.  The
 * filter itself goes on every thread at once or not at all (seccomp.c).
 * For "file", Landlock comes first, on the one thread there is; a filter
 * that then fails to load leaves only that narrowing behind (and
 * PR_SET_NO_NEW_PRIVS), which is reported as a failure.
 *
 * Held sockets.  seccomp sees a call's registers, not the memory they
 * point to, so sendmsg()'s destination address cannot be refused there.
 * A socket that can send to an address of the caller's choosing (any
 * datagram, raw or packet socket) would reach names the namespace does
 * not hold: setrens() refuses while one is held.  Sockets of the
 * preload's own are unix stream or packet sockets, never refused.  A
 * socket another thread makes while this runs (the program racing its
 * own setrens()) is seen by the second look, after the filter is on:
 * then the filter stays and setrens() still fails.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../proto/wire/wire.h"
#include "landlock.h"
#include "real.h"
#include "sandbox.h"
#include "seccomp.h"

enum sandbox_level
sandbox_level_of(int64_t rns, uint32_t rflags)
{
	if (rns == WIRE_NS_ROOT)
		return SANDBOX_NONE;
	if (rns != WIRE_NS_NULL && (rflags & WIRE_NS_FILES))
		return SANDBOX_FILES;
	return SANDBOX_NULL;
}

/* Could fd send to an address the level does not reach? */
static bool
reaches_out(int fd, enum sandbox_level level)
{
	int type, domain, listening = 0;
	socklen_t len = sizeof(type);
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return false; /* not a socket */
	len = sizeof(domain);
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
		return true;
	if (type != SOCK_STREAM && type != SOCK_SEQPACKET)
		return level == SANDBOX_NULL || domain != AF_UNIX;
	if (level == SANDBOX_NULL || domain == AF_UNIX)
		return false; /* connect() is refused, or reaches files */
	len = sizeof(listening);
	REAL(getsockopt)(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
	return !listening &&
	       getpeername(fd, (struct sockaddr *)&peer, &plen) < 0;
}

/* Every fd, from dir (/proc/self/fd): -EBUSY when one reaches out. */
static int
sockets_ok(int dir, enum sandbox_level level)
{
	char buf[4096];
	long n, pos;
	int fd, r = 0;

	if (REAL(lseek)(dir, 0, SEEK_SET) < 0)
		return -errno;
	while (r == 0 && (n = REAL(getdents64)(dir, buf, sizeof(buf))) > 0) {
		for (pos = 0; r == 0 && pos < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + pos);

			pos += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			fd = atoi(d->d_name);
			if (fd != dir && reaches_out(fd, level))
				r = -EBUSY;
		}
	}
	return r;
}

static int
fd_dir(void)
{
	int dir =
	    REAL(open)("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return dir < 0 ? -errno : dir;
}

/* Threads, from /proc/self/status. */
static int
threads(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd;

	fd = REAL(open)("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = REAL(read)(fd, buf, sizeof(buf) - 1);
	REAL(close)(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strstr(buf, "\nThreads:");
	return p != NULL ? atoi(p + sizeof("\nThreads:") - 1) : -EIO;
}

static int
raise_files(void)
{
	int r, n, dir;

	if ((r = landlock_usable()) < 0)
		return r;
	if ((n = threads()) < 0)
		return n;
	if (n != 1)
		return -EBUSY;
	if ((dir = fd_dir()) < 0)
		return dir;
	r = sockets_ok(dir, SANDBOX_FILES);
	REAL(close)(dir);
	if (r < 0 || (r = landlock_files()) < 0)
		return r;
	return seccomp_files();
}

/* The second look uses the directory opened before: opens are over. */
static int
raise_null(void)
{
	int r, dir;

	if ((dir = fd_dir()) < 0)
		return dir;
	if ((r = sockets_ok(dir, SANDBOX_NULL)) == 0 &&
	    (r = seccomp_null()) == 0)
		r = sockets_ok(dir, SANDBOX_NULL);
	REAL(close)(dir);
	return r;
}

int
sandbox_raise(enum sandbox_level from, enum sandbox_level to)
{
	if (to <= from)
		return 0;
	if (to == SANDBOX_FILES)
		return raise_files();
	return raise_null();
}

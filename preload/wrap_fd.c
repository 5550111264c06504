/*
 * wrap_fd.c - the fd table's own calls: close, close_range, closefrom,
 * dup, dup2, dup3, fcntl, and recvmsg (fds arriving by SCM_RIGHTS).
 *
 * The kernel does the real work (a scheme fd is a real fd; dups share the
 * description, and the last close is what the provider hears); we keep
 * our table in step with it (fdops.c).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdops.h"
#include "hidden.h"
#include "identify.h"
#include "pool.h"
#include "stdio.h"
#include "uaccess.h"
#include "wrap.h"

EXPORT int
close(int fd)
{
	struct sfd *e = fdtab_get(fd);
	int saved = errno;

	if (LIKELY(e == NULL))
		return REAL(close)(fd);
	return (int)wrap_ret(fd_close(fd), saved);
}

static int
real_close_range(unsigned lo, unsigned hi, int flags)
{
	unsigned fd;

	if (lo > hi)
		return 0;
	if (REAL(close_range)(lo, hi, flags) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	for (fd = lo; fd <= hi && fd < (unsigned)FDTAB_CHUNKS << 10; fd++)
		REAL(close)((int)fd); /* a kernel before 5.9 */
	return 0;
}

/*
 * Close [lo, hi] around our hidden fds: the real call runs on each gap
 * between them.  Entries of the program's scheme fds in the range go.
 */
static int
range_close(unsigned lo, unsigned hi, int flags)
{
	uint64_t start = lo, end = (uint64_t)hi + 1;
	struct sfd *e;
	int fd, r = 0;

	if (flags & CLOSE_RANGE_CLOEXEC) /* ours are close-on-exec already */
		return REAL(close_range)(lo, hi, flags) < 0 ? -errno : 0;
	for (fd = lo > INT_MAX ? -1 : fdtab_next((int)lo);
	     fd >= 0 && (uint64_t)fd < end; fd = fdtab_next(fd + 1)) {
		if ((e = fdtab_get(fd)) == NULL)
			continue; /* closed by another thread meanwhile */
		if (!e->ops->ours)
			fd_closing(fd);
		if (e->ops->ours) {
			if ((uint64_t)fd > start && r == 0)
				r = real_close_range((unsigned)start,
						     (unsigned)fd - 1, flags);
			start = (uint64_t)fd + 1;
			continue;
		}
		e = fdtab_take(fd);
		REAL(close)(fd);
		fd_release(e);
	}
	if (r == 0 && start < end)
		r = real_close_range((unsigned)start, hi, flags);
	return r;
}

EXPORT int
close_range(unsigned lo, unsigned hi, int flags)
{
	int saved = errno;

	if (lo > hi) {
		errno = EINVAL;
		return -1;
	}
	return (int)wrap_ret(range_close(lo, hi, flags), saved);
}

EXPORT void
closefrom(int lo)
{
	int saved = errno;

	if (lo < 0)
		lo = 0;
	range_close((unsigned)lo, UINT_MAX, 0);
	errno = saved;
}

EXPORT int
dup(int fd)
{
	struct sfd *e = fdtab_get(fd);
	int saved = errno, r;

	if (LIKELY(e == NULL))
		return REAL(dup)(fd);
	if (e->ops->ours)
		return (int)wrap_ret(-EBADF, saved);
	if ((r = REAL(dup)(fd)) < 0)
		return r;
	if (fd_adopt_copy(r, e) < 0) {
		REAL(close)(r);
		return (int)wrap_ret(-ENOMEM, saved);
	}
	errno = saved;
	return r;
}

/*
 * dup2/dup3: if the target is one of ours it moves first; if it is 0-2
 * the std stream is flushed to where it pointed, then follows the fd.
 */
static int
dup_onto(int old, int new, int flags, bool three)
{
	struct sfd *e = fdtab_get(old), *prev;
	int r;

	if (e != NULL && e->ops->ours)
		return -EBADF;
	hidden_evict(new);
	if (new >= 0 && new <= 2 && old != new)
		stdio_std_flush(new);
	if (old != new)
		fd_closing(new); /* dup2 closes it */
	prev = old != new ? fdtab_take(new) : NULL;
	r = three ? REAL(dup3)(old, new, flags) : REAL(dup2)(old, new);
	if (r < 0) {
		r = -errno;
		if (prev != NULL && fdtab_set(new, prev) < 0)
			fd_release(prev);
		return r;
	}
	fd_release(prev);
	if (e != NULL && old != new &&fd_adopt_copy(new, e) < 0)
		return -ENOMEM;
	stdio_std_update(new);
	return new;
}

EXPORT int
dup2(int old, int new)
{
	int saved = errno;

	if (LIKELY(fdtab_get(old) == NULL && fdtab_get(new) == NULL &&
		   (new < 0 || new > 2)))
		return REAL(dup2)(old, new);
	return (int)wrap_ret(dup_onto(old, new, 0, false), saved);
}

EXPORT int
dup3(int old, int new, int flags)
{
	int saved = errno;

	if (LIKELY(fdtab_get(old) == NULL && fdtab_get(new) == NULL &&
		   (new < 0 || new > 2)))
		return REAL(dup3)(old, new, flags);
	return (int)wrap_ret(dup_onto(old, new, flags, true), saved);
}

/*
 * fcntl: a copy (F_DUPFD) is the table's own; the rest goes through the
 * fd's kind (fdops.h), or to the kernel.
 */
static int
fd_fcntl(int fd, struct sfd *e, int cmd, uintptr_t arg,
	 int (*real)(int, int, ...))
{
	int r;

	if (e->ops->ours)
		return -EBADF;
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		if ((r = real(fd, cmd, arg)) < 0)
			return -errno;
		if (fd_adopt_copy(r, e) < 0) {
			REAL(close)(r);
			return -ENOMEM;
		}
		return r;
	}
	if (e->ops->fcntl != NULL)
		return e->ops->fcntl(fd, e, cmd, arg);
	r = real(fd, cmd, arg);
	return r < 0 ? -errno : r;
}

#define FCNTL(name)                                                            \
	EXPORT int name(int fd, int cmd, ...)                                  \
	{                                                                      \
		struct sfd *e = fdtab_get(fd);                                 \
		int saved = errno;                                             \
		va_list ap;                                                    \
		void *arg;                                                     \
                                                                               \
		va_start(ap, cmd);                                             \
		arg = va_arg(ap, void *); /* as glibc does */                  \
		va_end(ap);                                                    \
		if (LIKELY(e == NULL))                                         \
			return REAL(name)(fd, cmd, arg);                       \
		return (int)wrap_ret(                                          \
		    fd_fcntl(fd, e, cmd, (uintptr_t)arg, REAL(name)), saved);  \
	}

FCNTL(fcntl)
FCNTL(fcntl64)

/* flock: the fd's kind's (a scheme file's are the scheme's), or the kernel's. */
EXPORT int
flock(int fd, int op)
{
	struct sfd *e = fdtab_get(fd);
	int saved = errno;

	if (LIKELY(e == NULL))
		return REAL(flock)(fd, op);
	if (e->ops->ours)
		return (int)wrap_ret(-EBADF, saved);
	if (e->ops->flock == NULL)
		return REAL(flock)(fd, op);
	return (int)wrap_ret(e->ops->flock(fd, e, op), saved);
}

/*
 * lockf: glibc's calls its own fcntl, which no preload sees, so it is
 * made here from ours, as glibc makes it: a POSIX lock from the offset,
 * len bytes long (0: to the end), F_TEST asking whether another process
 * holds one there.
 */
static int
fd_lockf(int fd, struct sfd *e, int cmd, off_t len)
{
	struct flock fl = {.l_whence = SEEK_CUR, .l_len = len};
	int r;

	switch (cmd) {
	case F_TEST:
		fl.l_type = F_RDLCK;
		if ((r = fd_fcntl(fd, e, F_GETLK, (uintptr_t)&fl,
				  REAL(fcntl))) < 0)
			return r;
		return fl.l_type == F_UNLCK || fl.l_pid == getpid() ? 0
								    : -EACCES;
	case F_ULOCK:
		fl.l_type = F_UNLCK;
		return fd_fcntl(fd, e, F_SETLK, (uintptr_t)&fl, REAL(fcntl));
	case F_LOCK:
	case F_TLOCK:
		fl.l_type = F_WRLCK;
		return fd_fcntl(fd, e, cmd == F_LOCK ? F_SETLKW : F_SETLK,
				(uintptr_t)&fl, REAL(fcntl));
	default:
		return -EINVAL;
	}
}

#define LOCKF(name)                                                            \
	EXPORT int name(int fd, int cmd, off_t len)                            \
	{                                                                      \
		struct sfd *e = fdtab_get(fd);                                 \
		int saved = errno;                                             \
                                                                               \
		if (LIKELY(e == NULL))                                         \
			return REAL(name)(fd, cmd, len);                       \
		return (int)wrap_ret(fd_lockf(fd, e, cmd, len), saved);        \
	}

LOCKF(lockf)
LOCKF(lockf64)

/* ioctl: through the fd's kind (fdops.h), or the kernel's. */
static int
fd_ioctl(int fd, struct sfd *e, unsigned long req, void *arg)
{
	int r;

	if (e->ops->ioctl != NULL)
		return e->ops->ioctl(fd, e, req, arg);
	r = REAL(ioctl)(fd, req, arg);
	return r < 0 ? -errno : r;
}

EXPORT int
ioctl(int fd, unsigned long req, ...)
{
	struct sfd *e = fdtab_get(fd);
	int saved = errno;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *); /* as glibc does */
	va_end(ap);
	if (LIKELY(e == NULL))
		return REAL(ioctl)(fd, req, arg);
	return (int)wrap_ret(fd_ioctl(fd, e, req, arg), saved);
}

#define SCM_MAX_FDS 253 /* the kernel's SCM_MAX_FD */

/* Scheme fds that arrive by SCM_RIGHTS are recognised as they come. */
EXPORT ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct cmsghdr *c;
	ssize_t r;
	int n, saved;

	if (hidden_is(fd)) {
		errno = EBADF;
		return -1;
	}
	r = REAL(recvmsg)(fd, msg, flags);
	if (r < 0 || msg->msg_controllen == 0)
		return r;
	saved = errno;
	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		int fds[SCM_MAX_FDS];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		n = n < SCM_MAX_FDS ? n : SCM_MAX_FDS;
		memcpy(fds, CMSG_DATA(c), (size_t)n * sizeof(int));
		identify_fds(fds, n); /* all at once: one round trip */
	}
	errno = saved;
	return r;
}

/*
 * fds sent with SCM_RIGHTS are the receiver's too: none open now may be
 * parked (pool.h).  Anything else passes straight through.
 */
EXPORT ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	/* A msg we may not read is the kernel's EFAULT (uaccess.h). */
	if (ua_read_ok(msg, sizeof(*msg)) == 0 && msg->msg_controllen != 0)
		pool_shared();
	return REAL(sendmsg)(fd, msg, flags);
}

EXPORT int
sendmmsg(int fd, struct mmsghdr *vec, unsigned n, int flags)
{
	pool_shared();
	return REAL(sendmmsg)(fd, vec, n, flags);
}

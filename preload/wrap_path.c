/*
 * wrap_path.c - path calls and metadata: unlink, rmdir, remove, mkdir,
 * rename, chmod, chown, truncate, the utime family, access, readlink, and
 * fchmod/fchown/futimens/futimes on scheme fds.
 *
 * A scheme path is never relative to a directory fd, so the *at forms
 * ignore it.  glibc's remove() calls unlink and rmdir internally, so it
 * is wrapped itself.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "../proto/path.h"
#include "client.h"
#include "paths.h"
#include "wrap.h"

/*
 * Body of a wrapper of one path: `call` (which may use `sp`) for a scheme
 * path, `realcall` for any other, and for one whose scheme is not there.
 */
#define ON_PATH(path, call, realcall)                                          \
	do {                                                                   \
		struct scheme_path sp;                                         \
		int saved_ = errno, r_;                                        \
                                                                               \
		if (LIKELY(!path_classify((path), &sp)))                       \
			return realcall;                                       \
		r_ = (call);                                                   \
		if (r_ == SC_PASS) {                                           \
			errno = saved_;                                        \
			return realcall;                                       \
		}                                                              \
		return (int)wrap_ret(r_, saved_);                              \
	} while (0)

EXPORT int
unlink(const char *path)
{
	ON_PATH(path, sc_unlink(&sp, false), REAL(unlink)(path));
}

EXPORT int
unlinkat(int dirfd, const char *path, int flags)
{
	ON_PATH(path, sc_unlink(&sp, (flags & AT_REMOVEDIR) != 0),
		REAL(unlinkat)(dirfd, path, flags));
}

EXPORT int
rmdir(const char *path)
{
	ON_PATH(path, sc_unlink(&sp, true), REAL(rmdir)(path));
}

static int
remove_either(const struct scheme_path *sp)
{
	int r = sc_unlink(sp, false);

	return r == -EISDIR ? sc_unlink(sp, true) : r;
}

EXPORT int
remove(const char *path)
{
	ON_PATH(path, remove_either(&sp), REAL(remove)(path));
}

EXPORT int
mkdir(const char *path, mode_t mode)
{
	ON_PATH(path, sc_mkdir(&sp, mode), REAL(mkdir)(path, mode));
}

EXPORT int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	ON_PATH(path, sc_mkdir(&sp, mode), REAL(mkdirat)(dirfd, path, mode));
}

/* rename: SC_PASS unless one side is a scheme path of a live scheme. */
static int
try_rename(const char *from, const char *to, unsigned flags)
{
	struct scheme_path a, b;
	bool sa = path_classify(from, &a), sb = path_classify(to, &b);

	if (LIKELY(!sa && !sb))
		return SC_PASS;
	return sc_rename(sa ? &a : NULL, sb ? &b : NULL, flags);
}

#define RENAME_BODY(from, to, flags, realcall)                                 \
	do {                                                                   \
		int saved_ = errno, r_ = try_rename(from, to, flags);          \
                                                                               \
		if (LIKELY(r_ == SC_PASS)) {                                   \
			errno = saved_;                                        \
			return realcall;                                       \
		}                                                              \
		return (int)wrap_ret(r_, saved_);                              \
	} while (0)

EXPORT int
rename(const char *from, const char *to)
{
	RENAME_BODY(from, to, 0, REAL(rename)(from, to));
}

EXPORT int
renameat(int fromfd, const char *from, int tofd, const char *to)
{
	RENAME_BODY(from, to, 0, REAL(renameat)(fromfd, from, tofd, to));
}

EXPORT int
renameat2(int fromfd, const char *from, int tofd, const char *to,
	  unsigned flags)
{
	RENAME_BODY(from, to, flags,
		    REAL(renameat2)(fromfd, from, tofd, to, flags));
}

EXPORT int
chmod(const char *path, mode_t mode)
{
	ON_PATH(path, sc_chmod(&sp, mode, false), REAL(chmod)(path, mode));
}

EXPORT int
fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	ON_PATH(path, sc_chmod(&sp, mode, (flags & AT_SYMLINK_NOFOLLOW) != 0),
		REAL(fchmodat)(dirfd, path, mode, flags));
}

EXPORT int
chown(const char *path, uid_t uid, gid_t gid)
{
	ON_PATH(path, sc_chown(&sp, uid, gid, false),
		REAL(chown)(path, uid, gid));
}

EXPORT int
lchown(const char *path, uid_t uid, gid_t gid)
{
	ON_PATH(path, sc_chown(&sp, uid, gid, true),
		REAL(lchown)(path, uid, gid));
}

EXPORT int
fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	/* An empty path with AT_EMPTY_PATH is the fd: fchown below. */
	if (path[0] == '\0' && (flags & AT_EMPTY_PATH))
		return fchown(dirfd, uid, gid);
	ON_PATH(path,
		sc_chown(&sp, uid, gid, (flags & AT_SYMLINK_NOFOLLOW) != 0),
		REAL(fchownat)(dirfd, path, uid, gid, flags));
}

EXPORT int
truncate(const char *path, off_t len)
{
	ON_PATH(path, sc_truncate(&sp, len), REAL(truncate)(path, len));
}

EXPORT int
truncate64(const char *path, off64_t len)
{
	ON_PATH(path, sc_truncate(&sp, len), REAL(truncate64)(path, len));
}

/* The utime family, as timespecs (NULL: now, as the kernel takes it). */
static const struct timespec *
tv_to_ts(const struct timeval tv[2], struct timespec ts[2])
{
	if (tv == NULL)
		return NULL;
	for (int i = 0; i < 2; i++) {
		ts[i].tv_sec = tv[i].tv_sec;
		ts[i].tv_nsec = tv[i].tv_usec * 1000;
	}
	return ts;
}

EXPORT int
utimes(const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];

	ON_PATH(path, sc_utimens(&sp, tv_to_ts(tv, ts), false),
		REAL(utimes)(path, tv));
}

EXPORT int
lutimes(const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];

	ON_PATH(path, sc_utimens(&sp, tv_to_ts(tv, ts), true),
		REAL(lutimes)(path, tv));
}

EXPORT int
utime(const char *path, const struct utimbuf *t)
{
	struct timespec ts[2];

	if (t != NULL) {
		ts[0] = (struct timespec){t->actime, 0};
		ts[1] = (struct timespec){t->modtime, 0};
	}
	ON_PATH(path, sc_utimens(&sp, t != NULL ? ts : NULL, false),
		REAL(utime)(path, t));
}

/* An fd that is ours: a scheme fd, or one of ours that is a kernel fd. */
#define ON_FD(fd, call, realcall)                                              \
	do {                                                                   \
		struct sfd *e = fdtab_get(fd);                                 \
		int saved_ = errno;                                            \
                                                                               \
		if (LIKELY(e == NULL) || sfd_native(e))                        \
			return realcall;                                       \
		if (e->type != SFD_CLIENT)                                     \
			return (int)wrap_ret(-EBADF, saved_);                  \
		return (int)wrap_ret((call), saved_);                          \
	} while (0)

EXPORT int
utimensat(int dirfd, const char *path, const struct timespec ts[2], int flags)
{
	/* An empty path with AT_EMPTY_PATH is the fd: futimens. */
	if (path[0] == '\0' && (flags & AT_EMPTY_PATH))
		ON_FD(dirfd, sc_futimens(dirfd, e, ts),
		      REAL(utimensat)(dirfd, path, ts, flags));
	ON_PATH(path, sc_utimens(&sp, ts, (flags & AT_SYMLINK_NOFOLLOW) != 0),
		REAL(utimensat)(dirfd, path, ts, flags));
}

EXPORT int
futimens(int fd, const struct timespec ts[2])
{
	ON_FD(fd, sc_futimens(fd, e, ts), REAL(futimens)(fd, ts));
}

EXPORT int
futimes(int fd, const struct timeval tv[2])
{
	struct timespec ts[2];

	ON_FD(fd, sc_futimens(fd, e, tv_to_ts(tv, ts)), REAL(futimes)(fd, tv));
}

EXPORT int
fchmod(int fd, mode_t mode)
{
	ON_FD(fd, sc_fchmod(fd, e, mode), REAL(fchmod)(fd, mode));
}

EXPORT int
fchown(int fd, uid_t uid, gid_t gid)
{
	ON_FD(fd, sc_fchown(fd, e, uid, gid), REAL(fchown)(fd, uid, gid));
}

EXPORT int
access(const char *path, int mode)
{
	ON_PATH(path, sc_access(&sp, mode, false, false),
		REAL(access)(path, mode));
}

EXPORT int
faccessat(int dirfd, const char *path, int mode, int flags)
{
	ON_PATH(path,
		sc_access(&sp, mode, (flags & AT_EACCESS) != 0,
			  (flags & AT_SYMLINK_NOFOLLOW) != 0),
		REAL(faccessat)(dirfd, path, mode, flags));
}

EXPORT int
euidaccess(const char *path, int mode)
{
	ON_PATH(path, sc_access(&sp, mode, true, false),
		REAL(euidaccess)(path, mode));
}

EXPORT int
eaccess(const char *path, int mode)
{
	ON_PATH(path, sc_access(&sp, mode, true, false),
		REAL(eaccess)(path, mode));
}

/* A scheme path is never a symbolic link: EINVAL, if it exists. */
static int
not_a_link(const struct scheme_path *sp)
{
	struct stat st;
	int r = sc_stat(sp, &st, true);

	return r < 0 ? r : -EINVAL;
}

EXPORT ssize_t
readlink(const char *path, char *buf, size_t len)
{
	ON_PATH(path, not_a_link(&sp), REAL(readlink)(path, buf, len));
}

EXPORT ssize_t
readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	ON_PATH(path, not_a_link(&sp), REAL(readlinkat)(dirfd, path, buf, len));
}

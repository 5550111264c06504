/*
 * wrap_path.c - path calls and metadata: unlink, rmdir, remove, mkdir,
 * rename, chmod, chown, truncate, the utime family, access, readlink, and
 * fchmod/fchown/futimens/futimes on scheme fds.
 *
 * A relative path may be a scheme's by its directory fd or the working
 * directory (resolve.c).  glibc's remove() calls unlink and rmdir
 * internally, so it is wrapped itself.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include <limits.h>

#include "../proto/wire/path.h"
#include "client.h"
#include "paths.h"
#include "resolve.h"
#include "route.h"
#include "uaccess.h"
#include "wrap.h"

/* An empty path (read only if it may be) with AT_EMPTY_PATH: the fd. */
static bool
empty_path(const char *path, int flags)
{
	return (flags & AT_EMPTY_PATH) && path != NULL &&
	       ua_strnlen(path, 1) == 0;
}

/*
 * rmdir of a path whose last component is "." is EINVAL, and of one whose
 * last is ".." ENOTEMPTY, as Linux answers before looking: the path given,
 * not the one joined (where "d/." has become "d").
 */
static int
rmdir_given(const struct scheme_path *sp, const char *given)
{
	switch (resolve_last_dot(given)) {
	case 1:
		return -EINVAL;
	case 2:
		return -ENOTEMPTY;
	default:
		return sc_unlink(sp, true);
	}
}

EXPORT int
unlink(const char *path)
{
	ON_PATH(path, sc_unlink(&sp, false), REAL(unlink)(path));
}

EXPORT int
unlinkat(int dirfd, const char *path, int flags)
{
	const char *given = path;

	ON_PATH_AT(dirfd, path,
		   (flags & AT_REMOVEDIR) ? rmdir_given(&sp, given)
					  : sc_unlink(&sp, false),
		   REAL(unlinkat)(dirfd, path, flags));
}

EXPORT int
rmdir(const char *path)
{
	const char *given = path;

	ON_PATH(path, rmdir_given(&sp, given), REAL(rmdir)(path));
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
	ON_PATH_AT(dirfd, path, sc_mkdir(&sp, mode),
		   REAL(mkdirat)(dirfd, path, mode));
}

/* rename: SC_PASS unless one side is a scheme path of a live scheme. */
static int
try_rename(int *fromfd, const char **from, char *fbuf, int *tofd,
	   const char **to, char *tbuf, unsigned flags)
{
	struct scheme_path a, b;
	const char *gfrom = *from, *gto = *to;
	int sa = resolve_at(fromfd, from, fbuf, RESOLVE_MAX, &a);
	int sb = resolve_at(tofd, to, tbuf, RESOLVE_MAX, &b);

	if (LIKELY(sa == 0 && sb == 0))
		return SC_PASS;
	if (sa < 0 || sb < 0)
		return sa < 0 ? sa : sb;
	/*
	 * Within one scheme, "." or ".." as either last component is EBUSY,
	 * as Linux answers before looking (do_renameat2): the paths given,
	 * not the joined ones, where "d/." has become "d" and would move d.
	 */
	if (sa && sb && strcmp(a.name, b.name) == 0 &&
	    (resolve_last_dot(gfrom) || resolve_last_dot(gto)))
		return -EBUSY;
	return sc_rename(sa ? &a : NULL, sb ? &b : NULL, flags);
}

#define RENAME_BODY(fromfd, from, tofd, to, flags, realcall)                   \
	do {                                                                   \
		char fbuf_[RESOLVE_MAX], tbuf_[RESOLVE_MAX];                   \
		int saved_ = errno;                                            \
		int r_ = try_rename(&(fromfd), &(from), fbuf_, &(tofd), &(to), \
				    tbuf_, flags);                             \
                                                                               \
		PASS_OR_RETURN(r_, saved_, realcall);                          \
	} while (0)

EXPORT int
rename(const char *from, const char *to)
{
	int fromfd = AT_FDCWD, tofd = AT_FDCWD;

	RENAME_BODY(fromfd, from, tofd, to, 0,
		    REAL(renameat)(fromfd, from, tofd, to));
}

EXPORT int
renameat(int fromfd, const char *from, int tofd, const char *to)
{
	RENAME_BODY(fromfd, from, tofd, to, 0,
		    REAL(renameat)(fromfd, from, tofd, to));
}

EXPORT int
renameat2(int fromfd, const char *from, int tofd, const char *to,
	  unsigned flags)
{
	RENAME_BODY(fromfd, from, tofd, to, flags,
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
	ON_PATH_AT(dirfd, path,
		   sc_chmod(&sp, mode, (flags & AT_SYMLINK_NOFOLLOW) != 0),
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
	if (empty_path(path, flags))
		return fchown(dirfd, uid, gid);
	ON_PATH_AT(dirfd, path,
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

/*
 * The utime family, as timespecs (NULL: now, as the kernel takes it); the
 * program's times are read only if they may be (uaccess.h).
 */
static int
tv_to_ts(const struct timeval tv[2], struct timespec ts[2],
	 const struct timespec **out)
{
	*out = NULL;
	if (tv == NULL)
		return 0;
	if (ua_read_ok(tv, 2 * sizeof(tv[0])) < 0)
		return -EFAULT;
	for (int i = 0; i < 2; i++) {
		ts[i].tv_sec = tv[i].tv_sec;
		ts[i].tv_nsec = tv[i].tv_usec * 1000;
	}
	*out = ts;
	return 0;
}

static int
utimens_tv(const struct scheme_path *sp, const struct timeval tv[2],
	   bool nofollow)
{
	const struct timespec *t;
	struct timespec ts[2];
	int r = tv_to_ts(tv, ts, &t);

	return r < 0 ? r : sc_utimens(sp, t, nofollow);
}

static int
utimens_ts(const struct scheme_path *sp, const struct timespec ts[2],
	   bool nofollow)
{
	if (ts != NULL && ua_read_ok(ts, 2 * sizeof(ts[0])) < 0)
		return -EFAULT;
	return sc_utimens(sp, ts, nofollow);
}

static int
utime_buf(const struct scheme_path *sp, const struct utimbuf *t)
{
	struct timespec ts[2];

	if (t == NULL)
		return sc_utimens(sp, NULL, false);
	if (ua_read_ok(t, sizeof(*t)) < 0)
		return -EFAULT;
	ts[0] = (struct timespec){t->actime, 0};
	ts[1] = (struct timespec){t->modtime, 0};
	return sc_utimens(sp, ts, false);
}

EXPORT int
utimes(const char *path, const struct timeval tv[2])
{
	ON_PATH(path, utimens_tv(&sp, tv, false), REAL(utimes)(path, tv));
}

EXPORT int
lutimes(const char *path, const struct timeval tv[2])
{
	ON_PATH(path, utimens_tv(&sp, tv, true), REAL(lutimes)(path, tv));
}

EXPORT int
utime(const char *path, const struct utimbuf *t)
{
	ON_PATH(path, utime_buf(&sp, t), REAL(utime)(path, t));
}

/*
 * An fd of ours whose kind has the op: through it (fdops.h), or through
 * call, which uses it; one whose kind has none, or no record, is the
 * kernel's.
 */
#define ON_FD_DO(fd, op, call, realcall)                                       \
	do {                                                                   \
		struct sfd *e = fdtab_get(fd);                                 \
		int saved_ = errno;                                            \
                                                                               \
		if (LIKELY(e == NULL) || e->ops->op == NULL)                   \
			return realcall;                                       \
		return (int)wrap_ret((call), saved_);                          \
	} while (0)
#define ON_FD(fd, op, args, realcall)                                          \
	ON_FD_DO(fd, op, e->ops->op args, realcall)

/* The program's times are read only if they may be (uaccess.h). */
static int
fd_utimens(int fd, struct sfd *e, const struct timespec ts[2])
{
	if (ts != NULL && ua_read_ok(ts, 2 * sizeof(ts[0])) < 0)
		return -EFAULT;
	return e->ops->futimens(fd, e, ts);
}

/* glibc declares utimensat's path nonnull; Linux takes NULL (wrap.h). */
EXPORT int
utimensat(int dirfd, const char *path, const struct timespec ts[2], int flags)
{
	/* An empty path with AT_EMPTY_PATH, or none, is the fd: futimens. */
	if (maybe_null(path) == NULL || empty_path(path, flags))
		ON_FD_DO(dirfd, futimens, fd_utimens(dirfd, e, ts),
			 REAL(utimensat)(dirfd, path, ts, flags));
	ON_PATH_AT(dirfd, path,
		   utimens_ts(&sp, ts, (flags & AT_SYMLINK_NOFOLLOW) != 0),
		   REAL(utimensat)(dirfd, path, ts, flags));
}

EXPORT int
futimens(int fd, const struct timespec ts[2])
{
	ON_FD_DO(fd, futimens, fd_utimens(fd, e, ts), REAL(futimens)(fd, ts));
}

static int
fd_utimes(int fd, struct sfd *e, const struct timeval tv[2])
{
	const struct timespec *t;
	struct timespec ts[2];
	int r = tv_to_ts(tv, ts, &t);

	return r < 0 ? r : e->ops->futimens(fd, e, t);
}

EXPORT int
futimes(int fd, const struct timeval tv[2])
{
	ON_FD_DO(fd, futimens, fd_utimes(fd, e, tv), REAL(futimes)(fd, tv));
}

EXPORT int
fchmod(int fd, mode_t mode)
{
	ON_FD(fd, fchmod, (fd, e, mode), REAL(fchmod)(fd, mode));
}

EXPORT int
fchown(int fd, uid_t uid, gid_t gid)
{
	ON_FD(fd, fchown, (fd, e, uid, gid), REAL(fchown)(fd, uid, gid));
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
	ON_PATH_AT(dirfd, path,
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

/*
 * readlink of a scheme path: the link's target (follow.c), cut to len
 * bytes and not NUL-terminated, as the kernel gives it.
 */
static ssize_t
read_link(const struct scheme_path *sp, char *buf, size_t len)
{
	char target[PATH_MAX + 1];
	int n;

	if (len == 0 || len > SSIZE_MAX)
		return -EINVAL;
	if ((n = sc_readlink(sp, target, sizeof(target))) < 0)
		return n;
	if ((size_t)n > len)
		n = (int)len;
	if (ua_write_ok(buf, (size_t)n) < 0)
		return -EFAULT;
	memcpy(buf, target, (size_t)n);
	return n;
}

EXPORT ssize_t
readlink(const char *path, char *buf, size_t len)
{
	ON_PATH(path, read_link(&sp, buf, len), REAL(readlink)(path, buf, len));
}

EXPORT ssize_t
readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	ON_PATH_AT(dirfd, path, read_link(&sp, buf, len),
		   REAL(readlinkat)(dirfd, path, buf, len));
}

/*
 * mkstemp and friends create their file with glibc's internal open, which
 * no preload sees: for a scheme template the name is made here, and the
 * file (or directory) created with O_EXCL, trying again on EEXIST.
 */
static int
fill_random(char *x, size_t n)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[6];

	if (getrandom(r, n, 0) != (ssize_t)n)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		x[i] = chars[r[i] % (sizeof(chars) - 1)];
	return 0;
}

static int
scheme_mktemp(char *tmpl, int suffixlen, int flags, bool dir)
{
	char buf[RESOLVE_MAX], *x, *y = NULL;
	const char *path = tmpl;
	struct scheme_path sp;
	int dirfd = AT_FDCWD, r, tries, fd;
	size_t len;

	r = resolve_at(&dirfd, &path, buf, sizeof(buf), &sp);
	if (LIKELY(r == 0))
		return SC_PASS;
	if (r < 0)
		return r;
	len = strlen(tmpl); /* may be read: resolve_at looked (uaccess.h) */
	if (suffixlen < 0 || len < (size_t)suffixlen + 6 ||
	    strncmp(tmpl + len - suffixlen - 6, "XXXXXX", 6) != 0)
		return -EINVAL;
	x = tmpl + len - suffixlen - 6;
	if (path != tmpl) /* resolved into buf: the X's are there too */
		y = buf + strlen(buf) - suffixlen - 6;
	for (tries = 0; tries < 100; tries++) {
		if ((r = fill_random(x, 6)) < 0)
			return r;
		if (y != NULL)
			memcpy(y, x, 6);
		if (dir)
			r = sc_mkdir(&sp, 0700);
		else if ((fd =
			      route_open(&sp, O_RDWR | O_CREAT | O_EXCL | flags,
					 0600)) >= 0 ||
			 fd == SC_PASS)
			return fd;
		else
			r = fd;
		if (r != -EEXIST)
			return r;
	}
	return -EEXIST;
}

#define MKTEMP_BODY(tmpl, suffixlen, flags, realcall)                          \
	do {                                                                   \
		int saved_ = errno;                                            \
		int r_ = scheme_mktemp(tmpl, suffixlen, flags, false);         \
                                                                               \
		PASS_OR_RETURN(r_, saved_, realcall);                          \
	} while (0)

EXPORT int
mkstemp(char *tmpl)
{
	MKTEMP_BODY(tmpl, 0, 0, REAL(mkstemp)(tmpl));
}

EXPORT int
mkstemp64(char *tmpl)
{
	MKTEMP_BODY(tmpl, 0, 0, REAL(mkstemp64)(tmpl));
}

EXPORT int
mkostemp(char *tmpl, int flags)
{
	MKTEMP_BODY(tmpl, 0, flags, REAL(mkostemp)(tmpl, flags));
}

EXPORT int
mkostemp64(char *tmpl, int flags)
{
	MKTEMP_BODY(tmpl, 0, flags, REAL(mkostemp64)(tmpl, flags));
}

EXPORT int
mkstemps(char *tmpl, int suffixlen)
{
	MKTEMP_BODY(tmpl, suffixlen, 0, REAL(mkstemps)(tmpl, suffixlen));
}

EXPORT int
mkstemps64(char *tmpl, int suffixlen)
{
	MKTEMP_BODY(tmpl, suffixlen, 0, REAL(mkstemps64)(tmpl, suffixlen));
}

EXPORT int
mkostemps(char *tmpl, int suffixlen, int flags)
{
	MKTEMP_BODY(tmpl, suffixlen, flags,
		    REAL(mkostemps)(tmpl, suffixlen, flags));
}

EXPORT int
mkostemps64(char *tmpl, int suffixlen, int flags)
{
	MKTEMP_BODY(tmpl, suffixlen, flags,
		    REAL(mkostemps64)(tmpl, suffixlen, flags));
}

EXPORT char *
mkdtemp(char *tmpl)
{
	int saved = errno, r = scheme_mktemp(tmpl, 0, 0, true);

	if (LIKELY(r == SC_PASS)) {
		errno = saved;
		return REAL(mkdtemp)(tmpl);
	}
	return wrap_ret(r, saved) < 0 ? NULL : tmpl;
}

/*
 * Extended attributes: a scheme has none (as a FUSE file system that does
 * not serve them): ENOTSUP for a file that exists, so that ls -l and
 * Python's copystat say nothing.
 */
static int
no_xattr(const struct scheme_path *sp, bool nofollow)
{
	struct stat st;
	int r = sc_stat(sp, &st, nofollow);

	return r < 0 ? r : -ENOTSUP;
}

#define XATTR_PATH(name, nofollow, params, args)                               \
	EXPORT ssize_t name params                                             \
	{                                                                      \
		ON_PATH(path, no_xattr(&sp, nofollow), REAL(name) args);       \
	}

XATTR_PATH(getxattr, false,
	   (const char *path, const char *n, void *v, size_t s),
	   (path, n, v, s))
XATTR_PATH(lgetxattr, true,
	   (const char *path, const char *n, void *v, size_t s),
	   (path, n, v, s))
XATTR_PATH(listxattr, false, (const char *path, char *l, size_t s),
	   (path, l, s))
XATTR_PATH(llistxattr, true, (const char *path, char *l, size_t s),
	   (path, l, s))

#define XATTR_SET(name, nofollow, params, args)                                \
	EXPORT int name params                                                 \
	{                                                                      \
		ON_PATH(path, no_xattr(&sp, nofollow), REAL(name) args);       \
	}

XATTR_SET(setxattr, false,
	  (const char *path, const char *n, const void *v, size_t s, int f),
	  (path, n, v, s, f))
XATTR_SET(lsetxattr, true,
	  (const char *path, const char *n, const void *v, size_t s, int f),
	  (path, n, v, s, f))
XATTR_SET(removexattr, false, (const char *path, const char *n), (path, n))
XATTR_SET(lremovexattr, true, (const char *path, const char *n), (path, n))

/* A scheme file has no attributes: ENOTSUP, as a FUSE fs without them. */
#define XATTR_FD(name, type, params, args)                                     \
	EXPORT type name params                                                \
	{                                                                      \
		struct sfd *e = fdtab_get(fd);                                 \
		int saved_ = errno;                                            \
                                                                               \
		if (LIKELY(e == NULL) || (!e->ops->requests && !e->ops->ours)) \
			return REAL(name) args;                                \
		return (type)wrap_ret(e->ops->ours ? -EBADF : -ENOTSUP,        \
				      saved_);                                 \
	}

XATTR_FD(fgetxattr, ssize_t, (int fd, const char *n, void *v, size_t s),
	 (fd, n, v, s))
XATTR_FD(flistxattr, ssize_t, (int fd, char *l, size_t s), (fd, l, s))
XATTR_FD(fsetxattr, int,
	 (int fd, const char *n, const void *v, size_t s, int f),
	 (fd, n, v, s, f))
XATTR_FD(fremovexattr, int, (int fd, const char *n), (fd, n))

/*
 * wrap_stat.c - every generation of stat: stat/lstat/fstat/fstatat and
 * their 64 names (glibc >= 2.33), the __xstat family older binaries call,
 * and statx (coreutils >= 8.32: ls, stat).  On x86_64 struct stat64 is
 * struct stat.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "../proto/wire/path.h"
#include <limits.h>

#include "client.h"
#include "paths.h"
#include "resolve.h"
#include "uaccess.h"
#include "wrap.h"

_Static_assert(sizeof(struct stat) == sizeof(struct stat64),
	       "struct stat64 must be struct stat here");
_Static_assert(sizeof(struct statfs) == sizeof(struct statfs64) &&
		   sizeof(struct statvfs) == sizeof(struct statvfs64),
	       "the 64 forms of statfs and statvfs must be the same here");

/*
 * A scheme call's struct, to the program's: as the kernel, the struct is
 * written last, and a pointer it cannot write to is EFAULT (uaccess.h).
 */
static int
put(void *to, const void *from, size_t len, int r)
{
	if (r < 0)
		return r;
	if (ua_write_ok(to, len) < 0)
		return -EFAULT;
	memcpy(to, from, len);
	return r;
}

/* fstat on one of our fds: through its kind's op, or the kernel's. */
static int
fd_stat(int fd, struct sfd *e, struct stat *st, int (*real)(int, struct stat *))
{
	struct stat tmp;

	if (e->ops->fstat != NULL)
		return put(st, &tmp, sizeof(tmp), e->ops->fstat(fd, e, &tmp));
	return real(fd, st) < 0 ? -errno : 0;
}

static int
real_fstat(int fd, struct stat *st)
{
	return REAL(fstat)(fd, st);
}

/*
 * stat of a path: SC_PASS when it is not a scheme path after all (then
 * *dirfd and *path are what to give the kernel: see resolve.h).
 */
static int
path_stat(int *dirfd, const char **path, char *buf, struct stat *st,
	  bool nofollow)
{
	struct scheme_path sp;
	struct stat tmp;
	int r = resolve_at(dirfd, path, buf, RESOLVE_MAX, &sp);

	if (LIKELY(r == 0))
		return SC_PASS;
	return r < 0 ? r
		     : put(st, &tmp, sizeof(tmp), sc_stat(&sp, &tmp, nofollow));
}

#define PATH_STAT(name, type, nofollow)                                        \
	EXPORT int name(const char *path, type *st)                            \
	{                                                                      \
		char buf_[RESOLVE_MAX];                                        \
		int saved = errno, dirfd_ = AT_FDCWD;                          \
		int r = path_stat(&dirfd_, &path, buf_, (struct stat *)st,     \
				  nofollow);                                   \
                                                                               \
		if (LIKELY(r == SC_PASS)) {                                    \
			errno = saved;                                         \
			return REAL(name)(path, st);                           \
		}                                                              \
		return (int)wrap_ret(r, saved);                                \
	}

PATH_STAT(stat, struct stat, false)
PATH_STAT(stat64, struct stat64, false)
PATH_STAT(lstat, struct stat, true)
PATH_STAT(lstat64, struct stat64, true)

#define FD_STAT(name, type)                                                    \
	EXPORT int name(int fd, type *st)                                      \
	{                                                                      \
		struct sfd *e = fdtab_get(fd);                                 \
		int saved = errno;                                             \
                                                                               \
		if (LIKELY(e == NULL))                                         \
			return REAL(name)(fd, st);                             \
		return (int)wrap_ret(                                          \
		    fd_stat(fd, e, (struct stat *)st, real_fstat), saved);     \
	}

FD_STAT(fstat, struct stat)
FD_STAT(fstat64, struct stat64)

/* fstatat: an empty path with AT_EMPTY_PATH means the fd itself. */
static int
at_stat(int *dirfd, const char **path, char *buf, struct stat *st, int flags)
{
	struct sfd *e;

	if (*path != NULL && ua_strnlen(*path, 1) == 0 &&
	    (flags & AT_EMPTY_PATH)) {
		e = fdtab_get(*dirfd);
		return e == NULL ? SC_PASS : fd_stat(*dirfd, e, st, real_fstat);
	}
	return path_stat(dirfd, path, buf, st,
			 (flags & AT_SYMLINK_NOFOLLOW) != 0);
}

#define AT_STAT(name, type)                                                    \
	EXPORT int name(int dirfd, const char *path, type *st, int flags)      \
	{                                                                      \
		char buf_[RESOLVE_MAX];                                        \
		int saved = errno;                                             \
		int r =                                                        \
		    at_stat(&dirfd, &path, buf_, (struct stat *)st, flags);    \
                                                                               \
		if (LIKELY(r == SC_PASS)) {                                    \
			errno = saved;                                         \
			return REAL(name)(dirfd, path, st, flags);             \
		}                                                              \
		return (int)wrap_ret(r, saved);                                \
	}

AT_STAT(fstatat, struct stat)
AT_STAT(fstatat64, struct stat64)

static void
to_statx(const struct stat *st, struct statx *sx)
{
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = (uint32_t)st->st_blksize;
	sx->stx_nlink = (uint32_t)st->st_nlink;
	sx->stx_uid = st->st_uid;
	sx->stx_gid = st->st_gid;
	sx->stx_mode = (uint16_t)st->st_mode;
	sx->stx_ino = st->st_ino;
	sx->stx_size = (uint64_t)st->st_size;
	sx->stx_blocks = (uint64_t)st->st_blocks;
	sx->stx_atime.tv_sec = st->st_atim.tv_sec;
	sx->stx_atime.tv_nsec = (uint32_t)st->st_atim.tv_nsec;
	sx->stx_mtime.tv_sec = st->st_mtim.tv_sec;
	sx->stx_mtime.tv_nsec = (uint32_t)st->st_mtim.tv_nsec;
	sx->stx_ctime.tv_sec = st->st_ctim.tv_sec;
	sx->stx_ctime.tv_nsec = (uint32_t)st->st_ctim.tv_nsec;
	sx->stx_rdev_major = major(st->st_rdev);
	sx->stx_rdev_minor = minor(st->st_rdev);
	sx->stx_dev_major = major(st->st_dev);
	sx->stx_dev_minor = minor(st->st_dev);
}

/* libc's statx, through a type without glibc's nonnull (wrap.h). */
typedef int statx_fn(int, const char *, int, unsigned, struct statx *);

EXPORT int
statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
{
	char buf[RESOLVE_MAX];
	struct stat st;
	int saved = errno, r;

	path = maybe_null(path);
	sx = (struct statx *)maybe_null(sx);
	if (LIKELY((r = at_stat(&dirfd, &path, buf, &st, flags)) == SC_PASS)) {
		errno = saved;
		return ((statx_fn *)REAL(statx))(dirfd, path, flags, mask, sx);
	}
	if (r == 0 && ua_write_ok(sx, sizeof(*sx)) < 0)
		r = -EFAULT;
	if (r == 0)
		to_statx(&st, sx);
	return (int)wrap_ret(r, saved);
}

/* glibc < 2.33 binaries: the version argument is always 1 on x86_64. */
#define XSTAT(name, type, nofollow)                                            \
	EXPORT int name(int ver, const char *path, type *st)                   \
	{                                                                      \
		char buf_[RESOLVE_MAX];                                        \
		int saved = errno, dirfd_ = AT_FDCWD;                          \
		int r = path_stat(&dirfd_, &path, buf_, (struct stat *)st,     \
				  nofollow);                                   \
                                                                               \
		if (LIKELY(r == SC_PASS)) {                                    \
			errno = saved;                                         \
			return REAL(name)(ver, path, st);                      \
		}                                                              \
		return (int)wrap_ret(r, saved);                                \
	}

XSTAT(__xstat, struct stat, false)
XSTAT(__xstat64, struct stat64, false)
XSTAT(__lxstat, struct stat, true)
XSTAT(__lxstat64, struct stat64, true)

#define FXSTAT(name, type)                                                     \
	EXPORT int name(int ver, int fd, type *st)                             \
	{                                                                      \
		struct sfd *e = fdtab_get(fd);                                 \
		int saved = errno;                                             \
                                                                               \
		if (LIKELY(e == NULL))                                         \
			return REAL(name)(ver, fd, st);                        \
		return (int)wrap_ret(                                          \
		    fd_stat(fd, e, (struct stat *)st, real_fstat), saved);     \
	}

FXSTAT(__fxstat, struct stat)
FXSTAT(__fxstat64, struct stat64)

#define FXSTATAT(name, type)                                                   \
	EXPORT int name(int ver, int dirfd, const char *path, type *st,        \
			int flags)                                             \
	{                                                                      \
		char buf_[RESOLVE_MAX];                                        \
		int saved = errno;                                             \
		int r =                                                        \
		    at_stat(&dirfd, &path, buf_, (struct stat *)st, flags);    \
                                                                               \
		if (LIKELY(r == SC_PASS)) {                                    \
			errno = saved;                                         \
			return REAL(name)(ver, dirfd, path, st, flags);        \
		}                                                              \
		return (int)wrap_ret(r, saved);                                \
	}

FXSTATAT(__fxstatat, struct stat)
FXSTATAT(__fxstatat64, struct stat64)

/*
 * statfs and statvfs: the provider's figures (SYS_FSTATVFS).  f_type is a
 * number of our own that no local file system has, so programs that ask
 * (tail -f) treat a scheme as they treat a remote file system: they poll
 * instead of asking inotify, which cannot watch a scheme path.
 */
#define SCHEME_FS_MAGIC 0x5343484d /* "SCHM" */

static int
fd_statvfs(int fd, struct statvfs *sv)
{
	struct sfd *e = fdtab_get(fd);

	return e != NULL && e->ops->fstatvfs != NULL
		   ? e->ops->fstatvfs(fd, e, sv)
		   : -EBADF;
}

static int
do_path_statvfs(int fd, struct sfd *e, void *arg)
{
	return sc_fstatvfs(fd, e, arg);
}

/* statvfs of a path: SC_PASS when it is not a scheme's. */
static int
path_statvfs(const char **path, char *buf, struct statvfs *sv)
{
	struct scheme_path sp;
	int dirfd = AT_FDCWD,
	    r = resolve_at(&dirfd, path, buf, RESOLVE_MAX, &sp);

	if (LIKELY(r == 0))
		return SC_PASS;
	return r < 0 ? r : sc_path_do(&sp, O_PATH, do_path_statvfs, sv);
}

static void
to_statfs(const struct statvfs *sv, struct statfs *sf)
{
	memset(sf, 0, sizeof(*sf));
	sf->f_type = SCHEME_FS_MAGIC;
	sf->f_bsize = (long)sv->f_bsize;
	sf->f_frsize = (long)sv->f_frsize;
	sf->f_blocks = sv->f_blocks;
	sf->f_bfree = sv->f_bfree;
	sf->f_bavail = sv->f_bavail;
	sf->f_files = sv->f_files;
	sf->f_ffree = sv->f_ffree;
	sf->f_namelen = (long)sv->f_namemax;
	sf->f_flags = (long)sv->f_flag;
}

#define FD_STATVFS(name, type, conv)                                           \
	EXPORT int name(int fd, type *out)                                     \
	{                                                                      \
		struct sfd *e = fdtab_get(fd);                                 \
		struct statvfs sv;                                             \
		int saved = errno, r;                                          \
                                                                               \
		if (LIKELY(e == NULL) || e->ops->fstatvfs == NULL)             \
			return REAL(name)(fd, out);                            \
		if ((r = fd_statvfs(fd, &sv)) == 0)                            \
			r = ua_write_ok(out, sizeof(type));                    \
		if (r == 0)                                                    \
			conv(&sv, (void *)out);                                \
		return (int)wrap_ret(r, saved);                                \
	}

#define PATH_STATVFS(name, type, conv)                                         \
	EXPORT int name(const char *path, type *out)                           \
	{                                                                      \
		char buf_[RESOLVE_MAX];                                        \
		struct statvfs sv;                                             \
		int saved = errno, r = path_statvfs(&path, buf_, &sv);         \
                                                                               \
		if (LIKELY(r == SC_PASS)) {                                    \
			errno = saved;                                         \
			return REAL(name)(path, out);                          \
		}                                                              \
		if (r == 0)                                                    \
			r = ua_write_ok(out, sizeof(type));                    \
		if (r == 0)                                                    \
			conv(&sv, (void *)out);                                \
		return (int)wrap_ret(r, saved);                                \
	}

static void
to_statvfs(const struct statvfs *sv, struct statvfs *out)
{
	*out = *sv;
}

FD_STATVFS(fstatfs, struct statfs, to_statfs)
FD_STATVFS(fstatfs64, struct statfs64, to_statfs)
FD_STATVFS(fstatvfs, struct statvfs, to_statvfs)
FD_STATVFS(fstatvfs64, struct statvfs64, to_statvfs)
PATH_STATVFS(statfs, struct statfs, to_statfs)
PATH_STATVFS(statfs64, struct statfs64, to_statfs)
PATH_STATVFS(statvfs, struct statvfs, to_statvfs)
PATH_STATVFS(statvfs64, struct statvfs64, to_statvfs)

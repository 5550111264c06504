/*
 * wrap_syscall.c - the system calls a program makes by number.
 *
 * libuv (node) makes statx, copy_file_range and close through libc's
 * syscall() function, not through libc's named wrappers, and so did
 * every raw call a dynamically linked C program makes with
 * syscall(SYS_x, ...).  Those reach this file twice over:
 *
 *  - syscall() itself is exported: its numbers that name a path or an fd
 *    go to the wrapper of the same call, as if the program had called
 *    libc's function by name; any other number goes to libc's syscall().
 *  - an inline `syscall` instruction outside libc traps (sigsys.c), and
 *    its handler asks rawsys_call() the same question.
 *
 * Only a call that concerns a scheme goes to a wrapper (ours(): an fd in
 * the fd table, a path resolve_at() calls a scheme's or rewrites, the
 * working directory): anything else is libc's syscall() with the
 * program's own arguments, so the kernel's answer is the raw call's
 * (libc's named functions differ: glibc's statx and faccessat emulate
 * what the kernel says ENOSYS to, which a seccomp filter may mean).
 * Where the raw call and libc's function differ for a scheme call, the
 * raw call's meaning is kept: faccessat and fchmodat without flags,
 * getcwd's length, preadv's offset in one register on x86_64.
 *
 * This file calls the exported wrappers, so it sits with them, at the top
 * of the layers (test/layers.py): nothing below may call syscall() by its
 * plain name (they use REAL(syscall)).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <limits.h>

#include "rawsys.h"
#include "resolve.h"
#include "wrap.h"

#define P(i) ((void *)a[i])
#define S(i) ((const char *)a[i])
#define I(i) ((int)a[i])

static long
raw_getcwd(char *buf, size_t size)
{
	const char *p = getcwd(buf, size);

	return p == NULL ? -1 : (long)strlen(p) + 1;
}

/* Path calls: the wrapper decides whether the path is a scheme's. */
static bool
path_call(long nr, const long *a, long *ret)
{
	switch (nr) {
	case SYS_open:
		*ret = open(S(0), I(1), (mode_t)a[2]);
		break;
	case SYS_openat:
		*ret = openat(I(0), S(1), I(2), (mode_t)a[3]);
		break;
	case SYS_creat:
		*ret = creat(S(0), (mode_t)a[1]);
		break;
	case SYS_stat:
		*ret = stat(S(0), P(1));
		break;
	case SYS_lstat:
		*ret = lstat(S(0), P(1));
		break;
	case SYS_newfstatat:
		*ret = fstatat(I(0), S(1), P(2), I(3));
		break;
	case SYS_statx:
		*ret = statx(I(0), S(1), I(2), (unsigned)a[3], P(4));
		break;
	case SYS_access:
		*ret = access(S(0), I(1));
		break;
	case SYS_faccessat:
		*ret = faccessat(I(0), S(1), I(2), 0);
		break;
	case SYS_faccessat2:
		*ret = faccessat(I(0), S(1), I(2), I(3));
		break;
	case SYS_readlink:
		*ret = readlink(S(0), P(1), (size_t)a[2]);
		break;
	case SYS_readlinkat:
		*ret = readlinkat(I(0), S(1), P(2), (size_t)a[3]);
		break;
	case SYS_mkdir:
		*ret = mkdir(S(0), (mode_t)a[1]);
		break;
	case SYS_mkdirat:
		*ret = mkdirat(I(0), S(1), (mode_t)a[2]);
		break;
	case SYS_unlink:
		*ret = unlink(S(0));
		break;
	case SYS_unlinkat:
		*ret = unlinkat(I(0), S(1), I(2));
		break;
	case SYS_rmdir:
		*ret = rmdir(S(0));
		break;
	case SYS_rename:
		*ret = rename(S(0), S(1));
		break;
	case SYS_renameat:
		*ret = renameat(I(0), S(1), I(2), S(3));
		break;
	case SYS_renameat2:
		*ret = renameat2(I(0), S(1), I(2), S(3), (unsigned)a[4]);
		break;
	case SYS_chmod:
		*ret = chmod(S(0), (mode_t)a[1]);
		break;
	case SYS_fchmodat:
		*ret = fchmodat(I(0), S(1), (mode_t)a[2], 0);
		break;
	case SYS_chown:
		*ret = chown(S(0), (uid_t)a[1], (gid_t)a[2]);
		break;
	case SYS_lchown:
		*ret = lchown(S(0), (uid_t)a[1], (gid_t)a[2]);
		break;
	case SYS_fchownat:
		*ret = fchownat(I(0), S(1), (uid_t)a[2], (gid_t)a[3], I(4));
		break;
	case SYS_utimensat:
		*ret = utimensat(I(0), S(1), P(2), I(3));
		break;
	case SYS_truncate:
		*ret = truncate(S(0), (off_t)a[1]);
		break;
	case SYS_statfs:
		*ret = statfs(S(0), P(1));
		break;
	case SYS_chdir:
		*ret = chdir(S(0));
		break;
	case SYS_getcwd:
		*ret = raw_getcwd(P(0), (size_t)a[1]);
		break;
	default:
		return false;
	}
	return true;
}

/* Calls on an fd: the wrapper passes an fd that is not ours straight on. */
static bool
fd_call(long nr, const long *a, long *ret)
{
	switch (nr) {
	case SYS_read:
		*ret = read(I(0), P(1), (size_t)a[2]);
		break;
	case SYS_write:
		*ret = write(I(0), P(1), (size_t)a[2]);
		break;
	case SYS_pread64:
		*ret = pread64(I(0), P(1), (size_t)a[2], (off_t)a[3]);
		break;
	case SYS_pwrite64:
		*ret = pwrite64(I(0), P(1), (size_t)a[2], (off_t)a[3]);
		break;
	case SYS_readv:
		*ret = readv(I(0), P(1), I(2));
		break;
	case SYS_writev:
		*ret = writev(I(0), P(1), I(2));
		break;
	case SYS_preadv:
		*ret = preadv64(I(0), P(1), I(2), (off_t)a[3]);
		break;
	case SYS_pwritev:
		*ret = pwritev64(I(0), P(1), I(2), (off_t)a[3]);
		break;
	case SYS_lseek:
		*ret = lseek(I(0), (off_t)a[1], I(2));
		break;
	case SYS_fstat:
		*ret = fstat(I(0), P(1));
		break;
	case SYS_fstatfs:
		*ret = fstatfs(I(0), P(1));
		break;
	case SYS_close:
		*ret = close(I(0));
		break;
	case SYS_close_range:
		*ret = close_range((unsigned)a[0], (unsigned)a[1], I(2));
		break;
	case SYS_getdents64:
		*ret = getdents64(I(0), P(1), (size_t)a[2]);
		break;
	case SYS_ftruncate:
		*ret = ftruncate(I(0), (off_t)a[1]);
		break;
	case SYS_fsync:
		*ret = fsync(I(0));
		break;
	case SYS_fdatasync:
		*ret = fdatasync(I(0));
		break;
	case SYS_fchmod:
		*ret = fchmod(I(0), (mode_t)a[1]);
		break;
	case SYS_fchown:
		*ret = fchown(I(0), (uid_t)a[1], (gid_t)a[2]);
		break;
	case SYS_fchdir:
		*ret = fchdir(I(0));
		break;
	case SYS_dup:
		*ret = dup(I(0));
		break;
	case SYS_dup2:
		*ret = dup2(I(0), I(1));
		break;
	case SYS_dup3:
		*ret = dup3(I(0), I(1), I(2));
		break;
	case SYS_fcntl:
		*ret = fcntl(I(0), I(1), a[2]);
		break;
	case SYS_ioctl:
		*ret = ioctl(I(0), (unsigned long)a[1], P(2));
		break;
	case SYS_copy_file_range:
		*ret = copy_file_range(I(0), P(1), I(2), P(3), (size_t)a[4],
				       (unsigned)a[5]);
		break;
	case SYS_sendfile:
		*ret = sendfile(I(0), I(1), P(2), (size_t)a[3]);
		break;
	default:
		return false;
	}
	return true;
}

/* A path the preload serves, or one it must rewrite for the kernel. */
static bool
path_ours(long dirfd, long path)
{
	char buf[PATH_MAX];
	struct scheme_path sp;
	const char *p = (const char *)path;
	int d = (int)dirfd;

	if (p == NULL) /* the kernel's EFAULT, or utimensat's fd (below) */
		return false;
	if (d != AT_FDCWD && fdtab_get(d) != NULL)
		return true;
	return resolve_at(&d, &p, buf, sizeof(buf), &sp) != 0 ||
	       p != (const char *)path || d != (int)dirfd;
}

static bool
fd_ours(long fd)
{
	return fdtab_get((int)fd) != NULL;
}

/* Does call nr concern a scheme (or the preload's own state)? */
static bool
ours(long nr, const long *a)
{
	switch (nr) {
	case SYS_close_range:
	case SYS_fchdir:
		return true;
	case SYS_chdir: /* any: the wrapper keeps the working directory */
		return a[0] != 0;
	case SYS_utimensat:
		return a[1] == 0 ? fd_ours(a[0]) : path_ours(a[0], a[1]);
	case SYS_getcwd:
		return resolve_in_scheme();
	case SYS_dup2:
	case SYS_dup3:
	case SYS_sendfile:
		return fd_ours(a[0]) || fd_ours(a[1]);
	case SYS_copy_file_range:
		return fd_ours(a[0]) || fd_ours(a[2]);
	case SYS_open:
	case SYS_creat:
	case SYS_stat:
	case SYS_lstat:
	case SYS_access:
	case SYS_readlink:
	case SYS_mkdir:
	case SYS_unlink:
	case SYS_rmdir:
	case SYS_chmod:
	case SYS_chown:
	case SYS_lchown:
	case SYS_truncate:
	case SYS_statfs:
		return path_ours(AT_FDCWD, a[0]);
	case SYS_rename:
		return path_ours(AT_FDCWD, a[0]) || path_ours(AT_FDCWD, a[1]);
	case SYS_renameat:
	case SYS_renameat2:
		return path_ours(a[0], a[1]) || path_ours(a[2], a[3]);
	case SYS_openat:
	case SYS_newfstatat:
	case SYS_statx:
	case SYS_faccessat:
	case SYS_faccessat2:
	case SYS_readlinkat:
	case SYS_mkdirat:
	case SYS_unlinkat:
	case SYS_fchmodat:
	case SYS_fchownat:
		return path_ours(a[0], a[1]);
	default: /* the fd calls, or a call we do not serve */
		return fd_ours(a[0]);
	}
}

bool
rawsys_call(long nr, const long a[6], long *ret)
{
	if (nr == SYS_io_uring_setup && uring_refused()) {
		errno = ENOSYS; /* wrap_uring.c says why */
		*ret = -1;
		return true;
	}
	return ours(nr, a) && (fd_call(nr, a, ret) || path_call(nr, a, ret));
}

/*
 * Six words are always read: glibc's own syscall() passes on six
 * whatever the caller gave, and so may we.  The sixth is on the caller's
 * stack, where a caller that gave fewer has nothing of ours: ASan must
 * not check that read.
 */
EXPORT __attribute__((no_sanitize("address"))) long
syscall(long nr, ...)
{
	va_list ap;
	long a[6], ret;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (rawsys_call(nr, a, &ret))
		return ret;
	return REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

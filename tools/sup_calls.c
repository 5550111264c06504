/*
 * sup_calls.c - the calls a supervised program makes on scheme paths,
 * and how each is made on the view (see sup.h).
 *
 * A row names the arguments that are paths.  sup_serve.c reads them; if
 * none is a scheme path the call goes on untouched, else it has turned
 * each into the view's path and the row's function makes the call: the
 * helper has the caller's ids (checked) and takes its umask, so the view
 * and the provider see what the program itself would have asked.  Output
 * arguments are written into the caller's memory; an open's fd is placed
 * among the caller's.  Directory fds do not matter: a scheme path is
 * absolute in both of its forms.
 *
 * Three calls cannot be made for the program: seccomp answers a call
 * but cannot change its arguments, and chdir and execve act on the caller
 * itself.  A chdir to a scheme directory fails with ENOTSUP, an execve
 * of a scheme path with EACCES, each with one line on stderr saying so.
 * (A relative path from a directory fd of the view, and an execve of the
 * view's own path of the program, are ordinary calls: they work.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "sup_impl.h"

#define ARG(rq, i) ((rq)->n->data.args[i])

/* The result of a call that returns 0 or -1 with errno. */
static int64_t
res(long r)
{
	return r < 0 ? -errno : r;
}

static void
open_view(struct sup_req *rq, struct sup_answer *a, int flags, mode_t mode)
{
	int fd;

	umask(rq->umask);
	fd = open(rq->path[0], flags | O_CLOEXEC, mode);
	if (fd < 0) {
		a->val = -errno;
		return;
	}
	a->fd = fd;
	a->cloexec = (flags & O_CLOEXEC) != 0;
}

static void
c_open(struct sup_req *rq, struct sup_answer *a)
{
	open_view(rq, a, (int)ARG(rq, 1), (mode_t)ARG(rq, 2));
}

static void
c_openat(struct sup_req *rq, struct sup_answer *a)
{
	open_view(rq, a, (int)ARG(rq, 2), (mode_t)ARG(rq, 3));
}

static void
c_creat(struct sup_req *rq, struct sup_answer *a)
{
	open_view(rq, a, O_CREAT | O_WRONLY | O_TRUNC, (mode_t)ARG(rq, 1));
}

static void
c_openat2(struct sup_req *rq, struct sup_answer *a)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	if (ARG(rq, 3) < sizeof(how)) {
		a->val = -EINVAL;
		return;
	}
	if ((a->val = sup_peek(rq, ARG(rq, 2), &how, sizeof(how))) < 0)
		return;
	umask(rq->umask);
	a->cloexec = (how.flags & O_CLOEXEC) != 0;
	how.flags |= O_CLOEXEC;
	fd = syscall(SYS_openat2, AT_FDCWD, rq->path[0], &how, sizeof(how));
	if (fd < 0)
		a->val = -errno;
	else
		a->fd = (int)fd;
}

/* fstatat, with its answer written to the caller's buf. */
static void
stat_view(struct sup_req *rq, struct sup_answer *a, uint64_t buf, int flags)
{
	struct stat st;

	if (fstatat(AT_FDCWD, rq->path[0], &st, flags) < 0)
		a->val = -errno;
	else
		a->val = sup_poke(rq, buf, &st, sizeof(st));
}

static void
c_stat(struct sup_req *rq, struct sup_answer *a)
{
	stat_view(rq, a, ARG(rq, 1), 0);
}

static void
c_lstat(struct sup_req *rq, struct sup_answer *a)
{
	stat_view(rq, a, ARG(rq, 1), AT_SYMLINK_NOFOLLOW);
}

static void
c_fstatat(struct sup_req *rq, struct sup_answer *a)
{
	stat_view(rq, a, ARG(rq, 2), (int)ARG(rq, 3));
}

static void
c_statx(struct sup_req *rq, struct sup_answer *a)
{
	struct statx stx;

	if (statx(AT_FDCWD, rq->path[0], (int)ARG(rq, 2), (unsigned)ARG(rq, 3),
		  &stx) < 0)
		a->val = -errno;
	else
		a->val = sup_poke(rq, ARG(rq, 4), &stx, sizeof(stx));
}

static void
c_statfs(struct sup_req *rq, struct sup_answer *a)
{
	struct statfs sf;

	if (statfs(rq->path[0], &sf) < 0)
		a->val = -errno;
	else
		a->val = sup_poke(rq, ARG(rq, 1), &sf, sizeof(sf));
}

static void
c_access(struct sup_req *rq, struct sup_answer *a)
{
	a->val =
	    res(syscall(SYS_faccessat, AT_FDCWD, rq->path[0], (int)ARG(rq, 1)));
}

static void
c_faccessat(struct sup_req *rq, struct sup_answer *a)
{
	a->val =
	    res(syscall(SYS_faccessat, AT_FDCWD, rq->path[0], (int)ARG(rq, 2)));
}

static void
c_faccessat2(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(syscall(SYS_faccessat2, AT_FDCWD, rq->path[0],
			     (int)ARG(rq, 2), (int)ARG(rq, 3)));
}

/*
 * A link's target as stored: the view shows one naming a scheme under
 * its mount (so the kernel can follow it), the program sees /scheme/...
 */
static void
readlink_view(struct sup_req *rq, struct sup_answer *a, uint64_t buf,
	      uint64_t size)
{
	char link[PATH_MAX], shown[PATH_MAX];
	size_t vl = strlen(rq->view);
	ssize_t n;

	if ((int64_t)size <= 0) {
		a->val = -EINVAL;
		return;
	}
	if ((n = readlink(rq->path[0], link, sizeof(link) - 1)) < 0) {
		a->val = -errno;
		return;
	}
	link[n] = '\0';
	if (strncmp(link, rq->view, vl) == 0 && link[vl] == '/' &&
	    (n = snprintf(shown, sizeof(shown), "/scheme%s", link + vl)) <
		(ssize_t)sizeof(shown))
		memcpy(link, shown, (size_t)n + 1);
	if ((uint64_t)n > size)
		n = (ssize_t)size; /* as readlink(2): cut, no NUL */
	if ((a->val = sup_poke(rq, buf, link, (size_t)n)) == 0)
		a->val = n;
}

static void
c_readlink(struct sup_req *rq, struct sup_answer *a)
{
	readlink_view(rq, a, ARG(rq, 1), ARG(rq, 2));
}

static void
c_readlinkat(struct sup_req *rq, struct sup_answer *a)
{
	readlink_view(rq, a, ARG(rq, 2), ARG(rq, 3));
}

static void
c_mkdir(struct sup_req *rq, struct sup_answer *a)
{
	umask(rq->umask);
	a->val = res(mkdir(rq->path[0], (mode_t)ARG(rq, 1)));
}

static void
c_mkdirat(struct sup_req *rq, struct sup_answer *a)
{
	umask(rq->umask);
	a->val = res(mkdir(rq->path[0], (mode_t)ARG(rq, 2)));
}

static void
c_unlink(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(unlink(rq->path[0]));
}

static void
c_unlinkat(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(unlinkat(AT_FDCWD, rq->path[0], (int)ARG(rq, 2)));
}

static void
c_rmdir(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(rmdir(rq->path[0]));
}

static void
c_rename(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(rename(rq->path[0], rq->path[1]));
}

static void
c_renameat2(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(syscall(SYS_renameat2, AT_FDCWD, rq->path[0], AT_FDCWD,
			     rq->path[1], (unsigned)ARG(rq, 4)));
}

static void
c_chmod(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(chmod(rq->path[0], (mode_t)ARG(rq, 1)));
}

static void
c_fchmodat(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(chmod(rq->path[0], (mode_t)ARG(rq, 2)));
}

static void
c_chown(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(chown(rq->path[0], (uid_t)ARG(rq, 1), (gid_t)ARG(rq, 2)));
}

static void
c_lchown(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(lchown(rq->path[0], (uid_t)ARG(rq, 1), (gid_t)ARG(rq, 2)));
}

static void
c_fchownat(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(fchownat(AT_FDCWD, rq->path[0], (uid_t)ARG(rq, 2),
			      (gid_t)ARG(rq, 3), (int)ARG(rq, 4)));
}

static void
c_truncate(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(truncate(rq->path[0], (off_t)ARG(rq, 1)));
}

/* utimensat(path, times, flags) with times (or NULL) from the caller. */
static void
utimens_view(struct sup_req *rq, struct sup_answer *a, const uint64_t addr,
	     int flags)
{
	struct timespec ts[2];

	if (addr != 0 && (a->val = sup_peek(rq, addr, ts, sizeof(ts))) < 0)
		return;
	a->val = res(utimensat(AT_FDCWD, rq->path[0], addr ? ts : NULL, flags));
}

static void
c_utimensat(struct sup_req *rq, struct sup_answer *a)
{
	utimens_view(rq, a, ARG(rq, 2), (int)ARG(rq, 3));
}

/* utimes and futimesat: struct timeval[2], or NULL for now. */
static void
timeval_view(struct sup_req *rq, struct sup_answer *a, uint64_t addr)
{
	struct timeval tv[2];

	if (addr != 0 && (a->val = sup_peek(rq, addr, tv, sizeof(tv))) < 0)
		return;
	a->val = res(utimes(rq->path[0], addr ? tv : NULL));
}

static void
c_utimes(struct sup_req *rq, struct sup_answer *a)
{
	timeval_view(rq, a, ARG(rq, 1));
}

static void
c_futimesat(struct sup_req *rq, struct sup_answer *a)
{
	timeval_view(rq, a, ARG(rq, 2));
}

static void
c_utime(struct sup_req *rq, struct sup_answer *a)
{
	struct utimbuf u;

	if (ARG(rq, 1) != 0 &&
	    (a->val = sup_peek(rq, ARG(rq, 1), &u, sizeof(u))) < 0)
		return;
	a->val = res(utime(rq->path[0], ARG(rq, 1) ? &u : NULL));
}

/* Links are the provider's, through the view (which asks the preload). */
static void
c_link(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(link(rq->path[0], rq->path[1]));
}

static void
c_linkat(struct sup_req *rq, struct sup_answer *a)
{
	a->val = res(linkat(AT_FDCWD, rq->path[0], AT_FDCWD, rq->path[1],
			    (int)ARG(rq, 4)));
}

/* The target is stored as the program gave it, never made the view's. */
static void
symlink_view(struct sup_req *rq, struct sup_answer *a, uint64_t target)
{
	char t[PATH_MAX];

	if ((a->val = sup_peek_string(rq, target, t, sizeof(t))) == 0)
		a->val = res(symlink(t, rq->path[0]));
}

static void
c_symlink(struct sup_req *rq, struct sup_answer *a)
{
	symlink_view(rq, a, ARG(rq, 0));
}

/* A scheme has no device nodes or extended attributes. */
static void
c_eperm(struct sup_req *rq, struct sup_answer *a)
{
	a->val = -EPERM;
}

static void
c_enotsup(struct sup_req *rq, struct sup_answer *a)
{
	a->val = -ENOTSUP;
}

static void
c_chdir(struct sup_req *rq, struct sup_answer *a)
{
	sup_say(rq,
		"chdir to a scheme directory (%s) cannot be served to a "
		"program schemerun supervises: ENOTSUP",
		rq->asked);
	a->val = -ENOTSUP;
}

static void
c_execve(struct sup_req *rq, struct sup_answer *a)
{
	sup_say(rq,
		"execve of a program stored on a scheme (%s) cannot be "
		"served to a program schemerun supervises (schemerun %s "
		"can run it): EACCES",
		rq->asked, rq->asked);
	a->val = -EACCES;
}

#define ROW(call, p, p2, fn)                                                   \
	{                                                                      \
		SYS_##call, #call, p, p2, fn                                   \
	}

static const struct sup_call calls[] = {
#ifdef SYS_open
    ROW(open, 0, -1, c_open),
    ROW(creat, 0, -1, c_creat),
    ROW(stat, 0, -1, c_stat),
    ROW(lstat, 0, -1, c_lstat),
    ROW(access, 0, -1, c_access),
    ROW(readlink, 0, -1, c_readlink),
    ROW(mkdir, 0, -1, c_mkdir),
    ROW(unlink, 0, -1, c_unlink),
    ROW(rmdir, 0, -1, c_rmdir),
    ROW(rename, 0, 1, c_rename),
    ROW(chmod, 0, -1, c_chmod),
    ROW(chown, 0, -1, c_chown),
    ROW(lchown, 0, -1, c_lchown),
    ROW(utime, 0, -1, c_utime),
    ROW(utimes, 0, -1, c_utimes),
    ROW(futimesat, 1, -1, c_futimesat),
    ROW(link, 0, 1, c_link),
    ROW(symlink, 1, -1, c_symlink),
    ROW(mknod, 0, -1, c_eperm),
#endif
    ROW(openat, 1, -1, c_openat),
    ROW(openat2, 1, -1, c_openat2),
    ROW(newfstatat, 1, -1, c_fstatat),
    ROW(statx, 1, -1, c_statx),
    ROW(statfs, 0, -1, c_statfs),
    ROW(faccessat, 1, -1, c_faccessat),
    ROW(faccessat2, 1, -1, c_faccessat2),
    ROW(readlinkat, 1, -1, c_readlinkat),
    ROW(mkdirat, 1, -1, c_mkdirat),
    ROW(unlinkat, 1, -1, c_unlinkat),
    ROW(renameat, 1, 3, c_rename),
    ROW(renameat2, 1, 3, c_renameat2),
    ROW(fchmodat, 1, -1, c_fchmodat),
    ROW(fchownat, 1, -1, c_fchownat),
    ROW(truncate, 0, -1, c_truncate),
    ROW(utimensat, 1, -1, c_utimensat),
    ROW(linkat, 1, 3, c_linkat),
    ROW(symlinkat, 2, -1, c_symlink),
    ROW(mknodat, 1, -1, c_eperm),
    ROW(getxattr, 0, -1, c_enotsup),
    ROW(lgetxattr, 0, -1, c_enotsup),
    ROW(setxattr, 0, -1, c_enotsup),
    ROW(lsetxattr, 0, -1, c_enotsup),
    ROW(listxattr, 0, -1, c_enotsup),
    ROW(llistxattr, 0, -1, c_enotsup),
    ROW(removexattr, 0, -1, c_enotsup),
    ROW(lremovexattr, 0, -1, c_enotsup),
    ROW(chdir, 0, -1, c_chdir),
    ROW(execve, 0, -1, c_execve),
    ROW(execveat, 1, -1, c_execve),
};

_Static_assert(sizeof(calls) / sizeof(calls[0]) <= SUP_NCALLS_MAX,
	       "the filter has room for SUP_NCALLS_MAX calls");

size_t
sup_ncalls(void)
{
	return sizeof(calls) / sizeof(calls[0]);
}

long
sup_call_nr(size_t i)
{
	return calls[i].nr;
}

const struct sup_call *
sup_call_find(long nr)
{
	size_t i;

	for (i = 0; i < sup_ncalls(); i++)
		if (calls[i].nr == nr)
			return &calls[i];
	return NULL;
}

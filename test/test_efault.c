/*
 * test_efault.c - bad pointers get EFAULT, as the kernel gives, never a
 * crash (issue 13, item 3).
 *
 * Every wrapper that takes a pointer from the program is called with a
 * bad one of each kind: a page that was unmapped (U), a PROT_NONE page
 * (N), a read-only page where the call writes (R), memory valid for its
 * first bytes that runs into an unmapped page (E: a string whose NUL is
 * past it, a buffer of which 8 bytes can be used), and, for open, the
 * issue's (char *)0xdeadc0de (W).  The other arguments are good: a file
 * of 200 bytes, a directory, a socket.
 *
 * This binary is also the table that runs them (--table GROUP): each
 * call in a forked child of its own, so that a crash is an outcome like
 * any other, one line per call and target.  The suite runs the table
 * without the preload, on a directory on disk: what the kernel (and
 * glibc) do; and with the preload, on the same directory and on the
 * same files in scheme-memfs: each line must be the kernel's, byte for
 * byte (as test_compat compares disk and scheme).  Where glibc itself
 * crashes without the preload (it reads the pointer in user space, as
 * opendir's path), EFAULT is taken as well.  The "ours" group has no
 * kernel to compare with (a provider's scheme fd, an event: queue,
 * mkns): EFAULT is what they must say.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include <scheme/scheme.h>

#include "harness.h"

#define S	"ef" /* the suite's scheme */
#define FILELEN 200

extern char **environ;

/* The glibc < 2.33 names, which the preload wraps too. */
int __xstat(int, const char *, struct stat *);
int __lxstat(int, const char *, struct stat *);
int __fxstat(int, int, struct stat *);
int __fxstatat(int, int, const char *, struct stat *, int);
int __open_2(const char *, int);
int __openat_2(int, const char *, int);
ssize_t __read_chk(int, void *, size_t, size_t);
ssize_t __pread_chk(int, void *, size_t, off_t, size_t);

/* Where a case runs: a directory on disk, or the same files in a scheme. */
struct tgt {
	const char *name; /* "disk", "scheme" */
	char file[256];	  /* FILELEN bytes */
	char dir[256];	  /* a directory holding one file */
	char none[256];	  /* a name that does not exist */
	char cwd[256];	  /* a directory to chdir to */
};

/* The bad pointers, made once per table run. */
static struct {
	char *unmapped, *none, *ro, *edge; /* edge: RW page, unmapped next */
} B;

enum kind { KU, KN, KR, KE, KW, NKIND };
static const char kind_char[NKIND] = {'U', 'N', 'R', 'E', 'W'};

/*
 * A bad pointer of kind k.  For E: a buffer of which 8 bytes are good, or
 * for a string (look != NULL) one that starts with look and has no NUL
 * before the unmapped page.
 */
static void *
bad(int k, const char *look)
{
	char *s;

	switch (k) {
	case KU:
		return B.unmapped;
	case KN:
		return B.none;
	case KR:
		return B.ro;
	case KW:
		return (void *)(uintptr_t)0xdeadc0de;
	}
	if (look == NULL)
		return B.edge + 4096 - 8;
	s = B.edge + 4096 - 64;
	memset(s, 'x', 64);
	memcpy(s, look, strlen(look));
	return s;
}

/*
 * Low addresses for what must stay unmapped: mmap places mappings top
 * down, so nothing the program, the preload or libc maps later lands at
 * 64 KiB (the lowest address mmap_min_addr allows) and the pages above
 * it.  A hole freed among ordinary mappings would be filled by the next
 * small mmap.
 */
#define LOW 0x10000ul

static void
make_bads(void)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS, rw = PROT_READ | PROT_WRITE;

	B.edge = mmap((void *)LOW, 4096, rw, flags | MAP_FIXED_NOREPLACE, -1,
		      0); /* and LOW + 4096 unmapped */
	B.unmapped = mmap((void *)(LOW + 0x10000), 4096, rw,
			  flags | MAP_FIXED_NOREPLACE, -1, 0);
	if (B.edge != (void *)LOW || B.unmapped != (void *)(LOW + 0x10000)) {
		fprintf(stderr, "table: no low pages: %s\n", strerror(errno));
		exit(1);
	}
	munmap(B.unmapped, 4096);
	B.none = mmap(NULL, 4096, PROT_NONE, flags, -1, 0);
	B.ro = mmap(NULL, 4096, PROT_READ, flags, -1, 0);
}

/* The cases -------------------------------------------------------------- */

struct call {
	const struct tgt *t;
	void *p;	 /* the bad pointer */
	const char *alt; /* rename's other path */
};

#define CASE(name) static long c_##name(const struct call *c)
#define T	   (c->t)
#define P	   (c->p)

static char *
ok_path(const struct call *c)
{
	return (char *)T->file;
}

/* Paths: the bad pointer is the path. */
CASE(open)
{
	return open(P, O_RDONLY);
}
CASE(open64)
{
	return open64(P, O_RDONLY);
}
CASE(openat)
{
	return openat(AT_FDCWD, P, O_RDONLY);
}
CASE(openat64)
{
	return openat64(AT_FDCWD, P, O_RDONLY);
}
CASE(open_2)
{
	return __open_2(P, O_RDONLY);
}
CASE(openat_2)
{
	return __openat_2(AT_FDCWD, P, O_RDONLY);
}
CASE(creat)
{
	return creat(P, 0644);
}
CASE(fopen)
{
	return fopen(P, "r") == NULL ? -1 : 0;
}
CASE(freopen)
{
	FILE *f = fopen("/dev/null", "r");

	return freopen(P, "r", f) == NULL ? -1 : 0;
}
CASE(stat_path)
{
	struct stat st;

	return stat(P, &st);
}
CASE(lstat_path)
{
	struct stat st;

	return lstat(P, &st);
}
CASE(fstatat_path)
{
	struct stat st;

	return fstatat(AT_FDCWD, P, &st, 0);
}
CASE(statx_path)
{
	struct statx sx;

	return statx(AT_FDCWD, P, 0, STATX_BASIC_STATS, &sx);
}
CASE(xstat_path)
{
	struct stat st;

	return __xstat(1, P, &st);
}
CASE(lxstat_path)
{
	struct stat st;

	return __lxstat(1, P, &st);
}
CASE(fxstatat_path)
{
	struct stat st;

	return __fxstatat(1, AT_FDCWD, P, &st, 0);
}
CASE(statfs_path)
{
	struct statfs sf;

	return statfs(P, &sf);
}
CASE(statvfs_path)
{
	struct statvfs sv;

	return statvfs(P, &sv);
}
CASE(unlink)
{
	return unlink(P);
}
CASE(unlinkat)
{
	return unlinkat(AT_FDCWD, P, 0);
}
CASE(rmdir)
{
	return rmdir(P);
}
CASE(remove)
{
	return remove(P);
}
CASE(mkdir)
{
	return mkdir(P, 0755);
}
CASE(mkdirat)
{
	return mkdirat(AT_FDCWD, P, 0755);
}
CASE(rename_from)
{
	return rename(P, c->alt);
}
CASE(rename_to)
{
	return rename(ok_path(c), P);
}
CASE(renameat)
{
	return renameat(AT_FDCWD, P, AT_FDCWD, c->alt);
}
CASE(renameat2)
{
	return renameat2(AT_FDCWD, P, AT_FDCWD, c->alt, 0);
}
CASE(chmod)
{
	return chmod(P, 0644);
}
CASE(fchmodat)
{
	return fchmodat(AT_FDCWD, P, 0644, 0);
}
CASE(chown)
{
	return chown(P, (uid_t)-1, (gid_t)-1);
}
CASE(lchown)
{
	return lchown(P, (uid_t)-1, (gid_t)-1);
}
CASE(fchownat)
{
	return fchownat(AT_FDCWD, P, (uid_t)-1, (gid_t)-1, 0);
}
CASE(truncate)
{
	return truncate(P, 0);
}
CASE(utimensat_path)
{
	return utimensat(AT_FDCWD, P, NULL, 0);
}
CASE(utimes_path)
{
	return utimes(P, NULL);
}
CASE(lutimes_path)
{
	return lutimes(P, NULL);
}
CASE(utime_path)
{
	return utime(P, NULL);
}
CASE(access)
{
	return access(P, F_OK);
}
CASE(faccessat)
{
	return faccessat(AT_FDCWD, P, F_OK, 0);
}
CASE(euidaccess)
{
	return euidaccess(P, F_OK);
}
CASE(readlink)
{
	char buf[64];

	return readlink(P, buf, sizeof(buf));
}
CASE(readlinkat)
{
	char buf[64];

	return readlinkat(AT_FDCWD, P, buf, sizeof(buf));
}
CASE(getxattr)
{
	char buf[64];

	return getxattr(P, "user.x", buf, sizeof(buf));
}
CASE(listxattr)
{
	char buf[64];

	return listxattr(P, buf, sizeof(buf));
}
CASE(setxattr)
{
	return setxattr(P, "user.x", "v", 1, 0);
}
CASE(removexattr)
{
	return removexattr(P, "user.x");
}
CASE(opendir)
{
	return opendir(P) == NULL ? -1 : 0;
}
CASE(chdir)
{
	return chdir(P);
}
CASE(realpath)
{
	return realpath(P, NULL) == NULL ? -1 : 0;
}
CASE(mkstemp)
{
	return mkstemp(P);
}
CASE(mkdtemp)
{
	return mkdtemp(P) == NULL ? -1 : 0;
}
CASE(spawn_addopen)
{
	posix_spawn_file_actions_t fa;
	int r;

	posix_spawn_file_actions_init(&fa);
	r = posix_spawn_file_actions_addopen(&fa, 3, P, O_RDONLY, 0);
	errno = r;
	return r == 0 ? 0 : -1;
}
CASE(execve_path)
{
	char *argv[] = {(char *)"x", NULL};

	return execve(P, argv, environ);
}
CASE(execl_path)
{
	return execl(P, "x", (char *)NULL);
}

/* Structs the call writes: a good path or fd, a bad struct. */
static int
fd_of(const struct call *c, int flags)
{
	return open(T->file, flags | O_CLOEXEC);
}

CASE(stat)
{
	return stat(ok_path(c), P);
}
CASE(lstat)
{
	return lstat(ok_path(c), P);
}
CASE(fstat)
{
	return fstat(fd_of(c, O_RDONLY), P);
}
CASE(fstatat)
{
	return fstatat(AT_FDCWD, ok_path(c), P, 0);
}
CASE(fstatat_empty)
{
	return fstatat(fd_of(c, O_RDONLY), "", P, AT_EMPTY_PATH);
}
CASE(statx)
{
	return statx(AT_FDCWD, ok_path(c), 0, STATX_BASIC_STATS, P);
}
CASE(xstat)
{
	return __xstat(1, ok_path(c), P);
}
CASE(fxstat)
{
	return __fxstat(1, fd_of(c, O_RDONLY), P);
}
CASE(fxstatat)
{
	return __fxstatat(1, AT_FDCWD, ok_path(c), P, 0);
}
CASE(statfs)
{
	return statfs(ok_path(c), P);
}
CASE(fstatfs)
{
	return fstatfs(fd_of(c, O_RDONLY), P);
}
CASE(statvfs)
{
	return statvfs(ok_path(c), P);
}
CASE(fstatvfs)
{
	return fstatvfs(fd_of(c, O_RDONLY), P);
}
CASE(getcwd)
{
	if (chdir(T->cwd) < 0)
		return -2;
	return getcwd(P, 4096) == NULL ? -1 : 0;
}
CASE(realpath_out)
{
	return realpath(ok_path(c), P) == NULL ? -1 : 0;
}
CASE(getdents64)
{
	int fd = open(T->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return getdents64(fd, P, 4096);
}

/*
 * Data: 100 bytes read from or written to the file's start; the offset
 * after the call is part of the outcome (printed by the table as "off").
 */
static int io_fd = -1;

static int
io_open(const struct call *c)
{
	return io_fd = fd_of(c, O_RDWR);
}

CASE(read)
{
	return read(io_open(c), P, 100);
}
CASE(read_chk)
{
	return __read_chk(io_open(c), P, 100, 100);
}
CASE(pread)
{
	return pread(io_open(c), P, 100, 0);
}
CASE(pread_chk)
{
	return __pread_chk(io_open(c), P, 100, 0, 100);
}
CASE(readv)
{
	struct iovec iov = {P, 100};

	return readv(io_open(c), &iov, 1);
}
CASE(readv_array)
{
	return readv(io_open(c), P, 1);
}
/* A good buffer, then the bad one: short, as the kernel stops there. */
CASE(readv_second)
{
	char ok[10];
	struct iovec iov[2] = {{ok, sizeof(ok)}, {P, 100}};

	return readv(io_open(c), iov, 2);
}
/* An empty buffer first: the bad one is still the first byte. */
CASE(readv_empty_first)
{
	char ok[10];
	struct iovec iov[3] = {{ok, 0}, {P, 100}, {ok, sizeof(ok)}};

	return readv(io_open(c), iov, 3);
}
CASE(preadv)
{
	struct iovec iov = {P, 100};

	return preadv(io_open(c), &iov, 1, 0);
}
CASE(write)
{
	return write(io_open(c), P, 100);
}
CASE(pwrite)
{
	return pwrite(io_open(c), P, 100, 0);
}
CASE(writev)
{
	struct iovec iov = {P, 100};

	return writev(io_open(c), &iov, 1);
}
CASE(writev_array)
{
	return writev(io_open(c), P, 1);
}
CASE(writev_second)
{
	char ok[10] = "0123456789";
	struct iovec iov[2] = {{ok, sizeof(ok)}, {P, 100}};

	return writev(io_open(c), iov, 2);
}
CASE(pwritev)
{
	struct iovec iov = {P, 100};

	return pwritev(io_open(c), &iov, 1, 0);
}
/* From the file into the directory's (another file: not overlapping). */
static int
other_file(const struct call *c)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/x", T->dir);
	return io_fd = open(path, O_RDWR | O_CLOEXEC);
}

CASE(copy_file_range)
{
	int in = fd_of(c, O_RDONLY);

	return copy_file_range(in, P, other_file(c), NULL, 10, 0);
}
CASE(sendfile)
{
	int in = fd_of(c, O_RDONLY);

	return sendfile(other_file(c), in, P, 10);
}

/* Structs the call reads. */
CASE(futimens)
{
	return futimens(fd_of(c, O_RDONLY), P);
}
CASE(futimes)
{
	return futimes(fd_of(c, O_RDONLY), P);
}
CASE(utimensat)
{
	return utimensat(AT_FDCWD, ok_path(c), P, 0);
}
CASE(utimes)
{
	return utimes(ok_path(c), P);
}
CASE(utime)
{
	return utime(ok_path(c), P);
}
CASE(ioctl_fionbio)
{
	return ioctl(fd_of(c, O_RDONLY), FIONBIO, P);
}
CASE(epoll_ctl)
{
	return epoll_ctl(epoll_create1(EPOLL_CLOEXEC), EPOLL_CTL_ADD,
			 fd_of(c, O_RDONLY), P);
}
CASE(poll_ro)
{
	/* An array the kernel reads, then cannot write revents into. */
	struct pollfd *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	*p = (struct pollfd){fd_of(c, O_RDONLY), POLLIN, 0};
	mprotect(p, 4096, PROT_READ);
	return poll(p, 1, 0);
}
CASE(poll)
{
	return poll(P, 2, 0);
}
CASE(ppoll)
{
	struct pollfd p = {fd_of(c, O_RDONLY), POLLIN, 0};

	return ppoll(&p, 1, P, NULL);
}
CASE(select_set)
{
	struct timeval tv = {0, 0};

	return select(fd_of(c, O_RDONLY) + 1, P, NULL, NULL, &tv);
}
CASE(select_tv)
{
	int fd = fd_of(c, O_RDONLY);
	fd_set r;

	FD_ZERO(&r);
	FD_SET(fd, &r);
	return select(fd + 1, &r, NULL, NULL, P);
}
CASE(pselect_ts)
{
	int fd = fd_of(c, O_RDONLY);
	fd_set r;

	FD_ZERO(&r);
	FD_SET(fd, &r);
	return pselect(fd + 1, &r, NULL, NULL, P, NULL);
}
CASE(sendmsg)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	return sendmsg(sv[0], P, 0);
}
CASE(recvmsg)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	(void)!write(sv[1], "x", 1);
	return recvmsg(sv[0], P, MSG_DONTWAIT);
}
/* E: the first entry is good, the second faults. */
static void *
vector(const struct call *c, const char *first)
{
	if (P == bad(KE, NULL))
		*(const char **)P = first;
	return P;
}
CASE(execve_argv)
{
	return execve("/bin/true", vector(c, "true"), environ);
}
CASE(execve_envp)
{
	char *argv[] = {(char *)"true", NULL};

	return execve("/bin/true", argv, vector(c, "X=1"));
}

CASE(waitpid)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(3);
	return waitpid(pid, P, 0) == pid ? 0 : -1;
}
CASE(waitid)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(3);
	return waitid(P_PID, (id_t)pid, P, WEXITED);
}

/* Ours: no kernel call to compare with. */
CASE(provider_read)
{
	int fd = open(":" S "-prov", O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	return fd < 0 ? -2 : read(fd, P, 4 * sizeof(struct scheme_packet));
}
CASE(provider_read_chk)
{
	int fd = open(":" S "-prov", O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	return fd < 0 ? -2
		      : __read_chk(fd, P, 4 * sizeof(struct scheme_packet),
				   4 * sizeof(struct scheme_packet));
}
CASE(provider_write)
{
	int fd = open(":" S "-prov", O_CREAT | O_RDWR | O_CLOEXEC, 0600);

	return fd < 0 ? -2 : write(fd, P, sizeof(struct scheme_packet));
}
CASE(equeue_read)
{
	int q = open("event:", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	return q < 0 ? -2 : read(q, P, sizeof(struct scheme_event));
}
CASE(equeue_write)
{
	int q = open("event:", O_RDWR | O_CLOEXEC);

	return q < 0 ? -2 : write(q, P, sizeof(struct scheme_event));
}
CASE(mkns)
{
	return mkns(vector(c, "x"), 2);
}

/* The table -------------------------------------------------------------- */

enum group { G_PATHS, G_STRUCTS, G_IO, G_ARGS, G_OURS, NGROUP };
static const char *const group_name[NGROUP] = {"paths", "structs", "io", "args",
					       "ours"};

#define K(x) (1u << (x))
#define IN   (K(KU) | K(KN) | K(KE))	     /* pointers the call reads */
#define OUT  (K(KU) | K(KN) | K(KR) | K(KE)) /* pointers it writes */

struct row {
	const char *name;
	long (*fn)(const struct call *);
	int group;
	unsigned kinds;
};

#define ROW(n, g, k)                                                           \
	{                                                                      \
#n, c_##n, g, k                                                \
	}

static const struct row rows[] = {
    ROW(open, G_PATHS, IN | K(KW)),
    ROW(open64, G_PATHS, IN),
    ROW(openat, G_PATHS, IN),
    ROW(openat64, G_PATHS, IN),
    ROW(open_2, G_PATHS, IN),
    ROW(openat_2, G_PATHS, IN),
    ROW(creat, G_PATHS, IN),
    ROW(fopen, G_PATHS, IN),
    ROW(freopen, G_PATHS, IN),
    ROW(stat_path, G_PATHS, IN),
    ROW(lstat_path, G_PATHS, IN),
    ROW(fstatat_path, G_PATHS, IN),
    ROW(statx_path, G_PATHS, IN),
    ROW(xstat_path, G_PATHS, IN),
    ROW(lxstat_path, G_PATHS, IN),
    ROW(fxstatat_path, G_PATHS, IN),
    ROW(statfs_path, G_PATHS, IN),
    ROW(statvfs_path, G_PATHS, IN),
    ROW(unlink, G_PATHS, IN),
    ROW(unlinkat, G_PATHS, IN),
    ROW(rmdir, G_PATHS, IN),
    ROW(remove, G_PATHS, IN),
    ROW(mkdir, G_PATHS, IN),
    ROW(mkdirat, G_PATHS, IN),
    ROW(rename_from, G_PATHS, IN),
    ROW(rename_to, G_PATHS, IN),
    ROW(renameat, G_PATHS, IN),
    ROW(renameat2, G_PATHS, IN),
    ROW(chmod, G_PATHS, IN),
    ROW(fchmodat, G_PATHS, IN),
    ROW(chown, G_PATHS, IN),
    ROW(lchown, G_PATHS, IN),
    ROW(fchownat, G_PATHS, IN),
    ROW(truncate, G_PATHS, IN),
    ROW(utimensat_path, G_PATHS, IN),
    ROW(utimes_path, G_PATHS, IN),
    ROW(lutimes_path, G_PATHS, IN),
    ROW(utime_path, G_PATHS, IN),
    ROW(access, G_PATHS, IN),
    ROW(faccessat, G_PATHS, IN),
    ROW(euidaccess, G_PATHS, IN),
    ROW(readlink, G_PATHS, IN),
    ROW(readlinkat, G_PATHS, IN),
    ROW(getxattr, G_PATHS, IN),
    ROW(listxattr, G_PATHS, IN),
    ROW(setxattr, G_PATHS, IN),
    ROW(removexattr, G_PATHS, IN),
    ROW(opendir, G_PATHS, IN),
    ROW(chdir, G_PATHS, IN),
    ROW(realpath, G_PATHS, IN),
    ROW(mkstemp, G_PATHS, IN),
    ROW(mkdtemp, G_PATHS, IN),
    ROW(spawn_addopen, G_PATHS, IN),
    ROW(execve_path, G_PATHS, IN),
    ROW(execl_path, G_PATHS, IN),

    ROW(stat, G_STRUCTS, OUT),
    ROW(lstat, G_STRUCTS, OUT),
    ROW(fstat, G_STRUCTS, OUT),
    ROW(fstatat, G_STRUCTS, OUT),
    ROW(fstatat_empty, G_STRUCTS, OUT),
    ROW(statx, G_STRUCTS, OUT),
    ROW(xstat, G_STRUCTS, OUT),
    ROW(fxstat, G_STRUCTS, OUT),
    ROW(fxstatat, G_STRUCTS, OUT),
    ROW(statfs, G_STRUCTS, OUT),
    ROW(fstatfs, G_STRUCTS, OUT),
    ROW(statvfs, G_STRUCTS, OUT),
    ROW(fstatvfs, G_STRUCTS, OUT),
    ROW(getcwd, G_STRUCTS, OUT),
    ROW(realpath_out, G_STRUCTS, OUT),
    ROW(getdents64, G_STRUCTS, OUT),

    ROW(read, G_IO, OUT),
    ROW(read_chk, G_IO, OUT),
    ROW(pread, G_IO, OUT),
    ROW(pread_chk, G_IO, OUT),
    ROW(readv, G_IO, OUT),
    ROW(readv_array, G_IO, IN),
    ROW(readv_second, G_IO, OUT),
    ROW(readv_empty_first, G_IO, OUT),
    ROW(preadv, G_IO, OUT),
    ROW(write, G_IO, IN),
    ROW(pwrite, G_IO, IN),
    ROW(writev, G_IO, IN),
    ROW(writev_array, G_IO, IN),
    ROW(writev_second, G_IO, IN),
    ROW(pwritev, G_IO, IN),
    ROW(copy_file_range, G_IO, OUT),
    ROW(sendfile, G_IO, OUT),

    ROW(futimens, G_ARGS, IN),
    ROW(futimes, G_ARGS, IN),
    ROW(utimensat, G_ARGS, IN),
    ROW(utimes, G_ARGS, IN),
    ROW(utime, G_ARGS, IN),
    ROW(ioctl_fionbio, G_ARGS, IN),
    ROW(epoll_ctl, G_ARGS, IN),
    ROW(poll, G_ARGS, IN),
    ROW(poll_ro, G_ARGS, K(KR)),
    ROW(ppoll, G_ARGS, IN),
    ROW(select_set, G_ARGS, IN),
    ROW(select_tv, G_ARGS, IN),
    ROW(pselect_ts, G_ARGS, IN),
    ROW(sendmsg, G_ARGS, IN),
    ROW(recvmsg, G_ARGS, OUT),
    ROW(execve_argv, G_ARGS, IN),
    ROW(execve_envp, G_ARGS, IN),
    ROW(waitpid, G_ARGS, OUT),
    ROW(waitid, G_ARGS, OUT),

    ROW(provider_read, G_OURS, OUT),
    ROW(provider_read_chk, G_OURS, OUT),
    ROW(provider_write, G_OURS, IN),
    ROW(equeue_read, G_OURS, OUT),
    ROW(equeue_write, G_OURS, IN),
    ROW(mkns, G_OURS, IN),
};

/*
 * One call in a child of its own (a crash is an outcome; 10 s at most),
 * as "ret=R errno=E off=O" or "signal=N".
 */
static void
run(const struct row *w, const struct call *c, char *out, size_t len)
{
	char buf[128] = "";
	int p[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		snprintf(out, len, "(no child)");
		return;
	}
	if (pid == 0) {
		long r;
		int e;

		alarm(10);
		errno = 0;
		r = w->fn(c);
		e = errno;
		snprintf(buf, sizeof(buf), "ret=%ld errno=%s", r,
			 r < 0 ? strerrorname_np(e) : "-");
		if (io_fd >= 0)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 " off=%ld", (long)lseek(io_fd, 0, SEEK_CUR));
		(void)!write(p[1], buf, strlen(buf));
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		snprintf(out, len, "signal=%d", WTERMSIG(st));
	else if (n <= 0) /* died saying nothing: the sanitizer's SEGV */
		snprintf(out, len, "signal=crash");
	else
		snprintf(out, len, "%.*s", (int)n, buf);
}

/* The file, the directory and a fresh name, as each case finds them. */
static void
refresh(const struct tgt *t)
{
	char data[FILELEN];
	int fd;

	memset(data, 'd', sizeof(data));
	fd = open(t->file, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, sizeof(data)) != (ssize_t)sizeof(data))
		fprintf(stderr, "table: %s: %s\n", t->file, strerror(errno));
	close(fd);
}

static void
tgt_init(struct tgt *t, const char *name, const char *base)
{
	char sub[300];

	t->name = name;
	snprintf(t->file, sizeof(t->file), "%sf", base);
	snprintf(t->dir, sizeof(t->dir), "%sd", base);
	snprintf(t->none, sizeof(t->none), "%snone", base);
	snprintf(t->cwd, sizeof(t->cwd), "%s",
		 strncmp(base, S ":", 3) == 0 ? "/scheme/" S : base);
	mkdir(t->dir, 0755);
	snprintf(sub, sizeof(sub), "%s/x", t->dir);
	close(open(sub, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	refresh(t);
}

/* Path rows: U, N, W once ("any"); E once per look (disk, scheme). */
static void
table_row(const struct row *w, const struct tgt *tg, int ntg)
{
	char out[160];
	struct call c;
	int k, i;

	for (k = 0; k < NKIND; k++) {
		if (!(w->kinds & K(k)))
			continue;
		for (i = 0; i < ntg; i++) {
			bool path = w->group == G_PATHS;
			const char *look = tg[i].name[0] == 's' ? S ":e" : "/e";

			if (path && k != KE && i > 0)
				break; /* the same call for every target */
			c = (struct call){&tg[i], bad(k, path ? look : NULL),
					  tg[i].none};
			refresh(&tg[i]);
			run(w, &c, out, sizeof(out));
			printf("%s %c %s %s\n", w->name, kind_char[k],
			       path && k != KE ? "any" : tg[i].name, out);
		}
	}
}

/* --table GROUP [DIR]: the lines for one group; with the preload, the
 * scheme's too. */
static int
table(const char *gname, const char *dir)
{
	struct tgt tg[2];
	char base[300];
	int g, ntg = 1;
	bool preloaded = getenv("LD_PRELOAD") && *getenv("LD_PRELOAD");

	for (g = 0; g < NGROUP && strcmp(group_name[g], gname) != 0; g++)
		;
	if (g == NGROUP)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	make_bads();
	snprintf(base, sizeof(base), "%s/", dir);
	tgt_init(&tg[0], "disk", base);
	if (preloaded) {
		tgt_init(&tg[1], "scheme", S ":");
		ntg = 2;
	}
	if (g == G_OURS) /* nothing of the kernel's to compare with */
		ntg = preloaded ? 1 : 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].group == g)
			table_row(&rows[i], tg, ntg);
	return 0;
}

/* The suite ------------------------------------------------------------- */

static struct run_result want, got;

/* The table of one group, with or without the preload, in a directory of
 * its own. */
static void
run_table(struct run_result *r, const char *group, bool preload)
{
	char dir[256], self[256];
	char *argv[] = {self, (char *)"--table", (char *)group, dir, NULL};
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	snprintf(dir, sizeof(dir), "%s/%s-%s", h_dir(), group,
		 preload ? "pre" : "bare");
	mkdir(dir, 0755);
	h_run(r, preload, NULL, 120, argv);
	ck_assert_msg(r->status == 0 && !r->timed_out,
		      "table %s (%s): status %d\n%s", group,
		      preload ? "preload" : "bare", r->status, r->err);
}

/* The kernel's line for "name kind target" (a scheme's: the disk's). */
static const char *
kernels(const char *name, char kind, const char *target, char *line, size_t len)
{
	char key[128], *p;

	snprintf(key, sizeof(key), "\n%s %c %s ", name, kind,
		 strcmp(target, "scheme") == 0 ? "disk" : target);
	snprintf(line, len, "\n%s", want.out);
	if ((p = strstr(line, key)) == NULL)
		return NULL;
	p += strlen(key);
	p[strcspn(p, "\n")] = '\0';
	return p;
}

/*
 * Every line of the preload's table against the kernel's: equal, or
 * EFAULT where glibc itself crashes.  Groups with no kernel to ask
 * (ours) must say EFAULT.
 */
static void
compare(const char *group, bool ours)
{
	static char copy[sizeof(got.out)], line[sizeof(want.out) + 2],
	    diffs[4096];
	char name[64], target[16], kind, *l, *save = NULL;
	const char *k, *g;
	int n = 0, bad = 0, schemes = 0;

	if (!ours)
		run_table(&want, group, false);
	run_table(&got, group, true);
	diffs[0] = '\0';
	memcpy(copy, got.out, sizeof(copy));
	for (l = strtok_r(copy, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		int off = 0;

		if (sscanf(l, "%63s %c %15s %n", name, &kind, target, &off) !=
			3 ||
		    off == 0)
			continue;
		g = l + off;
		n++;
		schemes += strcmp(target, "scheme") == 0;
		k = ours ? "ret=-1 errno=EFAULT"
			 : kernels(name, kind, target, line, sizeof(line));
		if (k != NULL && (strcmp(k, g) == 0 ||
				  (strncmp(k, "signal=", 7) == 0 &&
				   strncmp(g, "ret=-1 errno=EFAULT", 19) == 0)))
			continue;
		bad++;
		snprintf(diffs + strlen(diffs), sizeof(diffs) - strlen(diffs),
			 "  %s %c %s: %s, the kernel: %s\n", name, kind, target,
			 g, k ? k : "(no line)");
	}
	fprintf(stderr,
		"test_efault %s: %d calls, %d on a scheme, %d wrong\n%s", group,
		n, schemes, bad, diffs);
	ck_assert_int_gt(n, 0);
	ck_assert(ours || schemes > 0);
	ck_assert_msg(bad == 0, "%s: %d of %d calls not as the kernel:\n%s",
		      group, bad, n, diffs);
}

static void
start_world(void)
{
	h_world_start(S);
}

START_TEST(paths)
{
	compare("paths", false);
}
END_TEST

START_TEST(structs)
{
	compare("structs", false);
}
END_TEST

START_TEST(io)
{
	compare("io", false);
}
END_TEST

START_TEST(args)
{
	compare("args", false);
}
END_TEST

START_TEST(ours)
{
	compare("ours", true);
}
END_TEST

/* The issue's own line: open((char *)0xdeadc0de, 0) is EFAULT. */
START_TEST(deadc0de)
{
	errno = 0;
	ck_assert_int_eq(open((char *)(uintptr_t)0xdeadc0de, 0), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_int_eq(mkdir((char *)(uintptr_t)0xdeadc0de, 0755), -1);
	ck_assert_int_eq(errno, EFAULT);
}
END_TEST

/* Good pointers never take the errno of a probe: it stays as it was. */
START_TEST(errno_kept)
{
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct stat st;
	int fd;

	strcpy(m, S ":f");
	close(open(m, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	errno = 4242;
	ck_assert_int_eq(stat(m, &st), 0); /* probed: not known memory */
	ck_assert_int_eq(errno, 4242);
	fd = open(m, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(errno, 4242);
	ck_assert_int_eq(write(fd, m, 8), 8);
	ck_assert_int_eq(pread(fd, m + 100, 8, 0), 8);
	ck_assert_int_eq(errno, 4242);
	ck_assert_int_eq(memcmp(m, m + 100, 8), 0);
	close(fd);
	munmap(m, 4096);
}
END_TEST

/*
 * A page the kernel said was good is remembered, and forgotten when the
 * program unmaps or protects memory: a pointer into it afterwards is
 * EFAULT again, not a crash.
 */
static void
forgotten(int how)
{
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
	     *n;
	struct stat st;

	strcpy(m, S ":f");
	ck_assert_int_eq(stat(m, &st), 0); /* asked, and remembered */
	ck_assert_int_eq(stat(m, &st), 0);
	if (how == 0)
		ck_assert_int_eq(munmap(m, 8192), 0);
	else if (how == 1)
		ck_assert_int_eq(mprotect(m, 8192, PROT_NONE), 0);
	else {
		n = mremap(m, 8192, 4 * 8192, MREMAP_MAYMOVE);
		ck_assert_ptr_ne(n, MAP_FAILED);
		if (n == m) /* grown in place: make the old address bad */
			ck_assert_int_eq(mprotect(m, 8192, PROT_NONE), 0);
	}
	errno = 0;
	ck_assert_int_eq(stat(m, &st), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_int_eq(open(m, O_RDONLY), -1);
	ck_assert_int_eq(errno, EFAULT);
}

START_TEST(munmap_forgets)
{
	forgotten(0);
}
END_TEST

START_TEST(mprotect_forgets)
{
	forgotten(1);
}
END_TEST

START_TEST(mremap_forgets)
{
	forgotten(2);
}
END_TEST

/*
 * In the null namespace the kernel is asked with calls its filter allows
 * (uaccess.c): an ordinary path in memory we do not know still goes to
 * the kernel (which refuses it there, EACCES), a bad one is EFAULT.
 */
static void
sandboxed(void)
{
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct stat st;

	strcpy(m, "/etc/hostname");
	EXPECT(setrens(0, 0) == 0);
	FAILS(stat(m, &st), EACCES);
	FAILS(stat(B.none, &st), EFAULT);
	FAILS(open((char *)(uintptr_t)0xdeadc0de, O_RDONLY), EFAULT);
}

START_TEST(null_namespace)
{
	make_bads();
	h_in_child(sandboxed);
}
END_TEST

static Suite *
efault_suite(void)
{
	Suite *s = suite_create("efault");
	TCase *tc = tcase_create("efault");

	tcase_set_timeout(tc, 240);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_test(tc, paths);
	tcase_add_test(tc, structs);
	tcase_add_test(tc, io);
	tcase_add_test(tc, args);
	tcase_add_test(tc, ours);
	tcase_add_test(tc, deadc0de);
	tcase_add_test(tc, errno_kept);
	tcase_add_test(tc, munmap_forgets);
	tcase_add_test(tc, mprotect_forgets);
	tcase_add_test(tc, mremap_forgets);
	tcase_add_test(tc, null_namespace);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--table") == 0)
		return table(argv[2], argv[3]);
	return h_main(efault_suite());
}

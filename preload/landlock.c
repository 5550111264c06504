/*
 * landlock.c - see landlock.h.
 *
 * The domain handles every file access right and both scopes.  Its rules
 * grant every right beneath each entry of "/" but /proc, beneath each
 * entry of /proc that is not a process (cpuinfo, meminfo, sys, ...), and
 * beneath /proc/<our pid>: ordinary files are the user's, as the
 * namespace's "file" says, but other processes' /proc directories are
 * not (their environ, maps and fd/ are readable to their user without
 * ptrace rights; /proc/<pid>/fd/N even reopens their files, memfds
 * included).  Landlock also refuses ptrace access (ptrace itself,
 * /proc/<pid>/mem, pidfd_getfd) to any process outside the domain, and
 * the scopes refuse signals and connections to abstract unix sockets
 * across the same line.  A child or an exec stays in the domain, so a
 * shell inside can still wait for and signal its jobs (but not list them
 * in /proc: only its own directory is there).  A new entry of "/" made
 * later is out of reach.
 *
 * Landlock applies to the calling thread only (there is no TSYNC for it
 * here), which is why setrens() into such a namespace needs the process
 * to have one thread (sandbox.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"
#include "real.h"

/* <linux/landlock.h> of Debian 12 predates ABI 3 and the scopes (ABI 6). */
#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_FS_TRUNCATE		  (1ull << 14)
#define LL_FS_IOCTL_DEV		  (1ull << 15)
#define LL_FS_ALL		  ((1ull << 16) - 1) /* every right of ABI 5 */
#define LL_FS_FILE                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |          \
	 LANDLOCK_ACCESS_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)
#define LL_SCOPE_ABSTRACT_UNIX (1ull << 0)
#define LL_SCOPE_SIGNAL	       (1ull << 1)
#define LL_ABI_SCOPES	       6

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

int
landlock_usable(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LL_CREATE_RULESET_VERSION);

	return abi >= LL_ABI_SCOPES ? 0 : -EOPNOTSUPP;
}

/* Every right beneath dir/name (a file: the rights a file has). */
static int
allow(int ruleset, int dir, const char *name)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd, r = 0;

	fd = REAL(openat)(dir, name, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return 0; /* gone, or not ours to see: not granted */
	if (REAL(fstat)(fd, &st) == 0 &&
	    (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode) ||
	     S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
		pb.allowed_access = S_ISDIR(st.st_mode) ? LL_FS_ALL : LL_FS_FILE;
		pb.parent_fd = fd;
		if (syscall(SYS_landlock_add_rule, ruleset,
			    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
			r = -errno;
	}
	REAL(close)(fd);
	return r;
}

static bool
is_pid(const char *name)
{
	return name[strspn(name, "0123456789")] == '\0' ||
	       strcmp(name, "self") == 0 || strcmp(name, "thread-self") == 0;
}

/* The entries of path, but /proc in "/" and the processes in /proc. */
static int
allow_entries(int ruleset, const char *path)
{
	char buf[4096];
	long n, pos;
	int dir, r = 0;
	bool proc = strcmp(path, "/proc") == 0;

	dir = REAL(open)(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	while (r == 0 && (n = REAL(getdents64)(dir, buf, sizeof(buf))) > 0) {
		for (pos = 0; r == 0 && pos < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + pos);

			pos += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0 ||
			    (!proc && strcmp(d->d_name, "proc") == 0) ||
			    (proc && is_pid(d->d_name)))
				continue;
			r = allow(ruleset, dir, d->d_name);
		}
	}
	REAL(close)(dir);
	return r;
}

int
landlock_files(void)
{
	struct ll_ruleset_attr attr = {
	    .handled_access_fs = LL_FS_ALL,
	    .scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL};
	int fd, r;

	if ((r = landlock_usable()) < 0)
		return r;
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return -errno;
	if ((r = allow_entries(fd, "/")) == 0 &&
	    (r = allow_entries(fd, "/proc")) == 0 &&
	    (r = allow(fd, AT_FDCWD, "/proc/self")) == 0 && /* ours */
	    (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	     syscall(SYS_landlock_restrict_self, fd, 0) < 0))
		r = -errno;
	REAL(close)(fd);
	return r;
}

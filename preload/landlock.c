/*
 * landlock.c - see landlock.h.
 *
 * A domain that handles no file access and sets both scopes.  Landlock
 * refuses a sandboxed process ptrace access to any process outside its
 * domain: ptrace itself, /proc/<pid>/mem, fd/, fdinfo/, cwd, root,
 * pidfd_getfd, process_vm_*; and the scopes refuse signals and
 * connections to abstract unix sockets across the same line.  A child
 * or an exec stays in the domain, so a shell inside can still wait for,
 * signal and inspect its jobs.
 *
 * What stays readable: other processes' /proc/<pid>/environ and maps
 * (the kernel checks them in a way Landlock lets through here), and what
 * /proc shows anyone (stat, cmdline).  Fencing /proc with file rules would
 * close that, but the rules are fixed when the domain is made: a child's
 * own /proc/self (a new pid) would be out of reach too, and programs
 * need theirs (closefrom, the preload finding its namespace token).
 *
 * Landlock applies to the calling thread only (there is no TSYNC for it
 * here), which is why setrens() into such a namespace needs the process
 * to have one thread (sandbox.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"
#include "real.h"

/* <linux/landlock.h> of Debian 12 predates the scopes (ABI 6). */
#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_SCOPE_ABSTRACT_UNIX	  (1ull << 0)
#define LL_SCOPE_SIGNAL		  (1ull << 1)
#define LL_ABI_SCOPES		  6

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

int
landlock_usable(void)
{
	long abi = REAL(syscall)(SYS_landlock_create_ruleset, NULL, 0,
			   LL_CREATE_RULESET_VERSION);

	return abi >= LL_ABI_SCOPES ? 0 : -EOPNOTSUPP;
}

int
landlock_files(void)
{
	struct ll_ruleset_attr attr = {.scoped = LL_SCOPE_ABSTRACT_UNIX |
						 LL_SCOPE_SIGNAL};
	int fd, r = 0;

	if ((r = landlock_usable()) < 0)
		return r;
	fd = (int)REAL(syscall)(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    REAL(syscall)(SYS_landlock_restrict_self, fd, 0) < 0)
		r = -errno;
	REAL(close)(fd);
	return r;
}

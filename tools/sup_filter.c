/*
 * sup_filter.c - the seccomp filter of a supervised program (see sup.h):
 * a classic BPF program that returns SECCOMP_RET_USER_NOTIF for the
 * calls in sup_calls.c's table and lets everything else through.
 *
 * It is written out by hand, not with libseccomp: it is one comparison
 * per call number, and schemerun must not need a library it only uses
 * for programs of one kind.  Only the native ABI is served; calls of
 * another one (i386 through int 0x80, x32) are let through unserved: they
 * see scheme paths as ordinary (missing) files, as without schemerun.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sup.h"
#include "sup_impl.h"

#if defined(__x86_64__)
#define SUP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SUP_ARCH AUDIT_ARCH_AARCH64
#endif

#define LD_ABS(off)                                                            \
	(struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, (v))

static int
load(const struct sock_fprog *prog)
{
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);

	/* Without CAP_SYS_ADMIN the kernel wants no_new_privs first. */
	if (fd < 0 && errno == EACCES) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return -errno;
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			     SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);
	}
	return fd < 0 ? -errno : (int)fd;
}

int
sup_install(void)
{
#ifdef SUP_ARCH
	struct sock_filter f[SUP_NCALLS_MAX + 6];
	struct sock_fprog prog;
	size_t n = 0, i, ncalls = sup_ncalls();

	f[n++] = LD_ABS(offsetof(struct seccomp_data, arch));
	/* Not our ABI: straight to the last ALLOW. */
	f[n++] =
	    (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SUP_ARCH, 0,
					 (unsigned char)(ncalls + 1));
	f[n++] = LD_ABS(offsetof(struct seccomp_data, nr));
	for (i = 0; i < ncalls; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(
		    BPF_JMP | BPF_JEQ | BPF_K, (unsigned)sup_call_nr(i),
		    (unsigned char)(ncalls - i), 0);
	f[n++] = RET(SECCOMP_RET_ALLOW);
	f[n++] = RET(SECCOMP_RET_USER_NOTIF);
	prog.len = (unsigned short)n;
	prog.filter = f;
	return load(&prog);
#else
	return -ENOSYS;
#endif
}

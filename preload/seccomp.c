/*
 * seccomp.c - the kernel's half of a namespace (seccomp.h).
 *
 * The broker refuses opens by scheme name outside a process's namespace,
 * but a program can make raw syscalls and skip us.  Two filters, each
 * installed once on the way in (namespaces only narrow, and a filter is
 * inherited across fork and exec and cannot be removed):
 *
 *  - out of the root namespace: no new SOCK_SEQPACKET unix socket (the
 *    kind the broker listens on: a fresh connection would be in the root
 *    namespace, so new connections are made through the namespace token),
 *    no io_uring (its operations pass by seccomp), and none of the calls
 *    that reach into another process's fds or memory;
 *  - into the null namespace: no open by name at all, as on Redox: the
 *    open family, exec, and the calls that create, remove or rename a
 *    name, and no new socket of any kind (a connect is an open by name).
 *    socketpair(), bind() and everything on fds already open stay.
 *
 * Refusals are EACCES, which is what a Linux sandbox (Landlock, a
 * read-only bind mount) answers, so programs report it sensibly.  The
 * filters are written as classic BPF by hand: a dozen comparisons do not
 * need libseccomp.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp.h"

#define NR_OFF	   offsetof(struct seccomp_data, nr)
#define ARCH_OFF   offsetof(struct seccomp_data, arch)
#define ARG_OFF(i) offsetof(struct seccomp_data, args[i]) /* low half */

#define STMT(c, k)	 ((struct sock_filter)BPF_STMT((c), (k)))
#define JUMP(c, k, t, f) ((struct sock_filter)BPF_JUMP((c), (k), (t), (f)))
#define DENY(e)		 STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (e))
#define ALLOW		 STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define LOAD(o)		 STMT(BPF_LD | BPF_W | BPF_ABS, (o))
/* if A == k: go on, else skip the next instruction */
#define IS(k) JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), 0, 1)

static const int null_calls[] = {
    SYS_open,
    SYS_openat,
    SYS_openat2,
    SYS_creat,
    SYS_open_by_handle_at,
    SYS_execve,
    SYS_execveat,
    SYS_mknod,
    SYS_mknodat,
    SYS_mkdir,
    SYS_mkdirat,
    SYS_rmdir,
    SYS_unlink,
    SYS_unlinkat,
    SYS_rename,
    SYS_renameat,
    SYS_renameat2,
    SYS_link,
    SYS_linkat,
    SYS_symlink,
    SYS_symlinkat,
    SYS_truncate,
    SYS_socket,
    SYS_connect,
    SYS_mount,
    SYS_chroot,
    SYS_pivot_root,
};

static const int narrow_calls[] = {
    SYS_io_uring_setup,	   SYS_ptrace,	    SYS_process_vm_readv,
    SYS_process_vm_writev, SYS_pidfd_getfd,
};

static int
install(struct sock_filter *f, unsigned short n)
{
	struct sock_fprog prog = {.len = n, .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}

/* The head every filter starts with: x86_64 calls only. */
static unsigned short
head(struct sock_filter *f)
{
	unsigned short n = 0;

	f[n++] = LOAD(ARCH_OFF);
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = DENY(ENOSYS);
	f[n++] = LOAD(NR_OFF);
	f[n++] = JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
	f[n++] = DENY(ENOSYS); /* the x32 ABI */
	return n;
}

static unsigned short
deny_list(struct sock_filter *f, unsigned short n, const int *nr, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		f[n++] = IS((unsigned)nr[i]);
		f[n++] = DENY(EACCES);
	}
	return n;
}

int
seccomp_narrow(void)
{
	struct sock_filter f[64];
	unsigned short n = head(f);

	n = deny_list(f, n, narrow_calls,
		      sizeof(narrow_calls) / sizeof(narrow_calls[0]));
	/* socket(AF_UNIX, SOCK_SEQPACKET | flags, ...) */
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 5);
	f[n++] = LOAD(ARG_OFF(0));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 3);
	f[n++] = LOAD(ARG_OFF(1));
	f[n++] = STMT(BPF_ALU | BPF_AND | BPF_K, 0xf); /* the type */
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_SEQPACKET, 1, 0);
	f[n++] = ALLOW;
	f[n++] = DENY(EACCES);
	return install(f, n);
}

int
seccomp_null(void)
{
	struct sock_filter f[80];
	unsigned short n = head(f);

	n = deny_list(f, n, null_calls,
		      sizeof(null_calls) / sizeof(null_calls[0]));
	f[n++] = ALLOW;
	return install(f, n);
}

/* Whether this process runs under any seccomp filter (ours or not). */
int
seccomp_filtered(void)
{
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2;
}

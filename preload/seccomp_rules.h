/*
 * seccomp_rules.h - what a process in a namespace without ordinary
 * files may ask the kernel (the null namespace, and mkns() namespaces
 * not holding "file"): an allowlist, one row per rule with its reason.
 *
 * The rule of the list: a call may act on the fds the process already
 * holds and on the process itself (its memory, signals, time, threads),
 * and nothing else.  Whatever names a path, reaches or creates a name
 * (files, socket addresses, mounts, message queues, keys, namespaces,
 * fanotify/inotify, file handles), or reaches another process is absent,
 * and so refused with EACCES; so is every call this list does not know,
 * which includes every call a later kernel adds.  Other ABIs (x32, i386)
 * get ENOSYS.
 *
 * Conditions are on argument registers.  Where the kernel reads an int,
 * a comparison masks the upper half away (SC_EQ32), since a caller may
 * put anything there.  A call allowed "except" some arguments is an
 * ALLOW row whose condition always holds (SC_ALWAYS) plus EXCEPT rows:
 * libseccomp tests the more specific rows first (the syscall walk in
 * test_hostile checks each exception).  An exception answers EPERM, not
 * EACCES, because libseccomp takes no rule whose action is the default
 * one.  A row may use SC_SELF as a value:
 * the pid of the process when the filter is made.
 *
 * Included by seccomp.c (the filter) and by test/test_hostile.c (which
 * walks every system call number against it).
 */
#ifndef PRELOAD_SECCOMP_RULES_H
#define PRELOAD_SECCOMP_RULES_H

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

struct sc_rule {
	int nr;
	uint32_t action;
	unsigned n; /* conditions, all of which must hold */
	struct scmp_arg_cmp cmp[2];
	const char *why;
};

#define SC_SELF 0xfffffffeu /* replaced by getpid() */
#define SC_EQ32(a, v)                                                          \
	((struct scmp_arg_cmp){(a), SCMP_CMP_MASKED_EQ, 0xffffffffu, (v)})
#define SC_BITS(a, m, v)                                                       \
	((struct scmp_arg_cmp){(a), SCMP_CMP_MASKED_EQ, (m), (v)})
#define SC_EQ64(a, v) ((struct scmp_arg_cmp){(a), SCMP_CMP_EQ, (v), 0})
#define SC_NE64(a, v) ((struct scmp_arg_cmp){(a), SCMP_CMP_NE, (v), 0})
#define SC_ALWAYS     ((struct scmp_arg_cmp){0, SCMP_CMP_GE, 0, 0})

#define ALLOW(c, why)                                                          \
	{                                                                      \
		SYS_##c, SCMP_ACT_ALLOW, 0, {{0}}, why                         \
	}
#define ALLOW_IF(c, x, why)                                                    \
	{                                                                      \
		SYS_##c, SCMP_ACT_ALLOW, 1, {x}, why                           \
	}
#define ALLOW_IF2(c, x, y, w)                                                  \
	{                                                                      \
		SYS_##c, SCMP_ACT_ALLOW, 2, {x, y}, w                          \
	}
#define EXCEPT(c, x, why)                                                      \
	{                                                                      \
		SYS_##c, SCMP_ACT_ERRNO(EPERM), 1, {x}, why                    \
	}
#define REFUSE(c, why)                                                         \
	{                                                                      \
		SYS_##c, SCMP_ACT_ERRNO(EACCES), 0, {{0}}, why                 \
	}
#define REFUSE_IF(c, x, why)                                                   \
	{                                                                      \
		SYS_##c, SCMP_ACT_ERRNO(EACCES), 1, {x}, why                   \
	}
#define NOSYS(c, why)                                                          \
	{                                                                      \
		SYS_##c, SCMP_ACT_ERRNO(ENOSYS), 0, {{0}}, why                 \
	}

/* clone() flags that make a namespace (CLONE_NEWTIME is clone3's only). */
#define SC_CLONE_NEW                                                           \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |         \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

static const struct sc_rule sc_null_rules[] = {
    /* Fds the process holds. */
    ALLOW(read, "reads a held fd"),
    ALLOW(write, "writes a held fd"),
    ALLOW(readv, "reads a held fd"),
    ALLOW(writev, "writes a held fd"),
    ALLOW(pread64, "reads a held fd"),
    ALLOW(pwrite64, "writes a held fd"),
    ALLOW(preadv, "reads a held fd"),
    ALLOW(pwritev, "writes a held fd"),
    ALLOW(preadv2, "reads a held fd"),
    ALLOW(pwritev2, "writes a held fd"),
    ALLOW(lseek, "moves a held fd's offset"),
    ALLOW(close, "closes a held fd"),
    ALLOW(close_range, "closes held fds"),
    ALLOW(dup, "copies a held fd"),
    ALLOW(dup2, "copies a held fd"),
    ALLOW(dup3, "copies a held fd"),
    ALLOW(fstat, "describes a held fd"),
    ALLOW_IF2(newfstatat, SC_BITS(3, AT_EMPTY_PATH, AT_EMPTY_PATH),
	      SC_BITS(0, 0x80000000u, 0),
	      "glibc's fstat(): a held fd (AT_EMPTY_PATH, no AT_FDCWD)"),
    NOSYS(statx, "by path or fd: ENOSYS makes libc and libuv use fstat"),
    ALLOW(fstatfs, "describes a held fd's file system"),
    ALLOW(getdents, "lists a held directory fd"),
    ALLOW(getdents64, "lists a held directory fd"),
    ALLOW(ftruncate, "resizes a held fd"),
    ALLOW(fallocate, "allocates in a held fd"),
    ALLOW(fsync, "flushes a held fd"),
    ALLOW(fdatasync, "flushes a held fd"),
    ALLOW(syncfs, "flushes a held fd's file system"),
    ALLOW(sync_file_range, "flushes part of a held fd"),
    ALLOW(fadvise64, "advises on a held fd"),
    ALLOW(readahead, "reads ahead on a held fd"),
    ALLOW(flock, "locks a held fd"),
    ALLOW(fchmod, "changes a held fd's mode"),
    ALLOW(fchown, "changes a held fd's owner"),
    ALLOW(fchdir, "moves the working directory to a held fd"),
    ALLOW(getcwd, "says where the process is"),
    ALLOW(fgetxattr, "reads a held fd's attributes"),
    ALLOW(fsetxattr, "sets a held fd's attributes"),
    ALLOW(flistxattr, "lists a held fd's attributes"),
    ALLOW(fremovexattr, "removes a held fd's attribute"),
    ALLOW_IF(utimensat, SC_EQ64(1, 0), "futimens(): a held fd, no path"),
    ALLOW(sendfile, "copies between held fds"),
    ALLOW(copy_file_range, "copies between held fds"),
    ALLOW(splice, "moves between held fds"),
    ALLOW(tee, "copies between held pipes"),
    ALLOW(vmsplice, "moves memory into a held pipe"),
    ALLOW_IF(fcntl, SC_ALWAYS, "a held fd's flags, locks and copies"),
    EXCEPT(fcntl, SC_EQ32(1, F_SETOWN), "signals another process"),
    EXCEPT(fcntl, SC_EQ32(1, F_SETOWN_EX), "signals another process"),
    ALLOW_IF(ioctl, SC_ALWAYS, "controls a held fd"),
    EXCEPT(ioctl, SC_EQ32(1, TIOCSTI), "types into another's terminal"),
    EXCEPT(ioctl, SC_EQ32(1, TIOCLINUX), "types into another's console"),

    /* New fds that name nothing. */
    ALLOW(pipe, "an unnamed pipe"),
    ALLOW(pipe2, "an unnamed pipe"),
    ALLOW(eventfd, "an unnamed counter"),
    ALLOW(eventfd2, "an unnamed counter"),
    ALLOW(signalfd, "the process's own signals"),
    ALLOW(signalfd4, "the process's own signals"),
    ALLOW(timerfd_create, "a timer"),
    ALLOW(timerfd_settime, "a held timer"),
    ALLOW(timerfd_gettime, "a held timer"),
    ALLOW(epoll_create, "a readiness set of held fds"),
    ALLOW(epoll_create1, "a readiness set of held fds"),
    ALLOW(epoll_ctl, "a readiness set of held fds"),
    ALLOW(epoll_wait, "waits on held fds"),
    ALLOW(epoll_pwait, "waits on held fds"),
    ALLOW(epoll_pwait2, "waits on held fds"),
    ALLOW(poll, "waits on held fds"),
    ALLOW(ppoll, "waits on held fds"),
    ALLOW(select, "waits on held fds"),
    ALLOW(pselect6, "waits on held fds"),
    ALLOW(memfd_create, "anonymous memory as an fd (the preload's channels)"),
    ALLOW(memfd_secret, "anonymous memory as an fd"),

    /* Sockets: held ones, and unnamed pairs.  A held datagram socket could
     * send to any address (sendmsg's address cannot be seen here), so
     * setrens() refuses while one is held (sandbox.c). */
    ALLOW_IF2(socketpair, SC_EQ32(0, AF_UNIX), SC_BITS(1, 0xf, SOCK_STREAM),
	      "an unnamed stream pair"),
    ALLOW_IF2(socketpair, SC_EQ32(0, AF_UNIX), SC_BITS(1, 0xf, SOCK_SEQPACKET),
	      "an unnamed packet pair (the preload's channels)"),
    ALLOW_IF2(sendto, SC_EQ64(4, 0), SC_BITS(3, MSG_FASTOPEN, 0),
	      "sends on a held socket, to no new address"),
    ALLOW_IF(sendmsg, SC_BITS(2, MSG_FASTOPEN, 0),
	     "sends on a held socket (SCM_RIGHTS, the preload's requests)"),
    ALLOW_IF(sendmmsg, SC_BITS(3, MSG_FASTOPEN, 0), "sends on a held socket"),
    ALLOW(recvfrom, "receives on a held socket"),
    ALLOW(recvmsg, "receives on a held socket"),
    ALLOW(recvmmsg, "receives on a held socket"),
    ALLOW(listen, "listens on a held socket"),
    ALLOW(accept, "accepts on a held listening socket"),
    ALLOW(accept4, "accepts on a held listening socket"),
    ALLOW(shutdown, "shuts a held socket"),
    ALLOW(getsockname, "describes a held socket"),
    ALLOW(getpeername, "describes a held socket"),
    ALLOW(getsockopt, "reads a held socket's options"),
    ALLOW(setsockopt, "sets a held socket's options"),

    /* Memory. */
    ALLOW(brk, "the heap"),
    ALLOW(mmap, "maps memory or a held fd"),
    ALLOW(munmap, "unmaps memory"),
    ALLOW(mremap, "moves memory"),
    ALLOW(mprotect, "protects memory"),
    ALLOW(madvise, "advises on memory"),
    ALLOW(msync, "flushes a mapping"),
    ALLOW(mincore, "asks what is in memory"),
    ALLOW(mlock, "locks memory"),
    ALLOW(mlock2, "locks memory"),
    ALLOW(munlock, "unlocks memory"),
    ALLOW(mlockall, "locks memory"),
    ALLOW(munlockall, "unlocks memory"),
    ALLOW(remap_file_pages, "rearranges a mapping"),
    ALLOW(pkey_alloc, "memory protection keys"),
    ALLOW(pkey_free, "memory protection keys"),
    ALLOW(pkey_mprotect, "memory protection keys"),
    ALLOW(membarrier, "orders the process's memory"),
    ALLOW(mbind, "NUMA policy of its memory"),
    ALLOW(set_mempolicy, "NUMA policy of its memory"),
    ALLOW(get_mempolicy, "NUMA policy of its memory"),
    ALLOW(set_mempolicy_home_node, "NUMA policy of its memory"),
    ALLOW_IF(move_pages, SC_EQ32(0, 0), "its own pages only"),

    /* Its threads, children and exit. */
    ALLOW_IF(clone, SC_BITS(0, SC_CLONE_NEW, 0),
	     "threads and forks, in no new namespace"),
    NOSYS(clone3, "flags out of reach: ENOSYS makes libc use clone()"),
    ALLOW(fork, "a child, in this namespace"),
    ALLOW(vfork, "a child, in this namespace"),
    ALLOW(exit, "a thread ends"),
    ALLOW(exit_group, "the process ends"),
    ALLOW(wait4, "waits for its children"),
    ALLOW(waitid, "waits for its children"),
    ALLOW(set_tid_address, "thread start-up"),
    ALLOW(set_robust_list, "thread start-up"),
    ALLOW(rseq, "thread start-up"),
    ALLOW(arch_prctl, "thread-local storage"),
    ALLOW(futex, "waits within its memory"),
    ALLOW(futex_waitv, "waits within its memory"),
    ALLOW(sched_yield, "yields"),
    ALLOW(sched_getaffinity, "reads where it may run"),
    ALLOW_IF(sched_setaffinity, SC_EQ32(0, 0), "itself only"),
    ALLOW(sched_getparam, "reads scheduling"),
    ALLOW(sched_getscheduler, "reads scheduling"),
    ALLOW(sched_getattr, "reads scheduling"),
    ALLOW_IF(sched_setparam, SC_EQ32(0, 0), "itself only"),
    ALLOW_IF(sched_setscheduler, SC_EQ32(0, 0), "itself only"),
    ALLOW_IF(sched_setattr, SC_EQ32(0, 0), "itself only"),
    ALLOW(sched_get_priority_max, "reads scheduling limits"),
    ALLOW(sched_get_priority_min, "reads scheduling limits"),
    ALLOW(sched_rr_get_interval, "reads scheduling"),
    ALLOW(getpriority, "reads a nice value"),
    ALLOW_IF(setpriority, SC_EQ32(1, 0), "itself only"),
    ALLOW_IF(prlimit64, SC_EQ32(0, 0), "its own limits"),
    ALLOW(getrlimit, "its own limits"),
    ALLOW(setrlimit, "its own limits"),
    ALLOW(getrusage, "its own use"),
    ALLOW(getcpu, "where it runs"),

    /* Signals, to itself. */
    ALLOW(rt_sigaction, "its signal handlers"),
    ALLOW(rt_sigprocmask, "its signal mask"),
    ALLOW(rt_sigreturn, "returns from a handler"),
    ALLOW(rt_sigpending, "its pending signals"),
    ALLOW(rt_sigtimedwait, "waits for its signals"),
    ALLOW(rt_sigsuspend, "waits for its signals"),
    ALLOW(sigaltstack, "its signal stack"),
    ALLOW(pause, "waits for a signal"),
    ALLOW(restart_syscall, "a call a signal interrupted"),
    ALLOW_IF(kill, SC_EQ32(0, SC_SELF), "to itself only"),
    ALLOW_IF(tgkill, SC_EQ32(0, SC_SELF), "to its own threads (raise)"),
    ALLOW_IF(rt_sigqueueinfo, SC_EQ32(0, SC_SELF), "to itself only"),
    ALLOW_IF(rt_tgsigqueueinfo, SC_EQ32(0, SC_SELF), "to its own threads"),

    /* Time. */
    ALLOW(clock_gettime, "reads a clock"),
    ALLOW(clock_getres, "reads a clock"),
    ALLOW(clock_nanosleep, "sleeps"),
    ALLOW(nanosleep, "sleeps"),
    ALLOW(gettimeofday, "reads the clock"),
    ALLOW(time, "reads the clock"),
    ALLOW(times, "its own times"),
    ALLOW(alarm, "its own timer"),
    ALLOW(getitimer, "its own timer"),
    ALLOW(setitimer, "its own timer"),
    ALLOW(timer_create, "its own timer"),
    ALLOW(timer_settime, "its own timer"),
    ALLOW(timer_gettime, "its own timer"),
    ALLOW(timer_getoverrun, "its own timer"),
    ALLOW(timer_delete, "its own timer"),

    /* Who it is; dropping privileges. */
    ALLOW(getpid, "who it is"),
    ALLOW(getppid, "who it is"),
    ALLOW(gettid, "who it is"),
    ALLOW(getuid, "who it is"),
    ALLOW(geteuid, "who it is"),
    ALLOW(getgid, "who it is"),
    ALLOW(getegid, "who it is"),
    ALLOW(getresuid, "who it is"),
    ALLOW(getresgid, "who it is"),
    ALLOW(getgroups, "who it is"),
    ALLOW(getpgid, "its process group"),
    ALLOW(getpgrp, "its process group"),
    ALLOW(getsid, "its session"),
    ALLOW(setsid, "a session of its own"),
    ALLOW(setpgid, "its own or its children's group"),
    ALLOW(setuid, "drops privileges"),
    ALLOW(setgid, "drops privileges"),
    ALLOW(setreuid, "drops privileges"),
    ALLOW(setregid, "drops privileges"),
    ALLOW(setresuid, "drops privileges"),
    ALLOW(setresgid, "drops privileges"),
    ALLOW(setfsuid, "drops privileges"),
    ALLOW(setfsgid, "drops privileges"),
    ALLOW(setgroups, "drops privileges"),
    ALLOW(capget, "reads capabilities"),
    ALLOW(capset, "drops capabilities"),
    ALLOW(umask, "its file mode mask"),
    ALLOW(uname, "the system's name"),
    ALLOW(sysinfo, "the system's load and memory"),
    ALLOW(getrandom, "random bytes"),
    ALLOW_IF(personality, SC_EQ32(0, 0xffffffffu), "reads it, sets nothing"),

    /* Narrowing further: more filters, Landlock. */
    ALLOW(seccomp, "adds filters: only narrows"),
    ALLOW(landlock_create_ruleset, "Landlock: only narrows"),
    ALLOW(landlock_add_rule, "Landlock: only narrows"),
    ALLOW(landlock_restrict_self, "Landlock: only narrows"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_SET_NAME), "names its thread"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_GET_NAME), "its thread's name"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_SET_PDEATHSIG), "its parent's death"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_GET_PDEATHSIG), "its parent's death"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_SET_DUMPABLE), "its core dumps"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_GET_DUMPABLE), "its core dumps"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_SET_NO_NEW_PRIVS), "only narrows"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_GET_NO_NEW_PRIVS), "reads a flag"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_SET_SECCOMP), "only narrows"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_GET_SECCOMP), "reads a flag"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_CAPBSET_READ), "reads capabilities"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_SET_TIMERSLACK), "its timer slack"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_GET_TIMERSLACK), "its timer slack"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_GET_TID_ADDRESS), "thread start-up"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_SET_THP_DISABLE), "its huge pages"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_GET_THP_DISABLE), "its huge pages"),
    ALLOW_IF(prctl, SC_EQ32(0, PR_SET_VMA), "names its memory"),
};

/*
 * A namespace that holds ordinary files (mkns with "file") reaches files
 * as its user does; what it may not do is reach other processes, make a
 * broker connection of its own (that would be in the root namespace),
 * reach the network, or make namespaces.  That is a denylist over
 * Landlock's scoping (sandbox.c), which keeps ptrace, /proc/<pid>/mem,
 * signals and abstract unix sockets to the sandbox and its children.
 */
static const struct sc_rule sc_files_rules[] = {
    REFUSE_IF(socket, SC_NE64(0, AF_UNIX),
	      "the network and the kernel: AF_UNIX only"),
    REFUSE_IF(socket, SC_BITS(1, 0xf, SOCK_SEQPACKET),
	      "a broker connection of its own (the root namespace)"),
    REFUSE_IF(clone, SC_BITS(0, CLONE_NEWNS, CLONE_NEWNS), "namespaces"),
    REFUSE_IF(clone, SC_BITS(0, CLONE_NEWCGROUP, CLONE_NEWCGROUP),
	      "namespaces"),
    REFUSE_IF(clone, SC_BITS(0, CLONE_NEWUTS, CLONE_NEWUTS), "namespaces"),
    REFUSE_IF(clone, SC_BITS(0, CLONE_NEWIPC, CLONE_NEWIPC), "namespaces"),
    REFUSE_IF(clone, SC_BITS(0, CLONE_NEWUSER, CLONE_NEWUSER), "namespaces"),
    REFUSE_IF(clone, SC_BITS(0, CLONE_NEWPID, CLONE_NEWPID), "namespaces"),
    REFUSE_IF(clone, SC_BITS(0, CLONE_NEWNET, CLONE_NEWNET), "namespaces"),
    NOSYS(clone3, "flags out of reach: ENOSYS makes libc use clone()"),
    REFUSE(unshare, "namespaces"),
    REFUSE(setns, "namespaces"),
    REFUSE(io_uring_setup, "its operations pass by seccomp"),
    REFUSE(ptrace, "another process"),
    REFUSE(process_vm_readv, "another process"),
    REFUSE(process_vm_writev, "another process"),
    REFUSE(pidfd_getfd, "another process"),
    REFUSE(kcmp, "another process"),
    REFUSE(process_madvise, "another process"),
    REFUSE(bpf, "the kernel"),
    REFUSE(perf_event_open, "the kernel"),
    REFUSE(userfaultfd, "the kernel"),
    REFUSE(add_key, "keyrings: names shared by its user"),
    REFUSE(request_key, "keyrings: names shared by its user"),
    REFUSE(keyctl, "keyrings: names shared by its user"),
    REFUSE(msgget, "System V names"),
    REFUSE(semget, "System V names"),
    REFUSE(shmget, "System V names"),
    REFUSE(mq_open, "message queue names"),
    REFUSE(mq_unlink, "message queue names"),
    REFUSE(fanotify_init, "the files other processes open"),
    REFUSE(name_to_handle_at, "file handles pass by path checks"),
    REFUSE(open_by_handle_at, "file handles pass by path checks"),
    REFUSE_IF(ioctl, SC_EQ32(1, TIOCSTI), "types into another's terminal"),
    REFUSE_IF(ioctl, SC_EQ32(1, TIOCLINUX), "types into another's console"),
    REFUSE_IF(fcntl, SC_EQ32(1, F_SETOWN), "signals another process"),
    REFUSE_IF(fcntl, SC_EQ32(1, F_SETOWN_EX), "signals another process"),
};

#undef ALLOW
#undef ALLOW_IF
#undef ALLOW_IF2
#undef EXCEPT
#undef REFUSE
#undef REFUSE_IF
#undef NOSYS

#endif

/*
 * test_sandbox.c - the kernel's half of a namespace, tried as an attacker
 * would: every system call number, the calls that once were holes, a
 * thread that was there before setrens(), other processes of the same
 * user, the way back, and setrens() failing without half-doing anything.
 *
 * Namespace changes happen in children of the test (h_in_child).  Each
 * case names the defence it checks (preload/sandbox.c, seccomp.c,
 * seccomp_rules.h, landlock.c, broker/ns.c).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fanotify.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../preload/seccomp_rules.h"
#include "../proto/wire/wire.h"
#include "harness.h"

static const struct {
	long nr;
	const char *name;
} calls[] = {
#include "syscall_names.h"
};

#define NCALLS(a) (sizeof(a) / sizeof((a)[0]))
#define X32_BIT	  0x40000000L
/*
 * uretprobe (335) and uprobe (336) are run without seccomp by the kernel
 * (they only work from its own trampolines, and SIGILL anyone else).
 */
#define SECCOMP_EXEMPT(nr) ((nr) == 335 || (nr) == 336)

/* An unconfined process of the test's uid, for the child to try to reach. */
static pid_t victim;
static char abstract_name[64];
static int abstract_fd = -1;

static void
start(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;

	h_world_start("sba");
	victim = fork();
	ck_assert_int_ge(victim, 0);
	if (victim == 0) {
		for (;;)
			pause();
	}
	/* An abstract socket made outside, listening. */
	snprintf(abstract_name, sizeof(abstract_name), "scheme-test-out-%d",
		 (int)getpid());
	strcpy(sa.sun_path + 1, abstract_name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			  strlen(abstract_name));
	abstract_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(abstract_fd, 0);
	ck_assert_int_eq(bind(abstract_fd, (struct sockaddr *)&sa, len), 0);
	ck_assert_int_eq(listen(abstract_fd, 4), 0);
}

static void
stop(void)
{
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	close(abstract_fd);
	h_world_stop();
}

static bool
victim_alive(void)
{
	return kill(victim, 0) == 0;
}

/* The kernel's word on our seccomp mode (2: filtered). */
static int
seccomp_mode(void)
{
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
}

/* Does the null list name nr?  *action: its action when unconditional. */
static bool
listed(long nr, uint32_t *action)
{
	bool any = false;

	*action = 0;
	for (size_t i = 0; i < NCALLS(sc_null_rules); i++) {
		if (sc_null_rules[i].nr != nr)
			continue;
		any = true;
		if (sc_null_rules[i].n == 0)
			*action = sc_null_rules[i].action;
	}
	return any;
}

/*
 * Every system call number the headers know, and every number up to 1023
 * (calls a later kernel adds): each is on the list or refused with
 * EACCES, without running (a refused call never reaches the kernel, so
 * calling it with zero arguments is safe).  Listed ENOSYS rows answer
 * ENOSYS; the x32 and i386 ABIs answer ENOSYS to everything.
 */
static void
walk(void)
{
	char bad[4096] = "";
	size_t off = 0;
	int refused = 0;
	uint32_t action;
	long nr, r, ret;

	for (nr = 0; nr < 1024; nr++) {
		const char *name = "(none)";

		for (size_t i = 0; i < NCALLS(calls); i++)
			if (calls[i].nr == nr)
				name = calls[i].name;
		if ((listed(nr, &action) && action != SCMP_ACT_ERRNO(ENOSYS)) ||
		    SECCOMP_EXEMPT(nr))
			continue;
		errno = 0;
		r = syscall(nr, 0, 0, 0, 0, 0, 0);
		if (action == SCMP_ACT_ERRNO(ENOSYS) ? errno == ENOSYS
						      : errno == EACCES) {
			refused++;
			continue;
		}
		if (off < sizeof(bad) - 64)
			off += (size_t)snprintf(bad + off, sizeof(bad) - off,
						" %s(%ld)=%ld/%d", name, nr, r,
						errno);
	}
	if (off > 0)
		fprintf(stderr, "not refused:%s\n", bad);
	EXPECT(off == 0);
	EXPECT(refused > 600);
	/* Every number through the x32 ABI. */
	for (size_t i = 0; i < NCALLS(calls); i++) {
		errno = 0;
		r = syscall(calls[i].nr | X32_BIT, 0, 0, 0, 0, 0, 0);
		if (r != -1 || errno != ENOSYS) {
			fprintf(stderr, "x32 %s: %ld/%d\n", calls[i].name, r,
				errno);
			EXPECT(0);
		}
	}
	/* i386 through int 0x80: getpid (20) and open (5). */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	EXPECT(ret == -ENOSYS);
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(5L) : "memory");
	EXPECT(ret == -ENOSYS);
}

static void
walk_null(void)
{
	EXPECT(setrens(0, 0) == 0);
	walk();
}

START_TEST(every_call_null)
{
	h_in_child(walk_null);
}
END_TEST

static void
walk_made(void)
{
	long id = mkns((const char *[]){"sba"}, 1);

	EXPECT(id > WIRE_NS_ROOT && setrens(id, id) == 0);
	walk();
}

START_TEST(every_call_made_without_files)
{
	h_in_child(walk_made);
}
END_TEST

/* Allowed calls with arguments that are not: each refused. */
static void
conditions(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/tmp/x"};
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	char c = 'x';
	struct stat st;
	int sv[2], fd;

	EXPECT((fd = open("/dev/null", O_RDONLY)) >= 0);
	EXPECT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	EXPECT(setrens(0, 0) == 0);
	EXPECT(seccomp_mode() == 2);
	EXPECT(kill(getpid(), 0) == 0);
	FAILS(kill(getppid(), 0), EACCES);
	FAILS(kill(-1, 0), EACCES);
	FAILS(kill(0, 0), EACCES);
	FAILS(syscall(SYS_tgkill, getppid(), getppid(), 0), EACCES);
	FAILS(syscall(SYS_tkill, getppid(), 0), EACCES);
	/* The upper half of an int register is the caller's to set. */
	FAILS(syscall(SYS_kill, (long)getppid() | (1L << 32), 0), EACCES);
	FAILS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), EACCES);
	FAILS(socketpair(AF_INET, SOCK_STREAM, 0, sv), EACCES);
	FAILS(sendto(sv[0], "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa)),
		EACCES);
	FAILS(sendto(sv[0], "x", 1, MSG_FASTOPEN, NULL, 0), EACCES);
	EXPECT(send(sv[0], "x", 1, 0) == 1);
	FAILS(syscall(SYS_clone, CLONE_NEWUSER | CLONE_THREAD, 0, 0, 0, 0),
		EACCES);
	FAILS(syscall(SYS_clone3, NULL, 0), ENOSYS);
	FAILS(ioctl(fd, TIOCSTI, &c), EPERM);
	FAILS(syscall(SYS_ioctl, fd, (1L << 32) | TIOCSTI, &c), EPERM);
	FAILS(fcntl(fd, F_SETOWN, getppid()), EPERM);
	EXPECT(fcntl(fd, F_GETFD) >= 0);
	FAILS(syscall(SYS_newfstatat, AT_FDCWD, "/etc", &st, AT_EMPTY_PATH),
		EACCES);
	FAILS(syscall(SYS_newfstatat, fd, "", &st, 0), EACCES);
	EXPECT(syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH) == 0);
	EXPECT(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode));
	FAILS(utimensat(AT_FDCWD, "/tmp", ts, 0), EACCES);
	FAILS(prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0), EACCES);
	FAILS(prctl(PR_SET_MM, PR_SET_MM_START_CODE, 0, 0, 0), EACCES);
	EXPECT(prctl(PR_SET_NAME, "sandboxed", 0, 0, 0) == 0);
	FAILS(personality(PER_LINUX32), EACCES);
	EXPECT(personality(0xffffffff) >= 0);
	FAILS(setpriority(PRIO_PROCESS, (id_t)getppid(), 1), EACCES);
	FAILS(prlimit(getppid(), RLIMIT_NOFILE, NULL, &(struct rlimit){0}),
		EACCES);
	FAILS(sched_setaffinity(getppid(), sizeof(cpu_set_t),
				  &(cpu_set_t){0}),
		EACCES);
	FAILS(syscall(SYS_statx, AT_FDCWD, "/", 0, 0, NULL), ENOSYS);
}

START_TEST(conditions_null)
{
	h_in_child(conditions);
}
END_TEST

/*
 * What issue 12 found open, one by one: each a way to reach a name, a
 * file or another process without open().  Run in the null namespace and
 * in one made without "file".
 */
static void
holes(long ns)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct msghdr mh = {0};
	struct iovec iov = {(void *)"x", 1};
	struct io_uring_params up = {0};
	char path[256], buf[8];
	struct iovec liov = {buf, sizeof(buf)}, riov = {buf, sizeof(buf)};
	int sv[2], tcp, fd;

	snprintf(path, sizeof(path), "%s/made-by-bind", h_dir());
	EXPECT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	EXPECT((tcp = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	EXPECT(setrens(ns, ns) == 0);
	FAILS(syscall(SYS_fanotify_init, FAN_CLASS_NOTIF, O_RDONLY), EACCES);
	FAILS(syscall(SYS_fanotify_mark, 0, FAN_MARK_ADD, FAN_OPEN,
			AT_FDCWD, "/"),
		EACCES);
	FAILS(syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */),
		EACCES);
	FAILS(syscall(SYS_move_mount, -1, "", AT_FDCWD, "/tmp", 0), EACCES);
	FAILS(syscall(SYS_fsopen, "tmpfs", 0), EACCES);
	FAILS(umount2("/tmp", MNT_DETACH), EACCES);
	FAILS(mq_open("/scheme-test", O_CREAT | O_RDWR, 0600, NULL), EACCES);
	FAILS(mq_unlink("/scheme-test"), EACCES);
	/* bind() of a path would make a file. */
	strcpy(sa.sun_path, path);
	FAILS(bind(sv[0], (struct sockaddr *)&sa, sizeof(sa)), EACCES);
	FAILS(access(path, F_OK), EACCES);
	/* A destination, or a connect by MSG_FASTOPEN, on a held socket. */
	FAILS(sendto(tcp, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&sin,
		       sizeof(sin)),
		EACCES);
	mh.msg_name = &sin;
	mh.msg_namelen = sizeof(sin);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	FAILS(sendmsg(tcp, &mh, MSG_FASTOPEN), EACCES);
	FAILS(sendto(sv[0], "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin)),
		EACCES);
	FAILS(connect(tcp, (struct sockaddr *)&sin, sizeof(sin)), EACCES);
	/* Files by path. */
	FAILS(chmod("/tmp", 01777), EACCES);
	FAILS(chown("/tmp", 0, 0), EACCES);
	FAILS(setxattr("/tmp", "user.x", "1", 1, 0), EACCES);
	FAILS(utimensat(AT_FDCWD, "/tmp", NULL, 0), EACCES);
	FAILS(inotify_init1(0), EACCES);
	FAILS(inotify_add_watch(0, "/tmp", IN_ALL_EVENTS), EACCES);
	FAILS(syscall(SYS_name_to_handle_at, AT_FDCWD, "/", NULL, NULL, 0),
		EACCES);
	FAILS(syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0), EACCES);
	FAILS(unshare(CLONE_NEWUSER), EACCES);
	/* Other processes of the same user, and the kernel's other doors. */
	FAILS(open("/proc/self/mem", O_RDONLY), EACCES);
	FAILS(ptrace(PTRACE_ATTACH, victim, 0, 0), EACCES);
	FAILS(process_vm_readv(victim, &liov, 1, &riov, 1, 0), EACCES);
	FAILS(syscall(SYS_pidfd_open, victim, 0), EACCES);
	FAILS(kill(victim, SIGTERM), EACCES);
	FAILS(syscall(SYS_io_uring_setup, 4, &up), EACCES);
	FAILS(syscall(SYS_bpf, 0, NULL, 0), EACCES);
	FAILS(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EACCES);
	FAILS(syscall(SYS_userfaultfd, 0), EACCES);
	FAILS(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EACCES);
	FAILS(msgget(IPC_PRIVATE, 0600), EACCES);
	FAILS(shmget(IPC_PRIVATE, 4096, 0600), EACCES);
	FAILS(syscall(SYS_process_madvise, -1, NULL, 0, 0, 0), EACCES);
	/* What was open before still works. */
	EXPECT(write(sv[0], "y", 1) == 1 && read(sv[1], buf, 1) == 1);
	(void)fd;
}

static void
holes_null(void)
{
	holes(0);
}

static void
holes_made(void)
{
	long id = mkns((const char *[]){"sba"}, 1);

	EXPECT(id > WIRE_NS_ROOT);
	holes(id);
}

START_TEST(holes_in_null)
{
	h_in_child(holes_null);
	ck_assert(victim_alive());
}
END_TEST

START_TEST(holes_in_made_without_files)
{
	h_in_child(holes_made);
	ck_assert(victim_alive());
}
END_TEST

/* A socket that can send to an address of its choice: setrens refuses,
 * and nothing changes (no filter, same namespace). */
static void
held_datagram(void)
{
	int u, d;

	EXPECT((u = socket(AF_UNIX, SOCK_DGRAM, 0)) >= 0);
	FAILS(setrens(0, 0), EBUSY);
	EXPECT(getns() == WIRE_NS_ROOT && seccomp_mode() == 0);
	EXPECT(close(u) == 0);
	EXPECT((d = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);
	FAILS(setrens(0, 0), EBUSY);
	EXPECT(getns() == WIRE_NS_ROOT && seccomp_mode() == 0);
	EXPECT(open("/etc/hostname", O_RDONLY) >= 0);
	EXPECT(close(d) == 0);
	EXPECT(setrens(0, 0) == 0 && seccomp_mode() == 2);
}

START_TEST(held_datagram_socket_refused)
{
	h_in_child(held_datagram);
}
END_TEST

/* Threads --------------------------------------------------------------- */

static int go[2], done[2];

/* A thread made before setrens(), which only acts after. */
static void *
old_thread(void *arg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	/* Should the exec work, the process becomes a shell that fails. */
	char c, *argv[] = {(char *)"sh", (char *)"-c", (char *)"exit 7", NULL};
	int fails = 0, s;

	(void)arg;
	if (read(go[0], &c, 1) != 1)
		return (void *)1;
	if (open("/etc/passwd", O_RDONLY) >= 0 || errno != EACCES)
		fails |= 1;
	/* A fresh broker connection would be in the root namespace. */
	s = (int)syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET, 0);
	if (s >= 0) {
		strcpy(sa.sun_path, h_socket());
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			fails |= 2;
	}
	/* Without the token and the preload, then exec a shell. */
	for (int fd = 3; fd < 2048; fd++)
		if (fd != go[0] && fd != go[1] && fd != done[0] &&
		    fd != done[1])
			syscall(SYS_close, fd);
	syscall(SYS_execve, "/bin/sh", argv, (char *[]){NULL});
	if (errno != EACCES)
		fails |= 4;
	c = (char)fails;
	if (write(done[1], &c, 1) != 1)
		return (void *)1;
	return NULL;
}

static void
thread_before(long ns)
{
	pthread_t t;
	char c;

	EXPECT(pipe(go) == 0 && pipe(done) == 0);
	EXPECT(pthread_create(&t, NULL, old_thread, NULL) == 0);
	EXPECT(setrens(ns, ns) == 0);
	EXPECT(write(go[1], "g", 1) == 1);
	EXPECT(read(done[0], &c, 1) == 1);
	if (c != 0)
		fprintf(stderr, "old thread: %d\n", c);
	EXPECT(c == 0);
	EXPECT(pthread_join(t, NULL) == 0);
}

static void
thread_null(void)
{
	thread_before(0);
}

static void
thread_made(void)
{
	long id = mkns((const char *[]){"sba"}, 1);

	EXPECT(id > WIRE_NS_ROOT);
	thread_before(id);
}

START_TEST(old_thread_null)
{
	h_in_child(thread_null);
}
END_TEST

START_TEST(old_thread_made)
{
	h_in_child(thread_made);
}
END_TEST

static void *
idle_thread(void *arg)
{
	char c;

	(void)arg;
	return read(go[0], &c, 1) == 1 ? NULL : (void *)1;
}

/* Landlock is per thread: a namespace with "file" needs one thread, and
 * a refusal changes nothing. */
static void
files_one_thread(void)
{
	long id = mkns((const char *[]){"sba", "file"}, 2);
	pthread_t t;

	EXPECT(id > WIRE_NS_ROOT);
	EXPECT(pipe(go) == 0);
	EXPECT(pthread_create(&t, NULL, idle_thread, NULL) == 0);
	FAILS(setrens(id, id), EBUSY);
	EXPECT(getns() == WIRE_NS_ROOT && seccomp_mode() == 0);
	EXPECT(open("sba:f1", O_RDWR | O_CREAT, 0600) >= 0);
	EXPECT(write(go[1], "g", 1) == 1 && pthread_join(t, NULL) == 0);
	EXPECT(setrens(id, id) == 0 && getns() == id);
}

START_TEST(files_namespace_needs_one_thread)
{
	h_in_child(files_one_thread);
}
END_TEST

/* A thread with a filter of its own: TSYNC cannot apply ours to it. */
static void *
own_filter_thread(void *arg)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {1, &allow};
	char c;

	(void)arg;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return (void *)1;
	if (write(done[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
		return (void *)1;
	return NULL;
}

static void
tsync_fails(void)
{
	pthread_t t;
	char c;

	EXPECT(pipe(go) == 0 && pipe(done) == 0);
	EXPECT(pthread_create(&t, NULL, own_filter_thread, NULL) == 0);
	EXPECT(read(done[0], &c, 1) == 1);
	FAILS(setrens(0, 0), EBUSY);
	EXPECT(getns() == WIRE_NS_ROOT && seccomp_mode() == 0);
	EXPECT(open("/etc/hostname", O_RDONLY) >= 0);
	EXPECT(open("sba:f2", O_RDWR | O_CREAT, 0600) >= 0);
	EXPECT(write(go[1], "g", 1) == 1 && pthread_join(t, NULL) == 0);
}

START_TEST(filter_on_every_thread_or_none)
{
	h_in_child(tsync_fails);
}
END_TEST

/* Other processes ------------------------------------------------------- */

/*
 * With "file", ordinary files are the user's, other processes are not:
 * Landlock keeps ptrace access (/proc/<pid>/mem, fd/, cwd), signals and
 * abstract sockets inside the sandbox; its own children are inside.
 * (Other processes' environ and maps stay readable: landlock.c.)
 */
static void
others(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char p[64], buf[8];
	struct iovec liov = {buf, sizeof(buf)}, riov = {buf, sizeof(buf)};
	long id = mkns((const char *[]){"sba", "file"}, 2);
	socklen_t len;
	pid_t kid;
	int s, st;

	EXPECT(id > WIRE_NS_ROOT && setrens(id, id) == 0);
	EXPECT(open("/etc/hostname", O_RDONLY) >= 0);
	snprintf(p, sizeof(p), "/proc/%d/mem", (int)victim);
	FAILS(open(p, O_RDWR), EACCES);
	snprintf(p, sizeof(p), "/proc/%d/fd/0", (int)victim);
	FAILS(open(p, O_RDONLY), EACCES);
	snprintf(p, sizeof(p), "/proc/%d/cwd/", (int)victim);
	FAILS(open(p, O_RDONLY | O_DIRECTORY), EACCES);
	EXPECT(open("/proc/self/status", O_RDONLY) >= 0);
	EXPECT(open("/proc/meminfo", O_RDONLY) >= 0);
	snprintf(p, sizeof(p), "/proc/%d/mem", (int)getppid());
	FAILS(open(p, O_RDONLY), EACCES);
	FAILS(ptrace(PTRACE_ATTACH, victim, 0, 0), EACCES);
	FAILS(process_vm_readv(victim, &liov, 1, &riov, 1, 0), EACCES);
	FAILS(kill(victim, SIGTERM), EPERM);
	FAILS(kill(getppid(), 0), EPERM);
	/* An abstract socket made outside. */
	strcpy(sa.sun_path + 1, abstract_name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			  strlen(abstract_name));
	EXPECT((s = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	FAILS(connect(s, (struct sockaddr *)&sa, len), EPERM);
	/* No network, no broker connection of its own. */
	FAILS(socket(AF_INET, SOCK_STREAM, 0), EACCES);
	FAILS(socket(AF_UNIX, SOCK_SEQPACKET, 0), EACCES);
	FAILS(unshare(CLONE_NEWUSER), EACCES);
	/* Its own children are its own. */
	EXPECT((kid = fork()) >= 0);
	if (kid == 0) {
		pause();
		_exit(0);
	}
	snprintf(p, sizeof(p), "/proc/%d/mem", (int)kid);
	EXPECT(open(p, O_RDONLY) >= 0); /* inside the sandbox */
	EXPECT(kill(kid, SIGKILL) == 0);
	EXPECT(waitpid(kid, &st, 0) == kid && WIFSIGNALED(st));
	/* So is a shell it runs: its jobs, its files. */
	EXPECT(system("sleep 5 & kill $! && wait $!; test -r /etc/hostname") ==
		 0);
}

START_TEST(other_processes_out_of_reach)
{
	h_in_child(others);
	ck_assert(victim_alive());
}
END_TEST

/* setrens()'s rules ----------------------------------------------------- */

static void
way_back(void)
{
	EXPECT(setrens(-1, 0) == 0); /* ens first: it cannot come back */
	FAILS(setrens(-1, WIRE_NS_ROOT), EPERM);
	EXPECT(setrens(0, -1) == 0);
	EXPECT(getns() == WIRE_NS_NULL);
	FAILS(setrens(WIRE_NS_ROOT, -1), EPERM);
	FAILS(setrens(WIRE_NS_ROOT, WIRE_NS_ROOT), EPERM);
	EXPECT(getns() == WIRE_NS_NULL);
	FAILS(open("sba:f", O_RDONLY), ENODEV);
	FAILS(open("/etc/hostname", O_RDONLY), EACCES);
}

START_TEST(no_way_back_from_null)
{
	h_in_child(way_back);
}
END_TEST

/* Each only narrows; Redox's "rns may become ens" and root's exception
 * are not kept (README "Namespaces"). */
static void
table(void)
{
	long id = mkns((const char *[]){"sba", "file"}, 2);

	EXPECT(id > WIRE_NS_ROOT);
	FAILS(setrens(123456, -1), EINVAL);
	FAILS(setrens(-2, -1), EINVAL);
	EXPECT(setrens(id, -1) == 0); /* rns narrows, ens stays root */
	EXPECT(getns() == id);
	FAILS(setrens(WIRE_NS_ROOT, -1), EPERM); /* not to ens: wider */
	EXPECT(setrens(-1, id) == 0);		   /* ens narrows to rns */
	FAILS(setrens(-1, WIRE_NS_ROOT), EPERM);
	EXPECT(getns() == id);
}

START_TEST(setrens_only_narrows)
{
	h_in_child(table);
}
END_TEST

/* The broker moves nothing until COMMIT (wire.h). */
static void
uncommitted(void)
{
	struct wire_rens want = {WIRE_NS_NULL, WIRE_NS_NULL, 0, 0}, got;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	union {
		struct wire_ctl m;
		char buf[sizeof(struct wire_ctl) + 64];
	} u;
	struct iovec iov = {u.buf, sizeof(u.buf)};
	struct wire_ctl req;
	int s, tok = -1;

	strcpy(sa.sun_path, h_socket());
	EXPECT((s = socket(AF_UNIX, SOCK_SEQPACKET, 0)) >= 0);
	EXPECT(connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	wire_ctl_init(&req, WIRE_CTL_SETRENS);
	req.len = sizeof(want);
	EXPECT(wire_send(s, &req, sizeof(req), &want, sizeof(want), -1, NULL,
			   0) > 0);
	EXPECT(wire_recv(s, &iov, 1, &tok, NULL, 0) > 0 && u.m.err == 0);
	EXPECT(tok >= 0);
	wire_ctl_init(&req, WIRE_CTL_GETNS);
	EXPECT(wire_send(s, &req, sizeof(req), NULL, 0, -1, NULL, 0) > 0);
	EXPECT(wire_recv(s, &iov, 1, NULL, NULL, 0) ==
		 (ssize_t)(sizeof(u.m) + sizeof(got)));
	memcpy(&got, u.buf + sizeof(u.m), sizeof(got));
	EXPECT(got.rns == WIRE_NS_ROOT && getns() == WIRE_NS_ROOT);
	EXPECT(open("sba:f3", O_RDWR | O_CREAT, 0600) >= 0);
	close(s); /* forgotten with the connection */
	close(tok);
	EXPECT(getns() == WIRE_NS_ROOT);
}

START_TEST(nothing_moves_before_commit)
{
	h_in_child(uncommitted);
}
END_TEST

/*
 * Namespace tokens have random names: another user who binds the names a
 * counter would give next takes none of them.
 */
/* The broker's id, from a control answer, as any user sees it. */
static uint64_t
broker_id(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	union {
		struct wire_ctl m;
		char buf[sizeof(struct wire_ctl) + 64];
	} u;
	struct iovec iov = {u.buf, sizeof(u.buf)};
	struct wire_ctl req;
	int s;

	strcpy(sa.sun_path, h_socket());
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	wire_ctl_init(&req, WIRE_CTL_GETNS);
	ck_assert_int_gt(wire_send(s, &req, sizeof(req), NULL, 0, -1, NULL, 0),
			 0);
	ck_assert_int_gt(wire_recv(s, &iov, 1, NULL, NULL, 0), 0);
	close(s);
	return u.m.broker;
}

static void
squat_tokens(uint64_t broker)
{
	struct sockaddr_un sa;
	socklen_t len;
	int n = 0;

	/* As another uid, when we can become one. */
	if (geteuid() == 0)
		EXPECT(setgid(65534) == 0 && setuid(65534) == 0);
	for (uint64_t serial = 0; serial < 4096; serial++) {
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				  (size_t)snprintf(sa.sun_path + 1,
						   sizeof(sa.sun_path) - 1,
						   "scheme-ns/%016llx/%llx",
						   (unsigned long long)broker,
						   (unsigned long long)serial));
		if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, len) == 0)
			n++;
	}
	EXPECT(n > 0);
	pause(); /* holds them until killed */
}

static void
setrens_despite_squatters(void)
{
	for (int i = 0; i < 20; i++) {
		pid_t kid = fork();
		int st;

		EXPECT(kid >= 0);
		if (kid == 0) {
			long id = mkns((const char *[]){"sba"}, 1);

			_exit(id > 0 && setrens(id, id) == 0 &&
				      setrens(0, 0) == 0 && getns() == 0
			          ? 0
			          : 1);
		}
		EXPECT(waitpid(kid, &st, 0) == kid && WIFEXITED(st) &&
			 WEXITSTATUS(st) == 0);
	}
}

START_TEST(token_names_cannot_be_taken)
{
	uint64_t broker = broker_id();
	pid_t squatter = fork();

	ck_assert_int_ge(squatter, 0);
	if (squatter == 0) {
		squat_tokens(broker);
		_exit(0);
	}
	h_sleep_ms(300);
	h_in_child(setrens_despite_squatters);
	kill(squatter, SIGKILL);
	waitpid(squatter, NULL, 0);
}
END_TEST

static Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("calls");

	tcase_add_checked_fixture(tc, start, stop);
	tcase_add_test(tc, every_call_null);
	tcase_add_test(tc, every_call_made_without_files);
	tcase_add_test(tc, conditions_null);
	tcase_add_test(tc, holes_in_null);
	tcase_add_test(tc, holes_in_made_without_files);
	tcase_add_test(tc, held_datagram_socket_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, start, stop);
	tcase_add_test(tc, old_thread_null);
	tcase_add_test(tc, old_thread_made);
	tcase_add_test(tc, files_namespace_needs_one_thread);
	tcase_add_test(tc, filter_on_every_thread_or_none);
	suite_add_tcase(s, tc);

	tc = tcase_create("processes");
	tcase_add_checked_fixture(tc, start, stop);
	tcase_add_test(tc, other_processes_out_of_reach);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, start, stop);
	tcase_add_test(tc, no_way_back_from_null);
	tcase_add_test(tc, setrens_only_narrows);
	tcase_add_test(tc, nothing_moves_before_commit);
	tcase_add_test(tc, token_names_cannot_be_taken);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	/*
	 * The filter is what is tested here: the preload's own ENOSYS for
	 * io_uring_setup (wrap_uring.c, test_rawsys) would answer first.
	 */
	setenv("SCHEME_IO_URING", "1", 1);
	return h_main(sandbox_suite());
}

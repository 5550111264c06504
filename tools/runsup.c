/*
 * runsup.c - see runsup.h.
 *
 * The program keeps schemerun's pid: schemerun installs the filter in
 * itself and execs it.  So the helper is made before, by a double fork
 * (a child of ours would be the program's child, which its wait() could
 * reap), and gets the listener over a socket pair once the filter is
 * in.  It ends when the listener says no process has the filter any
 * more (POLLHUP: the program and all it forked have exited), or, when it
 * only keeps a view, when the program's pidfd says it exited.
 *
 * A view mounted for the run is a detached scheme-fuse (schemectl
 * mount's way); the helper unmounts it lazily (a process the program
 * left behind may still hold a file), the daemon then exits by itself,
 * and the directory is removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "runsup.h"
#include "sup.h"
#include "viewctl.h"

/* Whether /dev/fuse is FUSE's device (10, 229) and ours to open. */
static const char *
no_fuse(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	struct stat st;
	bool ok;

	if (fd < 0)
		return strerror(errno);
	ok = fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	     st.st_rdev == makedev(10, 229);
	close(fd);
	return ok ? NULL : "not the FUSE device";
}

int
runsup_view(const char *sock, struct run_view *v, const char *why)
{
	const char *no;

	v->own = false;
	if (viewctl_find(sock, v->dir, sizeof(v->dir)))
		return 0;
	/* Said in one line here, before libfuse says it in several. */
	if ((no = no_fuse()) != NULL) {
		fprintf(stderr,
			"%s: %s needs the kernel-visible view of the schemes, "
			"and FUSE is not available (/dev/fuse: %s)\n",
			cli_prog(), why, no);
		return -1;
	}
	snprintf(v->dir, sizeof(v->dir), "%s.view.XXXXXX", sock);
	if (mkdtemp(v->dir) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", cli_prog(), v->dir,
			strerror(errno));
		return -1;
	}
	if (viewctl_mount(sock, v->dir) != 0) {
		rmdir(v->dir);
		fprintf(stderr,
			"%s: %s needs the kernel-visible view of the schemes, "
			"which could not be mounted\n",
			cli_prog(), why);
		return -1;
	}
	v->own = true;
	return 0;
}

void
runsup_drop(const struct run_view *v)
{
	pid_t pid;
	int st, e = errno; /* for the caller's message */

	if (!v->own)
		return;
	if (umount2(v->dir, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 &&
	    (pid = fork()) >= 0) {
		if (pid == 0) {
			execlp("fusermount3", "fusermount3", "-u", "-z", "--",
			       v->dir, (char *)NULL);
			_exit(127);
		}
		waitpid(pid, &st, 0);
	}
	rmdir(v->dir);
	errno = e;
}

static int
recv_fd(int sock)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&byte, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1 ||
	    (c = CMSG_FIRSTHDR(&m)) == NULL || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static int
send_fd(int sock, int fd)
{
	char byte = 0, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&byte, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	return sendmsg(sock, &m, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* Until the process behind pidfd exits. */
static void
wait_exit(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};

	while (pidfd >= 0 && poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

/* The helper: never returns. */
static void
helper(const struct run_view *v, bool supervise, int sock, pid_t program)
{
	int fd, pidfd;

	setsid();
	signal(SIGPIPE, SIG_IGN);
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
	}
	if (supervise) {
		if ((fd = recv_fd(sock)) >= 0)
			sup_serve(fd, v->dir, cli_prog());
	} else {
		pidfd = (int)syscall(SYS_pidfd_open, program, 0);
		close(sock); /* the program may go on */
		wait_exit(pidfd);
	}
	runsup_drop(v);
	_exit(0);
}

int
runsup_start(const struct run_view *v, bool supervise)
{
	pid_t pid, program = getpid();
	int sv[2], st, fd;
	char byte;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    (pid = fork()) < 0) {
		fprintf(stderr, "%s: %s\n", cli_prog(), strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		if (fork() == 0)
			helper(v, supervise, sv[1], program);
		_exit(0);
	}
	close(sv[1]);
	waitpid(pid, &st, 0);
	if (!supervise) {
		/* The helper has its pidfd of us when it closes its end. */
		while (read(sv[0], &byte, 1) < 0 && errno == EINTR)
			;
		close(sv[0]);
		return 0;
	}
	if ((fd = sup_install()) < 0 || send_fd(sv[0], fd) < 0) {
		fprintf(stderr, "%s: cannot supervise the program: %s\n",
			cli_prog(),
			strerror(fd == -ENOSYS ? ENOSYS
				 : fd < 0      ? -fd
					       : errno));
		close(sv[0]);
		return -1;
	}
	close(fd);
	close(sv[0]);
	return 0;
}

/*
 * relay.c - a program the preload cannot reach keeps its standard
 * streams (issue 13, item 4; README, "Programs on scheme paths").
 *
 * A static program, or one the loader runs in secure mode, gets no
 * preload: a scheme fd it inherits is a bare socket to it, on which its
 * reads wait forever and its writes reach the provider as garbage.  So
 * when a program of ours execs such a program with scheme fds on 0, 1 or
 * 2, each of them becomes a pipe, and a relay process per pipe carries
 * the bytes between it and the scheme file: stdin is fed from the file,
 * stdout and stderr are written to it.  The program is exec'd as it would
 * have been: same pid, same parent, its own exit status and signals.
 * Any other scheme fd it would inherit is closed for it (made
 * close-on-exec): what it would see is a socket speaking our protocol,
 * where it could only hang or lose what it writes.
 *
 * Order.  The parent must not see the program end before the relays have
 * delivered what it wrote: `static > name:g; cat name:g` must find every
 * byte.  A relay is not the program and cannot delay its exit, so the
 * waiting is done where the exit is seen: in the parent's wait.  Before
 * the exec, a relay file SOCKET.relay.PID (next to the broker's socket,
 * holding the parent's pid) is made and each writing relay takes a
 * shared flock on it, and the exec happens only once they hold it.  A
 * relay lets go when the program has ended (a pidfd says so) and the
 * pipe holds nothing more of what it wrote, or at the pipe's end.  The
 * parent's wait, waitpid, wait3, wait4 and waitid (wrap_wait.c), and its
 * system() and pclose(), having reaped a child, look for its relay file
 * and take an exclusive flock on it, which they get once every relay has
 * let go, or has died.  A relay that could not deliver (the provider
 * failed) writes "lost" into the file and closes its pipe; the parent
 * then sees a death by SIGPIPE instead of an exit, as if the program had
 * written into a broken pipe: never an exit 0 with the bytes gone.
 *
 * The relays are grandchildren of the exec'ing process, in a session of
 * their own: the program never reaps them, and a terminal's ^C stops the
 * program, not the delivery of what it wrote.  Each holds only its pipe
 * end, its scheme fd and the relay file (our hidden fds stay).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../proto/unreach.h"
#include "bconn.h"
#include "client.h"
#include "fdops.h"
#include "fdtab.h"
#include "real.h"
#include "relay.h"

#define CHUNK 65536

/* The file execvp would run: file itself with a '/', else on PATH. */
static bool
search_path(const char *file, char *out, size_t len)
{
	const char *p = getenv("PATH"), *end;

	if (strchr(file, '/') != NULL) {
		snprintf(out, len, "%s", file);
		return true;
	}
	for (p = p != NULL ? p : "/bin:/usr/bin"; *p != '\0'; p = end) {
		end = strchrnul(p, ':');
		snprintf(out, len, "%.*s%s%s", (int)(end - p), p,
			 end > p ? "/" : "", file);
		if (REAL(access)(out, X_OK) == 0)
			return true;
		if (*end == ':')
			end++;
	}
	return false;
}

/* Whether the program in fd (or at path) is one the preload cannot reach. */
static bool
unreachable(const char *path, int fd)
{
	unsigned char head[4096];
	struct stat st;
	ssize_t n = -1;
	bool caps;
	int own = -1;

	if (fd < 0 && (own = fd = REAL(open)(path, O_RDONLY | O_CLOEXEC)) < 0)
		return path != NULL && REAL(stat)(path, &st) == 0 &&
		       unreach_of(head, 0, &st, getuid(), getgid(), false) !=
			   UNREACH_NO; /* execute-only: its mode still says */
	if (REAL(fstat)(fd, &st) == 0)
		n = REAL(pread)(fd, head, sizeof(head), 0);
	caps = REAL(fgetxattr)(fd, "security.capability", NULL, 0) > 0;
	if (own >= 0)
		REAL(close)(own);
	return n >= 0 && unreach_of(head, (size_t)n, &st, getuid(), getgid(),
				    caps) != UNREACH_NO;
}

/* The relay file of pid: SOCKET.relay.PID, false without a broker path. */
static bool
relay_path(pid_t pid, char *out, size_t len)
{
	char sock[256];

	bconn_path(sock, sizeof(sock));
	if (sock[0] == '\0')
		return false;
	return (size_t)snprintf(out, len, "%s.relay.%d", sock, (int)pid) < len;
}

/* The last one out removes the relay file (nobody else holds a lock). */
static void
relay_file_done(const char *path)
{
	int fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		REAL(unlink)(path);
	REAL(close)(fd);
}

/*
 * Through the fd's ops (fdops.h), not the exported wrappers: fd may be a
 * scheme fd, and this file sits below the wrappers.
 */
static int
write_all(int fd, const char *buf, size_t n)
{
	struct pollfd p = {fd, POLLOUT, 0};
	struct iovec v;
	ssize_t w;

	while (n > 0) {
		v = (struct iovec){(void *)buf, n};
		w = fd_writev(fd, &v, 1);
		if (w == -EAGAIN) {
			sc_poll(&p, 1, -1, NULL);
			continue;
		}
		if (w == -EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* What the pipe holds now, delivered; -1 if it could not be. */
static int
drain_now(int rd, int sfd, char *buf)
{
	int fl = REAL(fcntl)(rd, F_GETFL), r = 0;
	ssize_t n;

	REAL(fcntl)(rd, F_SETFL, fl | O_NONBLOCK);
	while (r == 0 && (n = REAL(read)(rd, buf, CHUNK)) > 0)
		r = write_all(sfd, buf, (size_t)n);
	REAL(fcntl)(rd, F_SETFL, fl);
	return r;
}

/*
 * A writing relay: the pipe's bytes into the scheme file, until the pipe
 * ends; the lock goes once the program has ended and what it wrote is
 * delivered (its children may write on).
 */
static void
drain(int rd, int sfd, int pidfd, int lk, const char *lock)
{
	struct pollfd p[2] = {{rd, POLLIN, 0}, {pidfd, POLLIN, 0}};
	char *buf = malloc(CHUNK);
	bool lost = buf == NULL;
	ssize_t n;

	while (!lost) {
		if (REAL(poll)(p, lk >= 0 && pidfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			if ((n = REAL(read)(rd, buf, CHUNK)) == 0)
				break;
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				break;
			if (n > 0 && write_all(sfd, buf, (size_t)n) < 0)
				lost = true;
			continue;
		}
		if (p[1].revents) { /* ended: all it wrote is in the pipe */
			lost = drain_now(rd, sfd, buf) < 0;
			REAL(close)(lk);
			lk = -1;
			relay_file_done(lock);
		}
	}
	if (lost && lk >= 0) /* the parent learns: a death by SIGPIPE */
		(void)!REAL(write)(lk, "lost\n", 5);
	REAL(close)(rd); /* the program's next write: EPIPE */
	free(buf);
	if (lk >= 0) {
		REAL(close)(lk);
		relay_file_done(lock);
	}
}

/* The reading relay: the scheme file into the pipe, until either ends. */
static void
feed(int wr, int sfd)
{
	struct pollfd p[2] = {{sfd, POLLIN, 0}, {wr, 0, 0}};
	char *buf = malloc(CHUNK);
	struct iovec v = {buf, CHUNK};
	ssize_t n;

	while (buf != NULL) {
		if ((n = sc_poll(p, 2, -1, NULL)) < 0 && n != -EINTR)
			break;
		if (p[1].revents & (POLLERR | POLLHUP | POLLNVAL))
			break; /* nobody reads stdin any more */
		if (!(p[0].revents))
			continue;
		n = fd_readv(sfd, &v, 1); /* a scheme fd: through its ops */
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n <= 0 || write_all(wr, buf, (size_t)n) < 0)
			break;
	}
	free(buf);
}

/* Close everything but keep[] (sorted) and our hidden fds. */
static void
close_others(const int *keep, int n)
{
	unsigned lo = 0;

	for (int i = 0; i < n; i++) {
		if (keep[i] < 0)
			continue;
		if ((unsigned)keep[i] > lo)
			close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	close_range(lo, ~0u, 0);
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* A relay of fd k: in a grandchild of the exec'ing process. */
static void __attribute__((noreturn))
relay_run(int k, int end, int sync, pid_t prog, const char *lock)
{
	int lk = -1, pidfd, keep[6];

	REAL(signal)(SIGPIPE, SIG_IGN);
	if (k > 0 && lock[0] != '\0' &&
	    (lk = REAL(open)(lock, O_WRONLY | O_APPEND | O_CLOEXEC)) >= 0)
		flock(lk, LOCK_SH);
	pidfd = (int)REAL(syscall)(SYS_pidfd_open, prog, 0);
	keep[0] = k;
	keep[1] = end;
	keep[2] = sync;
	keep[3] = lk;
	keep[4] = pidfd;
	qsort(keep, 5, sizeof(keep[0]), cmp_int);
	close_others(keep, 5);
	(void)!REAL(write)(sync, "r", 1); /* ready: the exec may go on */
	REAL(close)(sync);
	if (k == 0)
		feed(end, k);
	else
		drain(end, k, pidfd, lk, lock);
	_exit(0);
}

static bool
scheme_fd(int fd)
{
	struct sfd *e = fdtab_get(fd);

	return e != NULL && e->ops->requests;
}

/*
 * The std fd below k that is the same open file as k (2>&1), or -1: one
 * pipe and one relay serve both, so that what the program writes to
 * either keeps its order in the file.
 */
static int
same_as(int k)
{
	struct sfd *a = fdtab_get(k), *b;

	for (int j = 1; j < k; j++)
		if ((b = fdtab_get(j)) != NULL && b->ops->requests &&
		    b->broker == a->broker && b->inst == a->inst &&
		    b->key == a->key)
			return j;
	return -1;
}

/*
 * The relays, started by an intermediate child that exits at once (so
 * that the program is not their parent); 0 once every one holds its
 * lock.  mine[k]: the pipe end the program gets.
 */
static int
start_relays(struct relay_plan *rp, int mine[3])
{
	int ends[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}}, sync[2], k, n = 0;
	pid_t prog = getpid(), pid;
	char c;

	if (REAL(pipe2)(sync, O_CLOEXEC) < 0)
		return -1;
	for (k = 0; k < 3; k++)
		if (scheme_fd(k) && (k == 0 || same_as(k) < 0) &&
		    REAL(pipe2)(ends[k], O_CLOEXEC) == 0)
			n++;
	if ((pid = fork()) == 0) {
		setsid();
		for (k = 0; k < 3; k++)
			if (ends[k][0] >= 0 && fork() == 0)
				relay_run(k, ends[k][k == 0 ? 1 : 0], sync[1],
					  prog, rp->lock);
		_exit(0);
	}
	REAL(close)(sync[1]);
	if (pid > 0)
		while (REAL(waitpid)(pid, NULL, 0) < 0 && errno == EINTR)
			;
	for (k = 0; k < 3; k++) {
		mine[k] = ends[k][k == 0 ? 0 : 1];
		if (ends[k][0] >= 0)
			REAL(close)(ends[k][k == 0 ? 1 : 0]);
		else if (k > 0 && scheme_fd(k) && same_as(k) > 0)
			mine[k] = REAL(fcntl)(mine[same_as(k)], F_DUPFD_CLOEXEC,
					      3); /* 2>&1: the same pipe */
	}
	/* Each relay says it is ready (a dead one: the pipe ends early). */
	for (k = 0; pid > 0 && k < n && REAL(read)(sync[0], &c, 1) == 1; k++)
		;
	REAL(close)(sync[0]);
	return pid > 0 ? 0 : -1;
}

/*
 * The next scheme fd from `from` on that an exec would hand over: one on
 * 0-2, or another without close-on-exec (a walk of the fd table); -1.
 */
static int
next_inherited(int from)
{
	int fd, fl;

	for (fd = fdtab_next(from); fd >= 0; fd = fdtab_next(fd + 1))
		if (scheme_fd(fd) &&
		    (fd < 3 || ((fl = REAL(fcntl)(fd, F_GETFD)) >= 0 &&
				!(fl & FD_CLOEXEC))))
			return fd;
	return -1;
}

/* Other scheme fds the program would inherit: close-on-exec for it. */
static void
cloexec_others(struct relay_plan *rp)
{
	int fd;

	for (fd = next_inherited(3); fd >= 0; fd = next_inherited(fd + 1)) {
		REAL(fcntl)(fd, F_SETFD, FD_CLOEXEC);
		if (rp->ncloexec < RELAY_KEEP)
			rp->cloexec[rp->ncloexec++] = fd;
	}
}

/* The relay file, holding our parent's pid: "" if none can be made. */
static void
make_relay_file(struct relay_plan *rp)
{
	int lf;

	if (!relay_path(getpid(), rp->lock, sizeof(rp->lock)) ||
	    (lf = REAL(open)(rp->lock, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC,
			     0600)) < 0) {
		rp->lock[0] = '\0'; /* relayed, but nobody can wait for it */
		return;
	}
	dprintf(lf, "%d\n", (int)getppid());
	REAL(close)(lf);
}

static void
plan(const char *file, int fd, bool search, struct relay_plan *rp)
{
	char found[PATH_MAX];
	int mine[3], k;

	if (__builtin_expect(next_inherited(0) < 0, 1))
		return;
	if (file != NULL && search && !search_path(file, found, sizeof(found)))
		return;
	if (!unreachable(file != NULL && search ? found : file, fd))
		return;
	rp->on = true;
	cloexec_others(rp);
	if (!scheme_fd(0) && !scheme_fd(1) && !scheme_fd(2))
		return;
	make_relay_file(rp);
	if (start_relays(rp, mine) < 0) {
		if (rp->lock[0] != '\0')
			REAL(unlink)(rp->lock);
		rp->lock[0] = '\0';
		return;
	}
	for (k = 0; k < 3; k++) {
		if (mine[k] < 0)
			continue;
		rp->saved[k] = REAL(fcntl)(k, F_DUPFD_CLOEXEC, 3);
		rp->entry[k] = fdtab_take(k);
		REAL(dup2)(mine[k], k);
		REAL(close)(mine[k]);
	}
}

void
relay_before_exec(const char *file, int fd, bool search, struct relay_plan *rp)
{
	int saved = errno;

	memset(rp, 0, sizeof(*rp) - sizeof(rp->lock));
	rp->lock[0] = '\0';
	rp->saved[0] = rp->saved[1] = rp->saved[2] = -1;
	plan(file, fd, search, rp);
	errno = saved;
}

void
relay_exec_failed(struct relay_plan *rp)
{
	int k, saved = errno;

	if (!rp->on)
		return;
	for (k = 0; k < 3; k++) {
		if (rp->saved[k] < 0)
			continue;
		REAL(dup2)(rp->saved[k], k); /* our pipe end goes: relays end */
		REAL(close)(rp->saved[k]);
		if (rp->entry[k] != NULL && fdtab_set(k, rp->entry[k]) < 0)
			fd_release(rp->entry[k]);
	}
	for (k = 0; k < rp->ncloexec; k++)
		REAL(fcntl)(rp->cloexec[k], F_SETFD, 0);
	if (rp->lock[0] != '\0')
		REAL(unlink)(rp->lock);
	rp->on = false;
	errno = saved;
}

/* Wait for pid's relays, if it has any and we are its parent; lost? */
static bool
wait_relays(pid_t pid, const char *path)
{
	char buf[64] = "";
	int fd, saved = errno;
	ssize_t n;
	bool lost = false;

	if ((fd = REAL(open)(path, O_RDONLY | O_CLOEXEC)) < 0) {
		errno = saved;
		return false;
	}
	n = REAL(pread)(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0 && atoi(buf) == (int)getpid()) {
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
		n = REAL(pread)(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		lost = strstr(buf, "lost") != NULL;
		REAL(unlink)(path);
	}
	REAL(close)(fd);
	errno = saved;
	(void)pid;
	return lost;
}

void
relay_reaped(pid_t pid, int *status)
{
	char path[4096];

	if (pid <= 0 || !(WIFEXITED(*status) || WIFSIGNALED(*status)) ||
	    !relay_path(pid, path, sizeof(path)))
		return;
	if (wait_relays(pid, path) && WIFEXITED(*status))
		*status = SIGPIPE; /* as killed by it */
}

void
relay_reaped_info(siginfo_t *info)
{
	char path[4096];

	if (info->si_pid <= 0 ||
	    (info->si_code != CLD_EXITED && info->si_code != CLD_KILLED &&
	     info->si_code != CLD_DUMPED) ||
	    !relay_path(info->si_pid, path, sizeof(path)))
		return;
	if (wait_relays(info->si_pid, path) && info->si_code == CLD_EXITED) {
		info->si_code = CLD_KILLED;
		info->si_status = SIGPIPE;
	}
}

void
relay_reaped_mine(int *status)
{
	char sock[256], path[4096], root[] = "/", *dir, *base;
	struct dirent *de;
	size_t blen;
	DIR *d;

	bconn_path(sock, sizeof(sock));
	if (sock[0] == '\0' || (base = strrchr(sock, '/')) == NULL)
		return;
	*base++ = '\0';
	dir = sock[0] != '\0' ? sock : root;
	blen = strlen(base);
	if ((d = REAL(opendir)(dir)) == NULL)
		return;
	while ((de = REAL(readdir)(d)) != NULL) {
		if (strncmp(de->d_name, base, blen) != 0 ||
		    strncmp(de->d_name + blen, ".relay.", 7) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (wait_relays(0, path) && status != NULL &&
		    WIFEXITED(*status))
			*status = SIGPIPE;
	}
	REAL(closedir)(d);
}

/*
 * test_fork.c - fork safety of the preload under threads (issue 13,
 * item 2).
 *
 * Each case is a storm.  Worker threads use the preload, each in one of
 * the ways that take one of its locks (scheme reads and writes, stdout
 * swapped between a scheme file and /dev/null with dup2,
 * dups, opens and closes, getdents64, streams, epoll sets, a failed
 * execve, posix_spawn open actions, a scheme working directory), while
 * forker threads make children by fork, fork+exec, vfork, posix_spawn,
 * system and popen.  A forked child goes the same ways once each before
 * it writes its tag; every child writes a tag into a scheme file of its
 * own (popen's also to its pipe), and the parent reads it back.
 *
 * A hung child is never waited for blindly.  A watchdog process, forked
 * before the storm's threads so that none of their locks can stop it,
 * watches each thread's heartbeat in shared memory; one that has not
 * moved for STALL_S seconds is a hang.  The watchdog then reports where
 * every process below the tester is (/proc/PID/wchan and stack, and
 * gdb's backtrace of each thread when gdb is installed), kills them so
 * that the forkers' waits end, and the case fails naming the first
 * preload frame found.  When no child is to blame, or a worker stopped,
 * the tester itself is reported; if it cannot end the storm either (a
 * deadlock among its own threads), the watchdog kills it.
 *
 * Cases are bounded by counts, not time: each makes a few hundred
 * children and ends in seconds on two CPUs, some four thousand in all.
 * Each case is a tcase of its own: CK_RUN_CASE=swap_stdout runs one.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define S	"fk" /* the suite's scheme */
#define STALL_S 5    /* a thread this long without progress: a hang */
#define MAXT	32   /* threads in one storm */
#define OUT_MAX 128

extern char **environ;

enum kind { K_FORK, K_EXEC, K_VFORK, K_SPAWN, K_SYSTEM, K_POPEN, NKINDS };

static const char *const kind_name[NKINDS] = {
    "fork", "fork+exec", "vfork", "posix_spawn", "system", "popen"};

#define KB(k) (1u << (k))
#define K_ALL (KB(NKINDS) - 1)

/* The ways to use the preload; a worker thread loops on one of them. */
enum act {
	A_IO,	    /* open, write, lseek, read, close a scheme file */
	A_SWAP,	    /* stdout: dup2 of a scheme file, a line, dup2 of null */
	A_DUP,	    /* dup, dup2, F_DUPFD of a scheme fd, closed again */
	A_DENTS,    /* getdents64 on a scheme directory */
	A_STREAM,   /* fopen, fgets, fclose of a scheme file */
	A_EXECFAIL, /* execve of a program that does not exist */
	A_ACTIONS,  /* posix_spawn_file_actions_addopen of a scheme path */
	A_EPOLL,    /* epoll_wait on a set that watches a scheme fd */
	A_CWD,	    /* a relative open in a scheme working directory */
	NACTS
};

static const char *const act_name[NACTS] = {"io",      "swap",	 "dup",
					    "dents",   "stream", "execfail",
					    "actions", "epoll",	 "cwd"};

#define A_ALL (KB(NACTS) - 1)

struct plan {
	unsigned acts;	/* worker threads, and what forked children do */
	unsigned kinds; /* how children are made */
	int forkers;	/* threads making children */
	int children;	/* per forker */
};

/*
 * One storm's state: each case runs in a process of its own.  It is
 * shared with the storm's watchdog, a process forked before any thread.
 */
static struct storm {
	const struct plan *plan;
	int swapfd, nullfd, epfd, watched, dirfd;
	pid_t tester; /* the process of the storm */
	uint64_t t0;
	atomic_bool stop;
	atomic_bool over; /* the storm is over: the watchdog goes */
	atomic_bool hung; /* the watchdog found a hang: hang[] says where */
	atomic_int nthreads;
	pthread_t tid[MAXT];
	char who[MAXT][48];
	_Atomic uint64_t beat[MAXT]; /* CLOCK_MONOTONIC ns of last progress */
	atomic_bool finished[MAXT];
	atomic_int current[MAXT]; /* a forker's child kind, or -1 */
	atomic_int made[NKINDS];
	atomic_int failures;
	pthread_mutex_t lock; /* first[]; the tester's threads only */
	char first[1024];
	char hang[1024];
} * st;

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void note_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Note a failure; the first one is what the case reports. */
static void
note_fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&st->lock);
	if (atomic_fetch_add(&st->failures, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(st->first, sizeof(st->first), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&st->lock);
}

/* The acts ------------------------------------------------------------ */

static int
act_io(const char *path)
{
	char buf[8];
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644), r;

	if (fd < 0)
		return -1;
	r = write(fd, "abc", 3) == 3 && lseek(fd, 0, SEEK_SET) == 0 &&
		    read(fd, buf, sizeof(buf)) == 3 &&
		    memcmp(buf, "abc", 3) == 0
		? 0
		: -1;
	return close(fd) < 0 ? -1 : r;
}

/*
 * The recipe: stdout becomes a cookie stream over the scheme
 * file, and going back to /dev/null closes that stream, which flushes
 * through the provider.
 */
static int
act_swap(int fd, const char *line)
{
	if (dup2(fd, 1) != 1)
		return -1;
	fputs(line, stdout);
	return dup2(st->nullfd, 1) == 1 ? 0 : -1;
}

static int
act_dup(int slot)
{
	int a = dup(st->swapfd), b = dup2(st->swapfd, 100 + slot),
	    c = fcntl(st->swapfd, F_DUPFD_CLOEXEC, 200);
	int r = a >= 0 && b == 100 + slot && c >= 200 ? 0 : -1;

	close(a);
	close(b);
	close(c);
	return r;
}

/*
 * A worker lists its own fd again and again (an lseek to 0 drops the
 * listing kept for it); a child lists a fresh one.
 */
static int
act_dents(int fd)
{
	char buf[4096];
	bool mine = fd < 0;
	ssize_t n;

	if (mine && (fd = open(S ":d", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	n = lseek(fd, 0, SEEK_SET) == 0 ? getdents64(fd, buf, sizeof(buf)) : -1;
	if (mine)
		close(fd);
	return n > 0 ? 0 : -1;
}

/*
 * A scheme stream, read, its mode changed again and again (as programs
 * do with freopen(NULL, "rb", stdin): no I/O, only the preload's list
 * of its streams), closed.
 */
static int
act_stream(void)
{
	char line[32];
	FILE *f = fopen(S ":f", "re");
	int i, r;

	if (f == NULL)
		return -1;
	r = fgets(line, sizeof(line), f) != NULL && strcmp(line, "f\n") == 0
		? 0
		: -1;
	for (i = 0; i < 4096 && r == 0; i++)
		if (freopen(NULL, "re", f) != f)
			r = -1;
	return fclose(f) != 0 ? -1 : r;
}

static int
act_execfail(void)
{
	char *argv[] = {(char *)"missing", NULL};

	return execve("/nonexistent/fork-test", argv, environ) < 0 &&
		       errno == ENOENT
		   ? 0
		   : -1;
}

static int
act_actions(void)
{
	posix_spawn_file_actions_t fa;
	int r;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	r = posix_spawn_file_actions_addopen(&fa, 5, S ":f", O_RDONLY, 0);
	posix_spawn_file_actions_destroy(&fa);
	return r == 0 ? 0 : -1;
}

static int
act_epoll(void)
{
	struct epoll_event ev[4];

	return epoll_wait(st->epfd, ev, 4, 0) >= 0 ? 0 : -1;
}

/* A relative open in /scheme/fk, and getcwd (as shells call it). */
static int
act_cwd(void)
{
	char buf[PATH_MAX];
	int i, fd = open("f", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	for (i = 0; i < 4096 && n == 2; i++)
		if (getcwd(buf, sizeof(buf)) == NULL ||
		    strcmp(buf, "/scheme/" S) != 0)
			n = -1;
	return n == 2 ? 0 : -1;
}

static int
act(int a, int slot, const char *path)
{
	switch (a) {
	case A_IO:
		return act_io(path);
	case A_SWAP:
		return act_swap(st->swapfd, "swap\n");
	case A_DUP:
		return act_dup(slot);
	case A_DENTS:
		return act_dents(slot < MAXT ? st->dirfd : -1);
	case A_STREAM:
		return act_stream();
	case A_EXECFAIL:
		return act_execfail();
	case A_ACTIONS:
		return act_actions();
	case A_EPOLL:
		return act_epoll();
	case A_CWD:
		return act_cwd();
	}
	return -1;
}

/* Workers ------------------------------------------------------------- */

struct thread_arg {
	int slot;
	int what; /* a worker's act; a forker's index */
};

static void *
worker(void *p)
{
	const struct thread_arg *a = p;
	char path[64];
	long n = 0;

	snprintf(path, sizeof(path), S ":w/%d", a->slot);
	while (!atomic_load(&st->stop)) {
		if (act(a->what, a->slot, path) < 0)
			note_fail("worker %s, call %ld: %s", act_name[a->what],
				  n, strerror(errno));
		atomic_store(&st->beat[a->slot], now_ns());
		n++;
	}
	atomic_store(&st->finished[a->slot], true);
	return NULL;
}

/* Children ------------------------------------------------------------ */

/*
 * A forked child: every act of the plan once (each may meet a lock some
 * thread of the parent held at the fork), then the tag into path, through
 * stdout swapped onto the file when the plan swaps.  The exit status
 * says which step failed.
 */
static void __attribute__((noreturn))
child_body(const char *tag, const char *path)
{
	unsigned acts = st->plan->acts;
	int a, fd, ok;

	for (a = 0; a < NACTS; a++)
		if ((acts & KB(a)) && a != A_SWAP && a != A_IO &&
		    act(a, MAXT, S ":o/child-io") < 0)
			_exit(10 + a);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		_exit(3);
	if (acts & KB(A_SWAP))
		ok = act_swap(fd, tag) == 0;
	else
		ok = write(fd, tag, strlen(tag)) == (ssize_t)strlen(tag);
	_exit(ok && close(fd) == 0 ? 0 : 4);
}

static pid_t
fork_exec(const char *tag, const char *path, bool v)
{
	char *argv[] = {(char *)TEST_FORK_CHILD, (char *)tag, (char *)"-",
			NULL};
	pid_t pid = v ? vfork() : fork();
	int fd;

	if (pid != 0)
		return pid;
	if (v) { /* vfork: nothing but exec */
		argv[2] = (char *)path;
		execve(TEST_FORK_CHILD, argv, environ);
		_exit(127);
	}
	/* The child's stdout is a scheme file it opened: the exec'd program
	 * is born holding it. */
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 1) != 1)
		_exit(3);
	close(fd);
	execve(TEST_FORK_CHILD, argv, environ);
	_exit(127);
}

static pid_t
spawn(const char *tag, const char *path)
{
	char *argv[] = {(char *)TEST_FORK_CHILD, (char *)tag, (char *)"-",
			NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;
	int r;

	posix_spawn_file_actions_init(&fa);
	r = posix_spawn_file_actions_addopen(
	    &fa, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (r == 0)
		r = posix_spawn(&pid, TEST_FORK_CHILD, &fa, NULL, argv,
				environ);
	posix_spawn_file_actions_destroy(&fa);
	errno = r;
	return r == 0 ? pid : -1;
}

/* An exit status as text, for messages. */
static const char *
how(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status %#x", status);
	return buf;
}

static int
reap(pid_t pid)
{
	int status = -1;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* popen's output, which must be the tag too. */
static int
run_popen(const char *tag, const char *path, char *out, size_t len)
{
	char cmd[512];
	size_t n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "printf %%s %s > %s && exec cat %s", tag,
		 path, path);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while (n < len - 1 && fgets(out + n, (int)(len - n), f) != NULL)
		n = strlen(out);
	return pclose(f);
}

/* Make one child of `kind`; its status, or -1 when it could not be made. */
static int
make_child(int kind, const char *tag, const char *path, char *out, size_t len)
{
	char cmd[512];
	pid_t pid;

	switch (kind) {
	case K_FORK:
		if ((pid = fork()) == 0)
			child_body(tag, path);
		return pid < 0 ? -1 : reap(pid);
	case K_EXEC:
	case K_VFORK:
		pid = fork_exec(tag, path, kind == K_VFORK);
		return pid < 0 ? -1 : reap(pid);
	case K_SPAWN:
		pid = spawn(tag, path);
		return pid < 0 ? -1 : reap(pid);
	case K_SYSTEM:
		snprintf(cmd, sizeof(cmd), "printf %%s %s > %s", tag, path);
		return system(cmd);
	case K_POPEN:
		return run_popen(tag, path, out, len);
	}
	return -1;
}

/* The tag must be in path (which then goes), and popen's output. */
static void
check_child(int kind, const char *tag, const char *path, int status,
	    const char *out)
{
	char got[OUT_MAX] = "", st_[32];
	ssize_t n = -1;
	int fd;

	if (status != 0) {
		note_fail("%s child %s: %s", kind_name[kind], tag,
			  status == -1 ? strerror(errno)
				       : how(status, st_, sizeof(st_)));
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, got, sizeof(got) - 1);
		close(fd);
		unlink(path);
	}
	got[n > 0 ? n : 0] = '\0';
	if (strcmp(got, tag) != 0)
		note_fail("%s child %s wrote \"%s\"", kind_name[kind], tag,
			  got);
	else if (kind == K_POPEN && strcmp(out, tag) != 0)
		note_fail("popen child %s said \"%s\"", tag, out);
}

static void *
forker(void *p)
{
	const struct thread_arg *a = p;
	const struct plan *pl = st->plan;
	char tag[64], path[96], out[OUT_MAX];
	int i, k, kind, status, kinds[NKINDS], nk = 0;

	for (k = 0; k < NKINDS; k++)
		if (pl->kinds & KB(k))
			kinds[nk++] = k;
	for (i = 0; i < pl->children && !atomic_load(&st->stop); i++) {
		kind = kinds[(i + a->what) % nk];
		snprintf(tag, sizeof(tag), "%d-%d-%s", a->what, i,
			 kind == K_EXEC ? "exec" : kind_name[kind]);
		snprintf(path, sizeof(path), S ":o/%s", tag);
		out[0] = '\0';
		atomic_store(&st->current[a->slot], kind);
		atomic_store(&st->beat[a->slot], now_ns());
		status = make_child(kind, tag, path, out, sizeof(out));
		atomic_store(&st->current[a->slot], -1);
		if (atomic_load(&st->stop))
			break; /* a hang was found and its children killed */
		check_child(kind, tag, path, status, out);
		atomic_fetch_add(&st->made[kind], 1);
		atomic_store(&st->beat[a->slot], now_ns());
	}
	atomic_store(&st->finished[a->slot], true);
	return NULL;
}

/* Diagnosis of a hang ------------------------------------------------- */

/* The processes below root, from /proc (at most max). */
static int
descendants(pid_t root, pid_t *out, int max)
{
	pid_t pid[4096], ppid[4096];
	int n = 0, k = 0, i, j;
	struct dirent *de;
	DIR *d = opendir("/proc");
	char path[300], buf[512], *rp;
	FILE *f;

	while (d != NULL && (de = readdir(d)) != NULL && n < 4096) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (rp = strrchr(buf, ')')) != NULL &&
		    sscanf(rp + 2, "%*c %d", &ppid[n]) == 1)
			pid[n++] = atoi(de->d_name);
		fclose(f);
	}
	if (d != NULL)
		closedir(d);
	/* Breadth first from root, each found process's children after it;
	 * not the watchdog's (us, and our gdb). */
	for (i = -1; i < k; i++) {
		pid_t parent = i < 0 ? root : out[i];

		for (j = 0; j < n && k < max; j++)
			if (ppid[j] == parent && pid[j] != getpid())
				out[k++] = pid[j];
	}
	return k;
}

static void
cat_to_stderr(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "  (%s: %s)\n", path, strerror(errno));
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stderr) != (size_t)n)
			break;
	close(fd);
}

/*
 * gdb's backtrace of every thread of pid, frames on stderr; the first
 * frame in the preload's sources goes to `where`.  gdb runs without the
 * preload, started by posix_spawn (its child runs no code of ours), and
 * is killed if it takes more than 30 s.
 */
static void
gdb_backtrace(pid_t pid, char *where, size_t len)
{
	char spid[16], line[1024], *envp[] = {(char *)"LD_PRELOAD=", NULL};
	char *argv[] = {(char *)"gdb",
			(char *)"-nx",
			(char *)"-batch",
			(char *)"-p",
			spid,
			(char *)"-ex",
			(char *)"thread apply all bt",
			NULL};
	posix_spawn_file_actions_t fa;
	uint64_t end = now_ns() + 30000000000u;
	int p[2], r;
	pid_t g;
	FILE *f;

	if (access("/usr/bin/gdb", X_OK) < 0) {
		fprintf(stderr, "  (no gdb: install it for backtraces)\n");
		return;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	snprintf(spid, sizeof(spid), "%d", (int)pid);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	r = posix_spawn(&g, "/usr/bin/gdb", &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0 || (f = fdopen(p[0], "r")) == NULL) {
		close(p[0]);
		return;
	}
	while (now_ns() < end && fgets(line, sizeof(line), f) != NULL) {
		if (line[0] != '#' && strncmp(line, "Thread", 6) != 0)
			continue;
		fprintf(stderr, "  %s", line);
		if (where[0] == '\0' && strstr(line, "/preload/") != NULL)
			snprintf(where, len, "%.400s", line);
	}
	fclose(f);
	kill(g, SIGKILL);
	reap(g);
}

static void
describe(pid_t pid, char *where, size_t len)
{
	char path[64];

	fprintf(stderr, "--- process %d, wchan ", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	cat_to_stderr(path);
	fprintf(stderr, "\n  kernel stack:\n");
	snprintf(path, sizeof(path), "/proc/%d/stack", (int)pid);
	cat_to_stderr(path);
	gdb_backtrace(pid, where, len);
}

/*
 * Thread `slot` of the tester has not moved for STALL_S seconds: stop
 * the storm, report every process below the tester (and the tester,
 * when no child is to blame or the thread is a worker), and kill them so
 * that the forkers' waits end.
 */
static void
hang_found(int slot)
{
	pid_t kids[256];
	char where[512] = "";
	int n, i, k = atomic_load(&st->current[slot]);

	atomic_store(&st->stop, true);
	n = descendants(st->tester, kids, 256);
	fprintf(stderr,
		"test_fork: %s stopped moving %.2f s into the storm "
		"(%d processes below it)\n",
		st->who[slot],
		(double)(atomic_load(&st->beat[slot]) - st->t0) / 1e9, n);
	for (i = 0; i < n && i < 8; i++)
		describe(kids[i], where, sizeof(where));
	if (n == 0 || k < 0)
		describe(st->tester, where, sizeof(where));
	for (i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	snprintf(st->hang, sizeof(st->hang),
		 "%s hung (%s%s, %d processes below), at: %s", st->who[slot],
		 k >= 0 ? "making a child by " : "no child",
		 k >= 0 ? kind_name[k] : "", n,
		 where[0] ? where : "(no preload frame found; see stderr)");
	atomic_store(&st->hung, true);
}

/*
 * The watchdog: a process of its own, forked while the tester had one
 * thread, so that no lock the tester's threads hold can stop it.  It
 * watches every thread's heartbeat; after a hang it gives the tester
 * STALL_S more seconds to end the storm, then reports it and kills it
 * (a deadlock in the tester itself).
 */
static void __attribute__((noreturn)) watchdog(void)
{
	uint64_t stall = (uint64_t)STALL_S * 1000000000u, found = 0, now;
	char where[512] = "";
	int i;

	for (;;) {
		h_sleep_ms(20);
		if (atomic_load(&st->over) || getppid() != st->tester)
			_exit(0);
		now = now_ns();
		if (found != 0 && now - found > stall) {
			fprintf(stderr, "test_fork: the storm did not end\n");
			describe(st->tester, where, sizeof(where));
			kill(st->tester, SIGKILL);
			_exit(0);
		}
		for (i = 0; found == 0 && i < atomic_load(&st->nthreads); i++)
			/* A beat may be newer than `now`: signed. */
			if (!atomic_load(&st->finished[i]) &&
			    (int64_t)(now - atomic_load(&st->beat[i])) >
				(int64_t)stall) {
				hang_found(i);
				found = now_ns();
			}
	}
}

/* The storm ----------------------------------------------------------- */

static int
add_thread(void *(*fn)(void *), struct thread_arg *a, const char *who)
{
	int slot = atomic_load(&st->nthreads);

	ck_assert_int_lt(slot, MAXT);
	a->slot = slot;
	snprintf(st->who[slot], sizeof(st->who[slot]), "%s", who);
	atomic_store(&st->beat[slot], now_ns());
	atomic_store(&st->current[slot], -1);
	atomic_store(&st->nthreads, slot + 1); /* the watchdog sees it */
	ck_assert_int_eq(pthread_create(&st->tid[slot], NULL, fn, a), 0);
	return slot;
}

/* Files the acts use: fk:f ("f\n"), fk:d (a directory), fk:o and fk:w. */
static void
prepare_files(void)
{
	int fd;

	mkdir(S ":o", 0755);
	mkdir(S ":w", 0755);
	mkdir(S ":d", 0755);
	close(open(S ":d/x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	fd = open(S ":f", O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "f\n", 2), 2);
	close(fd);
}

static void
storm_setup(const struct plan *pl)
{
	struct epoll_event ev = {.events = EPOLLIN};

	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(st, MAP_FAILED);
	pthread_mutex_init(&st->lock, NULL);
	st->plan = pl;
	prepare_files();
	st->swapfd =
	    open(S ":swap", O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	st->nullfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(st->swapfd, 0);
	ck_assert_int_ge(st->nullfd, 0);
	if (pl->acts & KB(A_EPOLL)) {
		st->epfd = epoll_create1(EPOLL_CLOEXEC);
		st->watched = open(S ":f", O_RDONLY | O_CLOEXEC);
		ck_assert_int_eq(
		    epoll_ctl(st->epfd, EPOLL_CTL_ADD, st->watched, &ev), 0);
	}
	st->dirfd = open(S ":d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(st->dirfd, 0);
	if (pl->acts & KB(A_CWD))
		ck_assert_int_eq(chdir("/scheme/" S), 0);
}

/* Wait for the storm's forkers to finish, or the watchdog to find a hang. */
static void
storm_wait(int nforkers, const int *forkers)
{
	int i, busy;

	do {
		h_sleep_ms(20);
		for (i = 0, busy = 0; i < nforkers; i++)
			busy += !atomic_load(&st->finished[forkers[i]]);
	} while (busy > 0 && !atomic_load(&st->hung));
}

/* Join every thread, or give up on them after STALL_S (they hang). */
static bool
storm_join(void)
{
	struct timespec until;
	bool all = true;
	int i;

	atomic_store(&st->stop, true);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STALL_S;
	for (i = 0; i < st->nthreads; i++)
		if (pthread_timedjoin_np(st->tid[i], NULL, &until) != 0) {
			note_fail("%s did not stop: it hangs in this process",
				  st->who[i]);
			all = false;
		}
	return all;
}

static void
report(const char *name)
{
	int i, total = 0;

	for (i = 0; i < NKINDS; i++)
		total += atomic_load(&st->made[i]);
	fprintf(stderr,
		"test_fork %s: %d children in %.2f s (fork %d, fork+exec %d, "
		"vfork %d, posix_spawn %d, system %d, popen %d), %d failures\n",
		name, total, (double)(now_ns() - st->t0) / 1e9,
		atomic_load(&st->made[K_FORK]), atomic_load(&st->made[K_EXEC]),
		atomic_load(&st->made[K_VFORK]),
		atomic_load(&st->made[K_SPAWN]),
		atomic_load(&st->made[K_SYSTEM]),
		atomic_load(&st->made[K_POPEN]), atomic_load(&st->failures));
}

static void
storm(const struct plan *pl, const char *name)
{
	struct thread_arg wa[NACTS], fa[8];
	int forkers[8], i, a;
	char who[48];
	pid_t dog;

	/*
	 * The sanitizer's allocator (gcc 12's libasan) takes no lock around
	 * fork: a child that mallocs while another thread of the parent did
	 * waits forever on the lock it inherited, whatever the preload does.
	 */
	if (TEST_ASAN_RUNTIME[0] != '\0') {
		fprintf(stderr,
			"test_fork %s: skipped under ASan (its "
			"allocator is not fork-safe)\n",
			name);
		return;
	}

	storm_setup(pl);
	st->tester = getpid();
	st->t0 = now_ns();
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0); /* for gdb */
	if ((dog = fork()) == 0)
		watchdog();
	ck_assert_int_gt(dog, 0);
	for (a = 0; a < NACTS; a++) {
		if (!(pl->acts & KB(a)))
			continue;
		wa[a].what = a;
		snprintf(who, sizeof(who), "worker %s", act_name[a]);
		add_thread(worker, &wa[a], who);
	}
	for (i = 0; i < pl->forkers && i < 8; i++) {
		fa[i].what = i;
		snprintf(who, sizeof(who), "forker %d", i);
		forkers[i] = add_thread(forker, &fa[i], who);
	}
	storm_wait(i, forkers);
	storm_join();
	atomic_store(&st->over, true);
	reap(dog);
	report(name);
	ck_assert_msg(!atomic_load(&st->hung), "%s: %s", name, st->hang);
	ck_assert_msg(atomic_load(&st->failures) == 0,
		      "%s: %d failures; first: %s", name,
		      atomic_load(&st->failures), st->first);
}

/* The cases ----------------------------------------------------------- */

static void
start_world(void)
{
	h_world_start(S);
}

#define STORM(name, acts_, kinds_, forkers_, children_)                        \
	START_TEST(name)                                                       \
	{                                                                      \
		static const struct plan pl = {acts_, kinds_, forkers_,        \
					       children_};                     \
		storm(&pl, #name);                                             \
	}                                                                      \
	END_TEST

/*
 * The recipe: a thread swaps stdout between a scheme file and
 * /dev/null; forked children dup2 onto stdout and write through it.
 */
STORM(swap_stdout, KB(A_SWAP), KB(K_FORK), 1, 2500)
/* getdents64 keeps a listing per fd; its lock is held while it loads. */
STORM(getdents, KB(A_DENTS), KB(K_FORK), 1, 400)
/* fopen of a scheme path registers a cookie stream. */
STORM(streams, KB(A_STREAM), KB(K_FORK), 1, 400)
/* The exec wrappers read the broker's path and the working directory. */
STORM(exec_env, KB(A_EXECFAIL), KB(K_FORK) | KB(K_EXEC) | KB(K_VFORK), 1, 400)
/* posix_spawn's open actions are kept on a list-> */
STORM(spawn_actions, KB(A_ACTIONS), KB(K_FORK) | KB(K_SPAWN), 1, 400)
/* An epoll set that watches a scheme fd asks its provider under a lock. */
STORM(epoll_sets, KB(A_EPOLL), KB(K_FORK), 1, 400)
/* Relative paths in a scheme working directory. */
STORM(scheme_cwd, KB(A_CWD), KB(K_FORK) | KB(K_EXEC), 1, 400)
/* Reads, writes, dups, opens and closes, with every kind of child. */
STORM(io_and_dups, KB(A_IO) | KB(A_DUP), K_ALL, 2, 150)
/* Everything at once. */
STORM(everything, A_ALL, K_ALL, 2, 300)

/*
 * A forked child's dup2 onto stdout, as before an exec, is an
 * async-signal-safe call: it must not flush the stdout buffer the child
 * inherited (the parent flushes it), or the output comes twice.
 */
START_TEST(child_dup2_keeps_parent_buffer)
{
	char buf[64] = "";
	int fd = open(S ":dup2buf", O_CREAT | O_RDWR | O_TRUNC, 0644), saved;
	FILE *f;
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	/* stdout: a plain file, fully buffered. */
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	saved = dup(1);
	fflush(stdout);
	ck_assert_int_eq(dup2(fileno(f), 1), 1);
	setvbuf(stdout, NULL, _IOFBF, BUFSIZ);
	fputs("once ", stdout);
	if ((pid = fork()) == 0) {
		dup2(fd, 1); /* then an exec, or _exit */
		_exit(0);
	}
	ck_assert_int_eq(h_wait_exit(pid, 10), 0);
	fputs("only\n", stdout);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	ck_assert_str_eq(buf, "once only\n");
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 0); /* nothing there */
	fclose(f);
	close(fd);
}
END_TEST

/*
 * The same with stdout a scheme file, swapped for a cookie stream of the
 * preload's: what it holds at the fork is the parent's to write, not
 * the child's dup2's.
 */
START_TEST(child_dup2_keeps_parent_scheme_buffer)
{
	char buf[64] = "";
	int fd = open(S ":dup2own", O_CREAT | O_RDWR | O_TRUNC, 0644),
	    out = open(S ":dup2out", O_CREAT | O_RDWR | O_TRUNC, 0644), saved;
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(out, 0);
	saved = dup(1);
	fflush(stdout);
	ck_assert_int_eq(dup2(out, 1), 1); /* stdout: a cookie stream */
	fputs("once ", stdout);		   /* held: fully buffered */
	if ((pid = fork()) == 0) {
		dup2(fd, 1); /* then an exec, or _exit */
		_exit(0);
	}
	ck_assert_int_eq(h_wait_exit(pid, 10), 0);
	fputs("only\n", stdout);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	ck_assert_int_eq(pread(out, buf, sizeof(buf) - 1, 0), 10);
	ck_assert_str_eq(buf, "once only\n");
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 0); /* nothing there */
	close(fd);
	close(out);
}
END_TEST

/*
 * fflush and fclose, as the preload calls them too (the program's
 * definitions come first): a thread named here stops in fflush before
 * the real one touches the stream, and a close of that stream meanwhile
 * is noted (and the flush not made: the stream is gone).
 */
static _Atomic(pthread_t) slow_flusher;
static _Atomic(FILE *) slow_stream;
static atomic_bool slow_armed, closed_under_flush;

int
fflush(FILE *f)
{
	static int (*real)(FILE *);
	int r;

	if (real == NULL)
		real = (int (*)(FILE *))dlsym(RTLD_NEXT, "fflush");
	if (f == NULL || !atomic_load(&slow_armed) ||
	    !pthread_equal(pthread_self(), atomic_load(&slow_flusher)))
		return real(f);
	atomic_store(&slow_armed, false);
	atomic_store(&slow_stream, f);
	h_sleep_ms(300);
	if (atomic_load(&closed_under_flush))
		return 0;
	r = real(f);
	atomic_store(&slow_stream, NULL);
	return r;
}

int
fclose(FILE *f)
{
	static int (*real)(FILE *);

	if (real == NULL)
		real = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
	if (f != NULL && f == atomic_load(&slow_stream))
		atomic_store(&closed_under_flush, true);
	return real(f);
}

static void *
dup2_slowly(void *p)
{
	atomic_store(&slow_flusher, pthread_self());
	atomic_store(&slow_armed, true);
	return (void *)(intptr_t)dup2(*(const int *)p, 1);
}

/*
 * One thread's dup2 onto stdout flushes the cookie stream there while
 * another thread's dup2 swaps it back and closes it: the close must wait
 * for the flush, or the flush runs on a freed stream (which ASan and
 * valgrind see).
 */
START_TEST(flush_meets_close)
{
	int a = open(S ":flush-a", O_CREAT | O_RDWR | O_TRUNC, 0644),
	    b = open(S ":flush-b", O_CREAT | O_WRONLY | O_TRUNC, 0644),
	    null = open("/dev/null", O_WRONLY), saved = dup(1);
	char buf[16] = "";
	pthread_t t;
	void *r;

	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, 0);
	fflush(stdout);
	ck_assert_int_eq(dup2(a, 1), 1); /* stdout: a cookie stream */
	fputs("line\n", stdout);
	ck_assert_int_eq(pthread_create(&t, NULL, dup2_slowly, &b), 0);
	while (atomic_load(&slow_stream) == NULL)
		h_sleep_ms(1);
	ck_assert_int_eq(dup2(null, 1), 1); /* swapped back: closed */
	pthread_join(t, &r);
	ck_assert_msg(!atomic_load(&closed_under_flush),
		      "stdout's stream closed while another thread flushed it");
	ck_assert_int_eq((int)(intptr_t)r, 1);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	ck_assert_int_eq(pread(a, buf, sizeof(buf) - 1, 0), 5);
	ck_assert_str_eq(buf, "line\n");
	close(a);
	close(b);
	close(null);
}
END_TEST

/* One tcase a storm, so that CK_RUN_CASE=NAME runs one alone. */
static void
add_storm(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

static Suite *
fork_suite(void)
{
	Suite *s = suite_create("fork");

	add_storm(s, "swap_stdout", swap_stdout);
	add_storm(s, "getdents", getdents);
	add_storm(s, "streams", streams);
	add_storm(s, "exec_env", exec_env);
	add_storm(s, "spawn_actions", spawn_actions);
	add_storm(s, "epoll_sets", epoll_sets);
	add_storm(s, "scheme_cwd", scheme_cwd);
	add_storm(s, "io_and_dups", io_and_dups);
	add_storm(s, "everything", everything);
	add_storm(s, "child_dup2", child_dup2_keeps_parent_buffer);
	add_storm(s, "child_dup2_scheme",
		  child_dup2_keeps_parent_scheme_buffer);
	add_storm(s, "flush_meets_close", flush_meets_close);
	return s;
}

int
main(void)
{
	return h_main(fork_suite());
}

/*
 * test_locks.c - fcntl, OFD, flock and lockf locks on scheme files
 * exclude each other across processes and threads with Linux's rules
 * (issue 14 item 1).
 *
 * Runs under the preload against a broker and scheme-memfs.  Processes
 * are this one's forked children, in step through pipes; a child checks
 * with EXPECT and says how it went in its exit status.  The last cases
 * run sqlite3 writers on a database in the scheme.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define S  "tl"	 /* the suite's scheme: the system keeps its locks */
#define SO "tlo" /* scheme-memfs --own-locks: the provider keeps them */

static const char *scheme = S; /* the one a case's files are on */

static void
start_world(void)
{
	scheme = S;
	h_world_start(S);
}

/*
 * The same cases again, against a provider that takes the locks over
 * (SYS_LOCK, scheme.h "Locks"): the rules are its own table's then.
 */
static void
start_own(void)
{
	h_world_start(NULL);
	scheme = SO;
	h_memfs =
	    h_start_provider_args(TEST_MEMFS, "--own-locks", NULL, NULL, SO);
	if (h_memfs < 0)
		abort();
}

static int
open_file(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s:%s", scheme, name);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

static int
setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type,
			   .l_whence = SEEK_SET,
			   .l_start = start,
			   .l_len = len};

	return fcntl(fd, cmd, &fl);
}

/* F_GETLK (or F_OFD_GETLK) of a write lock on [start, start+len). */
static struct flock
getlk(int fd, int cmd, off_t start, off_t len)
{
	struct flock fl = {.l_type = F_WRLCK,
			   .l_whence = SEEK_SET,
			   .l_start = start,
			   .l_len = len};

	ck_assert_int_eq(fcntl(fd, cmd, &fl), 0);
	return fl;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Two pipes between this process and a child, one byte a step. */
struct duo {
	int up[2], down[2];
};

static void
duo_init(struct duo *d)
{
	ck_assert_int_eq(pipe(d->up), 0);
	ck_assert_int_eq(pipe(d->down), 0);
}

static void
say(int fd)
{
	EXPECT(write(fd, "x", 1) == 1);
}

static void
hear(int fd)
{
	char c;

	EXPECT(read(fd, &c, 1) == 1);
}

static int
reap(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

/* A child that opens name itself, takes a write lock on [0, 10) by
 * cmd (or flock if cmd is 0), says so, and waits to be told to go. */
static pid_t
holder(struct duo *d, const char *name, int cmd)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open_file(name);

		if (cmd == 0)
			EXPECT(flock(fd, LOCK_EX) == 0);
		else
			EXPECT(setlk(fd, cmd, F_WRLCK, 0, 10) == 0);
		say(d->up[1]);
		hear(d->down[0]);
		_exit(0);
	}
	hear(d->up[0]);
	return pid;
}

/* Exclusion, and F_GETLK's pid ----------------------------------------- */

START_TEST(posix_excludes_processes)
{
	int fd = open_file("px");
	struct duo d;
	struct flock fl;
	pid_t pid;

	duo_init(&d);
	pid = holder(&d, "px", F_SETLK);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_WRLCK, 5, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_RDLCK, 0, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	fl = getlk(fd, F_GETLK, 0, 0);
	ck_assert_int_eq(fl.l_type, F_WRLCK);
	ck_assert_int_eq(fl.l_pid, pid);
	ck_assert_int_eq(fl.l_start, 0);
	ck_assert_int_eq(fl.l_len, 10);
	ck_assert_int_eq(fl.l_whence, SEEK_SET);
	/* beside it, no conflict */
	ck_assert_int_eq(setlk(fd, F_SETLK, F_WRLCK, 10, 5), 0);
	fl = getlk(fd, F_GETLK, 10, 5);
	ck_assert_int_eq(fl.l_type, F_UNLCK); /* our own is no conflict */
	say(d.down[1]);
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_WRLCK, 0, 0), 0);
	close(fd);
}
END_TEST

START_TEST(flock_excludes_descriptions)
{
	int a = open_file("fl"), b = open_file("fl"), c;

	ck_assert_int_eq(flock(a, LOCK_EX), 0);
	ck_assert_int_eq(flock(b, LOCK_EX | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	ck_assert_int_eq(flock(b, LOCK_SH | LOCK_NB), -1);
	/* flock and fcntl locks never meet (Linux) */
	ck_assert_int_eq(setlk(b, F_SETLK, F_WRLCK, 0, 0), 0);
	ck_assert_int_eq(flock(a, LOCK_SH), 0); /* a conversion */
	ck_assert_int_eq(flock(b, LOCK_SH | LOCK_NB), 0);
	ck_assert_int_eq(flock(a, LOCK_EX | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	/* a dup is the same description: its unlock is b's */
	c = dup(b);
	ck_assert_int_eq(flock(c, LOCK_UN), 0);
	ck_assert_int_eq(flock(a, LOCK_EX | LOCK_NB), 0);
	ck_assert_int_eq(flock(a, 99), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(c);
	close(b);
	close(a);
}
END_TEST

START_TEST(flock_excludes_processes)
{
	int fd = open_file("fp");
	struct duo d;
	pid_t pid;

	duo_init(&d);
	pid = holder(&d, "fp", 0);
	ck_assert_int_eq(flock(fd, LOCK_SH | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	say(d.down[1]);
	ck_assert_int_eq(reap(pid), 0);
	alarm(5);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0); /* released at its exit */
	alarm(0);
	close(fd);
}
END_TEST

/*
 * A flock ends with the close of its description's last fd, also where
 * a close need not wake the provider at once (a thread on one CPU posts
 * its PARK: preload/chan_pipe.c, Posts): such a file is not parked, and
 * another process's try finds it free at once.
 */
START_TEST(flock_ends_with_the_close_on_one_cpu)
{
	cpu_set_t one;
	struct duo d;
	int a, r;
	pid_t pid;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	h_sleep_ms(150); /* the preload sees the affinity (proto/spin.c) */
	for (int i = 0; i < 5; i++) {
		duo_init(&d);
		pid = fork();
		if (pid == 0) { /* ready to try the moment it is told */
			int b = open_file("fc");

			say(d.up[1]);
			hear(d.down[0]);
			_exit(flock(b, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
		}
		hear(d.up[0]);
		a = open_file("fc");
		ck_assert_int_eq(write(a, "x", 1), 1); /* the pipes, posts */
		ck_assert_int_eq(flock(a, LOCK_EX), 0);
		ck_assert_int_eq(close(a), 0);
		say(d.down[1]);
		r = reap(pid);
		ck_assert_msg(r == 0, "round %d: the flock outlived the close",
			      i);
	}
}
END_TEST

/* Ranges split and merge as Linux's do; whence is resolved. */
START_TEST(ranges_split_merge_whence)
{
	int fd = open_file("rg"), probe = open_file("rg");
	struct flock fl;

	ck_assert_int_eq(setlk(fd, F_SETLK, F_WRLCK, 0, 100), 0);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_UNLCK, 40, 20), 0);
	/* F_OFD_GETLK on another description sees this process's locks */
	fl = getlk(probe, F_OFD_GETLK, 45, 10);
	ck_assert_int_eq(fl.l_type, F_UNLCK);
	fl = getlk(probe, F_OFD_GETLK, 30, 70);
	ck_assert_int_eq(fl.l_type, F_WRLCK);
	ck_assert_int_eq(fl.l_start, 30 < 40 ? 0 : 60);
	ck_assert_int_eq(fl.l_len, 40);
	ck_assert_int_eq(fl.l_pid, getpid());
	fl = getlk(probe, F_OFD_GETLK, 50, 0);
	ck_assert_int_eq(fl.l_start, 60);
	ck_assert_int_eq(fl.l_len, 40);
	/* a read lock in the middle of the right part, then the gap back:
	 * write locks merge, the read lock stays between */
	ck_assert_int_eq(setlk(fd, F_SETLK, F_RDLCK, 70, 10), 0);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_WRLCK, 40, 20), 0);
	fl = getlk(probe, F_OFD_GETLK, 0, 70);
	ck_assert_int_eq(fl.l_start, 0);
	ck_assert_int_eq(fl.l_len, 70);
	fl.l_type = F_RDLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 70;
	fl.l_len = 10;
	fl.l_pid = 0;
	ck_assert_int_eq(fcntl(probe, F_OFD_GETLK, &fl), 0);
	ck_assert_int_eq(fl.l_type, F_UNLCK); /* read meets read */
	/* SEEK_CUR and SEEK_END, and a negative length */
	ck_assert_int_eq(setlk(fd, F_SETLK, F_UNLCK, 0, 0), 0);
	ck_assert_int_eq(write(fd, "0123456789", 10), 10);
	ck_assert_int_eq(lseek(fd, 4, SEEK_SET), 4);
	fl = (struct flock){
	    .l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 1, .l_len = -2};
	ck_assert_int_eq(fcntl(fd, F_SETLK, &fl), 0);
	fl = getlk(probe, F_OFD_GETLK, 0, 0);
	ck_assert_int_eq(fl.l_start, 3);
	ck_assert_int_eq(fl.l_len, 2);
	fl = (struct flock){
	    .l_type = F_WRLCK, .l_whence = SEEK_END, .l_start = -1, .l_len = 0};
	ck_assert_int_eq(fcntl(fd, F_SETLK, &fl), 0);
	fl = getlk(probe, F_OFD_GETLK, 6, 0);
	ck_assert_int_eq(fl.l_start, 9);
	ck_assert_int_eq(fl.l_len, 0);
	fl = (struct flock){
	    .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 2, .l_len = -3};
	ck_assert_int_eq(fcntl(fd, F_SETLK, &fl), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* a read lock needs the file open for reading, a write lock writing */
	{
		int ro = open(S ":rg", O_RDONLY), wo = open(S ":rg", O_WRONLY);

		ck_assert_int_eq(setlk(ro, F_SETLK, F_WRLCK, 0, 1), -1);
		ck_assert_int_eq(errno, EBADF);
		ck_assert_int_eq(setlk(wo, F_OFD_SETLK, F_RDLCK, 0, 1), -1);
		ck_assert_int_eq(errno, EBADF);
		ck_assert_int_eq(flock(ro, LOCK_EX), 0);
		close(ro);
		close(wo);
	}
	fl.l_type = 42;
	fl.l_len = 1;
	ck_assert_int_eq(fcntl(fd, F_SETLK, &fl), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(probe);
	close(fd);
}
END_TEST

/* Release: close, exit, kill ------------------------------------------- */

/* Any close of any fd of the file by the process ends its POSIX locks. */
START_TEST(posix_released_by_any_close)
{
	int fd = open_file("rc"), other, probe = open_file("rc");

	ck_assert_int_eq(setlk(fd, F_SETLK, F_WRLCK, 0, 0), 0);
	ck_assert_int_eq(getlk(probe, F_OFD_GETLK, 0, 0).l_type, F_WRLCK);
	other = open_file("rc");
	ck_assert_int_eq(close(other), 0);
	ck_assert_int_eq(getlk(probe, F_OFD_GETLK, 0, 0).l_type, F_UNLCK);
	/* and OFD locks are not the process's: a close leaves them */
	ck_assert_int_eq(setlk(fd, F_OFD_SETLK, F_WRLCK, 0, 0), 0);
	other = open_file("rc");
	ck_assert_int_eq(close(other), 0);
	ck_assert_int_eq(getlk(probe, F_OFD_GETLK, 0, 0).l_type, F_WRLCK);
	/* its description's end does */
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(getlk(probe, F_OFD_GETLK, 0, 0).l_type, F_UNLCK);
	close(probe);
}
END_TEST

static void
released_at_end(int cmd, bool kill_it)
{
	int fd = open_file(kill_it ? "rk" : "rx");
	struct duo d;
	pid_t pid;

	duo_init(&d);
	pid = holder(&d, kill_it ? "rk" : "rx", cmd);
	if (cmd == 0)
		ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), -1);
	else
		ck_assert_int_eq(setlk(fd, cmd, F_WRLCK, 0, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	if (kill_it) {
		kill(pid, SIGKILL);
		ck_assert_int_eq(reap(pid), 128 + SIGKILL);
	} else {
		say(d.down[1]);
		ck_assert_int_eq(reap(pid), 0);
	}
	alarm(5); /* not released: EINTR, and the case fails */
	if (cmd == 0)
		ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	else
		ck_assert_int_eq(setlk(fd,
				       cmd == F_SETLK ? F_SETLKW : F_OFD_SETLKW,
				       F_WRLCK, 0, 0),
				 0);
	alarm(0);
	close(fd);
}

START_TEST(released_on_exit)
{
	signal(SIGALRM, on_alarm);
	released_at_end(F_SETLK, false);
	released_at_end(F_OFD_SETLK, false);
	released_at_end(0, false);
}
END_TEST

START_TEST(released_on_sigkill)
{
	signal(SIGALRM, on_alarm);
	released_at_end(F_SETLK, true);
	released_at_end(F_OFD_SETLK, true);
	released_at_end(0, true);
}
END_TEST

/*
 * As on Linux, a parent whose wait returned finds its child's locks
 * gone, even when the provider hears of the death and of the parent's
 * request at once (stopped meanwhile: one batch of events, requests
 * first).
 */
START_TEST(released_before_the_wait_returns)
{
	int fd;
	struct duo d;
	pid_t pid, cont;

	/*
	 * A provider that keeps the locks hears of a holder's death by its
	 * pidfd; one that cannot open pidfds (valgrind has no pidfd_open)
	 * hears of it when the holder's last channel closes, which a request
	 * asked at the same instant may come before (scheme(7) LOCKS).
	 */
	if (strcmp(scheme, SO) == 0 && getenv("SCHEME_TEST_VALGRIND") != NULL) {
		fprintf(stderr, "released_before_the_wait_returns: skipped "
				"for the provider's own locks under valgrind "
				"(no pidfds)\n");
		return;
	}
	fd = open_file("rw");

	duo_init(&d);
	for (int cmd = 0; cmd < 2; cmd++) {
		pid = holder(&d, "rw", cmd == 0 ? F_SETLK : F_OFD_SETLK);
		ck_assert_int_eq(kill(h_memfs, SIGSTOP), 0);
		kill(pid, SIGKILL);
		ck_assert_int_eq(reap(pid), 128 + SIGKILL);
		cont = fork();
		if (cont == 0) {
			usleep(200 * 1000);
			kill(h_memfs, SIGCONT);
			_exit(0);
		}
		ck_assert_int_eq(
		    setlk(fd, cmd == 0 ? F_SETLK : F_OFD_SETLK, F_WRLCK, 0, 0),
		    0);
		ck_assert_int_eq(reap(cont), 0);
		ck_assert_int_eq(
		    setlk(fd, cmd == 0 ? F_SETLK : F_OFD_SETLK, F_UNLCK, 0, 0),
		    0);
	}
	close(fd);
}
END_TEST

/* Waiting -------------------------------------------------------------- */

START_TEST(setlkw_waits_then_proceeds)
{
	int fd = open_file("wt");
	struct duo d;
	double t0;
	pid_t pid;

	duo_init(&d);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int f = open_file("wt");

		EXPECT(setlk(f, F_SETLK, F_WRLCK, 0, 0) == 0);
		say(d.up[1]);
		usleep(300 * 1000);
		EXPECT(setlk(f, F_SETLK, F_UNLCK, 0, 0) == 0);
		hear(d.down[0]);
		_exit(0);
	}
	hear(d.up[0]);
	t0 = now_s();
	ck_assert_int_eq(setlk(fd, F_SETLKW, F_WRLCK, 0, 0), 0);
	ck_assert_msg(now_s() - t0 > 0.2, "did not wait: %.3f s", now_s() - t0);
	say(d.down[1]);
	ck_assert_int_eq(reap(pid), 0);
	close(fd);
}
END_TEST

/*
 * A signal without SA_RESTART ends the wait with EINTR, and the wait is
 * withdrawn: once the holder lets go, another process gets the lock,
 * not the interrupted one.  With SA_RESTART the wait goes on.
 */
static void
interrupted(int cmd, bool restart)
{
	struct sigaction sa = {.sa_handler = on_alarm,
			       .sa_flags = restart ? SA_RESTART : 0};
	int fd = open_file("in"), r;
	struct duo d;
	pid_t pid;

	duo_init(&d);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	pid = holder(&d, "in", cmd == 0 ? 0 : F_SETLK);
	if (restart) {
		/* the holder goes 1.5 s in: the alarm at 1 s must not end it */
		pid_t t = fork();

		if (t == 0) {
			usleep(1500 * 1000);
			say(d.down[1]);
			_exit(0);
		}
	}
	alarm(1);
	r = cmd == 0 ? flock(fd, LOCK_EX) : setlk(fd, cmd, F_WRLCK, 0, 0);
	alarm(0);
	if (restart) {
		ck_assert_int_eq(r, 0);
		ck_assert_int_eq(reap(pid), 0);
		close(fd);
		return;
	}
	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(errno, EINTR);
	say(d.down[1]);
	ck_assert_int_eq(reap(pid), 0);
	/* the withdrawn wait took nothing: another process gets it now */
	pid = fork();
	if (pid == 0) {
		int f = open_file("in");

		EXPECT(cmd == 0 ? flock(f, LOCK_EX | LOCK_NB) == 0
				: setlk(f, F_SETLK, F_WRLCK, 0, 0) == 0);
		_exit(0);
	}
	ck_assert_int_eq(reap(pid), 0);
	close(fd);
}

START_TEST(eintr_ends_the_wait)
{
	interrupted(F_SETLKW, false);
	interrupted(F_OFD_SETLKW, false);
	interrupted(0, false);
}
END_TEST

START_TEST(sa_restart_keeps_waiting)
{
	interrupted(F_SETLKW, true);
}
END_TEST

/* A waiter killed while it waits takes nothing when the holder goes. */
START_TEST(killed_waiter_takes_nothing)
{
	int fd = open_file("kw");
	pid_t pid;

	for (int cmd = 0; cmd < 3; cmd++) {
		ck_assert_int_eq(
		    cmd == 0 ? flock(fd, LOCK_EX)
			     : setlk(fd, cmd == 1 ? F_SETLK : F_OFD_SETLK,
				     F_WRLCK, 0, 0),
		    0);
		pid = fork();
		if (pid == 0) {
			int f = open_file("kw");

			if (cmd == 0)
				flock(f, LOCK_EX);
			else
				setlk(f, cmd == 1 ? F_SETLKW : F_OFD_SETLKW,
				      F_WRLCK, 0, 0);
			_exit(0);
		}
		usleep(300 * 1000); /* waiting by now */
		kill(pid, SIGKILL);
		ck_assert_int_eq(reap(pid), 128 + SIGKILL);
		if (cmd == 0)
			ck_assert_int_eq(flock(fd, LOCK_UN), 0);
		else
			ck_assert_int_eq(setlk(fd,
					       cmd == 1 ? F_SETLK : F_OFD_SETLK,
					       F_UNLCK, 0, 0),
					 0);
		pid = fork();
		if (pid == 0) {
			int f = open_file("kw");

			EXPECT(cmd == 0
				   ? flock(f, LOCK_EX | LOCK_NB) == 0
				   : setlk(f, F_OFD_SETLK, F_WRLCK, 0, 0) == 0);
			_exit(0);
		}
		ck_assert_int_eq(reap(pid), 0);
	}
	close(fd);
}
END_TEST

/* Two processes each waiting for the other: the second is told EDEADLK. */
START_TEST(edeadlk_between_two_processes)
{
	int fd = open_file("dl");
	struct duo d;
	pid_t pid;

	duo_init(&d);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_WRLCK, 0, 1), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int f = open_file("dl");

		EXPECT(setlk(f, F_SETLK, F_WRLCK, 1, 1) == 0);
		say(d.up[1]);
		EXPECT(setlk(f, F_SETLKW, F_WRLCK, 0, 1) == 0);
		_exit(0);
	}
	hear(d.up[0]);
	usleep(300 * 1000); /* the child is waiting by now */
	ck_assert_int_eq(setlk(fd, F_SETLKW, F_WRLCK, 1, 1), -1);
	ck_assert_int_eq(errno, EDEADLK);
	/* OFD locks have no owner process: no detection, as on Linux */
	ck_assert_int_eq(setlk(fd, F_SETLK, F_UNLCK, 0, 1), 0);
	ck_assert_int_eq(reap(pid), 0);
	close(fd);
}
END_TEST

/* OFD locks: per description, across fork --------------------------------- */

START_TEST(ofd_per_description_across_fork)
{
	int fd = open_file("of");
	struct flock fl = {.l_type = F_WRLCK, .l_pid = 1};
	pid_t pid;

	ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &fl), -1);
	ck_assert_int_eq(errno, EINVAL); /* l_pid must be 0 */
	ck_assert_int_eq(setlk(fd, F_OFD_SETLK, F_WRLCK, 0, 0), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int f = open_file("of");
		struct flock g = {.l_type = F_WRLCK};

		/* the same description: ours too */
		EXPECT(setlk(fd, F_OFD_SETLK, F_WRLCK, 0, 0) == 0);
		/* another one: in the way, holder pid -1 */
		EXPECT(setlk(f, F_OFD_SETLK, F_WRLCK, 0, 0) == -1 &&
		       errno == EAGAIN);
		EXPECT(setlk(f, F_SETLK, F_RDLCK, 5, 1) == -1 &&
		       errno == EAGAIN);
		EXPECT(fcntl(f, F_GETLK, &g) == 0 && g.l_type == F_WRLCK &&
		       g.l_pid == -1);
		/* an unlock through the shared description is the parent's */
		EXPECT(setlk(fd, F_OFD_SETLK, F_UNLCK, 0, 0) == 0);
		EXPECT(setlk(f, F_OFD_SETLK, F_WRLCK, 0, 0) == 0);
		_exit(0);
	}
	ck_assert_int_eq(reap(pid), 0);
	/* the child's own description ended with it */
	ck_assert_int_eq(setlk(fd, F_OFD_SETLK, F_WRLCK, 0, 0), 0);
	close(fd);
}
END_TEST

/* Threads: POSIX locks are the process's, OFD locks the description's. */
static atomic_int thread_done;

static void *
ofd_waiter(void *arg)
{
	int fd = open_file((const char *)arg);

	ck_assert_int_eq(setlk(fd, F_OFD_SETLKW, F_WRLCK, 0, 0), 0);
	atomic_store(&thread_done, 1);
	close(fd);
	return NULL;
}

static void *
posix_sharer(void *arg)
{
	int fd = open_file((const char *)arg);
	intptr_t r = setlk(fd, F_SETLK, F_WRLCK, 0, 0);

	/* no close: it would end the process's locks on the file */
	return (void *)r;
}

START_TEST(threads_of_one_process)
{
	int fd = open_file("th");
	pthread_t t;
	void *res;

	ck_assert_int_eq(setlk(fd, F_SETLK, F_WRLCK, 0, 0), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, posix_sharer, (void *)"th"),
			 0);
	ck_assert_int_eq(pthread_join(t, &res), 0);
	ck_assert_int_eq((intptr_t)res, 0);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_UNLCK, 0, 0), 0);
	ck_assert_int_eq(setlk(fd, F_OFD_SETLK, F_WRLCK, 0, 0), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, ofd_waiter, (void *)"th"), 0);
	usleep(300 * 1000);
	ck_assert_int_eq(atomic_load(&thread_done), 0);
	ck_assert_int_eq(setlk(fd, F_OFD_SETLK, F_UNLCK, 0, 0), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(atomic_load(&thread_done), 1);
	close(fd);
}
END_TEST

/* lockf is glibc's over its own fcntl: made here from ours. */
START_TEST(lockf_excludes)
{
	int fd = open_file("lf");
	pid_t pid;

	ck_assert_int_eq(lockf(fd, F_TLOCK, 10), 0);
	ck_assert_int_eq(lockf(fd, F_TEST, 10), 0); /* ours */
	pid = fork();
	if (pid == 0) {
		int f = open_file("lf");

		EXPECT(lockf(f, F_TEST, 10) == -1 && errno == EACCES);
		EXPECT(lockf(f, F_TLOCK, 0) == -1 &&
		       (errno == EAGAIN || errno == EACCES));
		EXPECT(lseek(f, 10, SEEK_SET) == 10);
		EXPECT(lockf(f, F_TLOCK, 5) == 0); /* from the offset */
		_exit(0);
	}
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_int_eq(lockf(fd, F_ULOCK, 10), 0);
	ck_assert_int_eq(lockf(fd, 99, 10), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(fd);
}
END_TEST

/* A client cannot make the provider hold unbounded locks: ENOLCK. */
START_TEST(lock_flood_is_capped)
{
	int fd = open_file("cap");
	int i, r = 0;

	for (i = 0;
	     i < 5000 && (r = setlk(fd, F_SETLK, F_WRLCK, 2 * i, 1)) == 0; i++)
		;
	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(errno, ENOLCK);
	ck_assert_int_eq(i, 4096);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_UNLCK, 0, 0), 0);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_WRLCK, 0, 1), 0);
	close(fd);
}
END_TEST

/* sqlite ------------------------------------------------------------------ */

/*
 * The acceptance: several sqlite3 processes write to one database in the
 * scheme (rollback journal, the default), with .timeout; every row
 * arrives and the database is sound.
 */
static void
sqlite_writers(const char *db, int writers, int rows)
{
	char script[2048], expect[64];
	char *argv[] = {(char *)"sh", (char *)"-c", script, NULL};
	static struct run_result r;

	if (system("command -v sqlite3 >/dev/null 2>&1") != 0)
		ck_abort_msg("sqlite3 is not installed: tools/install-deps.sh");
	snprintf(
	    script, sizeof(script),
	    "sqlite3 %s 'CREATE TABLE t(w INTEGER, i INTEGER);' || exit 1; "
	    "for w in $(seq %d); do "
	    "  { { echo .timeout 30000; echo .bail on; "
	    "      for i in $(seq %d); do "
	    "        echo \"INSERT INTO t VALUES($w, $i);\"; done; } | "
	    "    sqlite3 %s || echo \"writer $w failed\" >&2; } & "
	    "done; wait; "
	    "sqlite3 %s 'SELECT count(*) FROM t; PRAGMA integrity_check;'",
	    db, writers, rows, db, db);
	h_run(&r, true, NULL, 200, argv);
	snprintf(expect, sizeof(expect), "%d\nok\n", writers * rows);
	ck_assert_msg(
	    r.status == 0 && strcmp(r.out, expect) == 0 && r.errlen == 0,
	    "%s: status %d, out \"%s\", err %s", db, r.status, r.out, r.err);
}

START_TEST(sqlite_writers_lose_no_row)
{
	char db[256];

	/* in the scheme */
	sqlite_writers("/scheme/" S "/w.db", 4, 200);
	/* the same run on a disk directory, for comparison */
	snprintf(db, sizeof(db), "%s/w.db", h_dir());
	sqlite_writers(db, 4, 200);
	unlink(db);
}
END_TEST
/*
 * A provider that gives no file identity (scheme-hello: st_ino 0) cannot
 * have locks that exclude the file's other opens: they fail, ENOLCK, on
 * every form, and a close still succeeds.  Silently granting both would
 * be the bug this suite exists for.
 */
START_TEST(no_identity_is_enolck)
{
	pid_t hello = h_start_provider(TEST_HELLO, "lkhello");
	int a = open("lkhello:x", O_RDONLY), b = open("lkhello:x", O_RDONLY);

	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, 0);
	ck_assert_int_eq(flock(a, LOCK_SH | LOCK_NB), -1);
	ck_assert_int_eq(errno, ENOLCK);
	ck_assert_int_eq(setlk(b, F_SETLK, F_RDLCK, 0, 0), -1);
	ck_assert_int_eq(errno, ENOLCK);
	ck_assert_int_eq(setlk(b, F_OFD_SETLK, F_RDLCK, 0, 0), -1);
	ck_assert_int_eq(errno, ENOLCK);
	ck_assert_int_eq(close(b), 0);
	ck_assert_int_eq(close(a), 0);
	h_stop(hello);
}
END_TEST

/* Locks the provider keeps -------------------------------------------- */

/* A .stats field of SO, once it says want (a release may come late). */
static long
stat_becomes(const char *key, long want)
{
	long v = -1;

	for (int i = 0; i < 50 && (v = h_stat_field(SO, key)) != want; i++)
		h_sleep_ms(100);
	return v;
}

/*
 * The provider holds the locks (its .stats counts them, where the
 * system's table would leave it at 0), and hears every release: a
 * close of any fd of the file (the process's POSIX locks on it), the
 * end of a description (its OFD and flock locks).
 */
START_TEST(provider_keeps_them)
{
	int fd = open_file("pk"), other = open_file("pk"), third;
	long rel;

	ck_assert_int_eq(h_stat_field(SO, "locks "), 0);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_WRLCK, 0, 10), 0);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_UNLCK, 3, 2), 0); /* a split */
	ck_assert_int_eq(flock(other, LOCK_SH), 0);
	ck_assert_int_eq(h_stat_field(SO, "locks "), 3);
	/*
	 * Exactly: under valgrind too (no pidfd_open), where the end of a
	 * process's last channel stands for its own, each cat that reads
	 * .stats here once added a release of its locks, which it had none.
	 */
	rel = h_stat_field(SO, "releases ");
	third = open_file("pk");
	ck_assert_int_eq(close(third), 0); /* told before it returns */
	ck_assert_int_eq(h_stat_field(SO, "locks "), 1);
	ck_assert_int_eq(h_stat_field(SO, "releases "), rel + 1);
	/* our POSIX locks on the file again, and the description's end */
	ck_assert_int_eq(close(other), 0);
	ck_assert_int_eq(stat_becomes("locks ", 0), 0);
	ck_assert_int_eq(stat_becomes("releases ", rel + 3), rel + 3);
	close(fd);
}
END_TEST

/*
 * F_GETLK reports what the provider says, and a wait given up (EINTR)
 * is withdrawn from it: when the holder goes, the lock is nobody's.
 */
START_TEST(provider_wait_given_up)
{
	int fd = open_file("pg"), probe = open_file("pg");
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
	struct duo d;
	struct flock fl;
	pid_t pid;

	duo_init(&d);
	pid = holder(&d, "pg", F_SETLK);
	fl = getlk(fd, F_GETLK, 2, 1);
	ck_assert_int_eq(fl.l_type, F_WRLCK);
	ck_assert_int_eq(fl.l_pid, pid);
	ck_assert_int_eq(fl.l_start, 0);
	ck_assert_int_eq(fl.l_len, 10);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	alarm(1);
	ck_assert_int_eq(setlk(fd, F_SETLKW, F_WRLCK, 0, 0), -1);
	ck_assert_int_eq(errno, EINTR);
	ck_assert_int_eq(h_stat_field(SO, "locks "), 1); /* the holder's */
	say(d.down[1]);
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_int_eq(stat_becomes("locks ", 0), 0);
	ck_assert_int_eq(getlk(probe, F_OFD_GETLK, 0, 0).l_type, F_UNLCK);
	close(probe);
	close(fd);
}
END_TEST

/* Without --own-locks, scheme-memfs answers SYS_LOCK -ENOSYS: ours. */
START_TEST(unserved_locks_are_the_systems)
{
	int fd = open_file("us");
	struct duo d;
	pid_t pid;

	duo_init(&d);
	pid = holder(&d, "us", F_OFD_SETLK);
	ck_assert_int_eq(setlk(fd, F_SETLK, F_RDLCK, 0, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(h_stat_field(S, "locks "), -1); /* it keeps none */
	say(d.down[1]);
	ck_assert_int_eq(reap(pid), 0);
	close(fd);
}
END_TEST

static Suite *
locks_suite(void)
{
	Suite *s = suite_create("locks");
	TCase *tc = tcase_create("locks");
	TCase *sq = tcase_create("sqlite");
	TCase *own = tcase_create("provider");

	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_test(tc, posix_excludes_processes);
	tcase_add_test(tc, flock_excludes_descriptions);
	tcase_add_test(tc, flock_excludes_processes);
	tcase_add_test(tc, ranges_split_merge_whence);
	tcase_add_test(tc, posix_released_by_any_close);
	tcase_add_test(tc, released_on_exit);
	tcase_add_test(tc, flock_ends_with_the_close_on_one_cpu);
	tcase_add_test(tc, released_on_sigkill);
	tcase_add_test(tc, released_before_the_wait_returns);
	tcase_add_test(tc, setlkw_waits_then_proceeds);
	tcase_add_test(tc, eintr_ends_the_wait);
	tcase_add_test(tc, sa_restart_keeps_waiting);
	tcase_add_test(tc, killed_waiter_takes_nothing);
	tcase_add_test(tc, edeadlk_between_two_processes);
	tcase_add_test(tc, ofd_per_description_across_fork);
	tcase_add_test(tc, threads_of_one_process);
	tcase_add_test(tc, lockf_excludes);
	tcase_add_test(tc, lock_flood_is_capped);
	tcase_add_test(tc, no_identity_is_enolck);
	tcase_add_test(tc, unserved_locks_are_the_systems);
	suite_add_tcase(s, tc);
	tcase_set_timeout(own, 30);
	tcase_add_unchecked_fixture(own, start_own, h_world_stop);
	tcase_add_test(own, provider_keeps_them);
	tcase_add_test(own, provider_wait_given_up);
	tcase_add_test(own, posix_excludes_processes);
	tcase_add_test(own, flock_excludes_descriptions);
	tcase_add_test(own, flock_excludes_processes);
	tcase_add_test(own, posix_released_by_any_close);
	tcase_add_test(own, released_on_exit);
	tcase_add_test(own, flock_ends_with_the_close_on_one_cpu);
	tcase_add_test(own, released_on_sigkill);
	tcase_add_test(own, released_before_the_wait_returns);
	tcase_add_test(own, setlkw_waits_then_proceeds);
	tcase_add_test(own, eintr_ends_the_wait);
	tcase_add_test(own, sa_restart_keeps_waiting);
	tcase_add_test(own, killed_waiter_takes_nothing);
	tcase_add_test(own, ofd_per_description_across_fork);
	tcase_add_test(own, threads_of_one_process);
	tcase_add_test(own, lockf_excludes);
	suite_add_tcase(s, own);
	tcase_set_timeout(sq, 240);
	tcase_add_unchecked_fixture(sq, start_world, h_world_stop);
	tcase_add_test(sq, sqlite_writers_lose_no_row);
	suite_add_tcase(s, sq);
	return s;
}

int
main(void)
{
	return h_main(locks_suite());
}

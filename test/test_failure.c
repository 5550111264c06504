/*
 * test_failure.c - dying and misbehaving peers.
 *
 * Runs under the preload.  Providers and clients are killed with SIGKILL
 * at the worst moment (while a request is outstanding); a provider
 * answers with ids nobody asked and sizes nobody wanted; the broker dies.
 * Nobody may hang, and every error must be the one the contract names.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"

static void
start_broker(void)
{
	h_world_start(NULL);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Results a child reports through a pipe: errno values, or 0. */
struct report {
	int errs[4];
	double woke;
};

static int
wait_report(int fd, struct report *r, int seconds)
{
	struct pollfd p = {fd, POLLIN, 0};

	if (poll(&p, 1, seconds * 1000) != 1)
		return -1;
	return read(fd, r, sizeof(*r)) == sizeof(*r) ? 0 : -1;
}

static void
signal_ready(int fd)
{
	char c = 'r';

	if (write(fd, &c, 1) != 1)
		_exit(3);
}

static void
wait_ready(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c;

	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	ck_assert_int_eq(read(fd, &c, 1), 1);
}

static long
handles_of(const char *scheme)
{
	return h_stat_field(scheme, "handles ");
}

/*
 * A client blocked on a provider that dies wakes at once with EIO; later
 * calls on that fd say EBADF; the name no longer opens as a scheme.
 */
START_TEST(provider_killed_while_client_waits)
{
	pid_t memfs = h_start_memfs("kp"), pid;
	int ready[2], res[2];
	struct report r;
	double killed;

	ck_assert_int_gt(memfs, 0);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(res), 0);
	pid = fork();
	if (pid == 0) {
		struct report out = {{0}, 0};
		char buf[8];
		int fd = open("kp:fifo", O_RDONLY);

		if (fd < 0)
			_exit(2);
		signal_ready(ready[1]);
		if (read(fd, buf, sizeof(buf)) < 0)
			out.errs[0] = errno;
		out.woke = now();
		if (read(fd, buf, sizeof(buf)) < 0)
			out.errs[1] = errno;
		if (open("kp:world", O_RDONLY) < 0)
			out.errs[2] = errno;
		_exit(write(res[1], &out, sizeof(out)) == sizeof(out) ? 0 : 4);
	}
	wait_ready(ready[0]);
	h_sleep_ms(200); /* the read is waiting in the provider now */
	killed = now();
	kill(memfs, SIGKILL);
	waitpid(memfs, NULL, 0);
	ck_assert_int_eq(wait_report(res[0], &r, 5), 0);
	ck_assert_int_eq(r.errs[0], EIO);
	ck_assert_int_eq(r.errs[1], EBADF);
	ck_assert_int_eq(r.errs[2], ENOENT); /* an ordinary path now */
	ck_assert_msg(r.woke - killed < 1.0, "woke %.3f s after the kill",
		      r.woke - killed);
	ck_assert_int_eq(h_wait_exit(pid, 5), 0);
}
END_TEST

/*
 * A client killed in the middle of a request: its description still gets
 * SYS_CLOSE, once, and the provider goes on serving others.
 */
START_TEST(client_killed_mid_request)
{
	pid_t memfs = h_start_memfs("kc"), pid;
	int ready[2];
	long base;

	ck_assert_int_gt(memfs, 0);
	base = handles_of("kc");
	ck_assert_int_ge(base, 0);
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	if (pid == 0) {
		char buf[8];
		int fd = open("kc:fifo", O_RDONLY);

		signal_ready(ready[1]);
		_exit(read(fd, buf, sizeof(buf)) < 0 ? 1 : 0); /* blocks */
	}
	wait_ready(ready[0]);
	h_sleep_ms(200);
	ck_assert_int_eq(handles_of("kc"), base + 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (int i = 0; i < 200 && handles_of("kc") != base; i++)
		h_sleep_ms(10);
	ck_assert_int_eq(handles_of("kc"), base);
	/* Still serving, and the data a dead reader was waiting for is
	 * given to the next one. */
	int fd = open("kc:world", O_RDONLY);
	char buf[16];
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 14);
	close(fd);
	ck_assert_int_eq(kill(memfs, 0), 0);
	ck_assert_int_eq(h_stop(memfs), 0);
}
END_TEST

static int
info_count(const char *scheme, const char *key)
{
	char *argv[] = {(char *)TEST_SCHEMECTL, (char *)"info", NULL};
	struct run_result *r = malloc(sizeof(*r));
	char line[64], *p;
	int v = -1;

	h_run(r, false, NULL, 5, argv);
	snprintf(line, sizeof(line), "scheme %s ", scheme);
	p = strstr(r->out, line);
	if (p != NULL && (p = strstr(p, key)) != NULL)
		v = atoi(p + strlen(key));
	free(r);
	return v;
}

/*
 * A provider that answers with an unknown id and with more bytes than
 * asked: both are dropped and counted; the client gets EIO for the bad
 * size; the provider's scheme keeps working.
 */
START_TEST(bad_answers_dropped_and_counted)
{
	struct scheme_packet p, bogus = {.id = 0x123456789, .a = 0};
	int sfd = open(":rogue", O_CREAT | O_RDWR, 0600), res[2], i;
	struct report r;
	pid_t pid;

	ck_assert_int_ge(sfd, 0);
	ck_assert_int_eq(pipe(res), 0);
	pid = fork();
	if (pid == 0) {
		struct report out = {{0}, 0};
		char buf[4];
		int fd = open("rogue:x", O_RDWR);

		if (fd < 0)
			_exit(2);
		if (read(fd, buf, sizeof(buf)) < 0)
			out.errs[0] = errno;
		out.errs[1] = (int)read(fd, buf, sizeof(buf));
		_exit(write(res[1], &out, sizeof(out)) == sizeof(out) ? 0 : 4);
	}
	ck_assert_int_eq(read(sfd, &p, sizeof(p)), (ssize_t)sizeof(p));
	ck_assert_uint_eq(p.a, SYS_OPEN);
	ck_assert_uint_eq(p.pid, (uint64_t)pid); /* the caller, per kernel */
	ck_assert_uint_eq(p.uid, geteuid());
	ck_assert_uint_eq(p.gid, getegid());
	ck_assert_uint_eq(p.d & O_ACCMODE, O_RDWR);
	ck_assert_str_eq((char *)(uintptr_t)p.b, "x");
	p.a = 1;
	ck_assert_int_eq(write(sfd, &p, sizeof(p)), (ssize_t)sizeof(p));
	ck_assert_int_eq(write(sfd, &bogus, sizeof(bogus)),
			 (ssize_t)sizeof(bogus)); /* never fatal */
	ck_assert_int_eq(read(sfd, &p, sizeof(p)), (ssize_t)sizeof(p));
	ck_assert_uint_eq(p.a, SYS_READ);
	ck_assert_uint_eq(p.d, 4);
	p.a = 100;
	ck_assert_int_eq(write(sfd, &p, sizeof(p)), (ssize_t)sizeof(p));
	ck_assert_int_eq(read(sfd, &p, sizeof(p)), (ssize_t)sizeof(p));
	ck_assert_uint_eq(p.a, SYS_READ);
	memcpy((void *)(uintptr_t)p.c, "ok", 2);
	p.a = 2;
	ck_assert_int_eq(write(sfd, &p, sizeof(p)), (ssize_t)sizeof(p));
	ck_assert_int_eq(wait_report(res[0], &r, 5), 0);
	ck_assert_int_eq(r.errs[0], EIO);
	ck_assert_int_eq(r.errs[1], 2);
	for (i = 0; i < 100 && info_count("rogue", "dropped_badsize ") != 1;
	     i++)
		h_sleep_ms(20);
	ck_assert_int_eq(info_count("rogue", "dropped_badsize "), 1);
	ck_assert_int_eq(info_count("rogue", "dropped_unknown "), 1);
	ck_assert_int_eq(h_wait_exit(pid, 5), 0);
	close(sfd);
}
END_TEST

/* Packets must be whole: a short buffer is EINVAL, as on Redox. */
START_TEST(provider_read_needs_whole_packets)
{
	char small[55];
	int sfd = open(":shorty", O_CREAT | O_RDWR | O_NONBLOCK, 0600);

	ck_assert_int_ge(sfd, 0);
	ck_assert_int_eq(read(sfd, small, sizeof(small)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(write(sfd, small, sizeof(small)), -1);
	ck_assert_int_eq(errno, EINVAL);
	struct scheme_packet p;
	ck_assert_int_eq(read(sfd, &p, sizeof(p)), -1);
	ck_assert_int_eq(errno, EAGAIN); /* O_NONBLOCK and nothing queued */
	close(sfd);
}
END_TEST

/* The scheme fd works in poll(): readable exactly while requests wait. */
START_TEST(provider_fd_polls)
{
	struct scheme_packet p;
	struct pollfd pf;
	int sfd = open(":polled", O_CREAT | O_RDWR | O_NONBLOCK, 0600), st;
	pid_t pid;

	ck_assert_int_ge(sfd, 0);
	pf = (struct pollfd){sfd, POLLIN, 0};
	ck_assert_int_eq(poll(&pf, 1, 100), 0);
	pid = fork();
	if (pid == 0)
		_exit(open("polled:x", O_RDONLY) < 0 && errno == ENOENT ? 0 : 1);
	ck_assert_int_eq(poll(&pf, 1, 5000), 1);
	ck_assert(pf.revents & POLLIN);
	for (int i = 0; i < 50; i++) { /* channel set-up wakes us too */
		if (read(sfd, &p, sizeof(p)) == sizeof(p))
			break;
		ck_assert_int_eq(errno, EAGAIN);
		ck_assert_int_eq(poll(&pf, 1, 5000), 1);
	}
	ck_assert_uint_eq(p.a, SYS_OPEN);
	p.a = (uint64_t)-ENOENT;
	ck_assert_int_eq(write(sfd, &p, sizeof(p)), (ssize_t)sizeof(p));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	/* The client's channel closing wakes us once; a read tidies up. */
	ck_assert_int_eq(read(sfd, &p, sizeof(p)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(poll(&pf, 1, 100), 0); /* nothing waits now */
	close(sfd);
}
END_TEST

/*
 * A provider that closes its scheme fd removes the scheme: its clients'
 * fds then fail with EBADF, and the name is free again.
 */
START_TEST(provider_closes_scheme)
{
	struct scheme_packet p;
	int sfd = open(":closer", O_CREAT | O_RDWR, 0600), ready[2], res[2];
	int go[2];
	struct report r;
	pid_t pid;

	ck_assert_int_ge(sfd, 0);
	ck_assert(h_scheme_exists("closer"));
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(res), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	if (pid == 0) {
		struct report out = {{0}, 0};
		char c;
		int fd = open("closer:x", O_RDONLY);

		if (fd < 0)
			_exit(2);
		signal_ready(ready[1]);
		if (read(go[0], &c, 1) != 1) /* until the scheme is gone */
			_exit(5);
		if (read(fd, &c, 1) < 0)
			out.errs[0] = errno;
		_exit(write(res[1], &out, sizeof(out)) == sizeof(out) ? 0 : 4);
	}
	ck_assert_int_eq(read(sfd, &p, sizeof(p)), (ssize_t)sizeof(p));
	p.a = 3;
	ck_assert_int_eq(write(sfd, &p, sizeof(p)), (ssize_t)sizeof(p));
	wait_ready(ready[0]);
	close(sfd);
	for (int i = 0; i < 100 && h_scheme_exists("closer"); i++)
		h_sleep_ms(10);
	ck_assert(!h_scheme_exists("closer"));
	signal_ready(go[1]);
	ck_assert_int_eq(wait_report(res[0], &r, 5), 0);
	ck_assert_int_eq(r.errs[0], EBADF);
	ck_assert_int_eq(h_wait_exit(pid, 5), 0);
	sfd = open(":closer", O_CREAT | O_RDWR, 0600); /* free again */
	ck_assert_int_ge(sfd, 0);
	close(sfd);
}
END_TEST

/*
 * The broker dies: providers' reads end (the scheme is gone), a client
 * waiting on one wakes with an error, and names open as ordinary paths.
 */
START_TEST(broker_killed)
{
	pid_t memfs = h_start_memfs("kb"), pid;
	int ready[2], res[2];
	struct report r;

	ck_assert_int_gt(memfs, 0);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(res), 0);
	pid = fork();
	if (pid == 0) {
		struct report out = {{0}, 0};
		char buf[8];
		int fd = open("kb:fifo", O_RDONLY);

		if (fd < 0)
			_exit(2);
		signal_ready(ready[1]);
		if (read(fd, buf, sizeof(buf)) < 0)
			out.errs[0] = errno;
		if (open("kb:world", O_RDONLY) < 0)
			out.errs[1] = errno;
		_exit(write(res[1], &out, sizeof(out)) == sizeof(out) ? 0 : 4);
	}
	wait_ready(ready[0]);
	h_sleep_ms(200);
	kill(h_broker, SIGKILL);
	waitpid(h_broker, NULL, 0);
	h_broker = -1;
	ck_assert_int_eq(wait_report(res[0], &r, 5), 0);
	ck_assert_int_eq(r.errs[0], EIO);
	ck_assert_int_eq(r.errs[1], ENOENT);
	ck_assert_int_eq(h_wait_exit(memfs, 5), 0); /* read() gave 0 */
	ck_assert_int_eq(h_wait_exit(pid, 5), 0);
}
END_TEST

static Suite *
failure_suite(void)
{
	Suite *s = suite_create("failure");
	TCase *tc = tcase_create("peers");

	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, start_broker, h_world_stop);
	tcase_add_test(tc, provider_killed_while_client_waits);
	tcase_add_test(tc, client_killed_mid_request);
	tcase_add_test(tc, bad_answers_dropped_and_counted);
	tcase_add_test(tc, provider_read_needs_whole_packets);
	tcase_add_test(tc, provider_fd_polls);
	tcase_add_test(tc, provider_closes_scheme);
	suite_add_tcase(s, tc);
	tc = tcase_create("broker");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, start_broker, h_world_stop);
	tcase_add_test(tc, broker_killed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(failure_suite());
}

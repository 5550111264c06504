/*
 * bench_events.c - event delivery and deadline lateness (see bench.c).
 *
 * events: a provider's SYS_FEVENT post waking a consumer blocked in
 * read() on an event: queue, against a pipe write waking a process
 * blocked in epoll_wait().  timers: how late a time:4 deadline's event
 * arrives on an event: queue, against a timerfd read directly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "bench.h"

/* The baseline: a pipe write wakes a process blocked in epoll_wait. */
static double
run_pipe(void)
{
	int data[2], go[2], ep, i, n = bench.iters;
	struct epoll_event ev = {.events = EPOLLIN};
	pid_t pid;
	char c;

	if (pipe(data) < 0 || pipe(go) < 0)
		bench_die("pipe");
	pid = fork();
	if (pid == 0) { /* the writer */
		for (i = 0; i < n; i++) {
			if (read(go[0], &c, 1) != 1)
				_exit(1);
			sh->t0 = bench_now();
			if (write(data[1], "x", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	ep = epoll_create1(0);
	epoll_ctl(ep, EPOLL_CTL_ADD, data[0], &ev);
	for (i = 0; i < n; i++) {
		if (write(go[1], "g", 1) != 1)
			bench_die("write");
		if (epoll_wait(ep, &ev, 1, -1) != 1)
			bench_die("epoll_wait");
		sh->lat[i] = bench_now() - sh->t0;
		if (read(data[0], &c, 1) != 1)
			bench_die("read");
	}
	waitpid(pid, NULL, 0);
	close(ep);
	close(data[0]);
	close(data[1]);
	close(go[0]);
	close(go[1]);
	return bench_median_us(sh->lat, n);
}

/*
 * The provider's part: a scheme with one handle; each "go" on the pipe
 * becomes a post of EVENT_READ for it.  Requests are answered as they
 * come (the open, SYS_FEVENT at registration, the close).
 */
static void
provider(int go)
{
	struct scheme_packet p, post = {.a = SYS_FEVENT, .c = EVENT_READ};
	int sfd = open(":benchev", O_CREAT | O_RDWR | O_NONBLOCK, 0600);
	struct pollfd pf[2] = {{sfd, POLLIN, 0}, {go, POLLIN, 0}};
	char c;

	if (sfd < 0)
		bench_die("open :benchev");
	sh->ready = 1;
	for (;;) {
		if (poll(pf, 2, -1) < 0)
			continue;
		while (read(sfd, &p, sizeof(p)) == sizeof(p)) {
			if (p.a == SYS_OPEN)
				p.a = 0;
			else if (p.a == SYS_FEVENT)
				p.a = 0; /* nothing ready yet */
			else if (p.a == SYS_CLOSE)
				_exit(0);
			else
				p.a = (uint64_t)-EAGAIN;
			if (write(sfd, &p, sizeof(p)) < 0)
				_exit(1);
		}
		if (pf[1].revents) {
			if (read(go, &c, 1) != 1)
				_exit(0);
			sh->t0 = bench_now();
			if (write(sfd, &post, sizeof(post)) < 0)
				_exit(1);
		}
	}
}

/* The consumer: blocked in read() on an event: queue. */
static double
run_event(void)
{
	struct scheme_event ev;
	int go[2], q, fd = -1, i;
	pid_t pid;

	if (pipe(go) < 0)
		bench_die("pipe");
	sh->ready = 0;
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		provider(go[0]);
	}
	close(go[0]);
	while (!sh->ready)
		usleep(1000);
	for (i = 0;
	     i < 500 && (fd = open("benchev:x", O_RDONLY | O_NONBLOCK)) < 0;
	     i++)
		usleep(1000);
	q = open("event:", O_RDWR);
	if (fd < 0 || q < 0)
		bench_die("open benchev:x or event:");
	ev = (struct scheme_event){(uint64_t)fd, EVENT_READ, 1};
	if (write(q, &ev, sizeof(ev)) != sizeof(ev))
		bench_die("registering");
	for (i = 0; i < bench.iters; i++) {
		if (write(go[1], "g", 1) != 1)
			bench_die("write");
		if (read(q, &ev, sizeof(ev)) != sizeof(ev))
			bench_die("read event:");
		sh->lat[i] = bench_now() - sh->t0;
	}
	close(fd);
	close(q);
	close(go[1]);
	waitpid(pid, NULL, 0);
	return bench_median_us(sh->lat, bench.iters);
}

void
bench_events(void)
{
	double pipe_us[BENCH_NPLACE][16], ev_us[BENCH_NPLACE][16];
	int pl, r, reps = bench.repeats < 16 ? bench.repeats : 16;

	for (r = 0; r < reps; r++)
		for (pl = 0; pl < BENCH_NPLACE; pl++) {
			bench_place(pl);
			pipe_us[pl][r] = run_pipe();
			ev_us[pl][r] = run_event();
		}
	bench_place(BENCH_UNPINNED);
	printf("\nevent delivery: post to wake-up, median of %d x %d\n", reps,
	       bench.iters);
	printf("  %-34s %10s %10s\n", "", "one CPU", "unpinned");
	for (pl = 0; pl < BENCH_NPLACE; pl++) {
		pipe_us[pl][0] = bench_median_of(pipe_us[pl], reps);
		ev_us[pl][0] = bench_median_of(ev_us[pl], reps);
	}
	printf("  %-34s %8.1f us %8.1f us\n", "pipe write -> epoll_wait",
	       pipe_us[0][0], pipe_us[1][0]);
	printf("  %-34s %8.1f us %8.1f us\n", "SYS_FEVENT post -> event: read",
	       ev_us[0][0], ev_us[1][0]);
	printf("  %-34s %9.2fx %9.2fx\n", "ratio", ev_us[0][0] / pipe_us[0][0],
	       ev_us[1][0] / pipe_us[1][0]);
}

/* Lateness of deadlines 1 ms ahead, in ns into sh->lat. */
static void
run_timerfd(int n)
{
	int t = timerfd_create(CLOCK_MONOTONIC, 0), i;
	struct itimerspec it = {{0, 0}, {0, 0}};
	uint64_t dl, x;

	if (t < 0)
		bench_die("timerfd_create");
	for (i = 0; i < n; i++) {
		dl = bench_now() + 1000000;
		it.it_value.tv_sec = (time_t)(dl / 1000000000u);
		it.it_value.tv_nsec = (long)(dl % 1000000000u);
		if (timerfd_settime(t, TFD_TIMER_ABSTIME, &it, NULL) < 0 ||
		    read(t, &x, sizeof(x)) != sizeof(x))
			bench_die("timerfd");
		sh->lat[i] = bench_now() - dl;
	}
	close(t);
}

static void
run_time_scheme(int n)
{
	int t = open("time:4", O_RDWR), q = open("event:", O_RDWR), i;
	struct scheme_event ev = {(uint64_t)t, EVENT_READ, 1};
	struct scheme_timespec ts;
	uint64_t dl;

	if (t < 0 || q < 0 || write(q, &ev, sizeof(ev)) != sizeof(ev))
		bench_die("time:4 or event:");
	for (i = 0; i < n; i++) {
		dl = bench_now() + 1000000;
		ts.tv_sec = (int64_t)(dl / 1000000000u);
		ts.tv_nsec = (int32_t)(dl % 1000000000u);
		if (write(t, &ts, sizeof(ts)) != sizeof(ts) ||
		    read(q, &ev, sizeof(ev)) != sizeof(ev))
			bench_die("time: deadline");
		sh->lat[i] = bench_now() - dl;
		if (read(t, &ts, sizeof(ts)) != sizeof(ts)) /* the time, too */
			bench_die("time: read");
	}
	close(q);
	close(t);
}

static uint64_t
max_u64(const uint64_t *v, int n)
{
	uint64_t m = 0;

	for (int i = 0; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

void
bench_timers(void)
{
	int n = bench.iters / 10 > 20 ? bench.iters / 10 : 20, pl;
	double med[2][2], worst[2][2];

	for (pl = 0; pl < BENCH_NPLACE; pl++) {
		bench_place(pl);
		run_timerfd(n);
		worst[0][pl] = (double)max_u64(sh->lat, n) / 1e3;
		med[0][pl] = bench_median_us(sh->lat, n);
		run_time_scheme(n);
		worst[1][pl] = (double)max_u64(sh->lat, n) / 1e3;
		med[1][pl] = bench_median_us(sh->lat, n);
	}
	bench_place(BENCH_UNPINNED);
	printf("\ndeadline lateness: 1 ms ahead, %d deadlines, "
	       "median / worst\n",
	       n);
	printf("  %-34s %20s %20s\n", "", "one CPU", "unpinned");
	printf("  %-34s %7.1f / %7.1f us %7.1f / %7.1f us\n",
	       "timerfd, read directly", med[0][0], worst[0][0], med[0][1],
	       worst[0][1]);
	printf("  %-34s %7.1f / %7.1f us %7.1f / %7.1f us\n",
	       "time:4 deadline -> event: read", med[1][0], worst[1][0],
	       med[1][1], worst[1][1]);
	printf("  %-34s %18.2fx %19.2fx\n", "ratio (medians)",
	       med[1][0] / med[0][0], med[1][1] / med[0][1]);
}

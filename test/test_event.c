/*
 * test_event.c - event: queues, and scheme fds in poll, select and epoll.
 *
 * Runs under the preload against scheme-memfs (files, the deferred
 * `fifo`, the EAGAIN-and-post `stream`).  Every wait is bounded.
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
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"

#define S "tv"

static void
start_world(void)
{
	h_world_start(S);
}

/* Each test starts with the shared stream empty. */
static void
drain_stream(void)
{
	int s = open(S ":stream", O_RDONLY | O_NONBLOCK);
	char buf[4096];

	ck_assert_int_ge(s, 0);
	while (read(s, buf, sizeof(buf)) > 0)
		;
	close(s);
}

static int
queue(int flags)
{
	int q = open("event:", O_RDWR | flags);

	ck_assert_msg(q >= 0, "open event: %s", strerror(errno));
	return q;
}

static void
reg(int q, int fd, uint64_t flags, uint64_t token)
{
	struct scheme_event ev = {(uint64_t)fd, flags, token};

	ck_assert_int_eq(write(q, &ev, sizeof(ev)), (ssize_t)sizeof(ev));
}

/* Events now, waiting at most ms (through poll on the queue fd). */
static int
events(int q, struct scheme_event *ev, int max, int ms)
{
	struct pollfd p = {q, POLLIN, 0};
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = read(q, ev, (size_t)max * sizeof(*ev));
	if (n < 0 && errno == EAGAIN)
		return 0;
	ck_assert_int_ge(n, 0);
	ck_assert_int_eq(n % (ssize_t)sizeof(*ev), 0);
	return (int)(n / (ssize_t)sizeof(*ev));
}

/* Data into the stream from another process, after a delay. */
static pid_t
produce_later(const char *path, const char *data, int delay_ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		int w;

		h_sleep_ms(delay_ms);
		w = open(path, O_WRONLY);
		_exit(w >= 0 && write(w, data, strlen(data)) ==
				    (ssize_t)strlen(data)
			  ? 0
			  : 1);
	}
	return pid;
}

static void
produce(const char *path, const char *data)
{
	ck_assert_int_eq(h_wait_exit(produce_later(path, data, 0), 5), 0);
}

/* event: ------------------------------------------------------------- */

START_TEST(queue_reports_plain_fd_edges)
{
	struct itimerspec soon = {{0, 0}, {0, 50 * 1000 * 1000}};
	struct scheme_event ev[4];
	int q = queue(O_NONBLOCK), p[2], sv[2], t;

	ck_assert_int_eq(pipe(p), 0);
	reg(q, p[0], EVENT_READ, 7);
	ck_assert_int_eq(read(q, ev, sizeof(ev)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(events(q, ev, 4, 1000), 1);
	ck_assert_uint_eq(ev[0].id, (uint64_t)p[0]);
	ck_assert_uint_eq(ev[0].flags, EVENT_READ);
	ck_assert_uint_eq(ev[0].data, 7);
	ck_assert_int_eq(events(q, ev, 4, 100), 0); /* an edge, once */
	ck_assert_int_eq(write(p[1], "y", 1), 1);
	ck_assert_int_eq(events(q, ev, 4, 1000), 1); /* a new edge */
	/* A socket and a timerfd in the same queue. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	reg(q, sv[0], EVENT_READ, 11);
	reg(q, t, EVENT_READ, 12);
	ck_assert_int_eq(timerfd_settime(t, 0, &soon, NULL), 0);
	ck_assert_int_eq(events(q, ev, 4, 2000), 1);
	ck_assert_uint_eq(ev[0].data, 12);
	ck_assert_int_eq(write(sv[1], "s", 1), 1);
	ck_assert_int_eq(events(q, ev, 4, 1000), 1);
	ck_assert_uint_eq(ev[0].data, 11);
	close(sv[0]);
	close(sv[1]);
	close(t);
	close(p[0]);
	close(p[1]);
	close(q);
}
END_TEST

/*
 * A provider of our own that is not writable until it says so: poll's
 * POLLOUT and an event: queue's EVENT_WRITE come with its EVENT_WRITE
 * post, not before.
 */
static void
serve_until_post(int sfd, int delay_ms, int packets_before)
{
	struct scheme_packet p,
	    post = {.a = SYS_FEVENT, .b = 1, .c = EVENT_WRITE};
	struct pollfd pf = {sfd, POLLIN, 0};
	int served = 0;

	while (served < packets_before && poll(&pf, 1, 5000) == 1) {
		if (read(sfd, &p, sizeof(p)) != sizeof(p))
			continue;
		p.a = p.a == SYS_OPEN ? 1 : 0; /* SYS_FEVENT: nothing ready */
		ck_assert_int_eq(write(sfd, &p, sizeof(p)), (ssize_t)sizeof(p));
		served++;
	}
	h_sleep_ms(delay_ms);
	ck_assert_int_eq(write(sfd, &post, sizeof(post)),
			 (ssize_t)sizeof(post));
}

START_TEST(write_readiness_follows_posts)
{
	int sfd = open(":wready", O_CREAT | O_RDWR | O_NONBLOCK, 0600), st;
	pid_t pid;

	ck_assert_int_ge(sfd, 0);
	pid = fork();
	if (pid == 0) {
		int f = open("wready:x", O_WRONLY | O_NONBLOCK), q;
		struct pollfd pf = {f, POLLOUT, 0};
		struct scheme_event ev = {(uint64_t)f, EVENT_WRITE, 77};
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (f < 0 || poll(&pf, 1, 5000) != 1 || pf.revents != POLLOUT)
			_exit(1);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (b.tv_sec * 1000 + b.tv_nsec / 1000000 -
			(a.tv_sec * 1000 + a.tv_nsec / 1000000) <
		    150)
			_exit(2); /* POLLOUT before the post */
		q = open("event:", O_RDWR);
		if (write(q, &ev, sizeof(ev)) != sizeof(ev) ||
		    read(q, &ev, sizeof(ev)) != sizeof(ev) ||
		    ev.flags != EVENT_WRITE || ev.data != 77)
			_exit(3);
		_exit(0);
	}
	serve_until_post(sfd, 300, 2); /* the open, poll's SYS_FEVENT */
	serve_until_post(sfd, 300, 1); /* the queue's SYS_FEVENT */
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	close(sfd);
}
END_TEST

/* Registration asks SYS_FEVENT: what is ready arrives at once. */
START_TEST(queue_registration_asks_provider)
{
	struct scheme_event ev[4];
	int q = queue(0), f = open(S ":world", O_RDONLY);

	ck_assert_int_ge(f, 0);
	reg(q, f, EVENT_READ | EVENT_WRITE, 42);
	ck_assert_int_eq(events(q, ev, 4, 1000), 1);
	ck_assert_uint_eq(ev[0].id, (uint64_t)f);
	ck_assert_uint_eq(ev[0].flags, EVENT_READ | EVENT_WRITE);
	ck_assert_uint_eq(ev[0].data, 42);
	ck_assert_int_eq(events(q, ev, 4, 100), 0);
	close(f);
	close(q);
}
END_TEST

/*
 * The Redox loop over a provider that says EAGAIN and posts: read until
 * EAGAIN, wait on the queue, read again; a post between the EAGAIN and
 * the wait is not lost.
 */
START_TEST(queue_scheme_fd_posts)
{
	struct scheme_event ev[4];
	char buf[64];
	int q = queue(0), s = open(S ":stream", O_RDONLY | O_NONBLOCK);

	ck_assert_int_ge(s, 0);
	reg(q, s, EVENT_READ, 1);
	ck_assert_int_eq(events(q, ev, 4, 200), 0); /* empty: nothing */
	ck_assert_int_eq(read(s, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	produce(S ":stream", "posted"); /* after our EAGAIN, before our wait */
	ck_assert_int_eq(events(q, ev, 4, 2000), 1);
	ck_assert_uint_eq(ev[0].id, (uint64_t)s);
	ck_assert_uint_eq(ev[0].flags, EVENT_READ);
	ck_assert_int_eq(read(s, buf, sizeof(buf)), 6);
	ck_assert_int_eq(read(s, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(
	    h_wait_exit(produce_later(S ":stream", "later", 200), 5), 0);
	ck_assert_int_eq(events(q, ev, 4, 2000), 1);
	ck_assert_int_eq(read(s, buf, sizeof(buf)), 5);
	close(s);
	close(q);
}
END_TEST

/* A bad fd fails the write; the entries before it stay registered. */
START_TEST(queue_bad_fd_keeps_earlier)
{
	struct scheme_event batch[3], ev[4];
	int q = queue(0), a[2], b[2];

	ck_assert_int_eq(pipe(a), 0);
	ck_assert_int_eq(pipe(b), 0);
	batch[0] = (struct scheme_event){(uint64_t)a[0], EVENT_READ, 1};
	batch[1] = (struct scheme_event){999, EVENT_READ, 2};
	batch[2] = (struct scheme_event){(uint64_t)b[0], EVENT_READ, 3};
	ck_assert_int_eq(write(q, batch, sizeof(batch)), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(write(a[1], "x", 1), 1);
	ck_assert_int_eq(write(b[1], "x", 1), 1);
	ck_assert_int_eq(events(q, ev, 4, 1000), 1);
	ck_assert_uint_eq(ev[0].data, 1);
	ck_assert_int_eq(events(q, ev, 4, 100), 0); /* b was never added */
	ck_assert_int_eq(write(q, batch, 7), -1);   /* not whole entries */
	ck_assert_int_eq(errno, EINVAL);
	close(q);
}
END_TEST

START_TEST(queue_remove_and_change)
{
	struct scheme_event ev[4];
	int q = queue(0), p[2];

	ck_assert_int_eq(pipe(p), 0);
	reg(q, p[0], EVENT_READ, 1);
	reg(q, p[0], 0, 0); /* removed */
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(events(q, ev, 4, 100), 0);
	reg(q, p[1], EVENT_WRITE, 9); /* the write end: writable at once */
	ck_assert_int_eq(events(q, ev, 4, 1000), 1);
	ck_assert_uint_eq(ev[0].flags, EVENT_WRITE);
	ck_assert_uint_eq(ev[0].data, 9);
	reg(q, p[1], EVENT_WRITE, 10); /* changed: the new token */
	ck_assert_int_eq(events(q, ev, 4, 1000), 1);
	ck_assert_uint_eq(ev[0].data, 10);
	reg(q, p[0], 0, 0); /* open but not registered: nothing to do */
	struct scheme_event gone = {900, 0, 0}; /* not an fd at all */
	ck_assert_int_eq(write(q, &gone, sizeof(gone)), -1);
	ck_assert_int_eq(errno, EBADF);
	close(p[0]);
	close(p[1]);
	close(q);
}
END_TEST

START_TEST(two_queues_one_fd)
{
	struct scheme_event ev[4];
	int q1 = queue(0), q2 = queue(0),
	    s = open(S ":stream", O_RDONLY | O_NONBLOCK);

	reg(q1, s, EVENT_READ, 1);
	reg(q2, s, EVENT_READ, 2);
	produce(S ":stream", "both");
	ck_assert_int_eq(events(q1, ev, 4, 2000), 1);
	ck_assert_uint_eq(ev[0].data, 1);
	ck_assert_int_eq(events(q2, ev, 4, 2000), 1);
	ck_assert_uint_eq(ev[0].data, 2);
	close(s);
	close(q1);
	close(q2);
}
END_TEST

/*
 * Closing what is registered: a plain fd is forgotten (even with an
 * event pending); a scheme fd whose open file ends reports once.
 */
START_TEST(close_while_registered)
{
	struct scheme_event ev[4];
	int q = queue(0), p[2], s;

	ck_assert_int_eq(pipe(p), 0);
	reg(q, p[0], EVENT_READ, 1);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	close(p[0]); /* the pending event goes with it */
	ck_assert_int_eq(events(q, ev, 4, 200), 0);
	close(p[1]);
	s = open(S ":stream", O_RDONLY | O_NONBLOCK);
	reg(q, s, EVENT_READ, 5);
	close(s);
	ck_assert_int_eq(events(q, ev, 4, 2000), 1); /* the end, once */
	ck_assert_uint_eq(ev[0].data, 5);
	ck_assert_int_eq(events(q, ev, 4, 200), 0);
	close(q);
}
END_TEST

/* Raise the soft fd limit to n or fail the test, saying why. */
static void
need_fds(rlim_t n)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_msg(rl.rlim_max >= n,
		      "this test needs %lu fds; the hard limit is %lu",
		      (unsigned long)n, (unsigned long)rl.rlim_max);
	if (rl.rlim_cur < n) {
		rl.rlim_cur = n;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
}

/* Ten thousand registrations; events for exactly the ones that fired. */
START_TEST(ten_thousand_fds)
{
	enum { N = 10000, FIRE = 101 };
	static int efd[N];
	static char seen[N];
	struct scheme_event ev[64];
	int q, i, got = 0, k;

	need_fds(N + 200);
	q = queue(O_NONBLOCK);
	for (i = 0; i < N; i++) {
		efd[i] = eventfd(0, EFD_CLOEXEC);
		ck_assert_int_ge(efd[i], 0);
		reg(q, efd[i], EVENT_READ, (uint64_t)i + 100000);
	}
	for (i = 0; i < FIRE; i++)
		ck_assert_int_eq(eventfd_write(efd[(i * 97) % N], 1), 0);
	while ((k = events(q, ev, 64, 500)) > 0) {
		for (int j = 0; j < k; j++) {
			int idx = (int)ev[j].data - 100000;

			ck_assert(idx >= 0 && idx < N);
			ck_assert_uint_eq(ev[j].id, (uint64_t)efd[idx]);
			ck_assert_int_eq(seen[idx], 0);
			seen[idx] = 1;
			got++;
		}
	}
	ck_assert_int_eq(got, FIRE);
	for (i = 0; i < FIRE; i++)
		ck_assert_int_eq(seen[(i * 97) % N], 1);
	for (i = 0; i < N; i++)
		close(efd[i]);
	close(q);
}
END_TEST

/*
 * A flood of posts while the consumer sleeps: the consumer still learns
 * (the last edge is not lost), and the posts cost one event, not ten
 * thousand (memory stays bounded).
 */
START_TEST(flood_slow_consumer)
{
	struct scheme_event ev[64];
	int q = queue(0), s = open(S ":stream", O_RDONLY | O_NONBLOCK), w;
	char buf[4096];
	pid_t pid;

	reg(q, s, EVENT_READ, 3);
	pid = fork();
	if (pid == 0) {
		w = open(S ":stream", O_WRONLY);
		for (int i = 0; i < 10000; i++)
			if (write(w, "z", 1) != 1)
				_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(h_wait_exit(pid, 20), 0);
	ck_assert_int_eq(events(q, ev, 64, 2000), 1);
	ck_assert_uint_eq(ev[0].data, 3);
	ck_assert_int_eq(events(q, ev, 64, 100), 0);
	long total = 0;
	ssize_t n;
	while ((n = read(s, buf, sizeof(buf))) > 0)
		total += n;
	ck_assert_int_eq(total, 10000);
	produce(S ":stream", "after"); /* the next edge still comes */
	ck_assert_int_eq(events(q, ev, 64, 2000), 1);
	close(s);
	close(q);
}
END_TEST

START_TEST(queue_blocks_until_event)
{
	struct scheme_event ev[4];
	int q = queue(0), s = open(S ":stream", O_RDONLY | O_NONBLOCK);
	pid_t pid;

	reg(q, s, EVENT_READ, 4);
	pid = produce_later(S ":stream", "wake", 200);
	ck_assert_int_eq(read(q, ev, sizeof(ev)), (ssize_t)sizeof(ev[0]));
	ck_assert_uint_eq(ev[0].data, 4);
	ck_assert_int_eq(h_wait_exit(pid, 5), 0);
	ck_assert_int_eq(fcntl(q, F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(read(q, ev, sizeof(ev)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(read(q, ev, 23), -1); /* shorter than an event */
	ck_assert_int_eq(errno, EINVAL);
	close(s);
	close(q);
}
END_TEST

/* poll, select, epoll --------------------------------------------------- */

START_TEST(poll_mixed_fds)
{
	int s = open(S ":stream", O_RDONLY | O_NONBLOCK), p[2];
	struct pollfd pf[3];
	char buf[64];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pf[0] = (struct pollfd){p[0], POLLIN, 0};
	pf[1] = (struct pollfd){s, POLLIN, 0};
	pf[2] = (struct pollfd){-1, POLLIN, 0};
	ck_assert_int_eq(poll(pf, 3, 200), 0);
	ck_assert_int_eq(poll(pf, 3, 0), 0);
	pid = produce_later(S ":stream", "abc", 200);
	ck_assert_int_eq(poll(pf, 3, 5000), 1);
	ck_assert_int_eq(pf[0].revents, 0);
	ck_assert_int_eq(pf[1].revents, POLLIN);
	ck_assert_int_eq(h_wait_exit(pid, 5), 0);
	ck_assert_int_eq(poll(pf, 3, 0), 1); /* level: still readable */
	ck_assert_int_eq(read(s, buf, sizeof(buf)), 3);
	ck_assert_int_eq(poll(pf, 3, 0), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1); /* the plain fd too */
	ck_assert_int_eq(poll(pf, 3, 1000), 1);
	ck_assert_int_eq(pf[0].revents, POLLIN);
	pf[1].events = POLLOUT; /* memfs streams are always writable */
	ck_assert_int_eq(poll(pf, 2, 1000), 2);
	ck_assert_int_eq(pf[1].revents, POLLOUT);
	struct timespec ts = {1, 0};
	pf[1].events = POLLIN;
	ck_assert_int_eq(read(p[0], buf, 1), 1);
	ck_assert_int_eq(ppoll(pf, 2, &ts, NULL), 0); /* nothing now */
	close(s);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(select_and_pselect)
{
	int s = open(S ":stream", O_RDONLY | O_NONBLOCK);
	struct timeval tv = {0, 200000};
	struct timespec ts = {5, 0};
	fd_set r;
	char buf[8];
	pid_t pid;

	FD_ZERO(&r);
	FD_SET(s, &r);
	ck_assert_int_eq(select(s + 1, &r, NULL, NULL, &tv), 0);
	ck_assert(!FD_ISSET(s, &r));
	pid = produce_later(S ":stream", "sel", 100);
	FD_SET(s, &r);
	ck_assert_int_eq(pselect(s + 1, &r, NULL, NULL, &ts, NULL), 1);
	ck_assert(FD_ISSET(s, &r));
	ck_assert_int_eq(read(s, buf, sizeof(buf)), 3);
	ck_assert_int_eq(h_wait_exit(pid, 5), 0);
	close(s);
}
END_TEST

START_TEST(epoll_level_triggered)
{
	int s = open(S ":stream", O_RDONLY | O_NONBLOCK), ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77}, out[4];
	char buf[8];

	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), 0);
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(epoll_wait(ep, out, 4, 200), 0);
	produce(S ":stream", "level");
	ck_assert_int_eq(epoll_wait(ep, out, 4, 2000), 1);
	ck_assert_uint_eq(out[0].data.u64, 77);
	ck_assert_uint_eq(out[0].events & EPOLLIN, EPOLLIN);
	ck_assert_int_eq(read(s, buf, 2), 2);
	ck_assert_int_eq(epoll_pwait(ep, out, 4, 1000, NULL), 1); /* left */
	ck_assert_int_eq(read(s, buf, sizeof(buf)), 3);
	ck_assert_int_eq(epoll_wait(ep, out, 4, 200), 0); /* drained */
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL), 0);
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev), -1);
	ck_assert_int_eq(errno, ENOENT);
	produce(S ":stream", "x");
	ck_assert_int_eq(epoll_wait(ep, out, 4, 200), 0); /* removed */
	ck_assert_int_eq(read(s, buf, sizeof(buf)), 1);
	close(s);
	close(ep);
}
END_TEST

START_TEST(epoll_edge_and_oneshot)
{
	int s = open(S ":stream", O_RDONLY | O_NONBLOCK), ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 5},
			   out[4];
	int p[2];
	char buf[16];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), 0);
	ev.data.u64 = 6;
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0);
	produce(S ":stream", "edge");
	ck_assert_int_eq(epoll_wait(ep, out, 4, 2000), 1);
	ck_assert_uint_eq(out[0].data.u64, 5);
	ck_assert_int_eq(epoll_wait(ep, out, 4, 200), 0); /* edge: once */
	ck_assert_int_eq(read(s, buf, sizeof(buf)), 4);
	ck_assert_int_eq(write(p[1], "x", 1), 1); /* a plain fd beside */
	ck_assert_int_eq(epoll_wait(ep, out, 4, 1000), 1);
	ck_assert_uint_eq(out[0].data.u64, 6);
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.u64 = 8;
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev), 0);
	produce(S ":stream", "one");
	ck_assert_int_eq(epoll_wait(ep, out, 4, 2000), 1);
	ck_assert_uint_eq(out[0].data.u64, 8);
	ck_assert_int_eq(epoll_wait(ep, out, 4, 200), 0); /* disarmed */
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev), 0);
	ck_assert_int_eq(epoll_wait(ep, out, 4, 2000), 1); /* armed again */
	close(s);
	close(ep);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* A provider that dies: its fds report a hang-up, not silence. */
START_TEST(epoll_provider_dies)
{
	pid_t pm = h_start_memfs("tvd");
	int s = open("tvd:stream", O_RDONLY | O_NONBLOCK),
	    ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1}, out[2];
	struct pollfd pf;

	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), 0);
	kill(pm, SIGKILL);
	waitpid(pm, NULL, 0);
	ck_assert_int_eq(epoll_wait(ep, out, 2, 2000), 1);
	ck_assert(out[0].events & (EPOLLHUP | EPOLLERR));
	pf = (struct pollfd){s, POLLIN, 0};
	ck_assert_int_eq(poll(&pf, 1, 2000), 1);
	ck_assert(pf.revents & (POLLHUP | POLLERR));
	close(s);
	close(ep);
}
END_TEST

static void
on_alarm(int sig)
{
}

START_TEST(poll_interrupted)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	int s = open(S ":stream", O_RDONLY | O_NONBLOCK);
	struct pollfd pf = {s, POLLIN, 0};
	char buf[8];

	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	alarm(1);
	ck_assert_int_eq(poll(&pf, 1, 10000), -1);
	ck_assert_int_eq(errno, EINTR);
	/* The channel is clean: the next request works. */
	produce(S ":stream", "ok");
	ck_assert_int_eq(poll(&pf, 1, 2000), 1);
	ck_assert_int_eq(read(s, buf, sizeof(buf)), 2);
	close(s);
}
END_TEST

/* A blocking read of a provider that says EAGAIN waits for its post. */
START_TEST(blocking_read_waits_for_post)
{
	int s = open(S ":stream", O_RDONLY);
	char buf[16] = {0};
	pid_t pid = produce_later(S ":stream", "blocked", 200);

	ck_assert_int_eq(read(s, buf, sizeof(buf)), 7);
	ck_assert_str_eq(buf, "blocked");
	ck_assert_int_eq(h_wait_exit(pid, 5), 0);
	close(s);
}
END_TEST

static Suite *
event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("queue");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_checked_fixture(tc, drain_stream, NULL);
	tcase_add_test(tc, queue_reports_plain_fd_edges);
	tcase_add_test(tc, queue_registration_asks_provider);
	tcase_add_test(tc, queue_scheme_fd_posts);
	tcase_add_test(tc, queue_bad_fd_keeps_earlier);
	tcase_add_test(tc, queue_remove_and_change);
	tcase_add_test(tc, two_queues_one_fd);
	tcase_add_test(tc, close_while_registered);
	tcase_add_test(tc, ten_thousand_fds);
	tcase_add_test(tc, flood_slow_consumer);
	tcase_add_test(tc, queue_blocks_until_event);
	tcase_add_test(tc, write_readiness_follows_posts);
	suite_add_tcase(s, tc);
	tc = tcase_create("readiness");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, start_world, h_world_stop);
	tcase_add_checked_fixture(tc, drain_stream, NULL);
	tcase_add_test(tc, poll_mixed_fds);
	tcase_add_test(tc, select_and_pselect);
	tcase_add_test(tc, epoll_level_triggered);
	tcase_add_test(tc, epoll_edge_and_oneshot);
	tcase_add_test(tc, epoll_provider_dies);
	tcase_add_test(tc, poll_interrupted);
	tcase_add_test(tc, blocking_read_waits_for_post);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(event_suite());
}

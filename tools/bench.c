/*
 * bench - figures and ratios against a baseline measured in the same run.
 *
 *	bench [--quick] [events] [timers]
 *
 * events: the latency from a provider's post (SYS_FEVENT) to the wake-up
 * of a consumer blocked in read() on an event: queue, against a pipe
 * write waking a process blocked in epoll_wait().  Each is measured with
 * every process pinned to one CPU and left to the scheduler; the runs are
 * interleaved and the figure is the median of the medians of the repeats.
 *
 * timers: how late a time:4 deadline's event arrives on an event: queue
 * (the broker's timerfd, its post, the queue), against a timerfd armed
 * for the same absolute time and read directly: median and worst.
 *
 * The tool starts its own broker on a socket in a temporary directory and
 * runs its parts under the preload (it re-executes itself for them).  It
 * asserts nothing: it prints.  --quick runs few iterations (for CI).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../proto/sockpath.h"
#include "paths.h"

struct shared {
	volatile uint64_t t0;  /* when the post or write was made (ns) */
	volatile int ready;    /* the provider's scheme is up */
	uint64_t lat[1 << 16]; /* the consumer's measurements (ns) */
};

static int iters = 4000, repeats = 5;
static struct shared *sh;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu < 0) {
		for (int i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &set);
	} else {
		CPU_SET(cpu, &set);
	}
	sched_setaffinity(0, sizeof(set), &set);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
median_us(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return (double)v[n / 2] / 1000.0;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The baseline: a pipe write wakes a process blocked in epoll_wait. */
static double
run_pipe(void)
{
	int data[2], go[2], ep, i;
	struct epoll_event ev = {.events = EPOLLIN};
	pid_t pid;
	char c;

	if (pipe(data) < 0 || pipe(go) < 0)
		die("pipe");
	pid = fork();
	if (pid == 0) { /* the writer */
		for (i = 0; i < iters; i++) {
			if (read(go[0], &c, 1) != 1)
				_exit(1);
			sh->t0 = now_ns();
			if (write(data[1], "x", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	ep = epoll_create1(0);
	epoll_ctl(ep, EPOLL_CTL_ADD, data[0], &ev);
	for (i = 0; i < iters; i++) {
		if (write(go[1], "g", 1) != 1)
			die("write");
		if (epoll_wait(ep, &ev, 1, -1) != 1)
			die("epoll_wait");
		sh->lat[i] = now_ns() - sh->t0;
		if (read(data[0], &c, 1) != 1)
			die("read");
	}
	waitpid(pid, NULL, 0);
	close(ep);
	close(data[0]);
	close(data[1]);
	close(go[0]);
	close(go[1]);
	return median_us(sh->lat, iters);
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
		die("open :benchev");
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
			sh->t0 = now_ns();
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
	int go[2], q, fd, i;
	pid_t pid;

	if (pipe(go) < 0)
		die("pipe");
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
		die("open benchev:x or event:");
	ev = (struct scheme_event){(uint64_t)fd, EVENT_READ, 1};
	if (write(q, &ev, sizeof(ev)) != sizeof(ev))
		die("registering");
	for (i = 0; i < iters; i++) {
		if (write(go[1], "g", 1) != 1)
			die("write");
		if (read(q, &ev, sizeof(ev)) != sizeof(ev))
			die("read event:");
		sh->lat[i] = now_ns() - sh->t0;
	}
	close(fd);
	close(q);
	close(go[1]);
	waitpid(pid, NULL, 0);
	return median_us(sh->lat, iters);
}

static double
median_of(double *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

static void
events(void)
{
	double pipe_us[2][16], ev_us[2][16];
	int placement, r;

	for (r = 0; r < repeats; r++)
		for (placement = 0; placement < 2; placement++) {
			pin(placement == 0 ? 0 : -1);
			pipe_us[placement][r] = run_pipe();
			ev_us[placement][r] = run_event();
		}
	pin(-1);
	printf("\nevent delivery: post to wake-up, median of %d x %d\n",
	       repeats, iters);
	printf("  %-34s %10s %10s\n", "", "one CPU", "unpinned");
	for (placement = 0; placement < 2; placement++) {
		pipe_us[placement][0] = median_of(pipe_us[placement], repeats);
		ev_us[placement][0] = median_of(ev_us[placement], repeats);
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
		die("timerfd_create");
	for (i = 0; i < n; i++) {
		dl = now_ns() + 1000000;
		it.it_value.tv_sec = (time_t)(dl / 1000000000u);
		it.it_value.tv_nsec = (long)(dl % 1000000000u);
		if (timerfd_settime(t, TFD_TIMER_ABSTIME, &it, NULL) < 0 ||
		    read(t, &x, sizeof(x)) != sizeof(x))
			die("timerfd");
		sh->lat[i] = now_ns() - dl;
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
		die("time:4 or event:");
	for (i = 0; i < n; i++) {
		dl = now_ns() + 1000000;
		ts.tv_sec = (int64_t)(dl / 1000000000u);
		ts.tv_nsec = (int32_t)(dl % 1000000000u);
		if (write(t, &ts, sizeof(ts)) != sizeof(ts) ||
		    read(q, &ev, sizeof(ev)) != sizeof(ev))
			die("time: deadline");
		sh->lat[i] = now_ns() - dl;
		if (read(t, &ts, sizeof(ts)) != sizeof(ts)) /* the time, too */
			die("time: read");
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

static void
timers(void)
{
	int n = iters / 10 > 20 ? iters / 10 : 20, placement;
	double med[2][2], worst[2][2];

	for (placement = 0; placement < 2; placement++) {
		pin(placement == 0 ? 0 : -1);
		run_timerfd(n);
		med[0][placement] = median_us(sh->lat, n);
		worst[0][placement] = (double)max_u64(sh->lat, n) / 1e3;
		run_time_scheme(n);
		med[1][placement] = median_us(sh->lat, n);
		worst[1][placement] = (double)max_u64(sh->lat, n) / 1e3;
	}
	pin(-1);
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

static void
machine(void)
{
	struct utsname u;

	uname(&u);
	printf("machine: %s %s, %ld CPUs online\n", u.sysname, u.release,
	       sysconf(_SC_NPROCESSORS_ONLN));
}

/* Start a broker of our own, then run ourselves again under the preload. */
static int
launch(char **argv)
{
	char lib[4096], schemed[4096], dir[] = "/tmp/scheme-bench-XXXXXX";
	char sock[128], pre[8192];
	pid_t broker;
	int st, i;

	if (paths_find(lib, sizeof(lib), PATHS_PRELOAD) < 0 ||
	    paths_find(schemed, sizeof(schemed), PATHS_SCHEMED) < 0 ||
	    mkdtemp(dir) == NULL)
		die("finding the preload and schemed");
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	setenv("SCHEME_SOCKET", sock, 1);
	broker = fork();
	if (broker == 0) {
		int log = open("/dev/null", O_WRONLY);

		dup2(log, 2); /* its log would only interleave with ours */
		execl(schemed, "schemed", "--socket", sock, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		int fd = sockpath_connect(sock);

		if (fd >= 0) {
			close(fd);
			break;
		}
		usleep(10000);
	}
	snprintf(pre, sizeof(pre), "%s%s%s", SCHEME_ASAN_RUNTIME,
		 SCHEME_ASAN_RUNTIME[0] ? ":" : "", lib);
	setenv("LD_PRELOAD", pre, 1);
	setenv("SCHEME_BENCH_CHILD", "1", 1);
	pid_t pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	kill(broker, SIGTERM);
	waitpid(broker, NULL, 0);
	unlink(sock);
	rmdir(dir);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int
main(int argc, char **argv)
{
	int i, all = 1, ev = 0, tm = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			iters = 300;
			repeats = 3;
		} else if (strcmp(argv[i], "events") == 0) {
			ev = 1;
			all = 0;
		} else if (strcmp(argv[i], "timers") == 0) {
			tm = 1;
			all = 0;
		} else {
			fprintf(stderr,
				"usage: bench [--quick] [events] [timers]\n");
			return 2;
		}
	}
	if (getenv("SCHEME_BENCH_CHILD") == NULL)
		return launch(argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	machine();
	if (all || ev)
		events();
	if (all || tm)
		timers();
	return 0;
}

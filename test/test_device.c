/*
 * test_device.c - the device schemes on the host: time: (deadlines on
 * timerfd) and irq: from the broker's simulator (schemed --irq-sim),
 * raised by schemectl irq-raise; scheme-irqdrv on the simulator; the
 * broker's refusals of a wrong irq: configuration.
 *
 * Runs under the preload.  No case asserts a latency: deadlines are
 * checked never to fire early and to fire within a generous bound
 * (bench measures how late they are).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"

static pid_t driver = -1;

static void
start_world(void)
{
	/* nogroup may use the broker: irq_needs_privilege is one of them. */
	char *extra[] = {(char *)"--irq-sim", (char *)"--group",
			 (char *)"nogroup", NULL};

	h_setup_env();
	h_broker = h_start_broker_with(extra);
	if (h_broker < 0)
		abort();
}

static void
stop_world(void)
{
	h_world_stop();
}

/* Each driver case starts one (in its fork) and stops it here. */
static void
stop_driver(void)
{
	if (driver > 0)
		ck_assert_int_eq(h_stop(driver), 0);
	driver = -1;
}

static int
queue(void)
{
	int q = open("event:", O_RDWR);

	ck_assert_msg(q >= 0, "open event: %s", strerror(errno));
	return q;
}

static void
reg(int q, int fd, uint64_t token)
{
	struct scheme_event ev = {(uint64_t)fd, EVENT_READ, token};

	ck_assert_int_eq(write(q, &ev, sizeof(ev)), (ssize_t)sizeof(ev));
}

/* The next event's token within ms, or 0. */
static uint64_t
next_event(int q, int ms)
{
	struct pollfd p = {q, POLLIN, 0};
	struct scheme_event ev;

	if (poll(&p, 1, ms) != 1)
		return 0;
	ck_assert_int_eq(read(q, &ev, sizeof(ev)), (ssize_t)sizeof(ev));
	ck_assert_uint_eq(ev.flags, EVENT_READ);
	return ev.data;
}

static struct scheme_timespec
ts_now(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (struct scheme_timespec){t.tv_sec, (int32_t)t.tv_nsec};
}

static struct scheme_timespec
ts_add_ms(struct scheme_timespec t, long ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += (int32_t)((ms % 1000) * 1000000);
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

static double
ms_between(struct scheme_timespec a, struct scheme_timespec b)
{
	return (double)(b.tv_sec - a.tv_sec) * 1e3 +
	       (double)(b.tv_nsec - a.tv_nsec) / 1e6;
}

/* time: ---------------------------------------------------------------- */

START_TEST(time_clocks_by_redox_id)
{
	const char *bad[] = {"time:0", "time:2", "time:3", "time:5",
			     "time:x", "time:",	 "time:4x"};
	int fd;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(open(bad[i], O_RDONLY) == -1 && errno == ENOENT,
			      "%s: %s", bad[i], strerror(errno));
	}
	ck_assert_int_ge(fd = open("time:1", O_RDWR), 0);
	close(fd);
	ck_assert_int_ge(fd = open("/scheme/time/4", O_RDWR), 0);
	close(fd);
}
END_TEST

START_TEST(time_read_gives_the_clock)
{
	struct scheme_timespec t[3], before;
	int rt = open("time:1", O_RDONLY), mono = open("time:4", O_RDONLY);
	char small[8];

	ck_assert_int_ge(rt, 0);
	ck_assert_int_ge(mono, 0);
	before = ts_now(CLOCK_MONOTONIC);
	ck_assert_int_eq(read(mono, t, sizeof(t)), (ssize_t)sizeof(t));
	ck_assert(ms_between(before, t[0]) >= 0);
	ck_assert(ms_between(before, t[2]) < 1000);
	ck_assert(ms_between(t[0], t[1]) >= 0); /* one per 16 bytes */
	ck_assert(ms_between(t[1], t[2]) >= 0);
	before = ts_now(CLOCK_REALTIME);
	ck_assert_int_eq(read(rt, t, sizeof(t[0])), (ssize_t)sizeof(t[0]));
	ck_assert(ms_between(before, t[0]) >= 0 &&
		  ms_between(before, t[0]) < 1000);
	ck_assert_int_ge(t[0].tv_nsec, 0);
	ck_assert_int_lt(t[0].tv_nsec, 1000000000);
	/* Under 16 bytes: no whole timespec, nothing read. */
	ck_assert_int_eq(read(mono, small, sizeof(small)), 0);
	close(rt);
	close(mono);
}
END_TEST

/* Deadlines written out of order fire earliest first, none early. */
START_TEST(time_deadlines_fire_in_order)
{
	static const long offs[] = {240, 80, 160};
	struct scheme_timespec base, dl[3], got;
	int q = queue(), t = open("time:4", O_RDWR), i;

	ck_assert_int_ge(t, 0);
	reg(q, t, 9);
	base = ts_now(CLOCK_MONOTONIC);
	for (i = 0; i < 3; i++)
		dl[i] = ts_add_ms(base, offs[i]);
	ck_assert_int_eq(write(t, dl, sizeof(dl)), (ssize_t)sizeof(dl));
	for (i = 0; i < 3; i++) {
		long want = 80 * (i + 1);

		ck_assert_uint_eq(next_event(q, 3000), 9);
		got = ts_now(CLOCK_MONOTONIC);
		ck_assert_msg(ms_between(base, got) >= (double)want,
			      "deadline %d fired at %.1f ms, before %ld ms", i,
			      ms_between(base, got), want);
		ck_assert_msg(ms_between(base, got) < (double)want + 1000,
			      "deadline %d fired only at %.1f ms", i,
			      ms_between(base, got));
		/* Reading the file is how a Redox loop learns the time. */
		ck_assert_int_eq(read(t, &got, sizeof(got)),
				 (ssize_t)sizeof(got));
	}
	ck_assert_uint_eq(next_event(q, 300), 0); /* one event each */
	close(t);
	close(q);
}
END_TEST

START_TEST(time_past_deadline_fires_at_once)
{
	struct scheme_timespec past = ts_now(CLOCK_REALTIME);
	int q = queue(), t = open("time:1", O_RDWR);

	past.tv_sec -= 5;
	reg(q, t, 1);
	ck_assert_int_eq(write(t, &past, sizeof(past)), (ssize_t)sizeof(past));
	ck_assert_uint_eq(next_event(q, 1000), 1);
	/* The zero time too (a timerfd given 0 would be disarmed). */
	past = (struct scheme_timespec){0, 0};
	ck_assert_int_eq(read(t, &past, sizeof(past)), (ssize_t)sizeof(past));
	past = (struct scheme_timespec){0, 0};
	ck_assert_int_eq(write(t, &past, sizeof(past)), (ssize_t)sizeof(past));
	ck_assert_uint_eq(next_event(q, 1000), 1);
	close(t);
	close(q);
}
END_TEST

/* Each file gets its own deadlines; closing one with some pending. */
START_TEST(time_files_are_separate)
{
	struct scheme_timespec soon = ts_add_ms(ts_now(CLOCK_MONOTONIC), 60);
	struct scheme_timespec later = ts_add_ms(soon, 100);
	int q = queue(), a = open("time:4", O_RDWR), b = open("time:4", O_RDWR);
	int c = open("time:4", O_RDWR);

	reg(q, a, 1);
	reg(q, b, 2);
	ck_assert_int_eq(write(b, &soon, sizeof(soon)), (ssize_t)sizeof(soon));
	ck_assert_int_eq(write(c, &soon, sizeof(soon)), (ssize_t)sizeof(soon));
	close(c); /* its deadline comes and goes unseen */
	ck_assert_int_eq(write(a, &later, sizeof(later)),
			 (ssize_t)sizeof(later));
	ck_assert_uint_eq(next_event(q, 2000), 2);
	ck_assert_uint_eq(next_event(q, 2000), 1);
	ck_assert_uint_eq(next_event(q, 200), 0);
	close(a);
	close(b);
	close(q);
}
END_TEST

START_TEST(time_poll_and_bad_deadlines)
{
	struct scheme_timespec bad = {1, 1000000000}, soon;
	int t = open("time:4", O_RDWR);
	struct pollfd p = {t, POLLIN, 0};
	struct stat st;

	ck_assert_int_eq(poll(&p, 1, 50), 0); /* nothing fired yet */
	soon = ts_add_ms(ts_now(CLOCK_MONOTONIC), 50);
	ck_assert_int_eq(write(t, &soon, sizeof(soon)), (ssize_t)sizeof(soon));
	ck_assert_int_eq(poll(&p, 1, 3000), 1);
	ck_assert_int_eq(p.revents, POLLIN);
	ck_assert_int_eq(write(t, &bad, sizeof(bad)), -1);
	ck_assert_int_eq(errno, EINVAL);
	bad = (struct scheme_timespec){-1, 0};
	ck_assert_int_eq(write(t, &bad, sizeof(bad)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(fstat(t, &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	close(t);
}
END_TEST

/* irq: from the simulator ------------------------------------------------ */

static int
raise_irq(const char *n)
{
	char *argv[] = {(char *)TEST_SCHEMECTL, (char *)"irq-raise", (char *)n,
			NULL};
	struct run_result *r = malloc(sizeof(*r));
	int st;

	h_run(r, false, NULL, 10, argv);
	st = r->status;
	if (st != 0)
		fprintf(stderr, "irq-raise %s: %.*s", n, (int)r->errlen,
			r->err);
	free(r);
	return st;
}

static uint64_t
irq_read(int fd)
{
	uint64_t c = 0;
	ssize_t n = read(fd, &c, sizeof(c));

	ck_assert_msg(n == 0 || n == 8, "irq read: %zd (%s)", n,
		      strerror(errno));
	return n == 8 ? c : 0;
}

START_TEST(irq_count_ack_and_events)
{
	int q = queue(), i = open("irq:3", O_RDWR);
	uint64_t c, wrong = 99;
	char small[4];

	ck_assert_msg(i >= 0, "irq:3: %s", strerror(errno));
	reg(q, i, 3);
	ck_assert_uint_eq(irq_read(i), 0); /* nothing yet: 0 bytes */
	ck_assert_int_eq(raise_irq("3"), 0);
	ck_assert_uint_eq(next_event(q, 2000), 3);
	ck_assert_uint_eq(c = irq_read(i), 1);
	ck_assert_uint_eq(irq_read(i), 1); /* until acked */
	/* Short buffers: EINVAL both ways. */
	ck_assert_int_eq(read(i, small, sizeof(small)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(write(i, small, sizeof(small)), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* A wrong count acks nothing. */
	ck_assert_int_eq(write(i, &wrong, 8), 0);
	ck_assert_uint_eq(irq_read(i), 1);
	ck_assert_int_eq(write(i, &c, 8), 8);
	ck_assert_uint_eq(irq_read(i), 0);
	ck_assert_uint_eq(next_event(q, 100), 0);
	/* Again: the count goes on. */
	ck_assert_int_eq(raise_irq("3"), 0);
	ck_assert_uint_eq(next_event(q, 2000), 3);
	ck_assert_uint_eq(c = irq_read(i), 2);
	ck_assert_int_eq(write(i, &c, 8), 8);
	close(i);
	close(q);
}
END_TEST

/* INTx-like: masked from firing until acked; a raise meanwhile waits. */
START_TEST(irq_masked_until_acked)
{
	int q = queue(), i = open("irq:5", O_RDWR);
	uint64_t c;

	reg(q, i, 5);
	ck_assert_int_eq(raise_irq("5"), 0);
	ck_assert_uint_eq(next_event(q, 2000), 5);
	ck_assert_int_eq(raise_irq("5"), 0); /* masked: held */
	ck_assert_int_eq(raise_irq("5"), 0); /* still one line */
	ck_assert_uint_eq(next_event(q, 200), 0);
	ck_assert_uint_eq(c = irq_read(i), 1);
	ck_assert_int_eq(write(i, &c, 8), 8); /* unmasked: fires again */
	ck_assert_uint_eq(next_event(q, 2000), 5);
	ck_assert_uint_eq(c = irq_read(i), 2);
	ck_assert_int_eq(write(i, &c, 8), 8);
	ck_assert_uint_eq(next_event(q, 200), 0);
	ck_assert_uint_eq(irq_read(i), 0);
	close(i);
	close(q);
}
END_TEST

/* Every open file of a vector hears it and acks for itself. */
START_TEST(irq_two_files)
{
	int a = open("irq:7", O_RDWR), b = open("irq:7", O_RDWR);
	struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
	uint64_t c;

	ck_assert_int_eq(poll(p, 2, 0), 0);
	ck_assert_int_eq(raise_irq("7"), 0);
	ck_assert_int_eq(poll(p, 2, 2000) >= 1, 1);
	h_sleep_ms(50);
	ck_assert_int_eq(poll(p, 2, 0), 2);
	ck_assert_uint_eq(c = irq_read(a), 1);
	ck_assert_int_eq(write(a, &c, 8), 8);
	ck_assert_uint_eq(irq_read(a), 0);
	ck_assert_uint_eq(irq_read(b), 1); /* b has not acked */
	ck_assert_int_eq(write(b, &c, 8), 8);
	close(a);
	close(b);
}
END_TEST

START_TEST(irq_names_refused)
{
	static const struct {
		const char *path;
		int err;
	} cases[] = {
	    {"irq:16", ENOENT}, /* the simulator has 0-15 */
	    {"irq:3x", ENOENT},
	    {"irq:3/device", ENODEV}, /* no device behind a simulation */
	    {"irq:pci/zz", ENOENT},
	    {"irq:pci/0000:00:1f.7/msix/0", ENODEV},
	    {"irq:pci/0000:00:1f.7/legacy/0", ENOENT},
	    {"irq:pci/0000:00:1f.7/device", ENODEV},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		errno = 0;
		ck_assert_msg(open(cases[i].path, O_RDWR) == -1 &&
				  errno == cases[i].err,
			      "%s: %s, want %s", cases[i].path, strerror(errno),
			      strerror(cases[i].err));
	}
	ck_assert_int_ne(raise_irq("16"), 0);
}
END_TEST

/* Only root or the broker's user may open irq: (Redox: root). */
START_TEST(irq_needs_privilege)
{
	pid_t pid;
	int st;

	if (geteuid() != 0)
		return; /* cannot become someone else */
	chmod(h_dir(), 0755);
	pid = fork();
	if (pid == 0) {
		gid_t g = 65534;
		int fd;

		if (setgroups(1, &g) < 0 || setgid(65534) < 0 ||
		    setuid(65534) < 0)
			_exit(3);
		fd = open("time:4", O_RDONLY); /* time: is for everyone */
		if (fd < 0)
			_exit(4);
		close(fd);
		fd = open("irq:3", O_RDWR);
		_exit(fd < 0 && errno == EACCES ? 0 : 1);
	}
	ck_assert_int_eq(h_wait_exit(pid, 10), 0);
	chmod(h_dir(), 0700);
	(void)st;
}
END_TEST

/* scheme-irqdrv on the simulator ----------------------------------------- */

static void
start_driver(void)
{
	char *argv[] = {(char *)TEST_IRQDRV, (char *)"--name",
			(char *)"drv",	     (char *)"--timeout",
			(char *)"200",	     (char *)"irq:10",
			(char *)"irq:11",    NULL};
	char log[128];
	int out, i;

	snprintf(log, sizeof(log), "%s/irqdrv.log", h_dir());
	out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	driver = h_spawn(argv, true, out);
	close(out);
	for (i = 0; i < 1000 && !h_scheme_exists("drv"); i++)
		h_sleep_ms(10);
	ck_assert_msg(h_scheme_exists("drv"), "scheme-irqdrv did not start");
}

START_TEST(driver_reads_complete_on_interrupts)
{
	int v0, v1;
	char buf[32];
	ssize_t n;

	start_driver();
	v0 = open("drv:irq/0", O_RDONLY);
	v1 = open("drv:irq/1", O_RDONLY);
	ck_assert_int_ge(v0, 0);
	ck_assert_int_ge(v1, 0);
	for (int i = 1; i <= 5; i++) {
		char want[16];

		ck_assert_int_eq(raise_irq("10"), 0);
		n = read(v0, buf, sizeof(buf) - 1);
		ck_assert_int_gt(n, 0);
		buf[n] = '\0';
		snprintf(want, sizeof(want), "0 %d\n", i);
		ck_assert_str_eq(buf, want);
	}
	ck_assert_int_eq(raise_irq("11"), 0);
	n = read(v1, buf, sizeof(buf) - 1);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(memcmp(buf, "1 1\n", 4), 0);
	close(v0);
	close(v1);
}
END_TEST

/* No interrupt: the read ends at the driver's time: deadline. */
START_TEST(driver_times_out_by_time_scheme)
{
	struct scheme_timespec a, b;
	char buf[32];
	int v;

	start_driver();
	v = open("drv:irq/1", O_RDONLY);
	a = ts_now(CLOCK_MONOTONIC);
	ck_assert_int_eq(read(v, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	b = ts_now(CLOCK_MONOTONIC);
	ck_assert_msg(ms_between(a, b) >= 199, "timed out after %.1f ms",
		      ms_between(a, b));
	ck_assert_msg(ms_between(a, b) < 2000, "timed out after %.1f ms",
		      ms_between(a, b));
	/* Without a device there is nothing to raise through. */
	ck_assert_int_ge(v = open("drv:raise", O_WRONLY), 0);
	ck_assert_int_eq(write(v, "0", 1), -1);
	ck_assert_int_eq(errno, ENODEV);
	close(v);
}
END_TEST

/* The broker's irq: configuration ----------------------------------------- */

static void
broker_refuses(const char *opt, const char *arg, const char *msg)
{
	char sock[256];
	char *argv[] = {(char *)TEST_SCHEMED, (char *)"--socket", sock,
			(char *)opt,	      (char *)arg,	  NULL};
	struct run_result *r = malloc(sizeof(*r));

	snprintf(sock, sizeof(sock), "%s/other.sock", h_dir());
	h_run(r, false, NULL, 10, argv);
	ck_assert_msg(r->status != 0 && !r->timed_out, "%s %s: status %d", opt,
		      arg, r->status);
	r->err[r->errlen < sizeof(r->err) ? r->errlen : sizeof(r->err) - 1] =
	    '\0';
	ck_assert_msg(strstr(r->err, msg) != NULL, "%s %s said: %s", opt, arg,
		      r->err);
	free(r);
}

START_TEST(broker_irq_config_errors)
{
	char conf[256];
	FILE *f;

	broker_refuses("--irq", "3=pci/0000:00:1f.7/msi/0",
		       "0000:00:1f.7: no such PCI device");
	broker_refuses("--irq", "3=pci/0000:00:1f.7/level/0",
		       "TYPE intx, msi or msix");
	broker_refuses("--irq", "300=pci/0000:00:1f.7/msi/0", "N < 256");
	broker_refuses("--irq", "nonsense", "want N=pci/BDF/TYPE/VEC");
	broker_refuses("--irq-config", "/nonexistent/irq.conf",
		       "/nonexistent/irq.conf");
	snprintf(conf, sizeof(conf), "%s/irq.conf", h_dir());
	f = fopen(conf, "w");
	fprintf(f, "# the edu device\n\n  3=pci/0000:00:1f.6/intx/0  # INTx\n"
		   "3=pci/0000:00:1f.6/msi/0\n");
	fclose(f);
	broker_refuses("--irq-config", conf, "irq 3 is configured twice");
	f = fopen(conf, "w");
	fprintf(f, "# the edu device\n\n  3=pci/0000:00:1f.6/intx/0  # INTx\n");
	fclose(f);
	broker_refuses("--irq-config", conf, "irq 3: 0000:00:1f.6: no such");
}
END_TEST

static Suite *
device_suite(void)
{
	Suite *s = suite_create("device");
	TCase *tt = tcase_create("time");
	TCase *ti = tcase_create("irq");
	TCase *td = tcase_create("driver");

	tcase_add_unchecked_fixture(tt, start_world, stop_world);
	tcase_add_test(tt, time_clocks_by_redox_id);
	tcase_add_test(tt, time_read_gives_the_clock);
	tcase_add_test(tt, time_deadlines_fire_in_order);
	tcase_add_test(tt, time_past_deadline_fires_at_once);
	tcase_add_test(tt, time_files_are_separate);
	tcase_add_test(tt, time_poll_and_bad_deadlines);
	suite_add_tcase(s, tt);

	tcase_add_unchecked_fixture(ti, start_world, stop_world);
	tcase_add_test(ti, irq_count_ack_and_events);
	tcase_add_test(ti, irq_masked_until_acked);
	tcase_add_test(ti, irq_two_files);
	tcase_add_test(ti, irq_names_refused);
	tcase_add_test(ti, irq_needs_privilege);
	tcase_add_test(ti, broker_irq_config_errors);
	suite_add_tcase(s, ti);

	/* A driver per case: each fork starts and stops its own. */
	tcase_add_unchecked_fixture(td, start_world, stop_world);
	tcase_add_checked_fixture(td, NULL, stop_driver);
	tcase_add_test(td, driver_reads_complete_on_interrupts);
	tcase_add_test(td, driver_times_out_by_time_scheme);
	suite_add_tcase(s, td);
	return s;
}

int
main(void)
{
	return h_main(device_suite());
}

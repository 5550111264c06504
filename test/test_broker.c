/*
 * test_broker.c - schemed's control protocol, spoken directly: creating,
 * listing and removing schemes, connecting to them, credentials, bad
 * input, and stopping.
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../proto/wire/wire.h"
#include "harness.h"

static void
start_broker(void)
{
	h_world_start(NULL);
}

/* Each test's broker must exit cleanly: in the sanitizer build a leak
 * makes its status 23. */
static void
stop_broker(void)
{
	ck_assert_int_eq(h_stop(h_broker), 0);
	h_broker = -1;
}

static int
conn(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, h_socket());
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* One request; returns the answer's err, payload in out (NUL-ended). */
static int
call(int fd, uint32_t type, uint64_t inst, const char *payload, char *out,
     size_t outlen, int *rfd)
{
	char buf[sizeof(struct wire_ctl) + 4096];
	struct wire_ctl req, *rep = (struct wire_ctl *)buf;
	struct iovec iov = {buf, sizeof(buf) - 1};
	size_t len = payload ? strlen(payload) : 0;
	ssize_t n;

	wire_ctl_init(&req, type);
	req.inst = inst;
	req.len = (uint32_t)len;
	ck_assert_int_gt(
	    wire_send(fd, &req, sizeof(req), payload, len, -1, NULL, 0), 0);
	n = wire_recv(fd, &iov, 1, rfd, NULL, MSG_CMSG_CLOEXEC);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(wire_ctl_check(rep, (size_t)n), 0);
	ck_assert_uint_eq(rep->type, type | WIRE_CTL_REPLY);
	if (out != NULL) {
		size_t l = rep->len < outlen - 1 ? rep->len : outlen - 1;

		memcpy(out, buf + sizeof(*rep), l);
		out[l] = '\0';
	}
	return rep->err;
}

static void
list(char *out, size_t len)
{
	int fd = conn();

	ck_assert_int_eq(call(fd, WIRE_CTL_LIST, 0, NULL, out, len, NULL), 0);
	close(fd);
}

START_TEST(create_list_sorted)
{
	int a = conn(), b = conn();
	char out[256];

	ck_assert_int_eq(call(a, WIRE_CTL_CREATE, 0, "zz", NULL, 0, NULL), 0);
	ck_assert_int_eq(call(b, WIRE_CTL_CREATE, 0, "aa", NULL, 0, NULL), 0);
	list(out, sizeof(out));
	ck_assert_str_eq(out, "aa\nevent\nirq\ntime\nzz\n");
	close(a);
	close(b);
}
END_TEST

START_TEST(create_refusals)
{
	int a = conn(), b = conn(), c = conn();
	char longname[WIRE_MAX_NAME + 2];

	ck_assert_int_eq(call(a, WIRE_CTL_CREATE, 0, "taken", NULL, 0, NULL),
			 0);
	ck_assert_int_eq(call(b, WIRE_CTL_CREATE, 0, "taken", NULL, 0, NULL),
			 -EEXIST);
	ck_assert_int_eq(call(a, WIRE_CTL_CREATE, 0, "second", NULL, 0, NULL),
			 -EBUSY); /* one scheme per connection */
	ck_assert_int_eq(call(c, WIRE_CTL_CREATE, 0, "a:b", NULL, 0, NULL),
			 -EINVAL);
	ck_assert_int_eq(call(c, WIRE_CTL_CREATE, 0, "a/b", NULL, 0, NULL),
			 -EINVAL);
	ck_assert_int_eq(call(c, WIRE_CTL_CREATE, 0, "", NULL, 0, NULL),
			 -EINVAL);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(call(c, WIRE_CTL_CREATE, 0, longname, NULL, 0, NULL),
			 -ENAMETOOLONG);
	close(a);
	close(b);
	close(c);
}
END_TEST

/* The scheme goes with its connection; its name is free again. */
START_TEST(removed_when_provider_goes)
{
	char out[256];
	int a = conn(), b, i;

	ck_assert_int_eq(call(a, WIRE_CTL_CREATE, 0, "gone", NULL, 0, NULL), 0);
	list(out, sizeof(out));
	ck_assert_str_eq(out, "event\ngone\nirq\ntime\n");
	close(a);
	for (i = 0; i < 100; i++) {
		list(out, sizeof(out));
		if (strcmp(out, "event\nirq\ntime\n") == 0)
			break;
		usleep(10000);
	}
	ck_assert_str_eq(out, "event\nirq\ntime\n");
	b = conn();
	ck_assert_int_eq(call(b, WIRE_CTL_CREATE, 0, "gone", NULL, 0, NULL), 0);
	close(b);
}
END_TEST

/*
 * CONNECT: a channel for the client, its other end for the provider, with
 * whom it is for (NEWCHAN: pid, uid, epoch) and who serves it (CONNECT's
 * answer: the provider's pid, which makes its open files).
 */
START_TEST(connect_hands_out_channels)
{
	struct {
		struct wire_ctl m;
		struct wire_newchan nc;
	} nm;
	struct iovec iov = {&nm, sizeof(nm)};
	int prov = conn(), cli = conn(), cfd = -1, pfd = -1;
	struct wire_chan wc;
	char out[64];

	ck_assert_int_eq(call(prov, WIRE_CTL_CREATE, 0, "cc", NULL, 0, NULL),
			 0);
	ck_assert_int_eq(
	    call(cli, WIRE_CTL_CONNECT, 0, "cc", out, sizeof(out), &cfd), 0);
	ck_assert_int_ge(cfd, 0);
	memcpy(&wc, out, sizeof(wc));
	ck_assert_int_ge(wc.inst, 16);
	ck_assert_uint_eq(wc.pid, (uint32_t)getpid());
	ck_assert_int_eq(wc.err, 0);
	ck_assert_int_eq(wire_recv(prov, &iov, 1, &pfd, NULL, MSG_CMSG_CLOEXEC),
			 (ssize_t)sizeof(nm));
	ck_assert_uint_eq(nm.m.type, WIRE_CTL_NEWCHAN);
	ck_assert_uint_eq(nm.m.inst, wc.inst);
	ck_assert_uint_eq(nm.nc.flags, 0);
	ck_assert_uint_eq(nm.nc.pid, (uint32_t)getpid());
	ck_assert_uint_eq(nm.nc.uid, (uint32_t)geteuid());
	ck_assert_uint_eq(nm.nc.epoch, 0);
	ck_assert_int_ge(pfd, 0);
	/* The two ends are one channel. */
	ck_assert_int_eq(send(cfd, "ping", 4, 0), 4);
	ck_assert_int_eq(recv(pfd, out, sizeof(out), 0), 4);
	ck_assert_int_eq(memcmp(out, "ping", 4), 0);
	ck_assert_int_eq(call(cli, WIRE_CTL_CONNECT, 0, "nope", NULL, 0, NULL),
			 -ENOENT);
	ck_assert_int_eq(
	    call(cli, WIRE_CTL_CONNECT, 999999, NULL, NULL, 0, NULL), -EBADF);
	/* The root scheme is always there. */
	ck_assert_int_eq(call(cli, WIRE_CTL_CONNECT, 0, "", NULL, 0, &cfd), 0);
	close(cfd);
	close(pfd);
	close(prov);
	close(cli);
}
END_TEST

/* One request; the answer's fds (at most *n) in fds[], payload in out. */
static int
call_fds(int fd, uint32_t type, const void *payload, size_t len, void *out,
	 size_t outlen, size_t *got, int *fds, int *n)
{
	struct wire_ctl req, rep;
	struct iovec iov[2] = {{&rep, sizeof(rep)}, {out, outlen}};
	ssize_t r;

	wire_ctl_init(&req, type);
	req.len = (uint32_t)len;
	ck_assert_int_gt(
	    wire_send(fd, &req, sizeof(req), payload, len, -1, NULL, 0), 0);
	r = wire_recv_fds(fd, iov, 2, fds, n, MSG_CMSG_CLOEXEC);
	ck_assert_int_ge(r, (ssize_t)sizeof(rep));
	ck_assert_int_eq(wire_ctl_check(&rep, (size_t)r), 0);
	*got = rep.len;
	return rep.err;
}

/*
 * SERVES: the schemes a pid serves, with a channel to each (the broker
 * serves its built-ins); pids that serve nothing, or twice, add nothing.
 */
START_TEST(serves_lists_and_connects)
{
	uint32_t pids[WIRE_SERVES_MAX + 1] = {(uint32_t)getpid(), 0x7ffffff0,
					      (uint32_t)getpid(),
					      (uint32_t)h_broker};
	struct wire_chan wc[WIRE_SERVES_MAX];
	int prov = conn(), cli = conn(), fds[WIRE_SERVES_MAX], n, i;
	char out[64];
	size_t len;

	ck_assert_int_eq(call(prov, WIRE_CTL_CREATE, 0, "sv", NULL, 0, NULL),
			 0);
	n = WIRE_SERVES_MAX;
	ck_assert_int_eq(call_fds(cli, WIRE_CTL_SERVES, pids,
				  4 * sizeof(pids[0]), wc, sizeof(wc), &len,
				  fds, &n),
			 0);
	ck_assert_int_eq(wire_chans_check(wc, len, n), 4);
	ck_assert_uint_ge(wc[0].inst, 16); /* sv, ours */
	ck_assert_uint_eq(wc[0].pid, (uint32_t)getpid());
	for (i = 1; i < 4; i++) /* root, time:, irq:; not event: */
		ck_assert_uint_eq(wc[i].pid, (uint32_t)h_broker);
	ck_assert_uint_eq(wc[1].inst, 1);
	ck_assert_uint_eq(wc[2].inst, 3);
	ck_assert_uint_eq(wc[3].inst, 4);
	/* A channel, as CONNECT gives: sv's provider hears of it. */
	ck_assert_int_gt(wire_recv(prov, &(struct iovec){out, sizeof(out)}, 1,
				   &i, NULL, MSG_CMSG_CLOEXEC),
			 0);
	ck_assert_int_ge(i, 0);
	close(i);
	while (n > 0)
		close(fds[--n]);
	/* Not whole pids, too many. */
	n = WIRE_SERVES_MAX;
	ck_assert_int_eq(call_fds(cli, WIRE_CTL_SERVES, pids, 3, wc, sizeof(wc),
				  &len, fds, &n),
			 -EINVAL);
	ck_assert_int_eq(call_fds(cli, WIRE_CTL_SERVES, pids, sizeof(pids), wc,
				  sizeof(wc), &len, fds, &n),
			 -EINVAL);
	ck_assert_int_eq(n, 0);
	close(prov);
	close(cli);
}
END_TEST

/*
 * CREATE's answer brings the epoch table: sealed so that a provider maps
 * it read-only and can change no epoch.
 */
START_TEST(epoch_table_read_only)
{
	int prov = conn(), fd = -1, seals;
	void *m;

	ck_assert_int_eq(call(prov, WIRE_CTL_CREATE, 0, "ep", NULL, 0, &fd), 0);
	ck_assert_int_ge(fd, 0);
	seals = fcntl(fd, F_GET_SEALS);
	ck_assert_int_eq(seals & (F_SEAL_SHRINK | F_SEAL_GROW |
				  F_SEAL_FUTURE_WRITE | F_SEAL_SEAL),
			 F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE |
			     F_SEAL_SEAL);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert(m == MAP_FAILED);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(write(fd, "x", 1), -1);
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert(m != MAP_FAILED);
	ck_assert_int_eq(mprotect(m, 4096, PROT_READ | PROT_WRITE), -1);
	ck_assert_uint_eq(*(volatile uint32_t *)m, 0);
	munmap(m, 4096);
	close(fd);
	close(prov);
}
END_TEST

/* Who created a scheme is what the kernel says, shown by INFO. */
START_TEST(credentials_from_kernel)
{
	char out[4096], want[64];
	int a = conn(), b = conn();

	ck_assert_int_eq(call(a, WIRE_CTL_CREATE, 0, "cred", NULL, 0, NULL), 0);
	ck_assert_int_eq(
	    call(b, WIRE_CTL_INFO, 0, NULL, out, sizeof(out), NULL), 0);
	snprintf(want, sizeof(want), "scheme cred instance");
	ck_assert_ptr_nonnull(strstr(out, want));
	snprintf(want, sizeof(want), " pid %d ", (int)getpid());
	ck_assert_ptr_nonnull(strstr(strstr(out, "scheme cred"), want));
	close(a);
	close(b);
}
END_TEST

/* Garbage costs the sender its connection, and nobody else anything. */
START_TEST(garbage_dropped_broker_lives)
{
	char junk[100], out[64], c;
	int a = conn(), b = conn();

	memset(junk, 0x5a, sizeof(junk));
	ck_assert_int_eq(send(a, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	ck_assert_int_eq(recv(a, &c, 1, 0), 0); /* hung up on */
	ck_assert_int_eq(send(b, junk, 3, 0), 3);
	ck_assert_int_eq(recv(b, &c, 1, 0), 0);
	close(a);
	close(b);
	a = conn();
	ck_assert_int_eq(
	    call(a, 0xdead, 0, NULL, out, sizeof(out), NULL),
	    -ENOSYS); /* unknown request: an answer, not a hang-up */
	ck_assert_int_eq(
	    call(a, WIRE_CTL_LIST, 0, NULL, out, sizeof(out), NULL), 0);
	close(a);
	ck_assert_int_eq(kill(h_broker, 0), 0);
}
END_TEST

START_TEST(stop_exits)
{
	int a = conn();

	ck_assert_int_eq(call(a, WIRE_CTL_STOP, 0, NULL, NULL, 0, NULL), 0);
	close(a);
	ck_assert_int_eq(h_wait_exit(h_broker, 5), 0);
	ck_assert_int_eq(access(h_socket(), F_OK), -1); /* cleaned up */
	h_broker = -1;
}
END_TEST

/* A second broker on a live socket refuses to start. */
START_TEST(second_broker_refused)
{
	char *argv[] = {(char *)TEST_SCHEMED, (char *)"--socket",
			(char *)h_socket(), NULL};
	struct run_result *r = malloc(sizeof(*r));

	h_run(r, false, NULL, 10, argv);
	ck_assert_int_eq(r->status, 1);
	ck_assert_ptr_nonnull(strstr(r->err, "another broker"));
	free(r);
	ck_assert_int_eq(kill(h_broker, 0), 0);
}
END_TEST

static Suite *
broker_suite(void)
{
	Suite *s = suite_create("broker");
	TCase *tc = tcase_create("control");

	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, start_broker, stop_broker);
	tcase_add_test(tc, create_list_sorted);
	tcase_add_test(tc, create_refusals);
	tcase_add_test(tc, removed_when_provider_goes);
	tcase_add_test(tc, connect_hands_out_channels);
	tcase_add_test(tc, serves_lists_and_connects);
	tcase_add_test(tc, epoch_table_read_only);
	tcase_add_test(tc, credentials_from_kernel);
	tcase_add_test(tc, garbage_dropped_broker_lives);
	tcase_add_test(tc, stop_exits);
	tcase_add_test(tc, second_broker_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(broker_suite());
}

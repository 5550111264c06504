/*
 * test_limits.c - what one client can make a provider (or the broker)
 * hold is bounded, refusals say so with the errno the contract names, and
 * everyone else is served meanwhile.
 *
 * Runs under the preload.  The "serve" cases drive proto/serve.c over
 * socket pairs, as test_serve.c does, in a copy of this program started
 * without the preload (see main): keyed-only channels, the caps with
 * small values, and fds or messages a client should not send.  The
 * "provider" cases start a broker and a tiny provider of our own (a
 * forked child, its caps from the environment as a real provider's are)
 * and flood it from forked clients; "time" floods the broker's time:.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"
#include "serve_chan.h"
#include "tiny.h"

/* The serve level ------------------------------------------------------- */

static int cli; /* the client's end of an ordinary channel */

static void
serve_up(uint32_t max_handles, uint32_t max_pending)
{
	struct serve_config cfg = {.broker = 0xabc,
				   .inst = 42,
				   .name = "lim",
				   .max_handles = max_handles,
				   .max_pending = max_pending};

	s = serve_new(&cfg);
	ck_assert_ptr_nonnull(s);
	cli = new_chan(0);
}

static void
setup(void)
{
	serve_up(0, 0);
}

/* Small caps: three open files, two requests in hand, per client. */
static void
setup_small(void)
{
	serve_up(3, 2);
}

static void
teardown(void)
{
	if (cli >= 0)
		close(cli);
	serve_free(s);
}

/* The answer to a request serve refused: the provider saw nothing. */
static int64_t
refused(int ch, uint64_t seq)
{
	struct scheme_packet p;
	struct wire_rep rep;

	ck_assert_int_eq(serve_read(s, &p, 1, 50), -EAGAIN);
	recv_rep(ch, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, seq);
	return (int64_t)rep.result;
}

/* The fd is closed: nobody holds the write end of its pipe any more. */
static void
assert_closed_by_serve(int rd)
{
	struct pollfd pf = {rd, POLLIN, 0};
	char c;

	ck_assert_int_eq(poll(&pf, 1, 1000), 1);
	ck_assert_int_eq(read(rd, &c, 1), 0);
	close(rd);
}

/*
 * A keyed-only channel: open, unlink, rmdir and rename say ENODEV and
 * never reach the provider; operations on a description the channel
 * proves it holds work as on any channel.
 */
START_TEST(nopaths_channel_refuses_paths)
{
	const uint32_t path_ops[] = {SYS_OPEN, SYS_UNLINK, SYS_RMDIR};
	int kc = new_chan(SERVE_CHAN_NOPATHS), att = -1, fd;
	struct scheme_packet p;
	struct wire_rep rep;
	char buf[8] = {0};
	uint64_t key;

	fd = do_open(cli, "f", 7, &key);
	for (size_t i = 0; i < 3; i++) {
		send_req(kc, path_ops[i], 0, 0, O_RDONLY, "f", 1, 10 + i);
		ck_assert_int_eq(refused(kc, 10 + i), -ENODEV);
	}
	send_req(kc, SYS_FRENAME, key, 0, 0, "g", 1, 20);
	ck_assert_int_eq(refused(kc, 20), -ENODEV);
	/* Keyed: not attached yet, then attached by the fd, then served. */
	send_req(kc, SYS_READ, key, 0, 4, NULL, 0, 21);
	ck_assert_int_eq(serve_read(s, &p, 1, 50), -EAGAIN);
	recv_rep(kc, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.status, WIRE_NOTATTACHED);
	send_req_fd(kc, WIRE_OP_ATTACH, key, 0, 0, NULL, 0, 22, fd);
	ck_assert_int_eq(refused(kc, 22), 0);
	send_req(kc, SYS_READ, key, 0, 4, NULL, 0, 23);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_READ);
	ck_assert_uint_eq(p.b, 7);
	memcpy((void *)(uintptr_t)p.c, "xy", 2);
	p.a = 2;
	serve_write(s, &p);
	recv_rep(kc, &rep, buf, sizeof(buf), &att);
	ck_assert_uint_eq(rep.seq, 23);
	ck_assert_int_eq((int64_t)rep.result, 2);
	ck_assert_str_eq(buf, "xy");
	ck_assert_int_eq(att, -1);
	/* The ordinary channel still opens by path. */
	close(do_open(cli, "f", 8, &key));
	close(kc);
	close(fd);
}
END_TEST

/* A flag serve does not know is refused, and the fd is not leaked. */
START_TEST(unknown_channel_flag_refused)
{
	int sv[2], fds;

	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	fds = h_count_fds();
	ck_assert_int_eq(serve_add_chan(s, sv[1], 0x80), -EINVAL);
	ck_assert_int_eq(h_count_fds(), fds - 1);
	ck_assert_int_eq(fcntl(sv[1], F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	close(sv[0]);
}
END_TEST

/*
 * Three open files per client: the fourth open is EMFILE, from any of its
 * channels, and never reaches the provider; a close makes room again.
 */
START_TEST(handle_cap_per_client)
{
	int other = new_chan(0), fd[3], more;
	struct scheme_packet p;
	uint64_t key[4];

	for (int i = 0; i < 3; i++)
		fd[i] = do_open(i == 1 ? other : cli, "f", 100 + i, &key[i]);
	send_req(other, SYS_OPEN, 0, 0, O_RDONLY, "f", 1, 9);
	ck_assert_int_eq(refused(other, 9), -EMFILE);
	send_req(cli, SYS_OPEN, 0, 0, O_RDONLY, "f", 1, 9);
	ck_assert_int_eq(refused(cli, 9), -EMFILE);
	close(fd[0]);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_CLOSE);
	ck_assert_uint_eq(p.b, 100);
	p.a = 0;
	serve_write(s, &p);
	more = do_open(other, "f", 200, &key[3]);
	close(more);
	close(fd[1]);
	close(fd[2]);
	close(other);
}
END_TEST

/*
 * Two requests in hand per client, across its channels: a third is
 * EAGAIN, an open too, and the refusal carries the description's flags
 * and generation (an O_NONBLOCK client returns, a blocking one waits for
 * a post).  A WAIT is not refused; an answer makes room.
 */
START_TEST(pending_cap_per_client)
{
	int other = new_chan(0), fd;
	struct scheme_packet p1, p2, x,
	    post = {.a = SYS_FEVENT, .b = 5, .c = EVENT_READ};
	struct pollfd pf;
	struct wire_rep rep;
	uint64_t key;

	fd = do_open(cli, "f", 5, &key);
	send_req_fd(other, WIRE_OP_ATTACH, key, 0, 0, NULL, 0, 1, fd);
	ck_assert_int_eq(refused(other, 1), 0);
	send_req(cli, SYS_READ, key, 0, 4, NULL, 0, 2);
	send_req(other, SYS_READ, key, 0, 4, NULL, 0, 3);
	read_one(&p1);
	read_one(&p2); /* both held by the provider */
	send_req(cli, SYS_READ, key, 0, 4, NULL, 0, 4);
	ck_assert_int_eq(serve_read(s, &x, 1, 50), -EAGAIN);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 4);
	ck_assert_int_eq((int64_t)rep.result, -EAGAIN);
	ck_assert_uint_eq(rep.dflags & O_ACCMODE, O_RDWR);
	send_req(other, SYS_OPEN, 0, 0, O_RDONLY, "g", 1, 5);
	ck_assert_int_eq(refused(other, 5), -EAGAIN);
	/* A blocking client's wait is held, and a post answers it. */
	send_req(cli, WIRE_OP_WAIT, key, 0, rep.gen, NULL, 0, 6);
	ck_assert_int_eq(serve_read(s, &x, 1, 50), -EAGAIN);
	pf = (struct pollfd){cli, POLLIN, 0};
	ck_assert_int_eq(poll(&pf, 1, 50), 0);
	serve_write(s, &post);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 6);
	/* An answer gives room back. */
	p2.a = 0;
	serve_write(s, &p2);
	recv_rep(other, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 3);
	close(do_open(other, "f", 6, &key));
	p1.a = 0;
	serve_write(s, &p1);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 2);
	close(fd);
	close(other);
}
END_TEST

/* An open of "f" with the write ends of eight pipes: all must close. */
static void
send_many_fds(int ch, uint64_t seq)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct wire_req r;
	struct iovec iov[2] = {{&r, sizeof(r)}, {(void *)"f", 1}};
	struct msghdr m = {.msg_iov = iov,
			   .msg_iovlen = 2,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int rd[8], wr[8], pp[2];

	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
		rd[i] = pp[0];
		wr[i] = pp[1];
	}
	wire_req_init(&r, SYS_OPEN, 0);
	r.seq = seq;
	r.arg[2] = O_RDONLY;
	r.len = 1;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(wr));
	memcpy(CMSG_DATA(c), wr, sizeof(wr));
	ck_assert_int_eq(sendmsg(ch, &m, 0), (ssize_t)sizeof(r) + 1);
	for (int i = 0; i < 8; i++)
		close(wr[i]);
	/* Closed as the request is read, before the provider answers. */
	{
		struct scheme_packet p;

		ck_assert_int_eq(serve_read(s, &p, 1, 1000), 1);
		ck_assert_uint_eq(p.a, SYS_OPEN);
		for (int i = 0; i < 8; i++)
			assert_closed_by_serve(rd[i]);
		p.a = (uint64_t)-ENOENT;
		serve_write(s, &p);
	}
}

/*
 * An fd passed with a request that takes none is closed unread; so is one
 * passed with a message that is not a request (garbage, truncated,
 * oversized), which also ends the channel.
 */
START_TEST(passed_fds_never_kept)
{
	struct scheme_packet p;
	int pp[2], fds = h_count_fds();
	char junk[10] = "garbage!!";
	struct wire_rep rep;
	struct wire_req r;
	char c;

	/* With an open: the open goes on, the fd goes. */
	ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
	send_req_fd(cli, SYS_OPEN, 0, 0, O_RDONLY, "f", 1, 1, pp[1]);
	close(pp[1]);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_OPEN);
	p.a = (uint64_t)-ENOENT;
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_int_eq((int64_t)rep.result, -ENOENT);
	assert_closed_by_serve(pp[0]);
	/* Eight at once: wire_recv keeps one, the kernel drops those past
	 * its room; all are closed. */
	send_many_fds(cli, 3);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 3);
	/* With a request for a description nobody opened. */
	ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
	send_req_fd(cli, SYS_READ, 12345, 0, 4, NULL, 0, 2, pp[1]);
	close(pp[1]);
	ck_assert_int_eq(refused(cli, 2), -EBADF);
	assert_closed_by_serve(pp[0]);
	/* Garbage, then a truncated header: each ends its channel. */
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
		wire_req_init(&r, SYS_READ, 1);
		r.len = 100; /* says more than follows */
		ck_assert_int_gt(wire_send(cli, k ? (void *)&r : junk,
					   k ? sizeof(r) : sizeof(junk), NULL,
					   0, pp[1], NULL, 0),
				 0);
		close(pp[1]);
		ck_assert_int_eq(serve_read(s, &p, 1, 50), -EAGAIN);
		ck_assert_int_eq(recv(cli, &c, 1, 0), 0); /* hung up on */
		assert_closed_by_serve(pp[0]);
		close(cli);
		cli = new_chan(0);
	}
	ck_assert_int_eq(h_count_fds(), fds);
}
END_TEST

/* A message longer than any request: cut off, its fd closed. */
START_TEST(oversized_message_cut_off)
{
	size_t len = sizeof(struct wire_req) + WIRE_MAX_DATA + 4096;
	int sz = (int)(2 * len), pp[2], fds = h_count_fds();
	char *big = calloc(1, len), c;
	struct scheme_packet p;
	ssize_t n;

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
	/* Room to send it at all (root may go past wmem_max). */
	setsockopt(cli, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	wire_req_init((struct wire_req *)big, SYS_WRITE, 1);
	n = wire_send(cli, big, len, NULL, 0, pp[1], NULL, MSG_DONTWAIT);
	close(pp[1]);
	free(big);
	if (n == -EMSGSIZE || n == -ENOBUFS || n == -EAGAIN) {
		close(pp[0]);
		return; /* cannot be sent here: nothing to test */
	}
	ck_assert_int_eq(n, (ssize_t)len);
	ck_assert_int_eq(serve_read(s, &p, 1, 50), -EAGAIN);
	ck_assert_int_eq(recv(cli, &c, 1, 0), 0);
	assert_closed_by_serve(pp[0]);
	ck_assert_int_eq(h_count_fds(), fds - 1); /* serve's end of it */
}
END_TEST

/*
 * A client that sends requests and never reads the answers is cut off
 * when its socket is full; answers to what it left are dropped, its
 * description still gets SYS_CLOSE, and nothing of it stays open.
 */
START_TEST(nonreading_client_cut_off)
{
	enum { N = 40, SZ = 128 * 1024 };
	struct scheme_packet p[N], c;
	struct wire_stats st;
	int fds = h_count_fds(), fd, i;
	uint64_t key;

	fd = do_open(cli, "f", 3, &key);
	for (i = 0; i < N; i++)
		send_req(cli, SYS_READ, key, 0, SZ, NULL, 0, 10 + (uint64_t)i);
	for (i = 0; i < N; i++)
		read_one(&p[i]);
	for (i = 0; i < N; i++) {
		memset((void *)(uintptr_t)p[i].c, 'x', SZ);
		p[i].a = SZ;
		serve_write(s, &p[i]); /* fills the socket, then cuts it */
	}
	serve_stats(s, &st);
	ck_assert_uint_eq(st.answers, N + 1);
	ck_assert_uint_eq(st.dropped_unknown, 0);
	/* The channel is closed on serve's side: reading ends in EOF. */
	{
		char *buf = malloc(SZ + 4096);
		ssize_t n;
		int got = 0;

		while ((n = recv(cli, buf, SZ + 4096, 0)) > 0)
			got++;
		free(buf);
		ck_assert_int_eq(n, 0);
		ck_assert_int_lt(got, N);
	}
	close(fd);
	read_one(&c);
	ck_assert_uint_eq(c.a, SYS_CLOSE);
	c.a = 0;
	serve_write(s, &c);
	ck_assert_uint_eq(serve_count_descs(s), 0);
	close(cli);
	cli = -1;
	ck_assert_int_eq(h_count_fds(), fds - 2); /* both ends of it */
}
END_TEST

/*
 * The default caps are shares of the fd limit serve_new finds: with 256
 * fds, a process gets (256 - 64 - 256 / 8) / 4 = 40 open files.
 */
START_TEST(caps_from_fd_limit)
{
	struct rlimit rl = {256, 256};
	int fd[40];
	uint64_t key;

	close(cli);
	serve_free(s);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	serve_up(0, 0);
	for (int i = 0; i < 40; i++)
		fd[i] = do_open(cli, "f", 100 + (uint64_t)i, &key);
	send_req(cli, SYS_OPEN, 0, 0, O_RDONLY, "f", 1, 9);
	ck_assert_int_eq(refused(cli, 9), -EMFILE);
	for (int i = 0; i < 40; i++)
		close(fd[i]);
}
END_TEST

/* Channels the broker made for an owner ------------------------------- */

#define NEPOCHS (1u << 22)
static _Atomic uint32_t *epochs; /* sparse, as the broker's memfd */

/* An epoch table; at most 2 channels a process and 3 a user. */
static void
setup_owned(void)
{
	struct serve_config cfg = {
	    .inst = 43, .name = "own", .max_chans = 2, .max_chans_uid = 3};

	epochs = mmap(NULL, NEPOCHS * sizeof(*epochs), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(epochs != MAP_FAILED);
	cfg.epochs = epochs;
	cfg.nepochs = NEPOCHS;
	s = serve_new(&cfg);
	ck_assert_ptr_nonnull(s);
	cli = -1;
}

static void
teardown_owned(void)
{
	serve_free(s);
	munmap((void *)epochs, NEPOCHS * sizeof(*epochs));
}

/*
 * A channel made for pid and uid at epoch: the client's end, or -1 when
 * serve refused it: then the refusal (*why) waits in it, and serve's end
 * is closed already.
 */
static int
owned_chan(uint32_t pid, uint32_t uid, uint32_t epoch, int64_t *why)
{
	struct serve_chan_info ci = {0, pid, uid, epoch};
	struct wire_rep rep;
	int sv[2];
	char c;

	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	if (serve_add_chan_for(s, sv[1], &ci) == 0)
		return sv[0];
	recv_rep(sv[0], &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.status, WIRE_REFUSED);
	ck_assert_uint_eq(rep.seq, 0);
	ck_assert_int_eq(recv(sv[0], &c, 1, 0), 0);
	close(sv[0]);
	*why = (int64_t)rep.result;
	return -1;
}

/*
 * Once the epoch table says its owner changed namespace (setrens), a
 * channel made before names no path: open, unlink, rmdir, rename are
 * ENODEV and never reach the provider; files it holds keep working.  A
 * channel made since names paths; one made for another process names
 * none for us; one serve did not get from the broker is not checked.
 */
START_TEST(old_channel_names_no_path)
{
	const uint32_t path_ops[] = {SYS_OPEN, SYS_UNLINK, SYS_RMDIR};
	uint32_t me = (uint32_t)getpid(), uid = (uint32_t)geteuid();
	int a = owned_chan(me, uid, 0, NULL), b, other, plain, fd, fd2;
	struct scheme_packet p;
	struct wire_rep rep;
	uint64_t key, key2;

	fd = do_open(a, "f", 5, &key);
	atomic_store_explicit(&epochs[me], 1, memory_order_release);
	for (size_t i = 0; i < 3; i++) {
		send_req(a, path_ops[i], 0, 0, O_RDONLY, "f", 1, 10 + i);
		ck_assert_int_eq(refused(a, 10 + i), -ENODEV);
	}
	send_req(a, SYS_FRENAME, key, 0, 0, "g", 1, 20);
	ck_assert_int_eq(refused(a, 20), -ENODEV);
	send_req(a, SYS_READ, key, 0, 4, NULL, 0, 21);
	read_one(&p);
	ck_assert_uint_eq(p.b, 5);
	p.a = 0;
	serve_write(s, &p);
	recv_rep(a, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 21);
	ck_assert_int_eq((int64_t)rep.result, 0);
	b = owned_chan(me, uid, 1, NULL);
	fd2 = do_open(b, "g", 6, &key2);
	other = owned_chan(me + 1, uid, 0, NULL);
	send_req(other, SYS_OPEN, 0, 0, O_RDONLY, "f", 1, 30);
	ck_assert_int_eq(refused(other, 30), -ENODEV);
	plain = new_chan(0);
	close(do_open(plain, "h", 7, &key2));
	close(fd);
	close(fd2);
	close(a);
	close(b);
	close(other);
	close(plain);
}
END_TEST

/*
 * Two channels a process, three a user: past that a new channel is
 * answered EAGAIN and closed at once; another user is not counted, and a
 * channel that closes makes room.
 */
START_TEST(channel_caps)
{
	int c[4], more;
	struct scheme_packet p;
	int64_t why = 0;

	c[0] = owned_chan(100, 7, 0, &why);
	c[1] = owned_chan(100, 7, 0, &why);
	ck_assert_int_ge(c[0], 0);
	ck_assert_int_ge(c[1], 0);
	ck_assert_int_eq(owned_chan(100, 7, 0, &why), -1);
	ck_assert_int_eq(why, -EAGAIN);
	c[2] = owned_chan(101, 7, 0, &why);
	ck_assert_int_ge(c[2], 0);
	why = 0;
	ck_assert_int_eq(owned_chan(102, 7, 0, &why), -1);
	ck_assert_int_eq(why, -EAGAIN);
	c[3] = owned_chan(103, 8, 0, &why);
	ck_assert_int_ge(c[3], 0);
	close(c[0]);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN); /* sees it go */
	more = owned_chan(100, 7, 0, &why);
	ck_assert_int_ge(more, 0);
	close(more);
	for (int i = 1; i < 4; i++)
		close(c[i]);
}
END_TEST

static void
start_broker(void)
{
	h_world_start(NULL);
}

/* The broker must exit cleanly: under the sanitizers, without leaks. */
static void
stop_broker_checked(void)
{
	int st = h_stop(h_broker);

	h_broker = -1;
	ck_assert_msg(st == 0, "schemed exited with status %d", st);
}

/*
 * SCHEME_MAX_HANDLES=200: the flooding client gets exactly 200 files,
 * then EMFILE every time (logged once), while another client opens and
 * reads; a close makes room; nothing leaks in the client.
 */
START_TEST(handle_cap_gives_emfile)
{
	pid_t prov = tiny_start(
		  "lh", (const char *[]){"SCHEME_MAX_HANDLES=200", NULL}, 0),
	      pid;
	int rep[2], go[2];
	struct flood f;
	char line[128];

	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(go), 0);
	if ((pid = fork()) == 0)
		flood_opens("lh", 1000, 1000, rep[1], go[0]);
	flood_get(rep[0], &f);
	ck_assert_int_eq(f.opened, 200);
	ck_assert_int_eq(f.err, EMFILE);
	ck_assert_int_eq(f.refused, 1000);
	tiny_assert_served("lh"); /* while the flooder holds its 200 */
	flood_step(go[1]);
	flood_get(rep[0], &f);
	ck_assert_int_eq(f.reopened, 200);
	ck_assert_int_eq(f.leaked, 0);
	ck_assert_int_eq(h_wait_exit(pid, 10), 0);
	snprintf(line, sizeof(line),
		 "scheme lh: pid %d hit the open-handle cap (200): EMFILE",
		 (int)pid);
	ck_assert_int_eq(tiny_log_lines("lh", line), 1);
	ck_assert_int_eq(tiny_log_lines("lh", "hit the"), 1);
	ck_assert_int_eq(h_stop(prov), 128 + SIGTERM);
}
END_TEST

static void *
blocked_reader(void *arg)
{
	char buf[4];
	int fd = *(int *)arg;

	if (read(fd, buf, sizeof(buf)) >= 0)
		_exit(8); /* the provider never answers it */
	return NULL;
}

/*
 * SCHEME_MAX_PENDING=8: eight threads' reads are held by the provider;
 * the client's next request, on any of its channels, is EAGAIN (an
 * O_NONBLOCK read, an open), logged once; another client is served.
 */
START_TEST(pending_cap_gives_eagain)
{
	pid_t prov = tiny_start(
		  "lp", (const char *[]){"SCHEME_MAX_PENDING=8", NULL}, 0),
	      pid;
	int rep[2], go[2];
	struct flood f;
	char line[128];

	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(go), 0);
	if ((pid = fork()) == 0) {
		struct flood out = {0};
		int hold = open("lp:hold", O_RDWR), probe;
		pthread_t t[8];
		char buf[4];

		probe = open("lp:probe", O_RDWR | O_NONBLOCK);
		if (hold < 0 || probe < 0)
			_exit(9);
		for (int i = 0; i < 8; i++)
			if (pthread_create(&t[i], NULL, blocked_reader,
					   &hold) != 0)
				_exit(10);
		/* Reads answered while the threads' reads arrive. */
		for (int i = 0; i < 500; i++, out.opened++) {
			if (read(probe, buf, sizeof(buf)) < 0)
				break;
			h_sleep_ms(5);
		}
		out.err = errno;
		if (open("lp:x", O_RDONLY) < 0 && errno == EAGAIN)
			out.refused = 1;
		flood_put(rep[1], &out);
		flood_wait(go[0]);
		_exit(0); /* the threads' reads stay with the provider */
	}
	flood_get(rep[0], &f);
	ck_assert_int_lt(f.opened, 500);
	ck_assert_int_eq(f.err, EAGAIN);
	ck_assert_int_eq(f.refused, 1);
	tiny_assert_served("lp");
	flood_step(go[1]);
	ck_assert_int_eq(h_wait_exit(pid, 10), 0);
	tiny_assert_served("lp"); /* the dead client's held reads harm nobody */
	snprintf(line, sizeof(line),
		 "scheme lp: pid %d hit the outstanding-request cap (8): "
		 "EAGAIN",
		 (int)pid);
	ck_assert_int_eq(tiny_log_lines("lp", line), 1);
	ck_assert_int_eq(h_stop(prov), 128 + SIGTERM);
}
END_TEST

/*
 * A flood of opens: four clients at once, each to its cap of 4000 files
 * and then 5000 refused opens each.  The provider's memory grows with
 * what it holds and not with the refusals, and a fifth client is served
 * throughout.  The figures go to stderr.
 */
START_TEST(flood_memory_bounded)
{
	enum { NCLI = 4, CAP = 4000, EXTRA = 5000 };
	pid_t prov = tiny_start(
		  "lm",
		  (const char *[]){"SCHEME_MAX_HANDLES=4000",
				   "SCHEME_MAX_HANDLES_UID=100000", NULL},
		  0),
	      pid[NCLI];
	long base, held, peak, after, kb;
	int rep[2], go[2];
	struct flood f;

	need_fds(CAP + 200);
	h_sleep_ms(100);
	base = h_rss_kb(prov);
	ck_assert_int_gt(base, 0);
	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(go), 0);
	for (int i = 0; i < NCLI; i++)
		if ((pid[i] = fork()) == 0)
			flood_opens("lm", CAP, EXTRA, rep[1], go[0]);
	peak = base;
	for (int i = 0; i < NCLI; i++) {
		struct pollfd pf = {rep[0], POLLIN, 0};

		while (poll(&pf, 1, 20) == 0) {
			if ((kb = h_rss_kb(prov)) > peak)
				peak = kb;
			tiny_assert_served("lm");
		}
		flood_get(rep[0], &f);
		ck_assert_int_eq(f.opened, CAP);
		ck_assert_int_eq(f.err, EMFILE);
		ck_assert_int_eq(f.refused, EXTRA);
	}
	held = h_rss_kb(prov);
	peak = held > peak ? held : peak;
	for (int i = 0; i < NCLI; i++)
		flood_step(go[1]);
	for (int i = 0; i < NCLI; i++) {
		flood_get(rep[0], &f);
		ck_assert_int_eq(f.leaked, 0);
	}
	for (int i = 0; i < NCLI; i++)
		ck_assert_int_eq(h_wait_exit(pid[i], 30), 0);
	tiny_assert_served("lm");
	after = h_rss_kb(prov);
	fprintf(stderr,
		"flood_memory_bounded: provider VmRSS %ld kB at start, "
		"%ld kB holding %d files (%.0f bytes each), peak %ld kB "
		"over %d refused opens, %ld kB after all closed\n",
		base, held, NCLI * CAP,
		(double)(held - base) * 1024 / (NCLI * CAP), peak, NCLI * EXTRA,
		after);
	/* About 1 KiB a file held (the socket's is the kernel's). */
	ck_assert_int_lt(held - base, 32 * 1024);
	ck_assert_int_lt(peak - held, 4 * 1024); /* refusals cost nothing */
	ck_assert_int_eq(tiny_log_lines("lm", "hit the open-handle cap"), NCLI);
	ck_assert_int_eq(h_stop(prov), 128 + SIGTERM);
}
END_TEST

/* time: ------------------------------------------------------------------ */

static void
deadlines(struct scheme_timespec *ts, size_t n, long ahead_s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < n; i++) {
		memset(&ts[i], 0, sizeof(ts[i]));
		ts[i].tv_sec = now.tv_sec + ahead_s;
		ts[i].tv_nsec = (int32_t)i;
	}
}

static long
broker_log_has(const char *what)
{
	char path[256], *buf;
	size_t len;
	long n = 0;

	snprintf(path, sizeof(path), "%s/broker.log", h_dir());
	if ((buf = h_read_file(path, &len)) == NULL)
		return -1;
	for (char *p = buf; (p = strstr(p, what)) != NULL; p++)
		n++;
	free(buf);
	return n;
}

/*
 * 4096 deadlines wait per open file: a write past that takes what fits
 * (a short count), then ENOSPC; another file still has room, and a
 * deadline past already still fires.
 */
START_TEST(time_cap_per_file)
{
	enum { N = 4100, CAP = 4096 };
	struct scheme_timespec *ts = calloc(N, sizeof(*ts));
	int t = open("time:4", O_RDWR), u = open("time:4", O_RDWR);
	int fds = h_count_fds();
	struct pollfd pf;

	ck_assert_int_ge(t, 0);
	ck_assert_int_ge(u, 0);
	deadlines(ts, N, 3600);
	ck_assert_int_eq(write(t, ts, N * sizeof(*ts)),
			 (ssize_t)(CAP * sizeof(*ts)));
	errno = 0;
	ck_assert_int_eq(write(t, ts, sizeof(*ts)), -1);
	ck_assert_int_eq(errno, ENOSPC);
	deadlines(ts, 1, -1); /* past: fires at once */
	ck_assert_int_eq(write(u, ts, sizeof(*ts)), (ssize_t)sizeof(*ts));
	pf = (struct pollfd){u, POLLIN, 0};
	ck_assert_int_eq(poll(&pf, 1, 2000), 1);
	ck_assert_int_eq(broker_log_has("hit the cap on deadlines waiting on "
					"one file (4096): ENOSPC"),
			 1);
	close(t);
	close(u);
	ck_assert_int_eq(h_count_fds(), fds - 2);
	free(ts);
}
END_TEST

/*
 * All files together hold at most 262144 deadlines waiting; files closed
 * give theirs back at once, so open-write-close loops never fill it.
 */
START_TEST(time_cap_in_all)
{
	enum { CAP = 4096, FILES = 64, TOTAL = 1 << 18 };
	struct scheme_timespec *ts = calloc(CAP, sizeof(*ts));
	int fd[FILES + 1], i;
	ssize_t n, sum = 0;

	deadlines(ts, CAP, 3600);
	for (i = 0; i < 100; i++) { /* 409600 written, never more held */
		int t = open("time:4", O_RDWR);

		ck_assert_int_ge(t, 0);
		ck_assert_int_eq(write(t, ts, CAP * sizeof(*ts)),
				 (ssize_t)(CAP * sizeof(*ts)));
		close(t);
	}
	for (i = 0; i < FILES; i++) {
		fd[i] = open("time:4", O_RDWR);
		ck_assert_int_ge(fd[i], 0);
		n = write(fd[i], ts, CAP * sizeof(*ts));
		ck_assert_int_gt(n, 0);
		sum += n;
	}
	ck_assert_int_eq(sum, (ssize_t)(TOTAL * sizeof(*ts)));
	fd[FILES] = open("time:4", O_RDWR);
	errno = 0;
	ck_assert_int_eq(write(fd[FILES], ts, sizeof(*ts)), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(broker_log_has("hit the cap on deadlines waiting in "
					"all (262144): ENOSPC"),
			 1);
	close(fd[0]); /* reaches the broker in its own time */
	for (i = 0; i < 200 && (n = write(fd[FILES], ts, sizeof(*ts))) < 0;
	     i++) {
		ck_assert_int_eq(errno, ENOSPC);
		h_sleep_ms(10);
	}
	ck_assert_int_eq(n, (ssize_t)sizeof(*ts));
	for (i = 1; i <= FILES; i++)
		close(fd[i]);
	free(ts);
}
END_TEST

/* The serve level, run without the preload (see main). */
static Suite *
serve_suite(void)
{
	Suite *su = suite_create("limits-serve");
	TCase *tc = tcase_create("serve");

	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, nopaths_channel_refuses_paths);
	tcase_add_test(tc, unknown_channel_flag_refused);
	tcase_add_test(tc, passed_fds_never_kept);
	tcase_add_test(tc, oversized_message_cut_off);
	tcase_add_test(tc, nonreading_client_cut_off);
	suite_add_tcase(su, tc);

	tc = tcase_create("serve_caps");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_small, teardown);
	tcase_add_test(tc, handle_cap_per_client);
	tcase_add_test(tc, pending_cap_per_client);
	suite_add_tcase(su, tc);

	tc = tcase_create("serve_fd_limit");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, caps_from_fd_limit);
	suite_add_tcase(su, tc);

	tc = tcase_create("serve_owned");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_owned, teardown_owned);
	tcase_add_test(tc, old_channel_names_no_path);
	tcase_add_test(tc, channel_caps);
	suite_add_tcase(su, tc);
	return su;
}

static Suite *
limits_suite(void)
{
	Suite *su = suite_create("limits");
	TCase *tc = tcase_create("provider");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, start_broker, h_world_stop);
	tcase_add_test(tc, handle_cap_gives_emfile);
	tcase_add_test(tc, pending_cap_gives_eagain);
	tcase_add_test(tc, flood_memory_bounded);
	suite_add_tcase(su, tc);

	/* Each with a broker of its own: time: counts for the broker's life. */
	tc = tcase_create("time");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, start_broker, stop_broker_checked);
	tcase_add_test(tc, time_cap_per_file);
	tcase_add_test(tc, time_cap_in_all);
	suite_add_tcase(su, tc);
	return su;
}

/*
 * The serve cases pass descriptions' fds over SCM_RIGHTS inside this
 * process, which the preload would take for scheme fds of a broker that
 * does not exist: they run in a copy of this program without it, first.
 */
int
main(int argc, char *argv[])
{
	char *self[] = {(char *)"/proc/self/exe", (char *)"--serve", NULL};
	int st = -1, failed;
	pid_t pid;

	if (argc > 1 && strcmp(argv[1], "--serve") == 0)
		return h_main(serve_suite());
	fflush(stdout);
	pid = h_spawn(self, false, -1);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		st = -1;
	failed = h_main(limits_suite());
	return failed || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
}

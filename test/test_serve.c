/*
 * test_serve.c - the provider's end of the protocol (proto/serve.c),
 * driven over real socket pairs: what the provider reads, what clients
 * get back, and what happens with bad answers and closed clients.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"
#include "serve_chan.h"

static int cli; /* the client's end of one channel */

static void
setup(void)
{
	struct serve_config cfg = {.broker = 0xabc, .inst = 42};

	s = serve_new(&cfg);
	ck_assert_ptr_nonnull(s);
	cli = new_chan(0);
}

static void
teardown(void)
{
	if (cli >= 0)
		close(cli);
	serve_free(s);
}

START_TEST(open_read_write_roundtrip)
{
	struct scheme_packet p;
	struct wire_rep rep;
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	struct ucred peer;
	socklen_t plen = sizeof(peer);
	uint64_t key;
	char buf[16] = {0};
	int fd = do_open(cli, "some/file", 7, &key);

	/* The fd has no name anyone could take first; its peer made it. */
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	ck_assert_uint_eq(len, sizeof(sa_family_t));
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &plen),
			 0);
	ck_assert_int_eq(peer.pid, getpid());

	send_req(cli, SYS_WRITE, key, 0, 5, "abcde", 5, 2);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_WRITE);
	ck_assert_uint_eq(p.b, 7);
	ck_assert_uint_eq(p.d, 5);
	ck_assert_int_eq(memcmp((void *)(uintptr_t)p.c, "abcde", 5), 0);
	p.a = 5;
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 2);
	ck_assert_uint_eq(rep.result, 5);

	send_req(cli, SYS_READ, key, 0, 10, NULL, 0, 3);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_READ);
	ck_assert_uint_eq(p.d, 10);
	memcpy((void *)(uintptr_t)p.c, "xyz", 3);
	p.a = 3;
	serve_write(s, &p);
	ck_assert_int_eq(recv_rep(cli, &rep, buf, sizeof(buf), NULL),
			 (ssize_t)sizeof(rep) + 3);
	ck_assert_uint_eq(rep.result, 3);
	ck_assert_str_eq(buf, "xyz");
	close(fd);
}
END_TEST

START_TEST(close_reaches_provider_once)
{
	struct scheme_packet p;
	uint64_t key;
	int fd = do_open(cli, "f", 9, &key), dupfd = dup(fd);

	close(fd);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN); /* a dup lives */
	close(dupfd);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_CLOSE);
	ck_assert_uint_eq(p.b, 9);
	p.a = 0;
	serve_write(s, &p);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	ck_assert_uint_eq(serve_count_descs(s), 0);
}
END_TEST

START_TEST(answers_in_any_order)
{
	struct scheme_packet p1, p2;
	struct wire_rep rep;
	uint64_t key;
	int other = new_chan(0), fd = do_open(cli, "f", 1, &key);
	int att = -1;

	/* The second channel proves it holds the fd, then asks too. */
	send_req(other, SYS_READ, key, 0, 4, NULL, 0, 1);
	ck_assert_int_eq(serve_read(s, &p1, 1, 100), -EAGAIN);
	recv_rep(other, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.status, WIRE_NOTATTACHED);
	send_req_fd(other, WIRE_OP_ATTACH, key, 0, 0, NULL, 0, 2, fd);
	ck_assert_int_eq(serve_read(s, &p1, 1, 100), -EAGAIN);
	recv_rep(other, &rep, NULL, 0, &att);
	ck_assert_int_eq((int64_t)rep.result, 0);
	send_req(cli, SYS_READ, key, 0, 4, NULL, 0, 10);
	send_req(other, SYS_READ, key, 0, 4, NULL, 0, 20);
	read_one(&p1);
	read_one(&p2);
	/* Answer the later one first; each goes to its own channel. */
	memcpy((void *)(uintptr_t)p2.c, "two", 3);
	p2.a = 3;
	serve_write(s, &p2);
	memcpy((void *)(uintptr_t)p1.c, "1", 1);
	p1.a = 1;
	serve_write(s, &p1);
	char b1[8] = {0}, b2[8] = {0};
	recv_rep(cli, &rep, b1, sizeof(b1), NULL);
	ck_assert_uint_eq(rep.seq, 10);
	recv_rep(other, &rep, b2, sizeof(b2), NULL);
	ck_assert_uint_eq(rep.seq, 20);
	ck_assert_str_eq(b1, "1");
	ck_assert_str_eq(b2, "two");
	close(other);
	close(fd);
}
END_TEST

START_TEST(attach_needs_the_right_fd)
{
	struct wire_rep rep;
	uint64_t key;
	int other = new_chan(0), fd = do_open(cli, "f", 1, &key);
	int wrong[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, wrong), 0);
	send_req_fd(other, WIRE_OP_ATTACH, key, 0, 0, NULL, 0, 0, wrong[0]);
	struct scheme_packet p;
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	recv_rep(other, &rep, NULL, 0, NULL);
	ck_assert_int_eq((int64_t)rep.result, -EBADF);
	/* A request for a key nobody opened. */
	send_req(other, SYS_READ, key + 1, 0, 1, NULL, 0, 5);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	recv_rep(other, &rep, NULL, 0, NULL);
	ck_assert_int_eq((int64_t)rep.result, -EBADF);
	close(wrong[0]);
	close(wrong[1]);
	close(other);
	close(fd);
}
END_TEST

/* An answer serve gives itself: the provider sees nothing. */
static void
served_here(int ch, struct wire_rep *rep)
{
	struct scheme_packet p;

	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	recv_rep(ch, rep, NULL, 0, NULL);
}

/*
 * A process that got the fd without opening it does not know its key: an
 * ATTACH with key 0 shows the fd, and the answer says which description
 * it is (by the fd's inode); the channel is attached at once.  Another
 * socket, no fd, or a parked description's: EBADF.
 */
START_TEST(attach_learns_the_key)
{
	struct scheme_packet p;
	struct wire_rep rep;
	uint64_t key, key2;
	int other = new_chan(0), fd = do_open(cli, "f", 1, &key);
	int fd2 = do_open(cli, "g", 2, &key2), wrong[2];

	send_req_fd(other, WIRE_OP_ATTACH, 0, 0, 0, NULL, 0, 1, fd2);
	served_here(other, &rep);
	ck_assert_int_eq((int64_t)rep.result, 0);
	ck_assert_uint_eq(rep.key, key2);
	ck_assert_uint_eq(rep.dflags & O_ACCMODE, O_RDWR);
	send_req(other, SYS_READ, key2, 0, 4, NULL, 0, 2);
	read_one(&p);
	ck_assert_uint_eq(p.b, 2);
	p.a = 0;
	serve_write(s, &p);
	recv_rep(other, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.status, WIRE_OK);
	/* Not one of ours, nothing shown, a payload: EBADF. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, wrong), 0);
	send_req_fd(other, WIRE_OP_ATTACH, 0, 0, 0, NULL, 0, 3, wrong[0]);
	served_here(other, &rep);
	ck_assert_int_eq((int64_t)rep.result, -EBADF);
	ck_assert_uint_eq(rep.key, 0);
	send_req(other, WIRE_OP_ATTACH, 0, 0, 0, NULL, 0, 4);
	served_here(other, &rep);
	ck_assert_int_eq((int64_t)rep.result, -EBADF);
	send_req_fd(other, WIRE_OP_ATTACH, 0, 0, 0, "x", 1, 5, fd);
	served_here(other, &rep);
	ck_assert_int_eq((int64_t)rep.result, -EBADF);
	/* Parked: its opener keeps it for its next open, nobody else. */
	send_req(cli, WIRE_OP_PARK, key, 0, 0, NULL, 0, 6);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_CLOSE);
	p.a = 0;
	serve_write(s, &p);
	send_req_fd(other, WIRE_OP_ATTACH, 0, 0, 0, NULL, 0, 7, fd);
	served_here(other, &rep);
	ck_assert_int_eq((int64_t)rep.result, -EBADF);
	close(wrong[0]);
	close(wrong[1]);
	close(fd);
	close(fd2);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_CLOSE);
	ck_assert_uint_eq(p.b, 2);
	p.a = 0;
	serve_write(s, &p);
	close(other);
}
END_TEST

START_TEST(bad_answers_are_counted)
{
	struct scheme_packet p, bogus = {.id = 999999, .a = 1};
	struct wire_stats st;
	struct wire_rep rep;
	uint64_t key;
	int fd = do_open(cli, "f", 1, &key);

	serve_write(s, &bogus); /* unknown id */
	send_req(cli, SYS_READ, key, 0, 4, NULL, 0, 2);
	read_one(&p);
	p.a = 100; /* more than the 4 bytes asked */
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_int_eq((int64_t)rep.result, -EIO);
	serve_write(s, &p); /* answered already: unknown now */
	serve_stats(s, &st);
	ck_assert_uint_eq(st.dropped_unknown, 2);
	ck_assert_uint_eq(st.dropped_badsize, 1);
	/* Redox's EWOULDBLOCK (41) arrives as EAGAIN. */
	send_req(cli, SYS_READ, key, 0, 4, NULL, 0, 3);
	read_one(&p);
	p.a = (uint64_t)-41;
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_int_eq((int64_t)rep.result, -EAGAIN);
	close(fd);
}
END_TEST

START_TEST(malformed_request_drops_channel)
{
	struct scheme_packet p;
	struct wire_stats st;
	char junk[10] = "garbage!!";
	char c;

	ck_assert_int_eq(send(cli, junk, sizeof(junk), 0),
			 (ssize_t)sizeof(junk));
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	serve_stats(s, &st);
	ck_assert_uint_eq(st.dropped_malformed, 1);
	ck_assert_int_eq(recv(cli, &c, 1, 0), 0); /* hung up on */
}
END_TEST

START_TEST(wait_until_posted)
{
	struct scheme_packet p,
	    post = {.a = SYS_FEVENT, .b = 5, .c = EVENT_READ};
	struct pollfd pf = {0, POLLIN, 0};
	struct wire_rep rep;
	uint64_t key;
	int fd = do_open(cli, "f", 5, &key);

	send_req(cli, SYS_READ, key, 0, 4, NULL, 0, 2);
	read_one(&p);
	p.a = (uint64_t)-EAGAIN;
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_int_eq((int64_t)rep.result, -EAGAIN);
	send_req(cli, WIRE_OP_WAIT, key, 0, rep.gen, NULL, 0, 3);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	pf.fd = cli;
	ck_assert_int_eq(poll(&pf, 1, 100), 0); /* not answered yet */
	serve_write(s, &post);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 3);
	ck_assert_uint_eq(rep.result, EVENT_READ);
	/* A wait for a generation already passed is answered at once. */
	send_req(cli, WIRE_OP_WAIT, key, 0, rep.gen - 1, NULL, 0, 4);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 4);
	close(fd);
}
END_TEST

START_TEST(fcntl_flags_kept)
{
	struct scheme_packet p;
	struct wire_rep rep;
	uint64_t key;
	int fd = do_open(cli, "f", 1, &key);

	send_req(cli, SYS_FCNTL, key, F_SETFL, O_NONBLOCK, NULL, 0, 2);
	read_one(&p);
	ck_assert_uint_eq(p.c, F_SETFL);
	p.a = 0;
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.dflags & O_NONBLOCK, O_NONBLOCK);
	send_req(cli, SYS_FCNTL, key, F_GETFL, 0, NULL, 0, 3);
	read_one(&p);
	p.a = (uint64_t)-ENOSYS; /* no opinion: the kept flags stand */
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_int_eq((int)rep.result, O_RDWR | O_NONBLOCK);
	/* A refusal reaches the client. */
	send_req(cli, SYS_FCNTL, key, F_SETFL, 0, NULL, 0, 4);
	read_one(&p);
	p.a = (uint64_t)-EPERM;
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_int_eq((int64_t)rep.result, -EPERM);
	close(fd);
}
END_TEST

/* A WIRE_OP_LOCK on key, answered with *wl (GET) or not. */
static void
send_lock(uint64_t key, uint8_t cmd, uint8_t kind, int16_t type, int64_t start,
	  int64_t end, uint64_t seq)
{
	struct wire_lock wl = {
	    .cmd = cmd, .kind = kind, .type = type, .start = start, .end = end};

	send_req(cli, WIRE_OP_LOCK, key, 0, 0, &wl, sizeof(wl), seq);
}

static struct scheme_lock *
lock_of(const struct scheme_packet *p)
{
	ck_assert_uint_eq(p->a, SYS_LOCK);
	ck_assert_uint_eq(p->d, sizeof(struct scheme_lock));
	return (struct scheme_lock *)(uintptr_t)p->c;
}

/*
 * A provider that answers SYS_LOCK without the served mark (as one that
 * answers 0 to what it does not know) keeps nothing: the request is the
 * system's after all (its SYS_FSTAT), and no lock is offered again.
 */
START_TEST(lock_not_served_is_ours)
{
	struct scheme_packet p;
	struct wire_rep rep;
	struct stat *st;
	uint64_t key;
	int fd = do_open(cli, "f", 1, &key);

	send_lock(key, WIRE_LK_SET, WIRE_LK_POSIX, F_WRLCK, 0, 9, 2);
	read_one(&p);
	ck_assert_int_eq(lock_of(&p)->cmd, SCHEME_LOCK_SET);
	ck_assert_uint_eq(lock_of(&p)->owner, (uint64_t)getpid());
	p.a = 0; /* no served mark */
	serve_write(s, &p);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_FSTAT);
	st = (struct stat *)(uintptr_t)p.c;
	st->st_dev = 1;
	st->st_ino = 7;
	p.a = 0;
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 2);
	ck_assert_int_eq((int64_t)rep.result, 0);
	send_lock(key, WIRE_LK_SET, WIRE_LK_POSIX, F_UNLCK, 0, 9, 3);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 3);
	ck_assert_int_eq((int64_t)rep.result, 0);
	close(fd);
}
END_TEST

/*
 * A provider that serves SYS_LOCK: GET answers what it says; a SETW it
 * keeps is cancelled when the client gives up, and a grant that crossed
 * the cancel is let go (F_UNLCK of the range); the description's end
 * releases its locks (RELEASE_ALL).
 */
START_TEST(lock_served_by_provider)
{
	struct scheme_packet p, w, c;
	struct scheme_lock *lk;
	struct wire_lock got;
	struct wire_rep rep;
	uint64_t key, owner;
	int fd = do_open(cli, "f", 4, &key);

	send_lock(key, WIRE_LK_GET, WIRE_LK_OFD, F_WRLCK, 0, 99, 2);
	read_one(&p);
	lk = lock_of(&p);
	ck_assert_uint_eq(p.b, 4);
	ck_assert_int_eq(lk->cmd, SCHEME_LOCK_GET);
	ck_assert_int_eq(lk->kind, SCHEME_LOCK_OFD);
	ck_assert_uint_ne(lk->owner, (uint64_t)getpid());
	lk->served = SCHEME_SERVED;
	lk->type = F_RDLCK;
	lk->start = 5;
	lk->end = 9;
	lk->pid = 77;
	p.a = 0;
	serve_write(s, &p);
	recv_rep(cli, &rep, &got, sizeof(got), NULL);
	ck_assert_int_eq((int64_t)rep.result, 0);
	ck_assert_uint_eq(rep.len, sizeof(got));
	ck_assert_int_eq(got.type, F_RDLCK);
	ck_assert_int_eq(got.start, 5);
	ck_assert_int_eq(got.end, 9);
	ck_assert_int_eq(got.pid, 77);
	/* a wait, kept; the client gives up */
	send_lock(key, WIRE_LK_SETW, WIRE_LK_OFD, F_WRLCK, 0, 9, 3);
	read_one(&w);
	lock_of(&w)->served = SCHEME_SERVED;
	owner = lock_of(&w)->owner;
	send_req(cli, WIRE_OP_CANCEL, 0, 0, 0, NULL, 0, 4);
	read_one(&c);
	ck_assert_int_eq(lock_of(&c)->cmd, SCHEME_LOCK_CANCEL);
	ck_assert_uint_eq(lock_of(&c)->wait, w.id);
	ck_assert_uint_eq(lock_of(&c)->owner, owner);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_uint_eq(rep.seq, 4); /* the wait is not answered */
	w.a = 0; /* granted all the same: nobody holds it */
	serve_write(s, &w);
	read_one(&p);
	lk = lock_of(&p);
	ck_assert_int_eq(lk->cmd, SCHEME_LOCK_SET);
	ck_assert_int_eq(lk->type, F_UNLCK);
	ck_assert_int_eq(lk->end, 9);
	ck_assert_uint_eq(lk->owner, owner);
	lk->served = SCHEME_SERVED;
	p.a = 0;
	serve_write(s, &p);
	lock_of(&c)->served = SCHEME_SERVED;
	c.a = 0;
	serve_write(s, &c);
	close(fd); /* the description ends: its OFD locks go */
	read_one(&p);
	if (p.a == SYS_CLOSE) /* in either order: the owner says which */
		read_one(&p);
	ck_assert_int_eq(lock_of(&p)->cmd, SCHEME_LOCK_RELEASE_ALL);
	ck_assert_uint_eq(p.b, 0);
	ck_assert_uint_eq(lock_of(&p)->owner, owner);
}
END_TEST

START_TEST(late_answer_after_client_left)
{
	struct scheme_packet p;
	struct wire_stats st;
	uint64_t key;
	int fd = do_open(cli, "f", 3, &key);

	send_req(cli, SYS_READ, key, 0, 4, NULL, 0, 2);
	read_one(&p);
	close(cli); /* the client dies while we hold its request */
	close(fd);
	cli = -1;
	struct scheme_packet c;
	read_one(&c);
	ck_assert_uint_eq(c.a, SYS_CLOSE);
	/* The buffer is still ours until we answer. */
	memset((void *)(uintptr_t)p.c, 'x', p.d);
	p.a = 4;
	serve_write(s, &p);
	serve_stats(s, &st);
	ck_assert_uint_eq(st.dropped_unknown, 0);
}
END_TEST

START_TEST(open_failure_and_orphan_open)
{
	struct scheme_packet p;
	struct wire_rep rep;
	int fd;

	send_req(cli, SYS_OPEN, 0, 0, O_RDONLY, "nope", 4, 1);
	read_one(&p);
	p.a = (uint64_t)-ENOENT;
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, &fd);
	ck_assert_int_eq((int64_t)rep.result, -ENOENT);
	ck_assert_int_eq(fd, -1);
	/* An open answered after its client left is closed for us. */
	send_req(cli, SYS_OPEN, 0, 0, O_RDONLY, "late", 4, 2);
	read_one(&p);
	close(cli);
	cli = -1;
	p.a = 77;
	serve_write(s, &p);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_CLOSE);
	ck_assert_uint_eq(p.b, 77);
}
END_TEST

/* A handle of 2^63 or more is no handle: the client gets EIO, not an fd
 * number made of its low bits (it once opened as fd 1, stdout). */
START_TEST(huge_handle_is_eio)
{
	struct scheme_packet p;
	struct wire_rep rep;
	int fd;

	send_req(cli, SYS_OPEN, 0, 0, O_RDONLY, "huge", 4, 1);
	read_one(&p);
	p.a = 0x8000000000000001ull;
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, &fd);
	ck_assert_int_eq((int64_t)rep.result, -EIO);
	ck_assert_int_eq(fd, -1);
}
END_TEST

START_TEST(path_with_nul_refused)
{
	struct scheme_packet p;
	struct wire_rep rep;

	send_req(cli, SYS_OPEN, 0, 0, O_RDONLY, "a\0b", 3, 1);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_int_eq((int64_t)rep.result, -EINVAL);
}
END_TEST

START_TEST(stop_ends_reads)
{
	struct scheme_packet p;
	char c;

	serve_stop(s);
	ck_assert_int_eq(serve_read(s, &p, 1, -1), 0);
	ck_assert_int_eq(recv(cli, &c, 1, 0), 0);
}
END_TEST

/* A request down a request pipe, as the preload writes one. */
static void
pipe_req_flags(int w, uint32_t op, uint64_t key, uint64_t d, const char *path,
	       uint64_t seq, uint32_t flags)
{
	struct wire_req r;
	struct iovec iov[2];
	size_t len = path != NULL ? strlen(path) : 0;

	wire_req_init(&r, op, key);
	r.seq = seq;
	r.arg[2] = d;
	r.len = (uint32_t)len;
	r.flags = flags;
	iov[0] = (struct iovec){&r, sizeof(r)};
	iov[1] = (struct iovec){(void *)path, len};
	ck_assert_int_eq(writev(w, iov, len ? 2 : 1),
			 (ssize_t)(sizeof(r) + len));
}

static void
pipe_req(int w, uint32_t op, uint64_t key, uint64_t d, const char *path,
	 uint64_t seq)
{
	pipe_req_flags(w, op, key, d, path, seq, 0);
}

static bool
readable(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};

	return poll(&p, 1, 0) == 1;
}

/*
 * WIRE_OP_PIPES, then by pipe: a read, a park (the provider hears
 * SYS_CLOSE; the description answers nothing), an open that reuses the
 * parked description (no fd), and ones that cannot, sent back to the
 * socket (WIRE_RESEND): no parked description, or one parked on another
 * channel.
 */
/* A memfd for a channel's answers: sealed against shrinking, or not. */
static int
answers_memfd(bool sealed, char **map)
{
	int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, WIRE_MAX_DATA), 0);
	if (sealed)
		ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	*map = mmap(NULL, WIRE_MAX_DATA, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(*map, MAP_FAILED);
	return fd;
}

/* A request serve answers itself (the pipes, the memfd), fd with it:
 * its result, and the fd the answer brings into *rfd. */
static int64_t
own_call(uint32_t op, int fd, uint64_t seq, int *rfd)
{
	struct scheme_packet p;
	struct wire_rep rep;

	send_req_fd(cli, op, 0, 0, 0, NULL, 0, seq, fd);
	close(fd);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	recv_rep(cli, &rep, NULL, 0, rfd);
	return (int64_t)rep.result;
}

static int64_t
send_shm(int fd, uint64_t seq)
{
	return own_call(WIRE_OP_SHM, fd, seq, NULL);
}

/* WIRE_OP_PIPES: the request pipe in rq; the reply pipe's read end. */
static int
make_pipes(int rq[2], uint64_t seq)
{
	int ans = -1;

	ck_assert_int_eq(pipe2(rq, O_CLOEXEC), 0);
	ck_assert_int_eq(own_call(WIRE_OP_PIPES, dup(rq[0]), seq, &ans), 0);
	ck_assert_int_ge(ans, 0);
	return ans;
}

/*
 * A PARK is never answered, even when the description is gone by the
 * time it is read (its socket's end came first: the client closed the
 * oldest parked socket right after parking a newer one).  An answer
 * would be taken for the next request's.
 */
START_TEST(park_of_a_gone_file_unanswered)
{
	struct scheme_packet p;
	struct wire_rep rep;
	uint64_t key, key2;
	int rq[2], ans, cfd = do_open(cli, "f", 9, &key);
	int cfd2 = do_open(cli, "g", 10, &key2);

	ans = make_pipes(rq, 2);
	close(cfd);
	read_one(&p); /* its end: SYS_CLOSE */
	ck_assert_uint_eq(p.a, SYS_CLOSE);
	p.a = 0;
	serve_write(s, &p);
	pipe_req(rq[1], WIRE_OP_PARK, key, 0, NULL, 3);
	pipe_req(rq[1], SYS_READ, key2, 4, NULL, 4);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_READ);
	p.a = 0;
	serve_write(s, &p);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.seq, 4);
	ck_assert(!readable(ans));
	close(cfd2);
	close(ans);
	close(rq[0]);
	close(rq[1]);
}
END_TEST

/*
 * WIRE_OP_SHM: a memfd that could shrink under the provider's writes is
 * refused; a sealed one gets a READ's answer written in place.
 */
START_TEST(pipes_answer_in_shared_memory)
{
	struct scheme_packet p;
	struct wire_rep rep;
	char *bad, *map;
	uint64_t key;
	int rq[2], ans, cfd = do_open(cli, "f", 9, &key);

	ck_assert_int_eq(send_shm(answers_memfd(true, &map), 2), -EINVAL);
	munmap(map, WIRE_MAX_DATA); /* no pipes yet */
	ans = make_pipes(rq, 3);
	ck_assert_int_eq(send_shm(answers_memfd(false, &bad), 4), -EINVAL);
	ck_assert_int_eq(send_shm(answers_memfd(true, &map), 5), 0);

	pipe_req(rq[1], SYS_READ, key, 100000, NULL, 6);
	read_one(&p);
	ck_assert_uint_eq(p.d, 100000);
	memset((void *)(uintptr_t)p.c, 'z', 100000);
	p.a = 100000;
	serve_write(s, &p);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.status, WIRE_IN_SHM);
	ck_assert_uint_eq(rep.len, 0);
	ck_assert_uint_eq(rep.result, 100000);
	ck_assert(map[0] == 'z' && map[99999] == 'z');
	ck_assert(!readable(ans));

	/*
	 * A struct's answer (fstat's: result 0) follows its header down the
	 * pipe: the client takes an answer in the memfd to be result bytes.
	 */
	pipe_req(rq[1], SYS_FSTAT, key, sizeof(struct stat), NULL, 7);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_FSTAT);
	((struct stat *)(uintptr_t)p.c)->st_size = 4242;
	p.a = 0;
	serve_write(s, &p);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.status, WIRE_OK);
	ck_assert_uint_eq(rep.result, 0);
	ck_assert_uint_eq(rep.len, sizeof(struct stat));
	{
		struct stat st;

		ck_assert_int_eq(read(ans, &st, sizeof(st)),
				 (ssize_t)sizeof(st));
		ck_assert_int_eq(st.st_size, 4242);
	}
	munmap(bad, WIRE_MAX_DATA);
	munmap(map, WIRE_MAX_DATA);
	close(cfd);
	close(ans);
	close(rq[0]);
	close(rq[1]);
}
END_TEST

/*
 * One read of the request pipe takes what is there (pipe.c): a PARK and
 * the open behind it come out of one serve_read as two packets; with room
 * for one, the open waits queued and the next serve_read takes it at once,
 * with no event from epoll (the pipe is empty by then).  Requests a read
 * cut in two are put back together, and each is answered in order.
 */
START_TEST(pipe_requests_read_together)
{
	struct scheme_packet p[2];
	struct wire_rep rep;
	uint64_t key, key2;
	int rq[2], ans, i;
	int cfd = do_open(cli, "f", 9, &key),
	    cfd2 = do_open(cli, "g", 10, &key2);

	ans = make_pipes(rq, 2);
	pipe_req(rq[1], WIRE_OP_PARK, key, 0, NULL, 3);
	pipe_req(rq[1], SYS_OPEN, key, O_RDWR, "again", 4);
	ck_assert_int_eq(serve_read(s, p, 2, 100), 2);
	ck_assert_uint_eq(p[0].a, SYS_CLOSE);
	ck_assert_uint_eq(p[0].b, 9);
	ck_assert_uint_eq(p[1].a, SYS_OPEN);
	ck_assert_uint_eq(p[1].c, 5);
	ck_assert_str_eq((const char *)(uintptr_t)p[1].b, "again");
	p[0].a = 0;
	p[1].a = 11;
	serve_write(s, &p[0]);
	serve_write(s, &p[1]);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.seq, 4);
	ck_assert_uint_eq(rep.status, WIRE_REUSED);

	pipe_req(rq[1], WIRE_OP_PARK, key, 0, NULL, 5);
	pipe_req(rq[1], SYS_OPEN, key, O_RDWR, "third", 6);
	ck_assert_int_eq(serve_read(s, p, 1, 100), 1);
	ck_assert_uint_eq(p[0].a, SYS_CLOSE);
	ck_assert_uint_eq(p[0].b, 11);
	p[0].a = 0;
	serve_write(s, &p[0]);
	ck_assert(!readable(rq[0])); /* read already: it waits queued */
	ck_assert_int_eq(serve_read(s, p, 1, 0), 1);
	ck_assert_uint_eq(p[0].a, SYS_OPEN);
	ck_assert_str_eq((const char *)(uintptr_t)p[0].b, "third");
	p[0].a = 12;
	serve_write(s, &p[0]);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.seq, 6);

	/* 73 parks of nothing (4088 bytes) and a read: a read of PIPE_BUF
	 * bytes cuts the read's request after 8 of its 56 bytes. */
	for (i = 0; i < 73; i++)
		pipe_req(rq[1], WIRE_OP_PARK, 999, 0, NULL, 7 + (uint64_t)i);
	pipe_req(rq[1], SYS_READ, key2, 8, NULL, 80);
	pipe_req(rq[1], SYS_READ, key2, 4, NULL, 81);
	ck_assert_int_eq(serve_read(s, p, 1, 100), 1);
	ck_assert_uint_eq(p[0].a, SYS_READ);
	ck_assert_uint_eq(p[0].d, 8);
	p[0].a = 0;
	serve_write(s, &p[0]);
	ck_assert_int_eq(serve_read(s, p, 1, 100), 1);
	ck_assert_uint_eq(p[0].a, SYS_READ);
	ck_assert_uint_eq(p[0].d, 4);
	p[0].a = 0;
	serve_write(s, &p[0]);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.seq, 80);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.seq, 81);
	ck_assert(!readable(ans));
	close(cfd);
	close(cfd2);
	close(ans);
	close(rq[0]);
	close(rq[1]);
}
END_TEST

START_TEST(pipes_park_and_reuse)
{
	struct scheme_packet p;
	struct wire_rep rep;
	uint64_t key, key2;
	char buf[8] = {0};
	int rq[2], ans, fd2 = -1, other;
	int cfd = do_open(cli, "f", 9, &key);

	ans = make_pipes(rq, 2);

	pipe_req(rq[1], SYS_READ, key, 8, NULL, 3);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_READ);
	ck_assert_uint_eq(p.b, 9);
	ck_assert_uint_eq(p.pid, (uint64_t)getpid()); /* the pipes' */
	memcpy((void *)(uintptr_t)p.c, "abc", 3);
	p.a = 3;
	serve_write(s, &p);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.seq, 3);
	ck_assert_uint_eq(rep.result, 3);
	ck_assert_int_eq(read(ans, buf, 3), 3);
	ck_assert_int_eq(memcmp(buf, "abc", 3), 0);

	pipe_req(rq[1], WIRE_OP_PARK, key, 0, NULL, 4);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_CLOSE);
	ck_assert_uint_eq(p.b, 9);
	p.a = 0;
	serve_write(s, &p);
	ck_assert(!readable(ans)); /* a park has no answer */
	send_req(cli, SYS_READ, key, 0, 8, NULL, 0, 5);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	recv_rep(cli, &rep, NULL, 0, NULL);
	ck_assert_int_eq((int64_t)rep.result, -EBADF);

	pipe_req(rq[1], SYS_OPEN, key, O_RDWR, "g", 6);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_OPEN);
	p.a = 11;
	serve_write(s, &p);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.status, WIRE_REUSED);
	ck_assert_uint_eq(rep.key, key);
	ck_assert_uint_eq(rep.result, 11);
	ck_assert(!readable(cli)); /* no fd: the client keeps its socket */
	pipe_req(rq[1], SYS_READ, key, 8, NULL, 7);
	read_one(&p);
	ck_assert_uint_eq(p.b, 11); /* the new file */
	p.a = 0;
	serve_write(s, &p);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));

	/* Key is not parked: the pipe's open goes back to the socket. */
	pipe_req(rq[1], SYS_OPEN, key, O_RDWR, "h", 8);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.status, WIRE_RESEND);
	ck_assert_uint_eq(rep.seq, 8);
	send_req(cli, SYS_OPEN, key, 0, O_RDWR, "h", 1, 9);
	read_one(&p);
	p.a = 12;
	serve_write(s, &p);
	recv_rep(cli, &rep, NULL, 0, &fd2);
	ck_assert_uint_eq(rep.seq, 9);
	ck_assert_uint_eq(rep.status, WIRE_OK);
	ck_assert_uint_eq(rep.result, 12);
	ck_assert_int_ge(fd2, 0);
	key2 = rep.key;
	ck_assert_uint_ne(key2, key);
	/* Parked on another channel: the same (the pipe is not its). */
	close(fd2);
	read_one(&p);
	ck_assert_uint_eq(p.b, 12);
	p.a = 0;
	serve_write(s, &p);
	other = new_chan(0);
	fd2 = do_open(other, "i", 13, &key2);
	send_req(other, WIRE_OP_PARK, key2, 0, 0, NULL, 0, 2);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_CLOSE);
	p.a = 0;
	serve_write(s, &p);
	pipe_req(rq[1], SYS_OPEN, key2, O_RDWR, "j", 10);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.status, WIRE_RESEND);
	close(other);

	close(cfd); /* the end of the reused file: SYS_CLOSE of 11 */
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_CLOSE);
	ck_assert_uint_eq(p.b, 11);
	p.a = 0;
	serve_write(s, &p);
	close(fd2); /* parked: its SYS_CLOSE went at the park */
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	ck_assert_uint_eq(serve_count_descs(s), 0);
	close(ans);
	close(rq[0]);
	close(rq[1]);
}
END_TEST


/* WIRE_OP_POSTS after the pipes: the post pipe in pp; the timerfd. */
static int
make_posts(int pp[2], uint64_t seq)
{
	int tfd = -1;

	ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
	ck_assert_int_eq(own_call(WIRE_OP_POSTS, dup(pp[0]), seq, &tfd), 0);
	ck_assert_int_ge(tfd, 0);
	return tfd;
}

static void
close_all(const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * A PARK down the post pipe wakes nobody (pipe.c, Posts); the next
 * request, marked WIRE_REQ_DRAIN, brings it in first: the provider hears
 * the SYS_CLOSE, then the open that reuses what was parked.
 */
START_TEST(posts_wait_for_the_next_request)
{
	struct scheme_packet p[2];
	struct wire_rep rep;
	uint64_t key;
	int rq[2], pp[2], ans, tfd, cfd = do_open(cli, "f", 9, &key);

	ck_assert_int_eq(own_call(WIRE_OP_POSTS, dup(cfd), 2, NULL), -EINVAL);
	ans = make_pipes(rq, 3);
	tfd = make_posts(pp, 4);
	pipe_req(pp[1], WIRE_OP_PARK, key, 0, NULL, 5);
	ck_assert_int_eq(serve_read(s, p, 2, 100), -EAGAIN);
	pipe_req_flags(rq[1], SYS_OPEN, key, O_RDWR, "again", 6,
		       WIRE_REQ_DRAIN);
	ck_assert_int_eq(serve_read(s, p, 2, 100), 2);
	ck_assert_uint_eq(p[0].a, SYS_CLOSE);
	ck_assert_uint_eq(p[0].b, 9);
	ck_assert_uint_eq(p[1].a, SYS_OPEN);
	ck_assert_str_eq((const char *)(uintptr_t)p[1].b, "again");
	p[0].a = 0;
	p[1].a = 11;
	serve_write(s, &p[0]);
	serve_write(s, &p[1]);
	ck_assert_int_eq(read(ans, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	ck_assert_uint_eq(rep.seq, 6);
	ck_assert_uint_eq(rep.status, WIRE_REUSED);
	ck_assert(!readable(ans));
	close_all((int[]){cfd, ans, tfd, rq[0], rq[1], pp[0], pp[1]}, 7);
}
END_TEST

/*
 * When no request comes, the timer the client armed rings and the posts
 * are read: the SYS_CLOSE comes without one.  A DRAIN (sent before a
 * request by the socket) reads them too, and is not answered.
 */
START_TEST(posts_read_when_the_timer_rings)
{
	struct itimerspec it = {.it_value = {0, 1000000}};
	struct scheme_packet p;
	uint64_t key, key2;
	int rq[2], pp[2], ans, tfd, cfd = do_open(cli, "f", 9, &key);
	int cfd2 = do_open(cli, "g", 10, &key2);

	ans = make_pipes(rq, 2);
	tfd = make_posts(pp, 3);
	pipe_req(pp[1], WIRE_OP_PARK, key, 0, NULL, 4);
	ck_assert_int_eq(timerfd_settime(tfd, 0, &it, NULL), 0);
	ck_assert_int_eq(serve_read(s, &p, 1, 2000), 1);
	ck_assert_uint_eq(p.a, SYS_CLOSE);
	ck_assert_uint_eq(p.b, 9);
	p.a = 0;
	serve_write(s, &p);

	pipe_req(pp[1], WIRE_OP_PARK, key2, 0, NULL, 5);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	pipe_req_flags(rq[1], WIRE_OP_DRAIN, 0, 0, NULL, 6, WIRE_REQ_DRAIN);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), 1);
	ck_assert_uint_eq(p.a, SYS_CLOSE);
	ck_assert_uint_eq(p.b, 10);
	p.a = 0;
	serve_write(s, &p);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	ck_assert(!readable(ans));
	close_all((int[]){cfd, cfd2, ans, tfd, rq[0], rq[1], pp[0], pp[1]}, 8);
}
END_TEST

/*
 * The post pipe carries PARKs and nothing else: a read slipped into it,
 * or a torn record, ends the channel when the posts are read, as a
 * malformed message on the socket does; nothing reaches the provider.
 */
START_TEST(posts_carry_only_parks)
{
	struct scheme_packet p;
	struct wire_stats st;
	uint64_t key;
	int rq[2], pp[2], ans, tfd, cfd = do_open(cli, "f", 9, &key);
	char c;

	ans = make_pipes(rq, 2);
	tfd = make_posts(pp, 3);
	pipe_req(pp[1], SYS_READ, key, 8, NULL, 4);
	pipe_req_flags(rq[1], SYS_READ, key, 8, NULL, 5, WIRE_REQ_DRAIN);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	serve_stats(s, &st);
	ck_assert_uint_eq(st.dropped_malformed, 1);
	ck_assert_int_eq(recv(cli, &c, 1, 0), 0); /* hung up on */
	close_all((int[]){cfd, ans, tfd, rq[0], rq[1], pp[0], pp[1]}, 7);
}
END_TEST

START_TEST(posts_torn_record_ends_channel)
{
	struct itimerspec it = {.it_value = {0, 1000000}};
	struct scheme_packet p;
	struct wire_stats st;
	uint64_t key;
	int rq[2], pp[2], ans, tfd, cfd = do_open(cli, "f", 9, &key);
	char c, junk[20] = "not a whole request";

	ans = make_pipes(rq, 2);
	tfd = make_posts(pp, 3);
	ck_assert_int_eq(write(pp[1], junk, sizeof(junk)), (ssize_t)sizeof(junk));
	ck_assert_int_eq(timerfd_settime(tfd, 0, &it, NULL), 0);
	ck_assert_int_eq(serve_read(s, &p, 1, 300), -EAGAIN);
	serve_stats(s, &st);
	ck_assert_uint_eq(st.dropped_malformed, 1);
	ck_assert_int_eq(recv(cli, &c, 1, 0), 0);
	close_all((int[]){cfd, ans, tfd, rq[0], rq[1], pp[0], pp[1]}, 7);
}
END_TEST

/*
 * The timer rings while requests read from the request pipe wait queued:
 * the posts are read once those are served, and every request comes out,
 * each PARK's SYS_CLOSE among them.
 */
START_TEST(posts_wait_behind_queued_requests)
{
	struct itimerspec it = {.it_value = {0, 1000}};
	struct scheme_packet p;
	uint64_t key, key2, key3;
	int rq[2], pp[2], ans, tfd, seen = 0, i;
	int cfd = do_open(cli, "f", 9, &key), cfd2 = do_open(cli, "g", 10, &key2);
	int cfd3 = do_open(cli, "h", 12, &key3);

	ans = make_pipes(rq, 2);
	tfd = make_posts(pp, 3);
	pipe_req(pp[1], WIRE_OP_PARK, key3, 0, NULL, 4);
	pipe_req(rq[1], WIRE_OP_PARK, key, 0, NULL, 5);
	pipe_req(rq[1], SYS_READ, key2, 4, NULL, 6);
	ck_assert_int_eq(timerfd_settime(tfd, 0, &it, NULL), 0);
	usleep(10000); /* both ready at the same epoll_wait */
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(serve_read(s, &p, 1, 100), 1);
		if (p.a == SYS_CLOSE && p.b == 9)
			seen |= 1;
		else if (p.a == SYS_READ && p.b == 10)
			seen |= 2;
		else if (p.a == SYS_CLOSE && p.b == 12)
			seen |= 4;
		p.a = 0;
		serve_write(s, &p);
	}
	ck_assert_int_eq(seen, 7);
	ck_assert_int_eq(serve_read(s, &p, 1, 100), -EAGAIN);
	close_all((int[]){cfd, cfd2, cfd3, ans, tfd, rq[0], rq[1], pp[0], pp[1]},
		  9);
}
END_TEST

/*
 * Direct reads (serve.c): on one CPU, once a channel's pipe has brought
 * every request for a while, serve_read blocks in read() of that pipe,
 * and the waker (waker.c) ends the read when anything else wants us.
 */
static bool
never(void)
{
	return false;
}

static bool
always(void)
{
	return true;
}

static void
direct_setup_with(bool (*restarts)(void))
{
	struct serve_config cfg = {.broker = 0xabc, .inst = 42,
				   .restarts = restarts};
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	s = serve_new(&cfg);
	ck_assert_ptr_nonnull(s);
	cli = new_chan(0);
}

static void
direct_setup(void)
{
	direct_setup_with(never);
}

static void
restarting_setup(void)
{
	direct_setup_with(always);
}

/* Threads of this process: a waker is one more. */
static int
threads(void)
{
	struct stat st;

	ck_assert_int_eq(stat("/proc/self/task", &st), 0);
	return (int)st.st_nlink - 2;
}

/* Enough reads by the pipe, each served, for the next to read it directly. */
static void
reads_by_pipe(int rq, int ans, uint64_t key, uint64_t *seq)
{
	struct scheme_packet p;
	struct wire_rep rep;

	for (int i = 0; i < 12; i++) {
		pipe_req(rq, SYS_READ, key, 8, NULL, ++*seq);
		ck_assert_int_eq(serve_read(s, &p, 1, -1), 1);
		ck_assert_uint_eq(p.a, SYS_READ);
		p.a = 0;
		serve_write(s, &p);
		ck_assert_int_eq(read(ans, &rep, sizeof(rep)),
				 (ssize_t)sizeof(rep));
		ck_assert_uint_eq(rep.seq, *seq);
	}
}

/* A read down the pipe is still served (by epoll: a bounded wait never
 * reads directly). */
static void
read_still_heard(int rq, uint64_t key, uint64_t seq)
{
	struct scheme_packet p;

	pipe_req(rq, SYS_READ, key, 8, NULL, seq);
	ck_assert_int_eq(serve_read(s, &p, 1, 1000), 1);
	ck_assert_uint_eq(p.a, SYS_READ);
}

/* What a thread does to the blocked serve_read, after 100 ms. */
static int cli2, rq_w;
static pthread_t reader;

static void *
then_open_elsewhere(void *arg)
{
	(void)arg;
	usleep(100000);
	send_req(cli2, SYS_OPEN, 0, 0, O_RDONLY, "other", 5, 7);
	return NULL;
}

static void *
then_hang_up_and_open_elsewhere(void *arg)
{
	(void)arg;
	usleep(100000);
	close(cli);
	close(rq_w);
	cli = -1;
	usleep(50000);
	return then_open_elsewhere(NULL);
}

static void *
then_garble_and_open_elsewhere(void *arg)
{
	struct wire_req bad;

	(void)arg;
	usleep(100000);
	memset(&bad, 0xee, sizeof(bad)); /* not a request: ends the channel */
	ck_assert_int_eq(write(rq_w, &bad, sizeof(bad)), (ssize_t)sizeof(bad));
	close(rq_w);
	usleep(50000);
	return then_open_elsewhere(NULL);
}

static void *
then_stop(void *arg)
{
	(void)arg;
	usleep(100000);
	serve_stop(s);
	return NULL;
}

static void
nothing(int sig)
{
	(void)sig;
}

static void *
then_signal(void *arg)
{
	(void)arg;
	usleep(100000);
	pthread_kill(reader, SIGUSR1);
	return NULL;
}

/* Our fds that are the pipe whose inode is ino. */
static int
pipe_fds(ino_t ino)
{
	char want[64], link[64];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int found = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(d);
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)ino);
	while ((de = readdir(d)) != NULL) {
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found += strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return found;
}

static bool
pipe_open_here(ino_t ino)
{
	return pipe_fds(ino) > 0;
}

/* Blocked in a direct read, a request on another channel is heard. */
START_TEST(direct_read_hears_other_channels)
{
	struct scheme_packet p;
	uint64_t key, seq = 10;
	int rq[2], ans, cfd = do_open(cli, "f", 9, &key);
	pthread_t t;

	cli2 = new_chan(0);
	ans = make_pipes(rq, 2);
	ck_assert_int_eq(threads(), 1);
	reads_by_pipe(rq[1], ans, key, &seq);
	ck_assert_int_eq(threads(), 2); /* the waker: it read directly */
	ck_assert_int_eq(pthread_create(&t, NULL, then_open_elsewhere, NULL),
			 0);
	ck_assert_int_eq(serve_read(s, &p, 1, -1), 1);
	ck_assert_uint_eq(p.a, SYS_OPEN);
	pthread_join(t, NULL);
	/* and the pipe, back in epoll's set, still brings requests */
	read_still_heard(rq[1], key, ++seq);
	close(cli2);
	close(cfd);
	close(ans);
	close(rq[0]);
	close(rq[1]);
}
END_TEST

/*
 * The channel read directly ends, by its client's hang-up (heard by the
 * waker) or by what it sent (heard by the reader): serve's own ends of
 * the pipe go with it.
 */
static void
direct_channel_ends(void *(*how)(void *))
{
	struct scheme_packet p;
	uint64_t key, seq = 10;
	int rq[2], ans, cfd = do_open(cli, "f", 9, &key);
	struct stat st;
	pthread_t t;

	cli2 = new_chan(0);
	ans = make_pipes(rq, 2);
	ck_assert_int_eq(fstat(rq[0], &st), 0);
	close(rq[0]);
	reads_by_pipe(rq[1], ans, key, &seq);
	ck_assert(pipe_open_here(st.st_ino)); /* serve's ends */
	rq_w = rq[1];
	ck_assert_int_eq(pthread_create(&t, NULL, how, NULL), 0);
	ck_assert_int_eq(serve_read(s, &p, 1, -1), 1);
	ck_assert_uint_eq(p.a, SYS_OPEN);
	pthread_join(t, NULL);
	ck_assert(!pipe_open_here(st.st_ino));
	close(cli2);
	close(cfd);
	close(ans);
}

START_TEST(direct_read_ends_when_its_client_hangs_up)
{
	direct_channel_ends(then_hang_up_and_open_elsewhere);
}
END_TEST

START_TEST(direct_read_ends_at_a_malformed_request)
{
	direct_channel_ends(then_garble_and_open_elsewhere);
}
END_TEST

/*
 * Reads by pipe until the next one is direct; then serve_read, while a
 * thread does `then`: what serve_read returned.
 */
static ssize_t
direct_then(void *(*then)(void *))
{
	struct scheme_packet p;
	uint64_t key, seq = 10;
	int rq[2], ans, cfd = do_open(cli, "f", 9, &key);
	pthread_t t;
	ssize_t n;

	ans = make_pipes(rq, 2);
	reads_by_pipe(rq[1], ans, key, &seq);
	reader = pthread_self();
	ck_assert_int_eq(pthread_create(&t, NULL, then, NULL), 0);
	n = serve_read(s, &p, 1, -1);
	pthread_join(t, NULL);
	close(cfd);
	close(ans);
	close(rq[0]);
	close(rq[1]);
	return n;
}

START_TEST(direct_read_ends_at_stop)
{
	ck_assert_int_eq(direct_then(then_stop), 0);
}
END_TEST

/* A signal handler without SA_RESTART ends it with EINTR, as epoll's. */
START_TEST(direct_read_interrupted_by_a_signal)
{
	struct sigaction sa = {.sa_handler = nothing};

	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	ck_assert_int_eq(direct_then(then_signal), -EINTR);
}
END_TEST

/* With a handler that would restart the read, there are none. */
START_TEST(no_direct_read_when_reads_restart)
{
	uint64_t key, seq = 10;
	int rq[2], ans, cfd = do_open(cli, "f", 9, &key);

	ans = make_pipes(rq, 2);
	reads_by_pipe(rq[1], ans, key, &seq);
	ck_assert_int_eq(threads(), 1);
	close(cfd);
	close(ans);
	close(rq[0]);
	close(rq[1]);
}
END_TEST

/*
 * A thread cancelled in its direct read (a raw read, no cancellation
 * point) is woken, as the preload's pthread_cancel does (serve_wake),
 * and ends in epoll_wait; the channel's pipe is read again after it.
 */
#if defined(__SANITIZE_ADDRESS__)
/*
 * A cancelled thread's unwound frames keep their redzones' poison, and
 * ASan's own end of the thread writes there when it takes down its
 * signal stack: a false report.  This suite has no use for that stack.
 */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "use_sigaltstack=0";
}
#endif

static void *
blocked_reader(void *arg)
{
	struct scheme_packet p;

	(void)arg;
	serve_read(s, &p, 1, -1);
	return NULL;
}

START_TEST(cancelled_direct_reader_ends)
{
	uint64_t key, seq = 10;
	int rq[2], ans, cfd = do_open(cli, "f", 9, &key);
	struct timespec until;
	pthread_t t;
	void *ret;

	ans = make_pipes(rq, 2);
	reads_by_pipe(rq[1], ans, key, &seq);
	ck_assert_int_eq(pthread_create(&t, NULL, blocked_reader, NULL), 0);
	usleep(100000); /* in its direct read by now */
	ck_assert_int_eq(pthread_cancel(t), 0);
	serve_wake(s);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 3;
	ck_assert_int_eq(pthread_timedjoin_np(t, &ret, &until), 0);
	ck_assert_ptr_eq(ret, PTHREAD_CANCELED);
	read_still_heard(rq[1], key, ++seq);
	close(cfd);
	close(ans);
	close(rq[0]);
	close(rq[1]);
}
END_TEST

/*
 * The program moved the channel's pipe (dup2 over its number: the
 * preload moves ours, serve_relocate).  Epoll's item stays under the old
 * number, so the pipe cannot leave the set to be read directly: it never
 * is on this channel, and its requests are still served.
 */
START_TEST(no_direct_read_of_a_moved_pipe)
{
	uint64_t key, seq = 10;
	int rq[2], ans, cfd = do_open(cli, "f", 9, &key), pr = -1, moved;
	struct stat st;

	ans = make_pipes(rq, 2);
	ck_assert_int_eq(fstat(rq[0], &st), 0);
	close(rq[0]);
	ck_assert_int_eq(pipe_fds(st.st_ino), 2); /* rq[1], serve's */
	for (int fd = 0; fd < 1024 && pr < 0; fd++) {
		struct stat fs;

		if (fd != rq[1] && fstat(fd, &fs) == 0 &&
		    fs.st_dev == st.st_dev && fs.st_ino == st.st_ino)
			pr = fd;
	}
	moved = fcntl(pr, F_DUPFD_CLOEXEC, 200);
	ck_assert_int_ge(moved, 200);
	close(pr);
	serve_relocate(s, pr, moved);
	reads_by_pipe(rq[1], ans, key, &seq);
	reads_by_pipe(rq[1], ans, key, &seq);
	/* rq[1] and serve's moved end: no ends opened for a direct read */
	ck_assert_int_eq(pipe_fds(st.st_ino), 2);
	close(cfd);
	close(ans);
	close(rq[1]);
}
END_TEST

static Suite *
serve_suite(void)
{
	Suite *su = suite_create("serve");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, open_read_write_roundtrip);
	tcase_add_test(tc, lock_not_served_is_ours);
	tcase_add_test(tc, lock_served_by_provider);
	tcase_add_test(tc, close_reaches_provider_once);
	tcase_add_test(tc, answers_in_any_order);
	tcase_add_test(tc, attach_needs_the_right_fd);
	tcase_add_test(tc, attach_learns_the_key);
	tcase_add_test(tc, bad_answers_are_counted);
	tcase_add_test(tc, malformed_request_drops_channel);
	tcase_add_test(tc, wait_until_posted);
	tcase_add_test(tc, fcntl_flags_kept);
	tcase_add_test(tc, late_answer_after_client_left);
	tcase_add_test(tc, open_failure_and_orphan_open);
	tcase_add_test(tc, huge_handle_is_eio);
	tcase_add_test(tc, path_with_nul_refused);
	tcase_add_test(tc, stop_ends_reads);
	tcase_add_test(tc, pipes_park_and_reuse);
	tcase_add_test(tc, pipe_requests_read_together);
	tcase_add_test(tc, park_of_a_gone_file_unanswered);
	tcase_add_test(tc, pipes_answer_in_shared_memory);
	tcase_add_test(tc, posts_wait_for_the_next_request);
	tcase_add_test(tc, posts_read_when_the_timer_rings);
	tcase_add_test(tc, posts_carry_only_parks);
	tcase_add_test(tc, posts_torn_record_ends_channel);
	tcase_add_test(tc, posts_wait_behind_queued_requests);
	suite_add_tcase(su, tc);
	tc = tcase_create("direct");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, direct_setup, teardown);
	tcase_add_test(tc, direct_read_hears_other_channels);
	tcase_add_test(tc, direct_read_ends_when_its_client_hangs_up);
	tcase_add_test(tc, direct_read_ends_at_a_malformed_request);
	tcase_add_test(tc, direct_read_ends_at_stop);
	tcase_add_test(tc, direct_read_interrupted_by_a_signal);
	tcase_add_test(tc, no_direct_read_of_a_moved_pipe);
	tcase_add_test(tc, cancelled_direct_reader_ends);
	suite_add_tcase(su, tc);
	tc = tcase_create("restarting");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, restarting_setup, teardown);
	tcase_add_test(tc, no_direct_read_when_reads_restart);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return h_main(serve_suite());
}

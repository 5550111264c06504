/*
 * test_proto.c - unit suites for proto/: the message checks, the
 * description names, path classification and slot keys.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../proto/wire/path.h"
#include "../proto/serve/mutex.h"
#include "../proto/serve/slots.h"
#include "../proto/wire/wire.h"
#include "harness.h"

START_TEST(header_sizes_and_values)
{
	ck_assert_uint_eq(sizeof(struct scheme_packet), 56);
	ck_assert_uint_eq(sizeof(struct scheme_event), 24);
	ck_assert_uint_eq(sizeof(struct scheme_timespec), 16);
	ck_assert_uint_eq(offsetof(struct scheme_packet, a), 24);
	ck_assert_uint_eq(offsetof(struct scheme_packet, d), 48);
	ck_assert_uint_eq(SYS_OPEN, 0x10100005);
	ck_assert_uint_eq(SYS_READ, 0x22000003);
	ck_assert_uint_eq(SYS_CLOSE, 0x20000006);
	ck_assert_uint_eq(SYS_FEVENT, 0x2000039F);
	ck_assert_uint_eq(EVENT_READ | EVENT_WRITE, 3);
}
END_TEST

START_TEST(op_table)
{
	const struct wire_op *op = wire_op(SYS_OPEN);

	ck_assert_ptr_nonnull(op);
	ck_assert_str_eq(op->name, "SYS_OPEN");
	ck_assert_int_eq(op->in, WIRE_IN_PATH);
	ck_assert(op->flags & WIRE_OPENS);
	ck_assert(op->flags & WIRE_NAMES);
	/* What the request table says of each kind, as both sides read it. */
	ck_assert(wire_op(SYS_FRENAME)->flags & WIRE_NAMES);
	ck_assert(!(wire_op(SYS_FSTAT)->flags & WIRE_NAMES));
	ck_assert(wire_op(SYS_READ)->flags & WIRE_BY_PIPE);
	ck_assert(wire_op(WIRE_OP_PARK)->flags & WIRE_BY_PIPE);
	ck_assert(wire_op(SYS_FSTAT)->flags & WIRE_BY_PIPE);
	ck_assert(wire_op(SYS_LSEEK)->flags & WIRE_BY_PIPE);
	/* the pipe's credentials are its maker's: not where they count */
	ck_assert(!(wire_op(SYS_FCHMOD)->flags & WIRE_BY_PIPE));
	ck_assert(!(wire_op(WIRE_OP_AT)->flags & WIRE_BY_PIPE));
	ck_assert(wire_op(SYS_CLOSE)->flags & WIRE_INNER);
	ck_assert(wire_op(WIRE_OP_ATTACH)->flags & WIRE_KEY0);
	ck_assert_int_eq(wire_op(SYS_READ)->out, WIRE_OUT_BYTES);
	ck_assert_int_eq(wire_op(SYS_FSTAT)->out, WIRE_OUT_STRUCT);
	ck_assert_int_eq(wire_op(SYS_WRITE)->in, WIRE_IN_BUF);
	ck_assert_ptr_null(wire_op(0x12345678));
}
END_TEST

START_TEST(req_check)
{
	char buf[sizeof(struct wire_req) + 8];
	struct wire_req *r = (struct wire_req *)buf;

	wire_req_init(r, SYS_READ, 1);
	ck_assert_int_eq(wire_req_check(r, sizeof(*r)), 0);
	ck_assert_int_eq(wire_req_check(r, sizeof(*r) - 1), -EPROTO);
	r->len = 8; /* claims a payload that is not there */
	ck_assert_int_eq(wire_req_check(r, sizeof(*r)), -EPROTO);
	ck_assert_int_eq(wire_req_check(r, sizeof(*r) + 8), 0);
	r->version = 99;
	ck_assert_int_eq(wire_req_check(r, sizeof(*r) + 8), -EPROTO);
	wire_req_init(r, SYS_READ, 1);
	r->magic = 0;
	ck_assert_int_eq(wire_req_check(r, sizeof(*r)), -EPROTO);
	wire_req_init(r, SYS_READ, 1);
	r->len = WIRE_MAX_DATA + 1;
	ck_assert_int_eq(wire_req_check(r, sizeof(*r) + WIRE_MAX_DATA + 1),
			 -EPROTO);
}
END_TEST

START_TEST(ctl_and_rep_check)
{
	struct wire_ctl c;
	struct wire_rep r;

	wire_ctl_init(&c, WIRE_CTL_LIST);
	ck_assert_int_eq(wire_ctl_check(&c, sizeof(c)), 0);
	ck_assert_int_eq(wire_ctl_check(&c, 3), -EPROTO);
	c.len = 1;
	ck_assert_int_eq(wire_ctl_check(&c, sizeof(c)), -EPROTO);
	wire_rep_init(&r, 7);
	ck_assert_uint_eq(r.seq, 7);
	ck_assert_int_eq(wire_rep_check(&r, sizeof(r)), 0);
	ck_assert_int_eq(wire_rep_check(&r, sizeof(r) + 1), -EPROTO);
}
END_TEST

START_TEST(names)
{
	ck_assert_int_eq(wire_name_check("hello", 5), 0);
	ck_assert_int_eq(wire_name_check("a.b-c_1", 7), 0);
	ck_assert_int_eq(wire_name_check("", 0), -EINVAL);
	ck_assert_int_eq(wire_name_check("a:b", 3), -EINVAL);
	ck_assert_int_eq(wire_name_check("a/b", 3), -EINVAL);
	ck_assert_int_eq(wire_name_check("a b", 3), -EINVAL);
	ck_assert_int_eq(wire_name_check("..", 2), -EINVAL);
	ck_assert_int_eq(wire_name_check("a\nb", 3), -EINVAL);
	char longname[WIRE_MAX_NAME + 2];
	memset(longname, 'x', sizeof(longname));
	ck_assert_int_eq(wire_name_check(longname, WIRE_MAX_NAME), 0);
	ck_assert_int_eq(wire_name_check(longname, WIRE_MAX_NAME + 1),
			 -ENAMETOOLONG);
}
END_TEST

/* The answer to CONNECT and SERVES: whole records, one fd per channel. */
START_TEST(chans_check)
{
	struct wire_chan c[3] = {{16, 100, 0}, {17, 100, -EAGAIN}, {3, 7, 0}};

	ck_assert_int_eq(wire_chans_check(c, sizeof(c), 2), 3);
	ck_assert_int_eq(wire_chans_check(c, 0, 0), 0);
	/* Fds that do not match the channels, a cut record. */
	ck_assert_int_eq(wire_chans_check(c, sizeof(c), 1), -EPROTO);
	ck_assert_int_eq(wire_chans_check(c, sizeof(c), 3), -EPROTO);
	ck_assert_int_eq(wire_chans_check(c, sizeof(c) - 1, 2), -EPROTO);
	/* No instance 0; an error is a negative errno. */
	c[0].inst = 0;
	ck_assert_int_eq(wire_chans_check(c, sizeof(c), 2), -EPROTO);
	c[0].inst = 16;
	c[1].err = 5;
	ck_assert_int_eq(wire_chans_check(c, sizeof(c), 2), -EPROTO);
	c[1].err = -100000;
	ck_assert_int_eq(wire_chans_check(c, sizeof(c), 2), -EPROTO);
}
END_TEST

/* NEWCHAN's payload: exactly one record, of flags we know. */
START_TEST(newchan_get)
{
	struct wire_newchan in = {WIRE_CHAN_NOPATHS, 42, 1000, 7}, out;

	ck_assert_int_eq(wire_newchan_get(&in, sizeof(in), &out), 0);
	ck_assert_uint_eq(out.flags, WIRE_CHAN_NOPATHS);
	ck_assert_uint_eq(out.pid, 42);
	ck_assert_uint_eq(out.uid, 1000);
	ck_assert_uint_eq(out.epoch, 7);
	ck_assert_int_eq(wire_newchan_get(&in, 0, &out), -EPROTO);
	ck_assert_int_eq(wire_newchan_get(&in, 4, &out), -EPROTO);
	in.flags = 0x80;
	ck_assert_int_eq(wire_newchan_get(&in, sizeof(in), &out), -EPROTO);
}
END_TEST

/* Several fds in one message, in order; past the room, closed. */
START_TEST(many_fds)
{
	int sv[2], pp[2], fds[WIRE_SERVES_MAX], got[4], n = 4, i;
	struct iovec iov;
	char c = 'x';

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	for (i = 0; i < 6; i++) {
		ck_assert_int_eq(pipe(pp), 0);
		fds[i] = pp[0];
		close(pp[1]);
	}
	iov = (struct iovec){&c, 1};
	ck_assert_int_eq(wire_sendv_fds(sv[0], &iov, 1, fds, 6, NULL, 0), 1);
	ck_assert_int_eq(
	    wire_sendv_fds(sv[0], &iov, 1, fds, WIRE_SERVES_MAX + 1, NULL, 0),
	    -EINVAL);
	ck_assert_int_eq(wire_recv_fds(sv[1], &iov, 1, got, &n, 0), 1);
	ck_assert_int_eq(n, 4);
	for (i = 0; i < 4; i++) {
		struct stat a, b;

		ck_assert_int_eq(fstat(got[i], &a), 0);
		ck_assert_int_eq(fstat(fds[i], &b), 0);
		ck_assert_uint_eq(a.st_ino, b.st_ino);
		close(got[i]);
	}
	for (i = 0; i < 6; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static int
cls(const char *p, struct scheme_path *sp)
{
	return path_classify(p, sp);
}

START_TEST(paths)
{
	struct scheme_path sp;

	ck_assert(cls("hello:world", &sp));
	ck_assert_str_eq(sp.name, "hello");
	ck_assert_str_eq(sp.rest, "world");
	ck_assert(cls("hello:", &sp));
	ck_assert_str_eq(sp.rest, "");
	ck_assert(cls("hello:/a/b:c", &sp));
	ck_assert_str_eq(sp.rest, "/a/b:c");
	ck_assert(cls(":", &sp));
	ck_assert_str_eq(sp.name, "");
	ck_assert(cls(":hello", &sp));
	ck_assert_str_eq(sp.name, "");
	ck_assert_str_eq(sp.rest, "hello");
	ck_assert(cls("/scheme", &sp));
	ck_assert_str_eq(sp.name, "");
	ck_assert(cls("/scheme/", &sp));
	ck_assert_str_eq(sp.name, "");
	ck_assert(cls("/scheme/hello", &sp));
	ck_assert_str_eq(sp.name, "hello");
	ck_assert_str_eq(sp.rest, "");
	ck_assert(cls("/scheme/hello/a/b", &sp));
	ck_assert_str_eq(sp.name, "hello");
	ck_assert_str_eq(sp.rest, "a/b");
	/* Ordinary paths. */
	ck_assert(!cls("/etc/passwd", &sp));
	ck_assert(!cls("/tmp/a:b", &sp));
	ck_assert(!cls("dir/a:b", &sp));
	ck_assert(!cls("./a:b", &sp));
	ck_assert(!cls("plain", &sp));
	ck_assert(!cls("/schemes/x", &sp));
	ck_assert(!cls("a b:c", &sp)); /* not a valid scheme name */
	ck_assert(!cls("", &sp));
	ck_assert(!cls(NULL, &sp));
}
END_TEST

START_TEST(slot_keys)
{
	struct slots s = {0};
	int a, b;
	uint64_t ka, kb, ka2;

	ka = slots_put(&s, &a);
	kb = slots_put(&s, &b);
	ck_assert_uint_ne(ka, 0);
	ck_assert_uint_ne(ka, kb);
	ck_assert_ptr_eq(slots_get(&s, ka), &a);
	ck_assert_ptr_eq(slots_get(&s, kb), &b);
	slots_del(&s, ka);
	ck_assert_ptr_null(slots_get(&s, ka));
	ka2 = slots_put(&s, &a); /* the slot again, a new key */
	ck_assert_uint_ne(ka2, ka);
	ck_assert_ptr_null(slots_get(&s, ka));
	ck_assert_ptr_eq(slots_get(&s, ka2), &a);
	ck_assert_ptr_null(slots_get(&s, 0));
	ck_assert_ptr_null(slots_get(&s, 1ull << 60));
	ck_assert_ptr_null(slots_get(&s, 12345));
	for (int i = 0; i < 10000; i++)
		ck_assert_uint_ne(slots_put(&s, &b), 0);
	ck_assert_ptr_eq(slots_get(&s, kb), &b);
	slots_free(&s);
}
END_TEST

/*
 * serve's lock (mutex.h) excludes: threads add to a plain counter, each
 * addition a read, a pause and a write, so that any two overlapping
 * lose one.  Some hold it across a yield, so that others find it taken
 * and sleep in the futex (the slow paths).
 */
#define MX_THREADS 4
#define MX_ROUNDS 20000

static struct sv_mutex mx = SV_MUTEX_INIT;
static unsigned long mx_count;

static void *
mx_adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < MX_ROUNDS; i++) {
		sv_lock(&mx);
		unsigned long v = mx_count;
		for (volatile int k = 0; k < 20; k++)
			;
		if (i % 500 == 0)
			sched_yield(); /* held: the others wait in the futex */
		mx_count = v + 1;
		sv_unlock(&mx);
	}
	return NULL;
}

START_TEST(mutex_excludes)
{
	pthread_t t[MX_THREADS];

	for (int i = 0; i < MX_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, mx_adder, NULL),
				 0);
	for (int i = 0; i < MX_THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(mx_count, (unsigned long)MX_THREADS * MX_ROUNDS);
	ck_assert_uint_eq(atomic_load(&mx.v), 0); /* free, no waiter marked */
}
END_TEST

/* A waiter on the condition wakes at a signal made with the lock held. */
static struct sv_cond cv;
static int cv_flag;

static void *
cv_waiter(void *arg)
{
	(void)arg;
	sv_lock(&mx);
	while (cv_flag == 0)
		sv_cond_wait(&cv, &mx);
	cv_flag = 2;
	sv_unlock(&mx);
	return NULL;
}

START_TEST(cond_wakes_its_waiter)
{
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, cv_waiter, NULL), 0);
	usleep(50 * 1000); /* asleep in the futex, or not yet: either way */
	sv_lock(&mx);
	cv_flag = 1;
	sv_cond_signal(&cv);
	sv_unlock(&mx);
	pthread_join(t, NULL); /* the case's timeout if it never wakes */
	ck_assert_int_eq(cv_flag, 2);
}
END_TEST

static Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("wire");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, header_sizes_and_values);
	tcase_add_test(tc, op_table);
	tcase_add_test(tc, req_check);
	tcase_add_test(tc, ctl_and_rep_check);
	tcase_add_test(tc, names);
	tcase_add_test(tc, chans_check);
	tcase_add_test(tc, newchan_get);
	tcase_add_test(tc, many_fds);
	suite_add_tcase(s, tc);
	tc = tcase_create("path");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, paths);
	suite_add_tcase(s, tc);
	tc = tcase_create("slots");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, slot_keys);
	suite_add_tcase(s, tc);
	tc = tcase_create("mutex");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, mutex_excludes);
	tcase_add_test(tc, cond_wakes_its_waiter);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(proto_suite());
}

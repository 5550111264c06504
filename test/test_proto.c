/*
 * test_proto.c - unit suites for proto/: the message checks, the
 * description names, path classification and slot keys.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../proto/path.h"
#include "../proto/slots.h"
#include "../proto/wire.h"
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
	ck_assert(op->opens);
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

START_TEST(fdname_roundtrip)
{
	struct sockaddr_un sa;
	uint64_t b, i, k;
	socklen_t len;

	len = wire_fdname(&sa, 0xfedcba9876543210ull, 16, (7ull << 32) | 3);
	ck_assert_int_eq(wire_fdname_parse(&sa, len, &b, &i, &k), 0);
	ck_assert_uint_eq(b, 0xfedcba9876543210ull);
	ck_assert_uint_eq(i, 16);
	ck_assert_uint_eq(k, (7ull << 32) | 3);
	/* Truncated, or someone else's abstract name: not ours. */
	ck_assert_int_eq(wire_fdname_parse(&sa, len - 1, &b, &i, &k) == 0 &&
			     k == ((7ull << 32) | 3),
			 0);
	memcpy(sa.sun_path + 1, "xcheme", 6);
	ck_assert_int_eq(wire_fdname_parse(&sa, len, &b, &i, &k), -1);
	sa.sun_path[0] = '/';
	ck_assert_int_eq(wire_fdname_parse(&sa, len, &b, &i, &k), -1);
}
END_TEST

/* A bound socketpair end really carries the name across processes. */
START_TEST(fdname_on_socket)
{
	struct sockaddr_un sa, got;
	socklen_t len, glen = sizeof(got);
	uint64_t b, i, k;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	len = wire_fdname(&sa, getpid(), 99, 12345);
	ck_assert_int_eq(bind(sv[0], (struct sockaddr *)&sa, len), 0);
	ck_assert_int_eq(getsockname(sv[0], (struct sockaddr *)&got, &glen), 0);
	ck_assert_int_eq(wire_fdname_parse(&got, glen, &b, &i, &k), 0);
	ck_assert_uint_eq(i, 99);
	ck_assert_uint_eq(k, 12345);
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
	tcase_add_test(tc, fdname_roundtrip);
	tcase_add_test(tc, fdname_on_socket);
	suite_add_tcase(s, tc);
	tc = tcase_create("path");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, paths);
	suite_add_tcase(s, tc);
	tc = tcase_create("slots");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, slot_keys);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_main(proto_suite());
}

/*
 * serve_chan.c - see serve_chan.h.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "serve_chan.h"

struct serve *s;

int
new_chan(uint32_t flags)
{
	int sv[2];

	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(serve_add_chan(s, sv[1], flags), 0);
	return sv[0];
}

void
send_req_fd(int ch, uint32_t op, uint64_t key, uint64_t c, uint64_t d,
	    const void *data, size_t len, uint64_t seq, int fd)
{
	struct wire_req r;

	wire_req_init(&r, op, key);
	r.seq = seq;
	r.arg[1] = c;
	r.arg[2] = d;
	r.len = (uint32_t)len;
	ck_assert_int_gt(wire_send(ch, &r, sizeof(r), data, len, fd, NULL, 0),
			 0);
}

void
send_req(int ch, uint32_t op, uint64_t key, uint64_t c, uint64_t d,
	 const void *data, size_t len, uint64_t seq)
{
	send_req_fd(ch, op, key, c, d, data, len, seq, -1);
}

ssize_t
recv_rep(int ch, struct wire_rep *rep, void *data, size_t len, int *rfd)
{
	struct iovec iov[2] = {{rep, sizeof(*rep)}, {data, len}};
	ssize_t n = wire_recv(ch, iov, 2, rfd, NULL, MSG_CMSG_CLOEXEC);

	ck_assert_int_ge(n, (ssize_t)sizeof(*rep));
	ck_assert_int_eq(wire_rep_check(rep, (size_t)n), 0);
	return n;
}

void
read_one(struct scheme_packet *p)
{
	ck_assert_int_eq(serve_read(s, p, 1, 1000), 1);
}

int
do_open(int ch, const char *path, uint64_t h, uint64_t *key)
{
	struct scheme_packet p;
	struct wire_rep rep;
	int fd = -1;

	send_req(ch, SYS_OPEN, 0, 0, O_RDWR | (0644ull << 32), path,
		 strlen(path), 1);
	read_one(&p);
	ck_assert_uint_eq(p.a, SYS_OPEN);
	ck_assert_uint_eq(p.c, strlen(path));
	ck_assert_int_eq(memcmp((char *)(uintptr_t)p.b, path, p.c), 0);
	ck_assert_int_eq(((char *)(uintptr_t)p.b)[p.c], '\0');
	ck_assert_uint_eq(p.d, O_RDWR | (0644ull << 32));
	ck_assert_uint_eq(p.pid, (uint64_t)getpid()); /* from the kernel */
	p.a = h;
	serve_write(s, &p);
	recv_rep(ch, &rep, NULL, 0, &fd);
	ck_assert_uint_eq(rep.result, h);
	ck_assert_int_ge(fd, 0);
	*key = rep.key;
	return fd;
}

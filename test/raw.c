/*
 * raw.c - see raw.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "harness.h"
#include "raw.h"

int
raw_conn(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, h_socket());
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
raw_call(int fd, uint32_t type, uint64_t inst, const char *payload,
	 struct wire_ctl *rep, int *rfd)
{
	union {
		struct wire_ctl m;
		char buf[sizeof(struct wire_ctl) + 8192];
	} u;
	struct wire_ctl req;
	struct iovec iov = {u.buf, sizeof(u.buf)};
	size_t len = payload ? strlen(payload) : 0;
	ssize_t n;

	wire_ctl_init(&req, type);
	req.inst = inst;
	req.len = (uint32_t)len;
	/* A refusal at the door may already be waiting: read it anyway. */
	wire_send(fd, &req, sizeof(req), payload, len, -1, NULL, 0);
	n = wire_recv(fd, &iov, 1, rfd, NULL, MSG_CMSG_CLOEXEC);
	if (n < (ssize_t)sizeof(*rep))
		return -EPIPE;
	*rep = u.m;
	return rep->err;
}

int64_t
raw_req(int ch, uint32_t op, uint64_t key, uint64_t c, uint64_t d,
	struct raw_io *io)
{
	struct raw_io none = {.sendfd = -1};
	struct wire_req req;
	struct iovec iov[2];
	ssize_t n, sent;

	if (io == NULL)
		io = &none;
	iov[0] = (struct iovec){&io->rep, sizeof(io->rep)};
	iov[1] = (struct iovec){io->out, io->outlen};
	io->rfd = -1;
	wire_req_init(&req, op, key);
	req.seq = 1;
	req.arg[1] = c;
	req.arg[2] = d;
	req.len = (uint32_t)io->inlen;
	/* Refused at once, the channel holds why: read it anyway. */
	sent = wire_send(ch, &req, sizeof(req), io->in, io->inlen, io->sendfd,
			 NULL, 0);
	n = wire_recv(ch, iov, io->outlen ? 2 : 1, &io->rfd, NULL,
		      MSG_CMSG_CLOEXEC | (sent < 0 ? MSG_DONTWAIT : 0));
	if (n < (ssize_t)sizeof(io->rep))
		return -EPIPE;
	return (int64_t)io->rep.result;
}

int64_t
raw_open(int ch, const char *path, uint32_t flags, int *fd, uint64_t *key)
{
	struct raw_io io = {.in = path, .inlen = strlen(path), .sendfd = -1};
	int64_t r;

	r = raw_req(ch, SYS_OPEN, 0, 0, flags | (0600ull << 32), &io);
	if (fd != NULL)
		*fd = io.rfd;
	else if (io.rfd >= 0)
		close(io.rfd);
	if (key != NULL)
		*key = io.rep.key;
	return r;
}

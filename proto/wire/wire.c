/*
 * wire.c - building, sending, receiving and checking messages.
 *
 * Everything here returns >= 0 or -errno and never touches the caller's
 * errno on success (the preload calls it inside other programs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../sys.h"
#include "wire.h"

#define OP(o, i, out, f)                                                       \
	{                                                                      \
		o, #o, i, out, f                                               \
	}
#define K WIRE_KEYED

/*
 * The request table: how each kind's arguments travel, and what it is.
 * The busiest first: wire_op() looks rows up in order.
 */
static const struct wire_op ops[] = {
    OP(SYS_READ, WIRE_IN_NONE, WIRE_OUT_BYTES, K | WIRE_BY_PIPE),
    OP(SYS_WRITE, WIRE_IN_BUF, WIRE_OUT_NONE, K | WIRE_BY_PIPE),
    OP(SYS_READ2, WIRE_IN_NONE, WIRE_OUT_BYTES, K | WIRE_BY_PIPE | WIRE_IO),
    OP(SYS_WRITE2, WIRE_IN_BUF, WIRE_OUT_NONE, K | WIRE_BY_PIPE | WIRE_IO),
    OP(SYS_OPEN, WIRE_IN_PATH, WIRE_OUT_NONE,
       WIRE_OPENS | WIRE_NAMES | WIRE_BY_PIPE),
    OP(WIRE_OP_AT, WIRE_IN_AT, WIRE_OUT_NONE, WIRE_NAMES),
    OP(SYS_UNLINK, WIRE_IN_PATH, WIRE_OUT_NONE, WIRE_NAMES),
    OP(SYS_RMDIR, WIRE_IN_PATH, WIRE_OUT_NONE, WIRE_NAMES),
    OP(SYS_DUP, WIRE_IN_BUF, WIRE_OUT_NONE, K | WIRE_OPENS),
    OP(SYS_LSEEK, WIRE_IN_NONE, WIRE_OUT_NONE, K | WIRE_BY_PIPE),
    OP(SYS_FCNTL, WIRE_IN_NONE, WIRE_OUT_NONE, K),
    OP(SYS_FEVENT, WIRE_IN_NONE, WIRE_OUT_NONE, K),
    OP(SYS_FPATH, WIRE_IN_NONE, WIRE_OUT_BYTES, K | WIRE_BY_PIPE),
    OP(SYS_GETDENTS, WIRE_IN_NONE, WIRE_OUT_BYTES, K | WIRE_BY_PIPE),
    OP(SYS_FSTAT, WIRE_IN_NONE, WIRE_OUT_STRUCT, K | WIRE_BY_PIPE),
    OP(SYS_FSTATVFS, WIRE_IN_NONE, WIRE_OUT_STRUCT, K | WIRE_BY_PIPE),
    OP(SYS_FSYNC, WIRE_IN_NONE, WIRE_OUT_NONE, K | WIRE_BY_PIPE),
    OP(SYS_FTRUNCATE, WIRE_IN_NONE, WIRE_OUT_NONE, K | WIRE_BY_PIPE),
    OP(SYS_FCHMOD, WIRE_IN_NONE, WIRE_OUT_NONE, K),
    OP(SYS_FCHOWN, WIRE_IN_NONE, WIRE_OUT_NONE, K),
    OP(SYS_FRENAME, WIRE_IN_BUF, WIRE_OUT_NONE, K | WIRE_NAMES),
    OP(SYS_FLINK, WIRE_IN_BUF, WIRE_OUT_NONE, K | WIRE_NAMES),
    OP(SYS_FUTIMENS, WIRE_IN_BUF, WIRE_OUT_NONE, K),
    OP(SYS_FALLOCATE, WIRE_IN_NONE, WIRE_OUT_NONE, K | WIRE_IO),
    OP(SYS_FGRANT, WIRE_IN_NONE, WIRE_OUT_NONE, K),
    OP(SYS_GETDENTS_STAT, WIRE_IN_NONE, WIRE_OUT_BYTES, K | WIRE_BY_PIPE),
    OP(SYS_CLOSE, WIRE_IN_NONE, WIRE_OUT_NONE, K | WIRE_INNER),
    /* its answer carries an fd and the struct scheme_map back (fmap.c) */
    OP(SYS_FMAP, WIRE_IN_BUF, WIRE_OUT_NONE, K),
    OP(WIRE_OP_ATTACH, WIRE_IN_NONE, WIRE_OUT_NONE, K | WIRE_KEY0),
    OP(WIRE_OP_WAIT, WIRE_IN_NONE, WIRE_OUT_NONE, K),
    OP(WIRE_OP_POLL, WIRE_IN_NONE, WIRE_OUT_NONE, K),
    OP(WIRE_OP_CANCEL, WIRE_IN_NONE, WIRE_OUT_NONE, 0),
    OP(WIRE_OP_SUBSCRIBE, WIRE_IN_NONE, WIRE_OUT_NONE, K),
    OP(WIRE_OP_PIPES, WIRE_IN_NONE, WIRE_OUT_NONE, 0),
    OP(WIRE_OP_PARK, WIRE_IN_NONE, WIRE_OUT_NONE, K | WIRE_BY_PIPE),
    OP(WIRE_OP_SHM, WIRE_IN_NONE, WIRE_OUT_NONE, 0),
    OP(WIRE_OP_LOCK, WIRE_IN_BUF, WIRE_OUT_NONE, K),
    /* asked by the serving code, which keeps its struct (serve.c) */
    OP(SYS_LOCK, WIRE_IN_NONE, WIRE_OUT_NONE, K | WIRE_INNER),
    OP(WIRE_OP_GENS, WIRE_IN_NONE, WIRE_OUT_NONE, 0),
    OP(WIRE_OP_POSTS, WIRE_IN_NONE, WIRE_OUT_NONE, 0),
    OP(WIRE_OP_DRAIN, WIRE_IN_NONE, WIRE_OUT_NONE, WIRE_BY_PIPE),
};
#undef K

/*
 * Whether a request may change a file, or what a stat of one says (the
 * caches of stats, scheme.h "Caching"): all but those that only read, so
 * that a request added later counts as a change until said otherwise.
 * An open and WIRE_OP_AT are their callers' to judge (by flags, by the
 * inner request).
 */
bool
wire_op_changes(uint32_t op)
{
	switch (op) {
	case SYS_READ:
	case SYS_READ2:
	case SYS_LSEEK:
	case SYS_FEVENT:
	case SYS_FPATH:
	case SYS_FSTAT:
	case SYS_FSTATVFS:
	case SYS_GETDENTS:
	case SYS_GETDENTS_STAT:
	case SYS_FGRANT:
	case SYS_FSYNC:
	case SYS_FCNTL:
	case SYS_CLOSE:
		return false;
	default: /* the wire's own (WIRE_OP_*) change nothing */
		return (op & 0xff000000u) != 0x7f000000u;
	}
}

/* Whether an open with these flags may make, empty or write a file. */
bool
wire_open_changes(uint32_t flags)
{
	return (flags & (O_CREAT | O_TRUNC | O_TMPFILE)) != 0 ||
	       (!(flags & O_PATH) && (flags & O_ACCMODE) != O_RDONLY);
}

const struct wire_op *
wire_op(uint32_t op)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op == op)
			return &ops[i];
	return NULL;
}

/*
 * One message from iov[], with nfds fds and the sender's credentials, the
 * control data built in cbuf (clen bytes, room enough).  Explicit
 * credentials let a process send its effective uid, which the kernel
 * checks is one of its own; without them the kernel would attach the
 * real uid.
 */
static ssize_t
send_fds(int sock, const struct iovec *iov, int iovcnt, const int *fds,
	 int nfds, const struct wire_creds *cr, int flags, char *cbuf,
	 size_t clen)
{
	struct msghdr m = {.msg_iov = (struct iovec *)iov,
			   .msg_iovlen = (size_t)iovcnt,
			   .msg_control = cbuf,
			   .msg_controllen = clen};
	struct cmsghdr *c;
	size_t used = 0;
	ssize_t r;
	int saved = errno;

	memset(cbuf, 0, clen);
	c = CMSG_FIRSTHDR(&m);
	if (cr != NULL) {
		struct ucred uc = {(pid_t)cr->pid, cr->uid, cr->gid};

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(uc));
		memcpy(CMSG_DATA(c), &uc, sizeof(uc));
		used += CMSG_SPACE(sizeof(uc));
		c = CMSG_NXTHDR(&m, c);
	}
	if (nfds > 0) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
		used += CMSG_SPACE((size_t)nfds * sizeof(int));
	}
	m.msg_controllen = used;
	if (used == 0)
		m.msg_control = NULL;
	do
		r = SYS(sendmsg)(sock, &m, flags | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	r = r < 0 ? -errno : r;
	errno = saved;
	return r;
}

/* One message from iov[], with at most one fd (-1: none). */
ssize_t
wire_sendv(int sock, const struct iovec *iov, int iovcnt, int fd,
	   const struct wire_creds *cr, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;

	return send_fds(sock, iov, iovcnt, &fd, fd >= 0, cr, flags, u.buf,
			sizeof(u.buf));
}

/* One message with fds[] (at most WIRE_SERVES_MAX). */
ssize_t
wire_sendv_fds(int sock, const struct iovec *iov, int iovcnt, const int *fds,
	       int nfds, const struct wire_creds *cr, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(WIRE_SERVES_MAX * sizeof(int))];
		struct cmsghdr align;
	} u;

	if (nfds < 0 || nfds > WIRE_SERVES_MAX)
		return -EINVAL;
	return send_fds(sock, iov, iovcnt, fds, nfds, cr, flags, u.buf,
			sizeof(u.buf));
}

/* One message: a header and one payload buffer. */
ssize_t
wire_send(int sock, const void *hdr, size_t hlen, const void *data, size_t dlen,
	  int fd, const struct wire_creds *cr, int flags)
{
	struct iovec iov[2] = {{(void *)hdr, hlen}, {(void *)data, dlen}};

	return wire_sendv(sock, iov, dlen ? 2 : 1, fd, cr, flags);
}

/* Credentials into *cr; the first *nfds fds into fds[], the rest closed. */
static void
take_cmsgs(struct msghdr *m, int *fds, int *nfds, struct wire_creds *cr)
{
	struct cmsghdr *c;
	int i, n, f, max = *nfds;

	*nfds = 0;
	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS && cr != NULL &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			cr->pid = (uint32_t)uc.pid;
			cr->uid = uc.uid;
			cr->gid = uc.gid;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (i = 0; i < n; i++) {
				memcpy(&f, CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
				if (*nfds < max)
					fds[(*nfds)++] =
					    f; /* those we expect */
				else
					SYS(close)(f); /* never leak extras */
			}
		}
	}
}

/*
 * Receive one message into iov[], with up to *nfds fds into fds[] (their
 * number back in *nfds; any more are closed, and the kernel closes those
 * that did not fit).  A message longer than the buffer is an error, never
 * silently cut, and its fds are closed.  Pass MSG_CMSG_CLOEXEC in flags
 * unless the fds are meant to survive exec.
 */
static ssize_t
recv_fds(int sock, struct iovec *iov, int iovcnt, int *fds, int *nfds,
	 struct wire_creds *cr, int flags, void *cbuf, size_t clen)
{
	struct msghdr m = {.msg_iov = iov,
			   .msg_iovlen = (size_t)iovcnt,
			   .msg_control = cbuf,
			   .msg_controllen = clen};
	ssize_t r;
	int saved = errno, max = *nfds;

	*nfds = 0;
	if (cr != NULL)
		memset(cr, 0, sizeof(*cr));
	r = SYS(recvmsg)(sock, &m, flags);
	if (r < 0) {
		r = -errno;
		errno = saved;
		return r;
	}
	*nfds = max;
	take_cmsgs(&m, fds, nfds, cr);
	errno = saved;
	if (m.msg_flags & MSG_TRUNC) {
		while (*nfds > 0)
			SYS(close)(fds[--*nfds]);
		return -EMSGSIZE;
	}
	return r;
}

ssize_t
wire_recv_fds(int sock, struct iovec *iov, int iovcnt, int *fds, int *nfds,
	      int flags)
{
	union {
		char buf[CMSG_SPACE(WIRE_SERVES_MAX * sizeof(int))];
		struct cmsghdr align;
	} u;

	if (*nfds > WIRE_SERVES_MAX)
		*nfds = WIRE_SERVES_MAX;
	return recv_fds(sock, iov, iovcnt, fds, nfds, NULL, flags, u.buf,
			sizeof(u.buf));
}

/*
 * One message with at most one fd (in *fd, or closed when the caller
 * expects none) and the sender's credentials.
 */
ssize_t
wire_recv(int sock, struct iovec *iov, int iovcnt, int *fd,
	  struct wire_creds *cr, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	int got = -1, n = fd != NULL;
	ssize_t r;

	r = recv_fds(sock, iov, iovcnt, &got, &n, cr, flags, u.buf,
		     sizeof(u.buf));
	if (fd != NULL)
		*fd = n > 0 ? got : -1;
	return r;
}

int
wire_req_check(const struct wire_req *r, size_t n)
{
	return n < sizeof(*r) ? -EPROTO
			      : wire_hdr_check(n, sizeof(*r), r->magic,
					       r->version, r->len);
}

int
wire_ctl_check(const struct wire_ctl *c, size_t n)
{
	return n < sizeof(*c) ? -EPROTO
			      : wire_hdr_check(n, sizeof(*c), c->magic,
					       c->version, c->len);
}

/*
 * A scheme name: 1 to WIRE_MAX_NAME printable bytes, no ':' or '/' (they
 * would make paths ambiguous), not "." or "..".
 */
int
wire_name_check(const char *name, size_t len)
{
	size_t i;

	if (len == 0)
		return -EINVAL;
	if (len > WIRE_MAX_NAME)
		return -ENAMETOOLONG;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch <= ' ' || ch >= 0x7f || ch == ':' || ch == '/')
			return -EINVAL;
	}
	return 0;
}

/*
 * The payload of an answer to CONNECT or SERVES: whole struct wire_chan
 * records, at most WIRE_SERVES_MAX, each of an instance, its err 0 or an
 * errno, and exactly nfds of them (those with err 0) matched by an fd.
 * Returns their number, or -EPROTO.
 */
int
wire_chans_check(const void *payload, size_t len, int nfds)
{
	struct wire_chan c;
	size_t i, n = len / sizeof(c);
	int withfd = 0;

	if (len % sizeof(c) != 0 || n > WIRE_SERVES_MAX || nfds < 0)
		return -EPROTO;
	for (i = 0; i < n; i++) {
		memcpy(&c, (const char *)payload + i * sizeof(c), sizeof(c));
		if (c.inst == 0 || c.err > 0 || c.err < -4095)
			return -EPROTO;
		withfd += c.err == 0;
	}
	return withfd == nfds ? (int)n : -EPROTO;
}

/* NEWCHAN's payload: exactly a struct wire_newchan of flags we know. */
int
wire_newchan_get(const void *payload, size_t len, struct wire_newchan *nc)
{
	if (len != sizeof(*nc))
		return -EPROTO;
	memcpy(nc, payload, sizeof(*nc));
	if ((nc->flags & ~WIRE_CHAN_NOPATHS) != 0)
		return -EPROTO; /* a restriction we do not know: refuse */
	return 0;
}

void
wire_rep_init(struct wire_rep *r, uint64_t seq)
{
	memset(r, 0, sizeof(*r));
	r->magic = WIRE_MAGIC;
	r->version = WIRE_VERSION;
	r->seq = seq;
}

void
wire_ctl_init(struct wire_ctl *c, uint32_t type)
{
	memset(c, 0, sizeof(*c));
	c->magic = WIRE_MAGIC;
	c->version = WIRE_VERSION;
	c->type = type;
}

static int
hex64(const char **s, const char *end, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int digits = 0;

	for (; p < end && *p != '/'; p++, digits++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			return -1;
		if (digits == 16)
			return -1;
		x = x << 4 | (uint64_t)d;
	}
	if (digits == 0)
		return -1;
	*v = x;
	*s = p;
	return 0;
}

#define NSNAME_PREFIX "scheme-ns/"

/*
 * The abstract name of a namespace token (see wire.h): the broker, then
 * WIRE_NS_NONCE random bytes in hex.  Abstract names are visible to every
 * local user (/proc/net/unix) and taken by whoever binds first, so none
 * may be predictable: the nonce makes the next one unguessable.
 */
socklen_t
wire_nsname(struct sockaddr_un *sa, uint64_t broker,
	    const uint8_t nonce[WIRE_NS_NONCE])
{
	char *p;
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
		     NSNAME_PREFIX "%016" PRIx64 "/", broker);
	p = sa->sun_path + 1 + n;
	for (int i = 0; i < WIRE_NS_NONCE; i++, p += 2)
		snprintf(p, 3, "%02x", nonce[i]);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   (size_t)n + 2 * WIRE_NS_NONCE);
}

int
wire_nsname_parse(const struct sockaddr_un *sa, socklen_t len, uint64_t *broker)
{
	size_t plen = sizeof(NSNAME_PREFIX) - 1;
	const char *p, *end;

	if (len <= offsetof(struct sockaddr_un, sun_path) + 1 + plen ||
	    sa->sun_family != AF_UNIX || sa->sun_path[0] != '\0')
		return -1;
	p = sa->sun_path + 1;
	end = (const char *)sa + len;
	if (memcmp(p, NSNAME_PREFIX, plen) != 0)
		return -1;
	p += plen;
	if (hex64(&p, end, broker) < 0 || p == end || *p++ != '/' ||
	    end - p != 2 * WIRE_NS_NONCE)
		return -1;
	for (; p < end; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -1;
	return 0;
}

/* Room for one full message each way (the kernel clamps to wmem_max). */
int
wire_setsockbuf(int sock)
{
	int sz = 2 * (WIRE_MAX_DATA + 4096);

	if (SYS(setsockopt)(sock, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) < 0)
		return -errno;
	return 0;
}

/* A trace record as a tracer reads it: whole, of this version. */
int
wire_trace_check(const struct wire_trace *t, size_t n)
{
	if (n != sizeof(*t) || t->magic != WIRE_MAGIC ||
	    t->version != WIRE_VERSION || t->pathlen > WIRE_TRACE_PATH)
		return -EPROTO;
	return 0;
}

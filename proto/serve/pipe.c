/*
 * pipe.c - a channel's second transport on the provider's side: a pipe
 * pair, and the client's memfd for the data of answers.
 *
 * Every channel starts on its socket, which carries credentials and fds.
 * A client upgrades it in two explicit steps, each a request on the
 * socket: WIRE_OP_PIPES hands us the read end of a pipe it will write
 * READ and WRITE requests (the rows marked WIRE_BY_PIPE) to, and gets the
 * read end of one we make for the answers; WIRE_OP_SHM then hands us a
 * sealed memfd that answers by pipe put their data in.  A pipe round trip
 * costs about 60% of one on a socket with credentials (tools/bench), so
 * the hot requests go this way.
 *
 * The functions here only move bytes; what a request means, and what to
 * do with a channel whose pipe failed, is serve.c's (this file calls
 * nothing of it).  The client's side is preload/chan_pipe.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

#include "../sys.h"
#include "serve_impl.h"

/*
 * WIRE_OP_PIPES: fd must be the read end of a pipe, on a channel that has
 * none yet.  On success pp[0] is the read end of the answers' pipe (for
 * the client) and pp[1] its write end (ours), both non-blocking where we
 * use them.  -errno, with nothing made, otherwise.
 */
int
sv_pipe_make(const struct sv_chan *ch, int fd, int pp[2])
{
	struct stat st;

	pp[0] = pp[1] = -1;
	if (fd < 0 || ch->pr >= 0 || SYS(fstat)(fd, &st) < 0 ||
	    !S_ISFIFO(st.st_mode))
		return -EINVAL;
	if (SYS(pipe2)(pp, O_CLOEXEC) < 0)
		return -errno;
	if (SYS(fcntl)(pp[1], F_SETFL, O_NONBLOCK) < 0 ||
	    SYS(fcntl)(fd, F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;

		SYS(close)(pp[0]);
		SYS(close)(pp[1]);
		pp[0] = pp[1] = -1;
		return -e;
	}
	return 0;
}

/*
 * WIRE_OP_SHM, after the pipes: fd is a memfd of at least WIRE_MAX_DATA
 * bytes, sealed against shrinking (else a client could make our writes
 * into it fault).  Mapped into ch->shm: 0, or -errno.  fd stays the
 * caller's to close.
 */
int
sv_pipe_shm(struct sv_chan *ch, int fd)
{
	struct stat st;
	void *m;
	int seals;

	if (fd < 0 || ch->pr < 0 || ch->shm != NULL ||
	    (seals = SYS(fcntl)(fd, F_GET_SEALS)) < 0 ||
	    !(seals & F_SEAL_SHRINK) || SYS(fstat)(fd, &st) < 0 ||
	    st.st_size < WIRE_MAX_DATA)
		return -EINVAL;
	m = mmap(NULL, WIRE_MAX_DATA, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	if (m == MAP_FAILED)
		return -errno;
	ch->shm = m;
	return 0;
}

/* The channel's queue of bytes read past a request (ch->pq), made once. */
bool
sv_pipe_pq(struct sv_chan *ch)
{
	return ch->pq != NULL || (ch->pq = malloc(2 * PIPE_BUF)) != NULL;
}

/*
 * Posts.  A client's close parks its file (WIRE_OP_PARK, no answer).
 * Down the request pipe, the PARK woke us; on one CPU we then often ran
 * at once, before the program's next open, two context switches more a
 * round.  So a channel may add a third pipe, the post pipe, which we do
 * not watch (WIRE_OP_POSTS), and a timerfd of ours, which we do and the
 * client arms when it posts.  We read the posts before a request marked
 * WIRE_REQ_DRAIN (the client marks the first after it posted, and a
 * request by the socket is preceded by a WIRE_OP_DRAIN down the request
 * pipe), and when the timer rings, within 200 µs of a post (the
 * client's POST_NS) when no request comes.  Only PARKs come this way.
 *
 * WIRE_OP_POSTS: fd must be the read end of a pipe, on a channel with
 * pipes and no posts yet.  A timerfd (non-blocking), or -errno.
 */
int
sv_pipe_posts(const struct sv_chan *ch, int fd)
{
	struct stat st;
	int t;

	if (fd < 0 || ch->pr < 0 || ch->post >= 0 || SYS(fstat)(fd, &st) < 0 ||
	    !S_ISFIFO(st.st_mode))
		return -EINVAL;
	if (SYS(fcntl)(fd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	return t < 0 ? -errno : t;
}

/*
 * The posts, ahead of what is queued: req (len bytes, the request that
 * said WIRE_REQ_DRAIN, its mark taken off) comes right after them, then
 * the bytes queued behind it; or, with req NULL (the timer), the posts
 * alone, the queue being empty.  Whole PARKs only (the client writes
 * each in one write), at most PIPE_BUF bytes a call; anything else ends
 * the channel.  The bytes read, or -EPROTO / -ENOMEM.
 */
int
sv_pipe_drain(struct sv_chan *ch, struct wire_req *req, size_t len)
{
	struct wire_req b[PIPE_BUF / sizeof(struct wire_req)];
	ssize_t n, i;

	if (ch->post < 0)
		return 0;
	do
		n = SYS(read)(ch->post, b, sizeof(b));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0; /* none, or the client has gone: its end says so */
	if ((size_t)n % sizeof(b[0]) != 0)
		return -EPROTO;
	for (i = 0; i < n / (ssize_t)sizeof(b[0]); i++)
		if (b[i].op != WIRE_OP_PARK || b[i].flags != 0 ||
		    wire_req_check(&b[i], sizeof(b[0])) < 0)
			return -EPROTO;
	if (!sv_pipe_pq(ch))
		return -ENOMEM;
	memmove(ch->pq + n + len, ch->pq, ch->pq_len);
	memcpy(ch->pq, b, (size_t)n);
	if (req != NULL)
		memcpy(ch->pq + n, req, len);
	ch->pq_len += (uint32_t)(n + len);
	return (int)n;
}

/*
 * The rest of a request a read cut short: its writer wrote it whole (at
 * most PIPE_BUF bytes, one write), so it is in the pipe already.
 */
static bool
pipe_rest(int fd, char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = SYS(read)(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/*
 * One request into req (room for PIPE_BUF bytes): what is queued on the
 * channel first, else one read of what the pipe holds, up to PIPE_BUF
 * bytes, which brings a request and its payload together (the client
 * writes each whole, at most PIPE_BUF bytes).  A PARK, which has no
 * answer, may have more behind it: the bytes past this request are kept
 * in ch->pq for the next call.  The request's length; 0 when there is
 * nothing to read now; -EPIPE when the pipe ended, -EPROTO when what came
 * is not a request, -ENOMEM when what followed could not be kept (the
 * channel is done with in each case).
 */
ssize_t
sv_pipe_recv(struct sv_chan *ch, struct wire_req *req)
{
	char *b = (char *)req;
	size_t have, want;
	ssize_t n;

	if (ch->pq_len > 0) {
		have = ch->pq_len;
		memcpy(b, ch->pq, have);
		ch->pq_len = 0;
	} else {
		n = SYS(read)(ch->pr, b, PIPE_BUF);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return n == 0 ? -EPIPE : -EPROTO;
		have = (size_t)n;
	}
	if (have < sizeof(*req)) {
		if (!pipe_rest(ch->pr, b + have, sizeof(*req) - have))
			return -EPROTO;
		have = sizeof(*req);
	}
	if (req->len > PIPE_BUF - sizeof(*req))
		return -EPROTO;
	want = sizeof(*req) + req->len;
	if (have < want && !pipe_rest(ch->pr, b + have, want - have))
		return -EPROTO;
	if (have > want) {
		if (!sv_pipe_pq(ch))
			return -ENOMEM;
		memcpy(ch->pq, b + want, have - want);
		ch->pq_len = (uint32_t)(have - want);
	}
	if (wire_req_check(req, want) < 0)
		return -EPROTO;
	return (ssize_t)want;
}

/*
 * An answer down the reply pipe.  An fd cannot go down a pipe: the
 * answer then says one follows on the socket (SV_PIPE_FD_FOLLOWS: the
 * caller sends rep there, with the fd); data goes into the memfd when the
 * client gave one and the result is its length (a read's bytes: the
 * client takes the result for it; a struct, as fstat's, whose result is
 * 0, follows the header down the pipe).  All at once (the client asked
 * for no more than fits), or the client is not reading: it sees the pipe
 * end.  0 when done, -1 when the channel is done with.
 */
int
sv_pipe_send(const struct sv_chan *ch, const struct wire_rep *rep,
	     const void *data, size_t len, int fd)
{
	struct wire_rep head = *rep;
	ssize_t n;

	if (fd >= 0) {
		head.status = WIRE_FD_FOLLOWS;
		head.len = 0;
		len = 0;
	} else if (len > 0 && ch->shm != NULL && len <= WIRE_MAX_DATA &&
		   rep->result == len) {
		if (data != ch->shm)
			memcpy(ch->shm, data, len);
		head.status = WIRE_IN_SHM;
		head.len = 0;
		len = 0;
	}
	/* The header alone, the usual answer, is one write of one buffer. */
	if (len == 0) {
		n = SYS(write)(ch->pw, &head, sizeof(head));
	} else {
		struct iovec iov[2] = {{&head, sizeof(head)},
				       {(void *)data, len}};

		n = SYS(writev)(ch->pw, iov, 2);
	}
	if (n != (ssize_t)(sizeof(head) + len))
		return -1;
	return fd >= 0 ? SV_PIPE_FD_FOLLOWS : 0;
}

/*
 * Direct reads (serve.c): a thread with nothing else in hand blocks in
 * read() of the one channel whose requests it has been serving, rather
 * than in epoll_wait().  It needs an end of the request pipe that blocks,
 * which pr (shared with the client's end, and read by epoll's rule) does
 * not; and the waker (waker.c) needs one to write to.  Both are opened
 * anew through /proc/self/fd, so their modes are ours alone.  0, or
 * -errno (no /proc, or a pipe of another user's): then the channel is
 * only read through epoll, as before.
 */
int
sv_pipe_reopen(struct sv_chan *ch)
{
	char path[32];
	int e;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", ch->pr);
	/* The writer first: a FIFO opened to read waits for one. */
	if ((ch->dw = SYS(open)(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -errno;
	if ((ch->dr = SYS(open)(path, O_RDONLY | O_CLOEXEC)) < 0) {
		e = errno;
		SYS(close)(ch->dw);
		ch->dw = -1;
		return -e;
	}
	return 0;
}

/*
 * End a direct read of ch: a DRAIN with no mark, which answers nothing
 * (a client may send the same, to no effect).  A full pipe needs none:
 * the reader has requests to read, and looks at the waker's word after.
 */
void
sv_pipe_ring(const struct sv_chan *ch)
{
	struct wire_req req;
	int saved = errno;

	wire_req_init(&req, WIRE_OP_DRAIN, 0);
	(void)SYS(write)(ch->dw, &req, sizeof(req));
	errno = saved;
}

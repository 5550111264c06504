/*
 * chan_pipe.c - a channel's second transport: a pair of pipes and a
 * memfd (chan.h).
 *
 * The upgrade (chan_pipe_upgrade) makes them over the socket: the client
 * hands the provider a request pipe (with its credentials, which the
 * pipe's requests carry from then on) and gets a reply pipe back, then a
 * memfd, sealed so that it cannot shrink under the provider's writes and
 * mapped read-only here, into which a READ's data is written.  A pipe
 * round trip costs about 60% of one on the socket (tools/bench).  A
 * failure marks the channel broken; its owner (chan.c) drops it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../proto/spin.h"

#include "chan_pipe.h"
#include "chan_sock.h"
#include "hidden.h"
#include "hot.h"
#include "real.h"

/*
 * One write of a request down the pipe; -ENOTCONN breaks the channel.
 * A request without payload is one buffer: write(), which spares the
 * kernel importing an iovec.  errno is the caller's to keep (a failure
 * sets it).
 */
static inline int
pipe_send(struct chan *ch, const struct iovec *iov, int n, size_t len)
{
	ssize_t w;

	do
		w = n == 1 ? REAL(write)(ch->pw, iov->iov_base, iov->iov_len)
			   : REAL(writev)(ch->pw, iov, n);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)len) {
		ch->broken = true;
		return -ENOTCONN;
	}
	return 0;
}

/*
 * The first request down the pipe after PARKs went down the post pipe
 * (Posts, below) has the provider read them before it.
 */
static void
drain_first(struct chan *ch, struct wire_req *req)
{
	if (ch->posted > 0) {
		req->flags |= WIRE_REQ_DRAIN;
		ch->posted = 0;
	}
}

/*
 * After the pipes, a memfd for the answers' data: sealed so that it can
 * never shrink under the provider's writes, mapped read-only here.  Any
 * failure leaves the data in the pipe.  0, or -EIO/-EINTR when the
 * channel died (it is broken).
 */
static int
make_shm(struct chan *ch)
{
	struct wire_req req;
	struct wire_rep rep;
	void *m = MAP_FAILED;
	int fd, r;

	fd = memfd_create("scheme-answers", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return 0;
	if (REAL(ftruncate)(fd, WIRE_MAX_DATA) == 0 &&
	    REAL(fcntl)(fd, F_ADD_SEALS,
			F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0)
		m = REAL(mmap)(NULL, WIRE_MAX_DATA, PROT_READ, MAP_SHARED, fd,
			       0);
	if (m == MAP_FAILED) {
		REAL(close)(fd);
		return 0;
	}
	wire_req_init(&req, WIRE_OP_SHM, 0);
	r = chan_sock_call(ch, &req, NULL, 0, NULL, 0, &rep, NULL, 0, fd);
	REAL(close)(fd);
	if (r == 0 && (int64_t)rep.result == 0) {
		ch->shm = m;
		return 0;
	}
	munmap(m, WIRE_MAX_DATA);
	return r;
}

/*
 * After the pipes, a third for posts (chan.h), and the provider's timerfd
 * that rings for them.  Any failure leaves PARKs on the request pipe, as
 * without.  0, or -EIO/-EINTR when the channel died (it is broken).
 */
static int
make_posts(struct chan *ch)
{
	struct wire_req req;
	struct wire_rep rep;
	int pp[2], tfd = -1, r;

	if (REAL(pipe2)(pp, O_CLOEXEC | O_NONBLOCK) < 0)
		return 0;
	wire_req_init(&req, WIRE_OP_POSTS, 0);
	r = chan_sock_call(ch, &req, NULL, 0, NULL, 0, &rep, &tfd,
			   MSG_CMSG_CLOEXEC, pp[0]);
	if (r == 0 && (int64_t)rep.result == 0 && tfd >= 0) {
		ch->post = hidden_move(pp[1], chan_sock_relocate, ch);
		ch->postr = hidden_move(pp[0], chan_sock_relocate, ch);
		ch->ptimer = hidden_move(tfd, chan_sock_relocate, ch);
		return 0;
	}
	REAL(close)(pp[0]);
	REAL(close)(pp[1]);
	if (tfd >= 0)
		REAL(close)(tfd);
	return r;
}

/*
 * The upgrade: make the channel's pipes, over its socket (the request
 * pipe's read end goes to the provider, the answer carries the reply
 * pipe's), then the memfd.  0, or -ENOTCONN/-EIO when the channel died
 * (it is broken); a refusal only marks it (pipes -1: the socket only).
 */
COLD int
chan_pipe_upgrade(struct chan *ch)
{
	struct wire_req req;
	struct wire_rep rep;
	int pp[2], rfd = -1;
	int r;

	ch->pipes = -1;
	if (REAL(pipe2)(pp, O_CLOEXEC) < 0)
		return 0;
	ch->puid = (uint32_t)geteuid(); /* at most what the send below says */
	ch->pgid = (uint32_t)getegid();
	wire_req_init(&req, WIRE_OP_PIPES, 0);
	r = chan_sock_call(ch, &req, NULL, 0, NULL, 0, &rep, &rfd,
			   MSG_CMSG_CLOEXEC, pp[0]);
	if (r == 0 && (int64_t)rep.result == 0 && rfd >= 0) {
		int cap = REAL(fcntl)(rfd, F_GETPIPE_SZ);

		ch->pw = hidden_move(pp[1], chan_sock_relocate, ch);
		ch->prr = hidden_move(pp[0], chan_sock_relocate, ch);
		ch->pr = hidden_move(rfd, chan_sock_relocate, ch);
		ch->pcap = cap > 0 ? (size_t)cap : PIPE_BUF;
		ch->pipes = 1;
		if ((r = make_shm(ch)) < 0)
			return r;
		return make_posts(ch);
	}
	REAL(close)(pp[0]);
	REAL(close)(pp[1]);
	if (rfd >= 0)
		REAL(close)(rfd);
	return r;
}

/* The n iovecs of from[] into iov[]; n. */
static int
iov_copy(struct iovec *iov, const struct iovec *from, int n)
{
	memcpy(iov, from, (size_t)n * sizeof(*from));
	return n;
}

/* Whether op's answer is a struct (its data is not result bytes). */
static inline bool
chan_pipe_struct(uint32_t op)
{
	const struct wire_op *row = op == SYS_READ ? NULL : wire_op(op);

	return row != NULL && row->out == WIRE_OUT_STRUCT;
}

/* A wait; a cancelled one leaves the channel busy (chan.h). */
static inline ssize_t
pipe_recv(struct chan *ch, struct iovec *iov, int n)
{
	ssize_t r = n == 1 ? REAL(read)(ch->pr, iov->iov_base, iov->iov_len)
			   : REAL(readv)(ch->pr, iov, n);

	return r < 0 ? -errno : r;
}

/*
 * The rest of an answer that came in parts, or with data by pipe: read
 * to its end into iov[0..niov) (rep first), got bytes of it (not 0) in
 * already.  The bytes in all, or fewer when the pipe ended or failed.
 */
OUTLINE static size_t
pipe_rest(struct chan *ch, struct wire_rep *rep, struct iovec *iov, int niov,
	  struct iovec *out, int nout, size_t got)
{
	size_t want = sizeof(*rep);
	int k = 0;
	ssize_t n = (ssize_t)got;

	for (;;) {
		if (got >= sizeof(*rep) && want == sizeof(*rep)) {
			want += rep->len;
			if (niov == 1 && rep->len > 0) /* by pipe after all */
				niov = 1 + iov_copy(iov + 1, out, nout);
		}
		for (; k < niov && (size_t)n >= iov[k].iov_len; k++)
			n -= (ssize_t)iov[k].iov_len;
		if (k < niov) {
			iov[k].iov_base = (char *)iov[k].iov_base + n;
			iov[k].iov_len -= (size_t)n;
		}
		if (k == niov || got >= want)
			return got;
		do
			n = pipe_recv(ch, iov + k, niov - k);
		while (n == -EINTR); /* the rest is on its way */
		if (n <= 0)
			return got;
		got += (size_t)n;
	}
}

/*
 * A request by pipe.  It is one write of at most PIPE_BUF bytes, so it
 * arrives whole; its answer is one write the pipe has room for, but is
 * read to its end in case it comes in parts (pipe_rest).  On a channel
 * with the memfd the answer's data is there, so the first read takes the
 * header alone (read(), not readv()), and is usually the whole answer;
 * data a provider sends by pipe all the same is read after it.  An
 * answer with an fd, or an open the provider sends back, continues on
 * the socket.
 */
int
chan_pipe_call(struct chan *ch, struct wire_req *req, const struct iovec *in,
	       int nin, struct iovec *out, int nout, struct wire_rep *rep,
	       int *fd, int rflags)
{
	struct iovec iov[1 + CHAN_MAX_IOV];
	int saved = errno, i, niov;
	size_t got, sum;
	ssize_t n;

	req->seq = ++ch->seq;
	req->len = (uint32_t)chan_iov_sum(in, nin);
	drain_first(ch, req);
	iov[0].iov_base = req;
	iov[0].iov_len = sizeof(*req);
	for (i = 0; i < nin; i++)
		iov[1 + i] = in[i];
	if (pipe_send(ch, iov, 1 + nin, sizeof(*req) + req->len) < 0) {
		errno = saved;
		return -ENOTCONN;
	}
	iov[0].iov_base = rep;
	iov[0].iov_len = sizeof(*rep);
	/*
	 * With the memfd, a read's bytes are there and the header comes
	 * alone; a struct's answer (fstat's: its result is not its length)
	 * follows the header down the pipe, read with it.
	 */
	niov = ch->shm != NULL && !chan_pipe_struct(req->op)
		   ? 1
		   : 1 + iov_copy(iov + 1, out, nout);
	chan_sock_spin(ch->pr);
	n = pipe_recv(ch, iov, niov);
	if (n == -EINTR) {
		errno = saved;
		ch->broken = true;
		return -EINTR;
	}
	if (n == (ssize_t)sizeof(*rep) && rep->len == 0)
		got = sizeof(*rep); /* whole */
	else
		got = n > 0
			  ? pipe_rest(ch, rep, iov, niov, out, nout, (size_t)n)
			  : 0;
	errno = saved;
	if (got < sizeof(*rep) || wire_rep_check(rep, got) < 0 ||
	    rep->seq != req->seq) {
		ch->broken = true;
		return -EIO;
	}
	if (rep->status == WIRE_RESEND && req->op == SYS_OPEN) {
		/* Not for the pipe (serve.c, pipe_open_ok): on the socket. */
		return chan_sock_call(ch, req, in, nin, out, nout, rep, fd,
				      rflags, -1);
	}
	if (rep->status == WIRE_IN_SHM) {
		sum = chan_iov_sum(out, nout);
		if (ch->shm == NULL || (int64_t)rep->result < 0 ||
		    rep->result > sum || rep->result > WIRE_MAX_DATA) {
			ch->broken = true;
			return -EIO;
		}
		rep->len = (uint32_t)rep->result;
		rep->status = WIRE_OK;
		if (nout == 1) /* the usual read(): no parts to cut */
			memcpy(out[0].iov_base, ch->shm, rep->len);
		else
			for (i = 0, got = 0; i < nout && got < rep->len; i++) {
				size_t part = out[i].iov_len < rep->len - got
						  ? out[i].iov_len
						  : rep->len - got;

				memcpy(out[i].iov_base, ch->shm + got, part);
				got += part;
			}
	}
	if (fd != NULL)
		*fd = -1;
	if (rep->status == WIRE_FD_FOLLOWS && fd != NULL)
		return chan_sock_answer(ch, req, rep, out, nout, fd, rflags);
	return 0;
}

/*
 * Posts.  A PARK needs no answer, and the provider needs it only before
 * this channel's next request, or, when none comes, soon: its SYS_CLOSE
 * frees what the file held.  Written down the request pipe, it wakes the
 * provider, which on one CPU may run at once, before the program's next
 * open, and the round costs two context switches more (README,
 * Performance).  Down the post pipe it wakes nobody: the next request
 * carries WIRE_REQ_DRAIN, and the provider's timer, armed here, rings
 * POST_NS later in case none comes.  A timer armed earlier that has
 * certainly not fired yet (armed_until, read after the write) will ring
 * for this PARK too.  Only a thread that may run on one CPU alone posts
 * (spin.h, spin_worth): where there are more, the woken provider takes
 * another CPU and hears the close at once, and a provider kept awake by
 * the PARK answers the next open sooner than one the open must wake
 * (README, Performance).
 */
#define POST_NS	 200000 /* the longest a PARK waits for its provider */
#define POST_MAX 16	/* posts between reads; then the request pipe */

/*
 * After a post: whether the timer will ring for it, armed now if no
 * earlier arming certainly covers it (armed_until, read after the write).
 */
static bool
armed(struct chan *ch)
{
	struct itimerspec it = {.it_value = {0, POST_NS}};
	uint64_t now = spin_now();
	int saved = errno;
	bool ok = now < ch->armed_until;

	if (!ok && timerfd_settime(ch->ptimer, 0, &it, NULL) == 0) {
		ch->armed_until = now + POST_NS;
		ok = true;
	}
	errno = saved;
	return ok;
}

/* A request with no answer (WIRE_OP_PARK): posted, else down the pipe. */
int
chan_pipe_post(struct chan *ch, struct wire_req *req)
{
	struct iovec iov = {req, sizeof(*req)};
	int saved = errno, r;

	req->seq = ++ch->seq;
	req->len = 0;
	if (ch->post >= 0 && ch->posted < POST_MAX && !spin_worth() &&
	    REAL(write)(ch->post, req, sizeof(*req)) == sizeof(*req)) {
		ch->posted++;
		return armed(ch) ? 0 : chan_pipe_flush(ch);
	}
	errno = saved; /* none, or full: the request pipe takes it */
	drain_first(ch, req);
	r = pipe_send(ch, &iov, 1, sizeof(*req));
	errno = saved;
	return r;
}

/*
 * Before a request by the socket: the provider reads the posts first
 * (a DRAIN down the request pipe, which it reads in turn with the
 * socket, as it did the PARKs themselves).  0, or -ENOTCONN.
 */
OUTLINE int
chan_pipe_flush(struct chan *ch)
{
	struct wire_req req;
	struct iovec iov = {&req, sizeof(req)};
	int saved = errno, r;

	if (ch->posted == 0)
		return 0;
	wire_req_init(&req, WIRE_OP_DRAIN, 0);
	req.seq = ++ch->seq;
	drain_first(ch, &req);
	r = pipe_send(ch, &iov, 1, sizeof(req));
	errno = saved;
	return r;
}

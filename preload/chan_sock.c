/*
 * chan_sock.c - a channel's first transport: its socket (chan.h).
 *
 * Every request may go this way; a request with an fd, and every answer
 * with one, must.  Each request carries the sending thread's credentials
 * (SCM_CREDENTIALS), which the kernel checks.  A failure marks the
 * channel broken; the channel's owner (chan.c) drops it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "../proto/spin.h"
#include "chan_sock.h"
#include "creds.h"
#include "hot.h"
#include "real.h"

static ssize_t
send_req(struct chan *ch, struct iovec *iov, int n, int sendfd)
{
	struct wire_creds cr;
	ssize_t r;

	creds_get(&cr);
	r = wire_sendv(ch->fd, iov, n, sendfd, &cr, 0);
	if (r == -EPERM) {
		creds_refresh();
		creds_get(&cr);
		r = wire_sendv(ch->fd, iov, n, sendfd, &cr, 0);
	}
	return r;
}

/* A refusal's errno (EAGAIN, or EMFILE/ENOMEM if it says so). */
static int
refused_errno(const struct wire_rep *rep)
{
	int64_t e = (int64_t)rep->result;

	return e == -EMFILE || e == -ENOMEM ? (int)e : -EAGAIN;
}

/*
 * Why a channel we could not send on is closed: the provider refused it
 * at once (WIRE_REFUSED waits in it: a cap on channels), or -ENOTCONN.
 */
static int
refusal(const struct chan *ch)
{
	struct wire_rep rep;
	int saved = errno;
	ssize_t n;

	n = REAL(recv)(ch->fd, &rep, sizeof(rep), MSG_DONTWAIT);
	errno = saved;
	if (n == sizeof(rep) && wire_rep_check(&rep, (size_t)n) == 0 &&
	    rep.status == WIRE_REFUSED && rep.seq == 0)
		return refused_errno(&rep);
	return -ENOTCONN;
}

/*
 * Send req with in[] as its payload and sendfd (if not -1).  Returns 0, or
 * -ENOTCONN when it could not be sent (the provider went away earlier),
 * or the errno of the provider's refusal of the channel; the channel is
 * then broken.
 */
int
chan_sock_send(struct chan *ch, struct wire_req *req, const struct iovec *in,
	       int nin, int sendfd)
{
	struct iovec iov[1 + CHAN_MAX_IOV];
	int i;

	if (nin > CHAN_MAX_IOV)
		return -EINVAL;
	req->seq = ++ch->seq;
	req->len = 0;
	iov[0].iov_base = req;
	iov[0].iov_len = sizeof(*req);
	for (i = 0; i < nin; i++) {
		iov[1 + i] = in[i];
		req->len += (uint32_t)in[i].iov_len;
	}
	if (send_req(ch, iov, 1 + nin, sendfd) < 0) {
		ch->broken = true;
		return refusal(ch);
	}
	return 0;
}

/*
 * One answer into rep and out[] (and its fd, if any, into *fd).  Returns
 * the bytes received, -EAGAIN (with MSG_DONTWAIT), -EINTR, or -EIO when
 * the provider went away or sent something unreadable.  The channel is
 * left to the caller.
 */
ssize_t
chan_sock_recv(struct chan *ch, struct wire_rep *rep, struct iovec *out,
	       int nout, int *fd, int flags)
{
	struct iovec iov[1 + CHAN_MAX_IOV];
	int i, niov = nout < CHAN_MAX_IOV ? 1 + nout : 1 + CHAN_MAX_IOV;
	ssize_t n;

	if (fd != NULL)
		*fd = -1;
	iov[0].iov_base = rep;
	iov[0].iov_len = sizeof(*rep);
	for (i = 1; i < niov; i++)
		iov[i] = out[i - 1];
	n = wire_recv(ch->fd, iov, niov, fd, NULL, flags); /* cancel: chan.h */
	if (n == -EAGAIN || n == -EINTR)
		return n;
	if (n <= 0 || wire_rep_check(rep, (size_t)n) < 0) {
		if (fd != NULL && *fd >= 0) {
			REAL(close)(*fd);
			*fd = -1;
		}
		return -EIO;
	}
	return n;
}

/* Wait awake for fd to be readable, briefly (chan_sock.h). */
void
chan_sock_spin_now(int fd)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	uint64_t t0 = spin_now();

	while (REAL(poll)(&pfd, 1, 0) == 0 && spin_now() - t0 < SPIN_NS)
		spin_pause();
}

/*
 * The answer to req on the socket.  0, or -EINTR/-EIO with the channel
 * broken (a late answer must not be taken for the next one's), or the
 * errno of the provider's refusal of the channel (a cap: EAGAIN).
 */
OUTLINE int
chan_sock_answer(struct chan *ch, const struct wire_req *req,
		 struct wire_rep *rep, struct iovec *out, int nout, int *fd,
		 int rflags)
{
	ssize_t n;

	if (!(rflags & MSG_DONTWAIT))
		chan_sock_spin(ch->fd);
	n = chan_sock_recv(ch, rep, out, nout, fd, rflags);
	if (n >= 0 && rep->status == WIRE_REFUSED && rep->seq == 0) {
		if (fd != NULL && *fd >= 0)
			REAL(close)(*fd);
		ch->broken = true;
		return refused_errno(rep);
	}
	if (n >= 0 && rep->seq != req->seq) {
		if (fd != NULL && *fd >= 0)
			REAL(close)(*fd);
		n = -EIO;
	}
	if (n < 0) {
		ch->broken = true;
		return n == -EINTR ? -EINTR : -EIO;
	}
	return 0;
}

/* A request on the socket, and its answer. */
OUTLINE int
chan_sock_call(struct chan *ch, struct wire_req *req, const struct iovec *in,
	       int nin, struct iovec *out, int nout, struct wire_rep *rep,
	       int *fd, int rflags, int sendfd)
{
	int r = chan_sock_send(ch, req, in, nin, sendfd);

	return r < 0 ? r
		     : chan_sock_answer(ch, req, rep, out, nout, fd, rflags);
}

/* One of the channel's fds moved (hidden.h): follow it. */
void
chan_sock_relocate(void *ctx, int oldfd, int newfd)
{
	struct chan *ch = ctx;
	int *fds[] = {&ch->fd,	 &ch->pw,    &ch->prr,
		      &ch->pr,	 &ch->post,  &ch->postr,
		      &ch->ptimer};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] == oldfd)
			*fds[i] = newfd;
}

/*
 * chan_pipe.h - a channel's pipe transport (chan_pipe.c).  Each call
 * returns 0 or -errno, and marks the channel broken when it can no
 * longer be used.  Whether the pipes take a request is asked at every
 * request (chan.c): inline here.
 */
#ifndef PRELOAD_CHAN_PIPE_H
#define PRELOAD_CHAN_PIPE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/uio.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "chan.h"

int chan_pipe_upgrade(struct chan *ch);
int chan_pipe_call(struct chan *ch, struct wire_req *req,
		   const struct iovec *in, int nin, struct iovec *out, int nout,
		   struct wire_rep *rep, int *fd, int rflags);
int chan_pipe_post(struct chan *ch, struct wire_req *req);
int chan_pipe_flush(struct chan *ch);

/* The bytes of iov[0..n). */
static inline size_t
chan_iov_sum(const struct iovec *iov, int n)
{
	size_t t = 0;

	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* Whether an answer of up to `want` bytes of data can come by pipe. */
static inline bool
chan_pipe_fits(const struct chan *ch, size_t want)
{
	return sizeof(struct wire_rep) + want <= ch->pcap ||
	       (ch->shm != NULL && want <= WIRE_MAX_DATA);
}

/*
 * Whether the pipes take a request (or would, once made): one whose row
 * (op, the caller's wire_op(req->op)) says WIRE_BY_PIPE, whole in one
 * write, carrying no fd and wanting none back: a READ or WRITE (or a
 * seek, fstat, fsync...: wire.c's rows say which), or an
 * open that offers a parked file (pool.h), usually answered without an
 * fd, made by a thread whose user and group are still those the pipes
 * carry (an open's are checked), never on a revoked channel.  Such an
 * open upgrades a channel that has no pipes yet, as a read does, once
 * the channel has shown it will be used for more of them (chan.h,
 * reopens): it has reopened CHAN_REOPENS times already, or it outlived
 * its thread and serves the threads that come after (chan.c, spare).
 */
static inline bool
chan_pipe_takes(const struct chan *ch, const struct wire_op *op,
		const struct wire_req *req, const struct iovec *in, int nin,
		const struct iovec *out, int nout, const int *fd, int sendfd)
{
	if (op == NULL || !(op->flags & WIRE_BY_PIPE) || ch->pipes < 0 ||
	    sendfd >= 0 || sizeof(*req) + chan_iov_sum(in, nin) > PIPE_BUF)
		return false;
	if (req->op == SYS_OPEN)
		return req->key != 0 && !ch->revoked &&
		       (ch->pipes == 0 ? ch->reopens >= CHAN_REOPENS
				       : (uint32_t)geteuid() == ch->puid &&
					     (uint32_t)getegid() == ch->pgid);
	return fd == NULL &&
	       (ch->pipes == 0 || chan_pipe_fits(ch, chan_iov_sum(out, nout)));
}

#endif

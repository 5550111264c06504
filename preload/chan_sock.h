/*
 * chan_sock.h - a channel's socket transport (chan_sock.c).  Each call
 * returns 0 (or bytes) or -errno, and marks the channel broken when it
 * can no longer be used.
 */
#ifndef PRELOAD_CHAN_SOCK_H
#define PRELOAD_CHAN_SOCK_H

#include <sys/types.h>
#include <sys/uio.h>

#include "../proto/spin.h"
#include "chan.h"

int chan_sock_send(struct chan *ch, struct wire_req *req,
		   const struct iovec *in, int nin, int sendfd);
ssize_t chan_sock_recv(struct chan *ch, struct wire_rep *rep, struct iovec *out,
		       int nout, int *fd, int flags);
int chan_sock_answer(struct chan *ch, const struct wire_req *req,
		     struct wire_rep *rep, struct iovec *out, int nout, int *fd,
		     int rflags);
int chan_sock_call(struct chan *ch, struct wire_req *req,
		   const struct iovec *in, int nin, struct iovec *out, int nout,
		   struct wire_rep *rep, int *fd, int rflags, int sendfd);
void chan_sock_spin_now(int fd);

/*
 * Wait awake for fd to be readable, briefly and only if it pays (spin.h);
 * when it does not (one CPU), the test is all it costs.
 */
static inline void
chan_sock_spin(int fd)
{
	if (spin_worth())
		chan_sock_spin_now(fd);
}

void chan_sock_relocate(void *ctx, int oldfd, int newfd);

#endif

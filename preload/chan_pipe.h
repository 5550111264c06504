/*
 * chan_pipe.h - a channel's pipe transport (chan_pipe.c).  Each call
 * returns 0 or -errno, and marks the channel broken when it can no
 * longer be used.
 */
#ifndef PRELOAD_CHAN_PIPE_H
#define PRELOAD_CHAN_PIPE_H

#include <stdbool.h>
#include <sys/uio.h>

#include "chan.h"

int chan_pipe_upgrade(struct chan *ch);
bool chan_pipe_takes(const struct chan *ch, const struct wire_op *op,
		     const struct wire_req *req, const struct iovec *in,
		     int nin, const struct iovec *out, int nout, const int *fd,
		     int sendfd);
int chan_pipe_call(struct chan *ch, struct wire_req *req,
		   const struct iovec *in, int nin, struct iovec *out, int nout,
		   struct wire_rep *rep, int *fd, int rflags);
int chan_pipe_post(struct chan *ch, struct wire_req *req);
int chan_pipe_flush(struct chan *ch);

#endif

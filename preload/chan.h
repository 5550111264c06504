/*
 * chan.h - a client thread's channels, one per provider it talks to.
 *
 * A channel is a socket pair the broker made: our end here, the other in
 * the provider; small reads and writes go by a pair of pipes the two
 * sides add to it (WIRE_OP_PIPES).  Each thread has its own, so replies can never go to the
 * wrong waiter: not across threads, and not across fork (a child makes its
 * own and proves it holds the fds it inherited).  A request is answered
 * on the channel it came by, and a thread has at most one outstanding:
 * when a wait is interrupted the channel is dropped, so a late answer
 * cannot be taken for the next one.  A wait cut short by cancellation
 * (read and recvmsg are cancellation points) needs no handler: the
 * channel stays busy, as its caller never releases it, so no signal
 * handler's call uses it, and the thread's end drops it (chan.c,
 * sparable).
 */
#ifndef PRELOAD_CHAN_H
#define PRELOAD_CHAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../proto/wire/wire.h"
#include "state.h"

#define CHAN_MAX_IOV 64 /* longer vectors are served in parts */
#define CHAN_LACKS_DENTS 1u /* SYS_GETDENTS: listings are read as text */
#define CHAN_REOPENS 2

struct chan {
	int fd;
	/*
	 * READ and WRITE go by pipe once made (WIRE_OP_PIPES): requests down
	 * pw, of which we keep the read end prr open so that a write never
	 * raises SIGPIPE; answers up pr, which holds pcap bytes.  pipes is
	 * 0 until tried, 1 once made, -1 when the provider refused.
	 */
	int pw, prr, pr, pipes;
	size_t pcap;
	uint32_t puid, pgid; /* the credentials the pipes were made with */
	bool revoked;	     /* shut by chan_revoke_all (a new namespace) */
	bool broken;	     /* unusable now: its owner drops it */
	const char *shm;     /* answers' data by pipe (WIRE_OP_SHM), or NULL */
	/*
	 * Posts (WIRE_OP_POSTS), -1 without: PARKs go down post, which the
	 * provider reads only when asked (WIRE_REQ_DRAIN on the next request,
	 * or a WIRE_OP_DRAIN) or when ptimer, armed at the first of them,
	 * fires; posted is how many went since it last read them, and
	 * armed_until a time (CLOCK_MONOTONIC, ns) before which the timer
	 * has certainly not fired yet.  Of the post pipe we keep the read
	 * end too (postr), so that a write never raises SIGPIPE.
	 */
	int post, postr, ptimer;
	uint8_t posted;
	uint64_t armed_until;
	uint64_t broker, inst;
	uint32_t ppid; /* the provider's pid: its open files' peer */
	char name[WIRE_MAX_NAME + 1]; /* "" when reached by instance */
	uint64_t seq;
	uint32_t lacks; /* CHAN_LACKS_*: what its provider said it serves not */
	uint32_t unserved[4]; /* WIRE_IO requests its provider does not serve */
	/*
	 * Opens offering a parked file that went by the socket, up to
	 * CHAN_REOPENS: a channel without pipes makes them for such an open
	 * once it has seen that many, or once it has outlived its thread
	 * (set to CHAN_REOPENS then): the making costs two round trips and
	 * a memfd, more than the socket costs a first open.
	 */
	uint8_t reopens;
	bool busy, temp;
	struct chan *tnext;	     /* this thread's channels */
	struct chan *gnext, **gprev; /* every channel of the process */
};

int chan_by_name(const char *name, struct chan **out);
int chan_by_inst(uint64_t broker, uint64_t inst, struct chan **out);
void chan_adopt(int fd, uint64_t broker, const struct wire_chan *wc);
int chan_insts_of(uint32_t ppid, uint64_t *broker, uint64_t *insts, int max);
struct chan *chan_idle(uint64_t broker, uint64_t inst);
bool chan_lacks(uint64_t broker, uint64_t inst, uint32_t what);
void chan_set_lacks(uint64_t broker, uint64_t inst, uint32_t what);
void chan_drop(struct chan *ch);

/* A channel taken (chan_by_name, chan_by_inst, chan_idle) is done with. */
static inline void
chan_release(struct chan *ch)
{
	ch->busy = false;
	if (ch->temp)
		chan_drop(ch);
}

int chan_send(struct chan *ch, struct wire_req *req, const struct iovec *in,
	      int nin, int sendfd);
ssize_t chan_recv(struct chan *ch, struct wire_rep *rep, struct iovec *out,
		  int nout, int *fd, int flags);
int chan_call(struct chan *ch, struct wire_req *req, const struct iovec *in,
	      int nin, struct iovec *out, int nout, struct wire_rep *rep,
	      int *fd, int rflags, int sendfd);
int chan_post(struct chan *ch, struct wire_req *req);
void chan_revoke_all(void);
extern const struct st_fork_hook chan_fork_hook;

#endif

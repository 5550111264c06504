/*
 * chan.c - a client thread's channels (see chan.h).
 *
 * The thread list is only touched by its thread (and by the fork child
 * handler, when no other thread exists).  The process list exists so that
 * a forked child can close channels made by threads it does not have
 * (ST_CHANS).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "../proto/spin.h"
#include "bconn.h"
#include "chan.h"
#include "chan_pipe.h"
#include "chan_sock.h"
#include "creds.h"
#include "hidden.h"
#include "hot.h"
#include "real.h"
#include "state.h"

#define SPARE_MAX 8 /* channels of threads gone, kept for new threads */

static __thread struct chan *mine __attribute__((tls_model("initial-exec")));
static struct chan *all;
static struct chan *spare; /* by tnext, under ST_CHANS */
static int nspare;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void
unlink_thread(struct chan *ch)
{
	struct chan **pp;

	for (pp = &mine; *pp != NULL; pp = &(*pp)->tnext)
		if (*pp == ch) {
			*pp = ch->tnext;
			break;
		}
}

static void
unlink_global(struct chan *ch)
{
	st_lock(ST_CHANS);
	if (ch->gprev != NULL) {
		*ch->gprev = ch->gnext;
		if (ch->gnext != NULL)
			ch->gnext->gprev = ch->gprev;
		ch->gprev = NULL;
	}
	st_unlock(ST_CHANS);
}

COLD void
chan_drop(struct chan *ch)
{
	unlink_thread(ch);
	unlink_global(ch);
	hidden_close(ch->fd);
	hidden_close(ch->pw);
	hidden_close(ch->prr);
	hidden_close(ch->pr);
	hidden_close(ch->post);
	hidden_close(ch->postr);
	hidden_close(ch->ptimer);
	if (ch->shm != NULL)
		munmap((void *)ch->shm, WIRE_MAX_DATA);
	free(ch);
}

/*
 * Whether a channel of a thread that ends may serve another thread of
 * this process: idle (no request of its own under way, so no answer can
 * come late: a thread cancelled in a wait leaves its channel busy),
 * whole, made in this namespace.  A channel answers the
 * process, not the thread: the provider knows it by its owner's pid
 * (locks are the process's), and a request on its socket carries the
 * sending thread's credentials; only those by pipe carry the ones the
 * pipes were made with, as for the thread that made them.
 */
static bool
sparable(const struct chan *ch)
{
	return !ch->busy && !ch->temp && !ch->broken && !ch->revoked;
}

/*
 * A thread's channels go when the thread does; up to SPARE_MAX are kept
 * for the next thread's first call, which then costs what any call
 * costs, not a round trip to the broker and the making of a channel and
 * its pipes (a thread pool's, or a program making a thread per task).
 */
static void
thread_exit(void *unused)
{
	struct chan *ch;

	while ((ch = mine) != NULL) {
		st_lock(ST_CHANS);
		if (sparable(ch) && nspare < SPARE_MAX) {
			mine = ch->tnext;
			ch->reopens = CHAN_REOPENS; /* it lives on */
			ch->tnext = spare;
			__atomic_store_n(&spare, ch, __ATOMIC_RELAXED);
			nspare++;
			ch = NULL;
		}
		st_unlock(ST_CHANS);
		if (ch != NULL)
			chan_drop(ch);
	}
}

/*
 * A spare channel to name (or to broker's inst), taken, or NULL.  Spares
 * a new namespace revoked (chan_revoke_all) are dropped on the way.
 */
static struct chan *
spare_take(const char *name, uint64_t broker, uint64_t inst)
{
	struct chan **pp, *ch, *gone = NULL;

	/* A peek without the lock: at worst the broker is asked. */
	if (__atomic_load_n(&spare, __ATOMIC_RELAXED) == NULL)
		return NULL;
	st_lock(ST_CHANS);
	for (pp = &spare; (ch = *pp) != NULL;) {
		if (ch->revoked) {
			__atomic_store_n(pp, ch->tnext, __ATOMIC_RELAXED);
			nspare--;
			ch->tnext = gone;
			gone = ch;
			continue;
		}
		if (inst != 0
			? ch->inst == inst && ch->broker == broker
			: ch->name[0] != '\0' && strcmp(ch->name, name) == 0) {
			__atomic_store_n(pp, ch->tnext, __ATOMIC_RELAXED);
			nspare--;
			break;
		}
		pp = &ch->tnext;
	}
	st_unlock(ST_CHANS);
	while (gone != NULL) {
		struct chan *next = gone->tnext;

		chan_drop(gone);
		gone = next;
	}
	return ch;
}

static void
make_exit_key(void)
{
	pthread_key_create(&exit_key, thread_exit);
}

/*
 * A channel struct for fd (the broker's answer), in this thread's list and
 * the process's; busy as asked.  NULL (fd closed) when out of memory.
 */
static struct chan *
chan_new(int fd, uint64_t broker, const struct wire_chan *wc, const char *name,
	 bool temp, bool busy)
{
	struct chan *ch = calloc(1, sizeof(*ch));

	if (ch == NULL) {
		REAL(close)(fd);
		return NULL;
	}
	ch->fd = hidden_move(fd, chan_sock_relocate, ch);
	ch->pw = ch->prr = ch->pr = ch->post = ch->postr = ch->ptimer = -1;
	ch->broker = broker;
	ch->inst = wc->inst;
	ch->ppid = wc->pid;
	ch->temp = temp;
	ch->busy = busy;
	strcpy(ch->name, name);
	ch->tnext = mine;
	mine = ch;
	pthread_once(&exit_once, make_exit_key);
	pthread_setspecific(exit_key, ch);
	st_lock(ST_CHANS);
	ch->gnext = all;
	if (all != NULL)
		all->gprev = &ch->gnext;
	all = ch;
	ch->gprev = &all;
	st_unlock(ST_CHANS);
	return ch;
}

/* CONNECT's answer: one channel, its fd, to whom (wire.h). */
COLD static int
connect_chan(const char *name, uint64_t broker, uint64_t inst,
	     struct chan **out, bool temp)
{
	struct wire_ctl req, rep;
	struct wire_chan wc;
	int fd = -1, r;

	if ((*out = spare_take(name, broker, inst)) != NULL) {
		(*out)->busy = true;
		(*out)->temp = temp;
		(*out)->tnext = mine;
		mine = *out;
		pthread_once(&exit_once, make_exit_key);
		pthread_setspecific(exit_key, *out);
		return 0;
	}
	wire_ctl_init(&req, WIRE_CTL_CONNECT);
	req.inst = inst;
	r = bconn_call(&req, name, inst ? 0 : strlen(name), &rep, &wc,
		       sizeof(wc), &fd);
	if (r == 0 && (fd < 0 || wire_chans_check(&wc, rep.len, 1) != 1 ||
		       wc.err != 0 || wc.inst != rep.inst))
		r = -EPROTO;
	if (r == 0 && broker != 0 && rep.broker != broker)
		r = -EBADF; /* the fd belongs to another broker's world */
	if (r < 0) {
		if (fd >= 0)
			REAL(close)(fd);
		return r;
	}
	*out = chan_new(fd, rep.broker, &wc, inst ? "" : name, temp, true);
	return *out != NULL ? 0 : -ENOMEM;
}

/*
 * A channel SERVES handed over (wc says to whom): this thread's, idle,
 * unless it has one to that instance already.
 */
void
chan_adopt(int fd, uint64_t broker, const struct wire_chan *wc)
{
	struct chan *ch;

	for (ch = mine; ch != NULL; ch = ch->tnext)
		if (ch->inst == wc->inst && ch->broker == broker) {
			REAL(close)(fd);
			return;
		}
	chan_new(fd, broker, wc, "", false, false);
}

/* The instances this thread has channels to, served by process ppid. */
int
chan_insts_of(uint32_t ppid, uint64_t *broker, uint64_t *insts, int max)
{
	struct chan *ch, *c;
	int n = 0;

	for (ch = mine; ch != NULL && n < max; ch = ch->tnext) {
		if (ch->ppid != ppid || ppid == 0)
			continue;
		for (c = mine; c != ch; c = c->tnext) /* listed already */
			if (c->inst == ch->inst && c->broker == ch->broker)
				break;
		if (c != ch)
			continue;
		broker[n] = ch->broker;
		insts[n++] = ch->inst;
	}
	return n;
}

/*
 * A channel is busy while this thread has a request on it; a signal
 * handler that makes a call meanwhile gets a temporary one of its own.
 */
int
chan_by_name(const char *name, struct chan **out)
{
	struct chan *ch;
	bool temp = false;

	for (ch = mine; ch != NULL; ch = ch->tnext) {
		if (strcmp(ch->name, name) != 0 || ch->name[0] == '\0')
			continue;
		if (ch->busy) {
			temp = true;
			break;
		}
		ch->busy = true;
		*out = ch;
		return 0;
	}
	return connect_chan(name, 0, 0, out, temp);
}

/* This thread's idle channel to inst, taken (chan_release), or NULL. */
struct chan *
chan_idle(uint64_t broker, uint64_t inst)
{
	struct chan *ch;

	for (ch = mine; ch != NULL; ch = ch->tnext)
		if (ch->inst == inst && ch->broker == broker && !ch->busy) {
			ch->busy = true;
			return ch;
		}
	return NULL;
}

int
chan_by_inst(uint64_t broker, uint64_t inst, struct chan **out)
{
	struct chan *ch = chan_idle(broker, inst);
	bool temp = false;

	if (ch != NULL) {
		*out = ch;
		return 0;
	}
	for (ch = mine; ch != NULL; ch = ch->tnext)
		if (ch->inst == inst && ch->broker == broker)
			temp = true; /* all busy: a signal handler's call */
	return connect_chan("", broker, inst, out, temp);
}

/*
 * What a provider said it does not serve (CHAN_LACKS_*), remembered on
 * this thread's channels to it, so that a fallback costs one round trip
 * per channel, not one per call.
 */
bool
chan_lacks(uint64_t broker, uint64_t inst, uint32_t what)
{
	struct chan *ch;

	for (ch = mine; ch != NULL; ch = ch->tnext)
		if (ch->inst == inst && ch->broker == broker)
			return (ch->lacks & what) != 0;
	return false;
}

void
chan_set_lacks(uint64_t broker, uint64_t inst, uint32_t what)
{
	struct chan *ch;

	for (ch = mine; ch != NULL; ch = ch->tnext)
		if (ch->inst == inst && ch->broker == broker)
			ch->lacks |= what;
}

/* A transport found the channel unusable: it goes. */
static int
settle(struct chan *ch, int r)
{
	if (ch->broken)
		chan_drop(ch);
	return r;
}

/*
 * Send a request on the socket (poll.c's batches).  0, or -ENOTCONN (the
 * provider went away earlier) or a refusal's errno: the channel is gone.
 */
int
chan_send(struct chan *ch, struct wire_req *req, const struct iovec *in,
	  int nin, int sendfd)
{
	int r = chan_pipe_flush(ch);

	if (r < 0)
		return settle(ch, r);
	return settle(ch, chan_sock_send(ch, req, in, nin, sendfd));
}

/*
 * One answer on the socket into rep and out[] (its fd into *fd).  The
 * bytes received, -EAGAIN (with MSG_DONTWAIT), -EINTR, or -EIO; the
 * channel is left to the caller.
 */
ssize_t
chan_recv(struct chan *ch, struct wire_rep *rep, struct iovec *out, int nout,
	  int *fd, int flags)
{
	return chan_sock_recv(ch, rep, out, nout, fd, flags);
}

/*
 * A request with no answer (WIRE_OP_PARK): down the pipe if there is
 * one, else on the socket.  0, or -ENOTCONN (the channel is gone).
 */
int
chan_post(struct chan *ch, struct wire_req *req)
{
	if (ch->pipes <= 0)
		return chan_send(ch, req, NULL, 0, -1);
	return settle(ch, chan_pipe_post(ch, req));
}

/*
 * An optional request (a WIRE_IO row) its provider answered -ENOSYS is
 * not asked again on this channel: the caller does without it at once
 * (scheme.h "Optional requests").  A channel is one thread's, so its
 * first call of each kind pays the round trip that finds out.
 */
static bool
unserved(const struct chan *ch, uint32_t op)
{
	for (size_t i = 0; i < sizeof(ch->unserved) / sizeof(ch->unserved[0]);
	     i++)
		if (ch->unserved[i] == op)
			return true;
	return false;
}

COLD static void
unserved_add(struct chan *ch, uint32_t op)
{
	for (size_t i = 0; i < sizeof(ch->unserved) / sizeof(ch->unserved[0]);
	     i++)
		if (ch->unserved[i] == 0) {
			ch->unserved[i] = op;
			return;
		}
}

/*
 * One request and its answer, by the transport that takes it: the pipes
 * when the request's row allows and they exist or can be made now (the
 * upgrade, once per channel), else the socket.  On success the caller
 * still holds the channel (chan_release).  On failure it is gone:
 * -ENOTCONN if the request could not be sent (the provider went away
 * earlier: reconnect and retry), -EIO if the provider went away without
 * answering, -EINTR if a signal ended the wait.
 */
int
chan_call(struct chan *ch, struct wire_req *req, const struct iovec *in,
	  int nin, struct iovec *out, int nout, struct wire_rep *rep, int *fd,
	  int rflags, int sendfd)
{
	const struct wire_op *op = wire_op(req->op);
	bool pipe;
	int r;

	if (nin > CHAN_MAX_IOV || nout > CHAN_MAX_IOV) {
		chan_release(ch);
		return -EINVAL;
	}
	if (op != NULL && (op->flags & WIRE_IO) && unserved(ch, req->op)) {
		wire_rep_init(rep, req->seq);
		rep->result = (uint64_t)-ENOSYS;
		if (fd != NULL)
			*fd = -1;
		return 0;
	}
	pipe = chan_pipe_takes(ch, op, req, in, nin, out, nout, fd, sendfd);
	if (!pipe && req->op == SYS_OPEN && req->key != 0 &&
	    ch->reopens < CHAN_REOPENS)
		ch->reopens++;
	if (pipe && ch->pipes == 0 && (r = chan_pipe_upgrade(ch)) < 0)
		return settle(ch, r);
	if (pipe && ch->pipes > 0)
		r = chan_pipe_call(ch, req, in, nin, out, nout, rep, fd,
				   rflags);
	else if ((r = chan_pipe_flush(ch)) == 0)
		r = chan_sock_call(ch, req, in, nin, out, nout, rep, fd, rflags,
				   sendfd);
	if (r == 0 && op != NULL && (op->flags & WIRE_IO) &&
	    (int64_t)rep->result == -ENOSYS)
		unserved_add(ch, req->op);
	return settle(ch, r);
}

/*
 * A new namespace: every channel made in the old one is shut for sending,
 * so that nothing can ask a provider to open by name through it any more.
 * A request already sent still gets its answer; the next one finds the
 * channel closed and makes a new one, which the broker gives in the new
 * namespace.
 */
void
chan_revoke_all(void)
{
	struct chan *ch;

	st_lock(ST_CHANS);
	for (ch = all; ch != NULL; ch = ch->gnext) {
		ch->revoked = true; /* no open goes by their pipes either */
		shutdown(ch->fd, SHUT_WR);
	}
	st_unlock(ST_CHANS);
}

/* Every channel here is the parent's: close our copies. */
static void
fork_child(void)
{
	struct chan *ch;

	while ((ch = all) != NULL) {
		all = ch->gnext;
		hidden_close(ch->fd);
		hidden_close(ch->pw);
		hidden_close(ch->prr);
		hidden_close(ch->pr);
		hidden_close(ch->post);
		hidden_close(ch->postr);
		hidden_close(ch->ptimer);
		if (ch->shm != NULL)
			munmap((void *)ch->shm, WIRE_MAX_DATA);
		free(ch);
	}
	mine = NULL;
	spare = NULL; /* they were in `all` */
	nspare = 0;
}

const struct st_fork_hook chan_fork_hook = {ST_CHANS, NULL, NULL, fork_child};

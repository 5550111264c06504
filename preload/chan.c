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
#include "creds.h"
#include "hidden.h"
#include "real.h"
#include "state.h"

static __thread struct chan *mine __attribute__((tls_model("initial-exec")));
static struct chan *all;
static _Atomic uint64_t epoch; /* bumped by chan_revoke_all */
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

void
chan_drop(struct chan *ch)
{
	unlink_thread(ch);
	unlink_global(ch);
	hidden_close(ch->fd);
	hidden_close(ch->pw);
	hidden_close(ch->prr);
	hidden_close(ch->pr);
	if (ch->shm != NULL)
		munmap((void *)ch->shm, WIRE_MAX_DATA);
	free(ch);
}

/* A thread's channels go when the thread does. */
static void
thread_exit(void *unused)
{
	while (mine != NULL)
		chan_drop(mine);
}

static void
make_exit_key(void)
{
	pthread_key_create(&exit_key, thread_exit);
}

static void
relocate(void *ctx, int oldfd, int newfd)
{
	struct chan *ch = ctx;
	int *fds[] = {&ch->fd, &ch->pw, &ch->prr, &ch->pr};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] == oldfd)
			*fds[i] = newfd;
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
	ch->fd = hidden_move(fd, relocate, ch);
	ch->pw = ch->prr = ch->pr = -1;
	ch->epoch = atomic_load(&epoch);
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
static int
connect_chan(const char *name, uint64_t broker, uint64_t inst,
	     struct chan **out, bool temp)
{
	struct wire_ctl req, rep;
	struct wire_chan wc;
	int fd = -1, r;

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

void
chan_release(struct chan *ch)
{
	ch->busy = false;
	if (ch->temp)
		chan_drop(ch);
}

static void
cancelled(void *arg)
{
	chan_drop(arg); /* its answer would reach whoever asks next */
}

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
 * then dropped.
 */
int
chan_send(struct chan *ch, struct wire_req *req, const struct iovec *in,
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
		int r = refusal(ch);

		chan_drop(ch);
		return r;
	}
	return 0;
}

/* recvmsg is a cancellation point: a cancelled wait drops the channel. */
static ssize_t
recv_cancellable(struct chan *ch, struct iovec *iov, int niov, int *fd,
		 int flags)
{
	ssize_t n;

	pthread_cleanup_push(cancelled, ch);
	n = wire_recv(ch->fd, iov, niov, fd, NULL, flags);
	pthread_cleanup_pop(0);
	return n;
}

/*
 * One answer into rep and out[] (and its fd, if any, into *fd).  Returns
 * the bytes received, -EAGAIN (with MSG_DONTWAIT), -EINTR, or -EIO when
 * the provider went away or sent something unreadable.  The channel is
 * left to the caller.
 */
ssize_t
chan_recv(struct chan *ch, struct wire_rep *rep, struct iovec *out, int nout,
	  int *fd, int flags)
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
	n = recv_cancellable(ch, iov, niov, fd, flags);
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

/* Wait awake for fd to be readable, briefly and only if it pays (spin.h). */
static void
spin_for(int fd)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	uint64_t t0;

	if (!spin_worth())
		return;
	t0 = spin_now();
	while (REAL(poll)(&pfd, 1, 0) == 0 && spin_now() - t0 < SPIN_NS)
		spin_pause();
}

/*
 * The answer to req on the socket.  0, or -EINTR/-EIO with the channel
 * dropped (a late answer must not be taken for the next one's), or the
 * errno of the provider's refusal of the channel (a cap: EAGAIN).
 */
static int
sock_answer(struct chan *ch, const struct wire_req *req, struct wire_rep *rep,
	    struct iovec *out, int nout, int *fd, int rflags)
{
	ssize_t n;

	if (!(rflags & MSG_DONTWAIT))
		spin_for(ch->fd);
	n = chan_recv(ch, rep, out, nout, fd, rflags);
	if (n >= 0 && rep->status == WIRE_REFUSED && rep->seq == 0) {
		if (fd != NULL && *fd >= 0)
			REAL(close)(*fd);
		chan_drop(ch);
		return refused_errno(rep);
	}
	if (n >= 0 && rep->seq != req->seq) {
		if (fd != NULL && *fd >= 0)
			REAL(close)(*fd);
		n = -EIO;
	}
	if (n < 0) {
		chan_drop(ch);
		return n == -EINTR ? -EINTR : -EIO;
	}
	return 0;
}

/* One write of a request down the pipe; -ENOTCONN drops the channel. */
static int
pipe_send(struct chan *ch, const struct iovec *iov, int n, size_t len)
{
	int saved = errno;
	ssize_t w;

	do
		w = REAL(writev)(ch->pw, iov, n);
	while (w < 0 && errno == EINTR);
	errno = saved;
	if (w != (ssize_t)len) {
		chan_drop(ch);
		return -ENOTCONN;
	}
	return 0;
}

/*
 * After the pipes, a memfd for the answers' data: sealed so that it can
 * never shrink under the provider's writes, mapped read-only here.  Any
 * failure leaves the data in the pipe.  0, or -EIO/-EINTR when the
 * channel died (it is dropped).
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
		m = mmap(NULL, WIRE_MAX_DATA, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		REAL(close)(fd);
		return 0;
	}
	wire_req_init(&req, WIRE_OP_SHM, 0);
	r = chan_call(ch, &req, NULL, 0, NULL, 0, &rep, NULL, 0, fd);
	REAL(close)(fd);
	if (r == 0 && (int64_t)rep.result == 0) {
		ch->shm = m;
		return 0;
	}
	munmap(m, WIRE_MAX_DATA);
	return r;
}

/*
 * Make the channel's pipes: the request pipe's read end goes to the
 * provider, the answer carries the reply pipe's.  0, or -ENOTCONN/-EIO
 * when the channel died (it is dropped); a refusal only marks it.
 */
static int
make_pipes(struct chan *ch)
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
	r = chan_call(ch, &req, NULL, 0, NULL, 0, &rep, &rfd, MSG_CMSG_CLOEXEC,
		      pp[0]);
	if (r == 0 && (int64_t)rep.result == 0 && rfd >= 0) {
		int cap = REAL(fcntl)(rfd, F_GETPIPE_SZ);

		ch->pw = hidden_move(pp[1], relocate, ch);
		ch->prr = hidden_move(pp[0], relocate, ch);
		ch->pr = hidden_move(rfd, relocate, ch);
		ch->pcap = cap > 0 ? (size_t)cap : PIPE_BUF;
		ch->pipes = 1;
		return make_shm(ch);
	}
	REAL(close)(pp[0]);
	REAL(close)(pp[1]);
	if (rfd >= 0)
		REAL(close)(rfd);
	return r;
}

static size_t
iov_sum(const struct iovec *iov, int n)
{
	size_t t = 0;

	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* Whether an answer of up to `want` bytes of data can come by pipe. */
static bool
answer_fits(const struct chan *ch, size_t want)
{
	return sizeof(struct wire_rep) + want <= ch->pcap ||
	       (ch->shm != NULL && want <= WIRE_MAX_DATA);
}

/*
 * Whether a request goes by pipe: a READ or WRITE whole in each pipe, or
 * an open that offers a parked file (pool.h), usually answered without
 * an fd, made by a thread whose user and group are still those the
 * pipes carry (an open's are checked).
 */
static bool
by_pipe(const struct chan *ch, const struct wire_req *req,
	const struct iovec *in, int nin, const struct iovec *out, int nout,
	const int *fd, int sendfd)
{
	const struct wire_op *op = wire_op(req->op);

	if (op == NULL || !(op->flags & WIRE_BY_PIPE) || ch->pipes < 0 ||
	    sendfd >= 0 ||
	    sizeof(*req) + iov_sum(in, nin) > PIPE_BUF)
		return false;
	if (req->op == SYS_OPEN) /* and never on a revoked channel */
		return req->key != 0 && ch->pipes > 0 &&
		       ch->epoch == atomic_load(&epoch) &&
		       (uint32_t)geteuid() == ch->puid &&
		       (uint32_t)getegid() == ch->pgid;
	return fd == NULL &&
	       (ch->pipes == 0 || answer_fits(ch, iov_sum(out, nout)));
}

static ssize_t
readv_cancellable(struct chan *ch, struct iovec *iov, int n)
{
	ssize_t r;

	pthread_cleanup_push(cancelled, ch);
	r = REAL(readv)(ch->pr, iov, n);
	pthread_cleanup_pop(0);
	return r < 0 ? -errno : r;
}

/*
 * chan_call by pipe.  A request is one write of at most PIPE_BUF bytes,
 * so it arrives whole; its answer is one write the pipe has room for, but
 * is read to its end in case it comes in parts.
 */
static int
pipe_call(struct chan *ch, struct wire_req *req, const struct iovec *in,
	  int nin, struct iovec *out, int nout, struct wire_rep *rep, int *fd,
	  int rflags)
{
	struct iovec iov[1 + CHAN_MAX_IOV];
	size_t got = 0, want = sizeof(*rep);
	int saved = errno, i, k = 0, niov, r;
	ssize_t n;

	req->seq = ++ch->seq;
	req->len = (uint32_t)iov_sum(in, nin);
	iov[0].iov_base = req;
	iov[0].iov_len = sizeof(*req);
	for (i = 0; i < nin; i++)
		iov[1 + i] = in[i];
	if (pipe_send(ch, iov, 1 + nin, sizeof(*req) + req->len) < 0)
		return -ENOTCONN;
	iov[0].iov_base = rep;
	iov[0].iov_len = sizeof(*rep);
	for (i = 0; i < nout; i++)
		iov[1 + i] = out[i];
	niov = 1 + nout;
	spin_for(ch->pr);
	while (got < want) {
		n = readv_cancellable(ch, iov + k, niov - k);
		if (n == -EINTR && got == 0) {
			errno = saved;
			chan_drop(ch);
			return -EINTR;
		}
		if (n == -EINTR)
			continue; /* the rest is on its way */
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got >= sizeof(*rep) && want == sizeof(*rep))
			want += rep->len;
		for (; k < niov && (size_t)n >= iov[k].iov_len; k++)
			n -= (ssize_t)iov[k].iov_len;
		if (k < niov) {
			iov[k].iov_base = (char *)iov[k].iov_base + n;
			iov[k].iov_len -= (size_t)n;
		}
		if (k == niov)
			break;
	}
	errno = saved;
	if (got < sizeof(*rep) || wire_rep_check(rep, got) < 0 ||
	    rep->seq != req->seq) {
		chan_drop(ch);
		return -EIO;
	}
	if (rep->status == WIRE_RESEND && req->op == SYS_OPEN) {
		/* Not for the pipe (serve.c, pipe_open_ok): on the socket. */
		if ((r = chan_send(ch, req, in, nin, -1)) < 0)
			return r;
		return sock_answer(ch, req, rep, out, nout, fd, rflags);
	}
	if (rep->status == WIRE_IN_SHM) {
		if (ch->shm == NULL || (int64_t)rep->result < 0 ||
		    rep->result > iov_sum(out, nout) ||
		    rep->result > WIRE_MAX_DATA) {
			chan_drop(ch);
			return -EIO;
		}
		rep->len = (uint32_t)rep->result;
		rep->status = WIRE_OK;
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
		return sock_answer(ch, req, rep, out, nout, fd, rflags);
	return 0;
}

/*
 * A request with no answer (WIRE_OP_PARK): down the pipe if there is
 * one, else on the socket.  0, or -ENOTCONN (the channel is dropped).
 */
int
chan_post(struct chan *ch, struct wire_req *req)
{
	struct iovec iov = {req, sizeof(*req)};

	if (ch->pipes <= 0)
		return chan_send(ch, req, NULL, 0, -1);
	req->seq = ++ch->seq;
	req->len = 0;
	return pipe_send(ch, &iov, 1, sizeof(*req));
}

/*
 * One request and its answer.  On success the caller still holds the
 * channel (chan_release).  On failure it is gone: -ENOTCONN if the
 * request could not be sent (the provider went away earlier: reconnect
 * and retry), -EIO if the provider went away without answering, -EINTR
 * if a signal ended the wait.
 */
int
chan_call(struct chan *ch, struct wire_req *req, const struct iovec *in,
	  int nin, struct iovec *out, int nout, struct wire_rep *rep, int *fd,
	  int rflags, int sendfd)
{
	int r;

	if (nin > CHAN_MAX_IOV || nout > CHAN_MAX_IOV) {
		chan_release(ch);
		return -EINVAL;
	}
	/* The first READ or WRITE that could go by pipe makes the pipes. */
	if (ch->pipes == 0 &&
	    by_pipe(ch, req, in, nin, out, nout, fd, sendfd) &&
	    (r = make_pipes(ch)) < 0)
		return r;
	if (ch->pipes > 0 && by_pipe(ch, req, in, nin, out, nout, fd, sendfd))
		return pipe_call(ch, req, in, nin, out, nout, rep, fd, rflags);
	if ((r = chan_send(ch, req, in, nin, sendfd)) < 0)
		return r;
	return sock_answer(ch, req, rep, out, nout, fd, rflags);
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

	atomic_fetch_add(&epoch, 1); /* no open goes by their pipes either */
	st_lock(ST_CHANS);
	for (ch = all; ch != NULL; ch = ch->gnext)
		shutdown(ch->fd, SHUT_WR);
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
		if (ch->shm != NULL)
			munmap((void *)ch->shm, WIRE_MAX_DATA);
		free(ch);
	}
	mine = NULL;
}

const struct st_fork_hook chan_fork_hook = {ST_CHANS, NULL, NULL, fork_child};

/*
 * serve.c - the provider's end of the protocol (see serve.h).
 *
 * Sources.  Everything a provider waits on sits in one epoll set: client
 * channels, the provider end of every description socket, watched fds (the
 * broker registration) and an eventfd that is readable while packets we
 * made up ourselves are queued.  Epoll data carries a kind and a slot key,
 * never a pointer, so an event fetched by one thread for a source another
 * thread has since closed finds nothing and is skipped.
 *
 * Locking.  One mutex guards the whole struct; it is dropped around
 * epoll_wait() so that a provider may answer from one thread while another
 * blocks in read().  Nothing else here blocks: replies are sent with
 * MSG_DONTWAIT, and a client whose socket is full is cut off rather than
 * allowed to stall the provider.
 *
 * Order within one batch of events: channel requests first, then closed
 * descriptions, then watched fds.  A client's last request on a
 * description is therefore delivered before its SYS_CLOSE, and a watch
 * callback that stops the scheme runs when nothing else is in hand.
 *
 * Pipes.  A channel may add a request pipe, a reply pipe (WIRE_OP_PIPES)
 * and the client's memfd (WIRE_OP_SHM): READ, WRITE, PARK and opens that
 * offer a parked description come down the pipe, carry the credentials
 * the pipe came with, and are answered up the reply pipe; a READ's data
 * is written by the provider straight into the memfd.  An answer with an
 * fd goes on the socket (WIRE_FD_FOLLOWS down the pipe says so).  Since
 * whoever holds the pipe speaks with those credentials, an open that
 * does not take back a description parked on the same channel is sent
 * back to the socket (WIRE_RESEND).  The bytes move in pipe.c.
 *
 * Open files by their inode.  A description's client end has no name
 * (anyone could bind a name first); we keep the inode of that end, and a
 * process that got it by exec or SCM_RIGHTS shows it to us with a
 * WIRE_OP_ATTACH of key 0, whose answer says which description it is.
 *
 * Lifetimes.  A channel lives while its socket is open and while a request
 * from it is pending (the provider still holds pointers into its buffer,
 * or its memfd).  A description lives until the kernel tells us the last
 * client fd is gone, or until its client parks it (WIRE_OP_PARK: closed,
 * its socket kept for that process's next open); either way the provider
 * gets SYS_CLOSE exactly once.  A parked description answers nothing
 * until an open reuses it or its socket's end frees it.
 *
 * Caps.  Nothing a client sends makes us hold more than a bounded amount
 * for it.  A channel has at most CHAN_MAX_PENDING requests in hand; a
 * client (the kernel's pid on the request, so a client cannot pose as
 * another) has at most max_pending across its channels, and it and its
 * user (the kernel's uid) at most max_handles and max_handles_uid fds
 * held here: descriptions open, counting opens not yet answered (an open
 * is charged when it is asked, so a burst of them cannot overshoot), and
 * subscriptions.  A channel the broker made for a process is charged to
 * it and its user until it closes (max_chans, max_chans_uid); past that
 * it is refused as it arrives.  A refusal is answered at once and never
 * reaches the provider.  A request the provider keeps stays charged until
 * it answers, even after the client is gone: the provider's buffers are
 * what the charge stands for.  A client's WAITs and the POLLs waiting for
 * a post are held here, not by the provider: the channel's cap alone
 * bounds them.  The defaults are shares of our fd limit (caps_init).
 *
 * Interrupted reads.  A client whose read a signal ends (EINTR) drops its
 * channel, but the provider still holds the SYS_READ and answers it when
 * data comes, taking those bytes from its stream.  On Linux an
 * interrupted read takes nothing, so such bytes are not thrown away: they
 * are kept on the description as pushback, and the next SYS_READ on it
 * (from any channel) is answered from them here, without the provider;
 * while any are left the description polls readable.  The rule is only
 * "a SYS_READ answered with bytes after its channel died" (or was cut
 * off by that answer): a provider that answers file reads at once (memfs
 * does) never meets it, and one that does (a read blocked on a stream)
 * has moved its own position already, so the bytes are the stream's next
 * ones whatever the offset.  Pushback is bounded (PUSHBACK_MAX a
 * description; past it bytes are dropped, logged once a description) and
 * freed with the description.  Readers of other descriptions of the same
 * stream do not see it.
 *
 * Bad input.  A message that is not a whole, well-formed request (short,
 * oversized, a bad header) ends its channel; an fd passed with a request
 * that takes none is closed unread, extra fds are closed by wire_recv(),
 * and a client that does not read its replies is cut off: its socket is
 * closed at once, and the requests the provider still holds are freed
 * when it answers them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/tree.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "serve_impl.h"
#include "../spin.h"
#include "../sys.h"

#define MAX_EVENTS	 64
#define CHAN_MAX_PENDING 64
#define LOG_WINDOW	 60 /* seconds: refusal lines are counted per window */
#define LOG_LINES	 16 /* at most this many in one */
#define PUSHBACK_MAX	 (1024 * 1024) /* bytes kept for one description */
#define RECVBUF		 (sizeof(struct wire_req) + WIRE_MAX_DATA + 1)
#define SETFL_MASK	 (O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK)
#define STATUS_MASK	 (O_ACCMODE | SETFL_MASK | O_SYNC | O_DSYNC)

int
sv_handle_cmp(const struct desc *a, const struct desc *b)
{
	if (a->handle != b->handle)
		return a->handle < b->handle ? -1 : 1;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return 0;
}

RB_GENERATE(handles, desc, by_handle, sv_handle_cmp)

int
sv_ino_cmp(const struct desc *a, const struct desc *b)
{
	if (a->c_ino != b->c_ino)
		return a->c_ino < b->c_ino ? -1 : 1;
	return a->key < b->key ? -1 : a->key > b->key;
}

RB_GENERATE(inos, desc, by_ino, sv_ino_cmp)

int
sv_client_cmp(const struct client *a, const struct client *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

RB_GENERATE(clients, client, link, sv_client_cmp)

enum { CAP_HANDLES, CAP_PENDING, CAP_CHANS };

static uint64_t
evdata(int kind, uint64_t key)
{
	return (uint64_t)kind << SLOTS_KEY_BITS | key;
}

int
sv_ep_add(struct serve *s, int fd, int kind, uint64_t key)
{
	struct epoll_event ev = {.events = EPOLLIN,
				 .data.u64 = evdata(kind, key)};

	if (SYS(epoll_ctl)(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

/* Most calls have no fd to close (-1): errno is not even looked at. */
void
sv_xclose(int fd)
{
	int saved;

	if (fd < 0)
		return;
	saved = errno;
	SYS(close)(fd);
	errno = saved;
}

/* Close one of serve's own fds (hidden, when inside a program). */
void
sv_own_close(const struct serve *s, int fd)
{
	if (fd < 0)
		return;
	if (s->cfg.close_fd != NULL)
		s->cfg.close_fd(fd, s->cfg.ctx);
	else
		sv_xclose(fd);
}

int
sv_own_hide(const struct serve *s, int fd)
{
	if (fd < 0 || s->cfg.hide_fd == NULL)
		return fd;
	return s->cfg.hide_fd(fd, s->cfg.ctx);
}

/* Clients and their caps --------------------------------------------- */

static struct clients *
client_tree(struct serve *s, bool user)
{
	return user ? &s->users : &s->clients;
}

static struct client *
client_find(struct serve *s, bool user, uint32_t id)
{
	struct client find = {.id = id};

	return RB_FIND(clients, client_tree(s, user), &find);
}

static __attribute__((noinline)) struct client *
client_new(struct serve *s, bool user, uint32_t id)
{
	struct client *cl = calloc(1, sizeof(*cl));

	if (cl == NULL)
		return NULL;
	cl->id = id;
	cl->user = user;
	RB_INSERT(clients, client_tree(s, user), cl);
	return cl;
}

/* Found, nearly always: inline, since every request asks. */
static inline struct client *
client_get(struct serve *s, bool user, uint32_t id)
{
	struct client *cl = client_find(s, user, id);

	return cl != NULL ? cl : client_new(s, user, id);
}

/*
 * The process cr of a request on ch: nearly always the one the broker
 * made the channel for, which the channel holds (chan_charge), so no
 * search of the tree; NULL if it holds nothing here.
 */
static inline struct client *
req_client(struct serve *s, const struct sv_chan *ch,
	   const struct wire_creds *cr)
{
	if (ch != NULL && ch->cl != NULL && ch->cl->id == cr->pid)
		return ch->cl;
	return client_find(s, false, cr->pid);
}

/* A client holding nothing is forgotten (and its log lines with it). */
static void
client_put(struct serve *s, struct client *cl)
{
	if (cl == NULL || cl->handles > 0 || cl->pending > 0 || cl->chans > 0)
		return;
	RB_REMOVE(clients, client_tree(s, cl->user), cl);
	free(cl);
}

/* At most LOG_LINES a minute in all: a flood from many pids is one too. */
static bool
log_budget(struct serve *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - s->log_window >= LOG_WINDOW) {
		s->log_window = now.tv_sec;
		s->log_lines = 0;
	}
	if (s->log_lines >= LOG_LINES) {
		s->log_quiet++;
		return false;
	}
	s->log_lines++;
	return true;
}

static uint32_t
cap_of(const struct serve *s, bool user, int kind)
{
	switch (kind) {
	case CAP_HANDLES:
		return user ? s->max_handles_uid : s->max_handles;
	case CAP_CHANS:
		return user ? s->max_chans_uid : s->max_chans;
	default:
		return s->max_pending;
	}
}

/*
 * A refusal is said once per client and kind (within the budget), with
 * how many were left out since the last line.
 */
static void
cap_log(struct serve *s, struct client *cl, int kind)
{
	static const char *const what[] = {"open-handle", "outstanding-request",
					   "channel"};
	char line[256], more[64] = "";
	int n, saved = errno;

	if (cl->warned & (1u << kind))
		return;
	cl->warned |= 1u << kind;
	if (!log_budget(s))
		return;
	if (s->log_quiet > 0)
		snprintf(more, sizeof(more), " (and %llu more, not logged)",
			 (unsigned long long)s->log_quiet);
	n = snprintf(line, sizeof(line),
		     "scheme %s: %s %u hit the %s%s cap (%u): %s%s\n", s->name,
		     cl->user ? "uid" : "pid", cl->id,
		     cl->user ? "per-uid " : "", what[kind],
		     cap_of(s, cl->user, kind),
		     kind == CAP_HANDLES ? "EMFILE" : "EAGAIN", more);
	s->log_quiet = 0;
	if (n > 0 && (size_t)n < sizeof(line) &&
	    SYS(write)(2, line, (size_t)n) < 0)
		s->log_quiet++; /* said with the next line, if any */
	errno = saved;
}

/* Whether cl may take one more of kind; a refusal is logged. */
static bool
under_cap(struct serve *s, struct client *cl, int kind)
{
	uint32_t have;

	if (cl == NULL)
		return true;
	have = kind == CAP_HANDLES ? cl->handles
	       : kind == CAP_CHANS ? cl->chans
				   : cl->pending;
	if (have < cap_of(s, cl->user, kind))
		return true;
	cap_log(s, cl, kind);
	return false;
}

/*
 * The client's caps: EAGAIN at its outstanding cap, EMFILE for what
 * would hold one more fd (an open, a subscription) at its own or its
 * user's cap.
 */
static int
client_admit(struct serve *s, const struct sv_chan *ch,
	     const struct wire_op *op, const struct wire_creds *cr)
{
	struct client *cl = req_client(s, ch, cr);

	if (!under_cap(s, cl, CAP_PENDING))
		return -EAGAIN;
	if (((op->flags & WIRE_OPENS) || op->op == WIRE_OP_SUBSCRIBE ||
	     op->op == WIRE_OP_AT) &&
	    (!under_cap(s, cl, CAP_HANDLES) ||
	     !under_cap(s, client_find(s, true, cr->uid), CAP_HANDLES)))
		return -EMFILE;
	return 0;
}

/* One more fd held for the client cr and its user (or -ENOMEM). */
int
sv_charge_handle(struct serve *s, const struct wire_creds *cr,
		 struct client **cl, struct client **ucl)
{
	*cl = client_get(s, false, cr->pid);
	*ucl = *cl != NULL ? client_get(s, true, cr->uid) : NULL;
	if (*ucl == NULL) {
		client_put(s, *cl);
		*cl = NULL;
		return -ENOMEM;
	}
	(*cl)->handles++;
	(*ucl)->handles++;
	return 0;
}

void
sv_uncharge_handle(struct serve *s, struct client **cl, struct client **ucl)
{
	if (*cl != NULL) {
		(*cl)->handles--;
		client_put(s, *cl);
	}
	if (*ucl != NULL) {
		(*ucl)->handles--;
		client_put(s, *ucl);
	}
	*cl = *ucl = NULL;
}

/* Locks --------------------------------------------------------------- */

/*
 * fcntl, OFD and flock locks of the scheme's files, kept here (locks.c)
 * by each file's identity, which the provider's SYS_FSTAT gives once per
 * description.  The owners are the serving code's to say: the pid the
 * kernel vouches for on the request (POSIX), or the description it names
 * (OFD, flock).  A lock request that must wait is kept by the table
 * with a struct lkwait, which holds its channel as a pending request
 * does; the channel's end, or its WIRE_OP_CANCEL, withdraws it.
 */
_Static_assert((int)WIRE_LK_POSIX == (int)LK_POSIX &&
		   (int)WIRE_LK_OFD == (int)LK_OFD &&
		   (int)WIRE_LK_FLOCK == (int)LK_FLOCK && WIRE_LK_EOF == LK_EOF,
	       "wire.h and locks.h number lock kinds alike");

/*
 * The owner a provider that keeps the locks is told (scheme.h "Locks"):
 * the process, or the description, marked so that the two never meet.
 */
#define LOCK_DESC_OWNER (1ull << 63)

static uint64_t
lock_owner(uint64_t dkey, uint8_t kind, uint32_t pid)
{
	return kind == WIRE_LK_POSIX ? pid : LOCK_DESC_OWNER | dkey;
}

struct lkwait {
	struct sv_chan *ch;
	uint64_t seq;
	enum sv_via via;
	uint32_t pid; /* a POSIX owner: watched once granted; else 0 */
};

static void plock_release_all(struct serve *s, uint64_t owner, uint8_t kind,
			      const struct wire_creds *cr);
static void plock_cancel(struct serve *s, const struct sv_chan *ch);

/* A process's POSIX locks go, wherever they are kept. */
static void
owner_ended(struct serve *s, uint32_t pid)
{
	struct wire_creds cr = {.pid = pid};

	if (s->lock_by == LOCKS_PROVIDER)
		plock_release_all(s, pid, SCHEME_LOCK_POSIX, &cr);
	else if (s->locks != NULL)
		lk_release_all(s->locks, LK_POSIX, pid);
}

/* A process holding POSIX locks, watched by a pidfd (SRC_PID). */
struct lkpid {
	uint32_t pid;
	int fd;
	uint64_t key;
};

static struct lkpid *
pid_find(const struct serve *s, uint32_t pid)
{
	for (uint32_t i = 0; i < s->pids.used; i++) {
		struct lkpid *lp = s->pids.obj[i];

		if (lp != NULL && lp->pid == pid)
			return lp;
	}
	return NULL;
}

/*
 * A process that took a POSIX lock is watched until it ends (exits, is
 * killed, execs nothing away: its locks survive exec, as Linux's), and
 * then its locks go, as the kernel drops them.  One that has ended
 * already loses what it was just given.  Where pidfds are refused (a
 * provider in a namespace sandbox), the end of the process's last
 * channel stands for its own (locks_chan_end).
 */
static void
pid_watch(struct serve *s, uint32_t pid)
{
	struct lkpid *lp;
	int fd, saved = errno;

	if (pid_find(s, pid) != NULL)
		return;
	fd = SYS(pidfd_open)((pid_t)pid, 0);
	if (fd < 0 && errno == ESRCH)
		owner_ended(s, pid);
	else if (fd < 0)
		s->lock_nopidfd = true;
	errno = saved;
	if (fd < 0)
		return;
	fd = sv_own_hide(s, fd);
	lp = calloc(1, sizeof(*lp));
	if (lp == NULL || (lp->key = slots_put(&s->pids, lp)) == 0 ||
	    sv_ep_add(s, fd, SRC_PID, lp->key) < 0) {
		if (lp != NULL)
			slots_del(&s->pids, lp->key);
		free(lp);
		sv_own_close(s, fd);
		return;
	}
	lp->pid = pid;
	lp->fd = fd;
}

static void
pid_unwatch(struct serve *s, struct lkpid *lp)
{
	slots_del(&s->pids, lp->key);
	sv_own_close(s, lp->fd);
	free(lp);
}

/* The process ended: its POSIX locks go, and waiters behind them move. */
static void
pid_gone(struct serve *s, struct lkpid *lp)
{
	uint32_t pid = lp->pid;

	pid_unwatch(s, lp);
	owner_ended(s, pid);
}

static struct lkwait *
lkwait_new(struct sv_chan *ch, uint64_t seq, enum sv_via via, uint32_t pid)
{
	struct lkwait *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->ch = ch;
	ch->refs++;
	ch->pending++;
	w->seq = seq;
	w->via = via;
	w->pid = pid;
	return w;
}

static void
lkwait_free(void *cookie)
{
	struct lkwait *w = cookie;

	w->ch->pending--;
	sv_chan_put(w->ch);
	free(w);
}

static bool
lkwait_of(void *cookie, void *ch)
{
	return ((struct lkwait *)cookie)->ch == ch;
}

/* A kept request is answered (locks.c calls this, after settling). */
static void
lk_granted(void *ctx, void *cookie, int res)
{
	struct serve *s = ctx;
	struct lkwait *w = cookie;

	if (res == 0 && w->pid != 0)
		pid_watch(s, w->pid);
	sv_reply_err(s, w->ch, w->via, w->seq, res, WIRE_OK);
	lkwait_free(w);
}

static void locks_desc_end(struct serve *s, struct desc *d);

/*
 * Whether the owner of a lock in the way has ended without our hearing
 * yet: its process exited (its pidfd is readable) or the last fd of its
 * description closed (its socket hung up).  The kernel closes a dying
 * process's fds and marks it exited before its parent's wait returns,
 * and a program may rely on that (a parent locks what its child held):
 * so the end is taken now, not when its event comes round.
 */
static bool
holder_gone(struct serve *s, const struct lk_owner *o)
{
	struct pollfd pfd = {.events = POLLIN | POLLRDHUP};
	struct lkpid *lp = NULL;
	struct desc *d = NULL;

	if (o->kind == LK_POSIX && (lp = pid_find(s, (uint32_t)o->id)) != NULL)
		pfd.fd = lp->fd;
	else if (o->kind != LK_POSIX &&
		 (d = slots_get(&s->descs, o->id)) != NULL && !d->parked)
		pfd.fd = d->fd;
	else
		return false;
	if (SYS(poll)(&pfd, 1, 0) != 1 ||
	    (lp == NULL && !(pfd.revents & (POLLHUP | POLLRDHUP | POLLERR))))
		return false;
	if (lp != NULL)
		pid_gone(s, lp);
	else
		locks_desc_end(s, d);
	return true;
}

/* lk_do, after letting go of what ended holders still held in the way. */
static int
lock_settled(struct serve *s, struct desc *d, const struct lk_req *q,
	     struct lkwait *w, struct lk_found *found)
{
	int r = 0;

	for (int i = 0; i < 8; i++) {
		r = lk_do(s->locks, &d->fid, q, w, found);
		if (r == LK_WAITING)
			holder_gone(s, &found->o); /* its release grants */
		if ((r != -EAGAIN && (r != 0 || q->op != LK_GET ||
				      found->type == F_UNLCK)) ||
		    !holder_gone(s, &found->o))
			break;
	}
	return r;
}

/* fcntl(2): a read lock needs a file open for reading, a write lock one
 * open for writing (flock asks neither). */
static int
lock_access(const struct desc *d, const struct wire_lock *wl)
{
	uint32_t acc = d->flags & O_ACCMODE;

	if (wl->kind == WIRE_LK_FLOCK ||
	    (wl->cmd != WIRE_LK_SET && wl->cmd != WIRE_LK_SETW))
		return 0;
	if ((wl->type == F_RDLCK && acc == O_WRONLY) ||
	    (wl->type == F_WRLCK && acc == O_RDONLY))
		return -EBADF;
	return 0;
}

/* A lock request's answer: r, and for a GET the lock found (ans). */
static void
lock_reply(struct serve *s, struct sv_chan *ch, enum sv_via via, uint64_t seq,
	   const struct desc *d, int r, const struct wire_lock *ans)
{
	struct wire_rep rep;

	wire_rep_init(&rep, seq);
	rep.result = (uint64_t)(int64_t)r;
	if (d != NULL) {
		rep.gen = d->gen;
		rep.dflags = d->flags;
	}
	if (r < 0 || ans->cmd != WIRE_LK_GET)
		sv_reply(s, ch, via, &rep, NULL, 0, -1);
	else
		sv_reply(s, ch, via, &rep, ans, sizeof(*ans), -1);
}

/*
 * A lock request on d, whose identity is known: answered now, or kept.
 * A client gone meanwhile is given nothing (it saw EINTR or died).
 */
static void
lock_run(struct serve *s, struct sv_chan *ch, enum sv_via via, uint64_t seq,
	 struct desc *d, const struct wire_lock *wl, uint32_t pid)
{
	bool posix = wl->kind == WIRE_LK_POSIX;
	struct lk_req q = {.type = wl->type, .start = wl->start, .end = wl->end};
	struct lk_found found = {.type = F_UNLCK};
	struct wire_lock ans = *wl;
	struct lkwait *w = NULL;
	int r;

	if (ch == NULL || ch->dead)
		return;
	q.op = wl->cmd == WIRE_LK_GET	 ? LK_GET
	       : wl->cmd == WIRE_LK_SET	 ? LK_SET
	       : wl->cmd == WIRE_LK_SETW ? LK_SETW
					 : 0;
	q.o.kind = wl->kind;
	q.o.id = posix ? pid : d->key;
	q.o.pid = pid;
	r = lock_access(d, wl);
	if (wl->cmd == WIRE_LK_CLOSE) {
		lk_release(s->locks, &d->fid, LK_POSIX, pid);
	} else if (r < 0) {
		/* refused as it is */
	} else if (q.op == LK_SETW &&
		   (w = lkwait_new(ch, seq, via, posix ? pid : 0)) == NULL) {
		r = -ENOMEM;
	} else if ((r = lock_settled(s, d, &q, w, &found)) == LK_WAITING) {
		return;
	}
	if (w != NULL)
		lkwait_free(w);
	if (r == 0 && posix && q.op != LK_GET && q.type != F_UNLCK)
		pid_watch(s, pid);
	ans.type = found.type;
	ans.start = found.start;
	ans.end = found.end;
	ans.pid = found.pid;
	lock_reply(s, ch, via, seq, d, r, &ans);
}

/* The description's file ended: its OFD and flock locks go. */
static void
locks_desc_end(struct serve *s, struct desc *d)
{
	if (d->plocked && s->lock_by == LOCKS_PROVIDER)
		plock_release_all(s, lock_owner(d->key, WIRE_LK_OFD, 0),
				  SCHEME_LOCK_OFD, &d->cr);
	d->plocked = false;
	if (d->fid_known && s->locks != NULL) {
		lk_release(s->locks, &d->fid, LK_OFD, d->key);
		lk_release(s->locks, &d->fid, LK_FLOCK, d->key);
	}
	d->fid_known = false; /* a parked one's next file is another */
}

/*
 * A channel ended: its waits are withdrawn.  Without a pidfd watching
 * its owner, the owner's last channel stands for the process, if it
 * asked for POSIX locks (a wait withdrawn may have been granted on the
 * way: this releases that too); others have none to release (every
 * process reading a file used to be told so as it went).
 */
static void
locks_chan_end(struct serve *s, struct sv_chan *ch)
{
	bool last = ch->owned && ch->cl != NULL && ch->cl->chans == 1 &&
		    ch->cl->locks && pid_find(s, ch->owner) == NULL;

	if (s->lock_by == LOCKS_PROVIDER) {
		plock_cancel(s, ch);
		if (last && s->lock_nopidfd) /* else a pidfd tells */
			owner_ended(s, ch->owner);
		return;
	}
	if (s->locks == NULL)
		return;
	lk_cancel(s->locks, lkwait_of, ch, lkwait_free);
	if (last)
		lk_release_all(s->locks, LK_POSIX, ch->owner);
}

/* Channels ------------------------------------------------------------ */

void
sv_chan_put(struct sv_chan *ch)
{
	if (--ch->refs > 0)
		return;
	if (ch->shm != NULL)
		munmap(ch->shm, WIRE_MAX_DATA);
	free(ch->buf);
	free(ch->pq);
	free(ch);
}

/* Its fds are closed: the owner and its user may have another. */
static void
chan_uncharge(struct serve *s, struct sv_chan *ch)
{
	struct client **c[] = {&ch->cl, &ch->ucl};

	for (size_t i = 0; i < 2; i++)
		if (*c[i] != NULL) {
			(*c[i])->chans--;
			client_put(s, *c[i]);
			*c[i] = NULL;
		}
}

/*
 * Serve's own ends of the channel's request pipe (Direct reads, below)
 * closed; mark: -1 (made again if wanted) or -2 (never on this channel).
 */
static void
direct_close(struct serve *s, struct sv_chan *ch, int mark)
{
	sv_own_close(s, ch->dr);
	sv_own_close(s, ch->dw);
	ch->dr = ch->dw = mark;
}

static void
chan_kill(struct serve *s, struct sv_chan *ch)
{
	if (ch->dead)
		return;
	ch->dead = true;
	sv_own_close(s, ch->fd); /* also leaves the epoll set */
	sv_own_close(s, ch->pr);
	sv_own_close(s, ch->pw);
	sv_own_close(s, ch->prr);
	sv_own_close(s, ch->post);
	sv_own_close(s, ch->ptimer);
	ch->fd = ch->pr = ch->pw = ch->prr = ch->post = ch->ptimer = -1;
	if (s->direct == ch) { /* its reader ends the read, and closes them */
		s->w.rung = true;
		sv_pipe_ring(ch);
	} else {
		direct_close(s, ch, -1);
	}
	locks_chan_end(s, ch);
	chan_uncharge(s, ch);
	slots_del(&s->chans, ch->key);
	TAILQ_REMOVE(&s->chanlist, ch, link);
	if (ch->queued) {
		TAILQ_REMOVE(&s->queued, ch, qlink);
		ch->queued = false;
	}
	sv_waiters_drop(s, ch, 0);
	sv_chan_put(ch);
}

/*
 * An answer, by the transport its request came by: the socket, or the
 * reply pipe (pipe.c; an fd, which no pipe carries, then follows on the
 * socket).
 */
void
sv_reply(struct serve *s, struct sv_chan *ch, enum sv_via via,
	 struct wire_rep *rep, const void *data, size_t len, int fd)
{
	int r;

	if (ch == NULL || ch->dead)
		return;
	rep->len = (uint32_t)len;
	if (via == SV_PIPE) {
		if ((r = sv_pipe_send(ch, rep, data, len, fd)) < 0)
			chan_kill(s, ch);
		if (r != SV_PIPE_FD_FOLLOWS)
			return;
	}
	if (wire_send(ch->fd, rep, sizeof(*rep), data, len, fd, NULL,
		      MSG_DONTWAIT) < 0)
		chan_kill(s, ch); /* gone, or not reading its replies */
}

void
sv_reply_err(struct serve *s, struct sv_chan *ch, enum sv_via via, uint64_t seq,
	     int64_t err, uint32_t status)
{
	struct wire_rep rep;

	wire_rep_init(&rep, seq);
	rep.result = (uint64_t)err;
	rep.status = status;
	sv_reply(s, ch, via, &rep, NULL, 0, -1);
}

/*
 * Charge a new channel to its owner and the owner's user; over a cap it
 * is refused: one answer saying so (the client sees EAGAIN, not a hang
 * and not EIO) and its fd closed at once.
 */
static int
chan_charge(struct serve *s, struct sv_chan *ch,
	    const struct serve_chan_info *ci)
{
	struct client *cl = client_get(s, false, ci->pid);
	struct client *ucl = cl != NULL ? client_get(s, true, ci->uid) : NULL;
	struct wire_rep rep;

	if (ucl == NULL || !under_cap(s, cl, CAP_CHANS) ||
	    !under_cap(s, ucl, CAP_CHANS)) {
		client_put(s, cl);
		client_put(s, ucl);
		wire_rep_init(&rep, 0);
		rep.status = WIRE_REFUSED;
		rep.result =
		    (uint64_t)(int64_t)(ucl == NULL ? -ENOMEM : -EAGAIN);
		wire_send(ch->fd, &rep, sizeof(rep), NULL, 0, -1, NULL,
			  MSG_DONTWAIT);
		return ucl == NULL ? -ENOMEM : -EAGAIN;
	}
	ch->cl = cl;
	ch->ucl = ucl;
	cl->chans++;
	ucl->chans++;
	return 0;
}

/*
 * A client's channel; with SERVE_CHAN_NOPATHS, a keyed-only one.  ci says
 * whom the broker made it for (NULL: nobody we know, as in unit tests: no
 * caps, no epoch).  fd is ours either way.
 */
static int
chan_add(struct serve *s, int fd, uint32_t flags,
	 const struct serve_chan_info *ci)
{
	struct sv_chan *ch = NULL;
	int one = 1, r;

	r = (flags & ~SERVE_CHAN_NOPATHS) != 0 ? -EINVAL : 0;
	if (r == 0 && (ch = calloc(1, sizeof(*ch))) == NULL)
		r = -ENOMEM;
	if (r < 0) {
		sv_own_close(s, fd); /* ours either way, as below */
		return r;
	}
	sv_lock(&s->lock);
	ch->fd = fd;
	ch->pr = ch->pw = ch->prr = ch->post = ch->ptimer = -1;
	ch->dr = ch->dw = -1;
	ch->flags = flags;
	ch->refs = 1;
	if (ci != NULL) {
		ch->owned = true;
		ch->owner = ci->pid;
		ch->epoch = ci->epoch;
		r = chan_charge(s, ch, ci);
	}
	ch->key = r == 0 ? slots_put(&s->chans, ch) : 0;
	if (r == 0 && ch->key == 0)
		r = -ENOMEM;
	if (r == 0 &&
	    SYS(setsockopt)(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		r = -errno;
	if (r == 0)
		r = sv_ep_add(s, fd, SRC_CHAN, ch->key);
	if (r < 0) {
		chan_uncharge(s, ch);
		slots_del(&s->chans, ch->key);
		free(ch);
		sv_own_close(s, fd);
	} else {
		wire_setsockbuf(fd);
		TAILQ_INSERT_TAIL(&s->chanlist, ch, link);
	}
	sv_unlock(&s->lock);
	return r;
}

/*
 * A tracer's socket (wire.h "Tracing"): from now on a record of each
 * request answered goes down it.  0, or -EMFILE (fd closed) past
 * WIRE_TRACE_PER_SCHEME tracers.
 */
int
serve_add_trace(struct serve *s, int fd)
{
	int r;

	sv_lock(&s->lock);
	fd = sv_own_hide(s, fd);
	/* Watched: readable means it went away (trace.c sv_trace_gone). */
	if ((r = sv_ep_add(s, fd, SRC_TRACE, (uint64_t)fd)) < 0 ||
	    (r = sv_trace_add(s, fd)) < 0)
		sv_own_close(s, fd);
	sv_unlock(&s->lock);
	return r;
}

int
serve_add_chan(struct serve *s, int fd, uint32_t flags)
{
	return chan_add(s, fd, flags, NULL);
}

int
serve_add_chan_for(struct serve *s, int fd, const struct serve_chan_info *ci)
{
	return chan_add(s, fd, ci->flags, ci);
}

/* Descriptions -------------------------------------------------------- */

static bool
desc_attached(const struct desc *d, const struct sv_chan *ch)
{
	if (d->owner == ch->key)
		return true;
	for (uint32_t i = 0; i < d->natt; i++)
		if (d->att[i] == ch->key)
			return true;
	return false;
}

/* Forget channels that have closed, so that thread churn cannot grow it. */
static void
att_compact(struct serve *s, struct desc *d)
{
	uint32_t i, j = 0;

	for (i = 0; i < d->natt; i++)
		if (slots_get(&s->chans, d->att[i]) != NULL)
			d->att[j++] = d->att[i];
	d->natt = j;
}

static int
att_add(struct serve *s, struct desc *d, struct sv_chan *ch)
{
	uint64_t *n;

	if (desc_attached(d, ch))
		return 0;
	if (d->natt == d->catt)
		att_compact(s, d);
	if (d->natt == d->catt) {
		n = reallocarray(d->att, d->catt ? d->catt * 2 : 2, sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		d->att = n;
		d->catt = d->catt ? d->catt * 2 : 2;
	}
	d->att[d->natt++] = ch->key;
	return 0;
}

/*
 * The end of d's file, for freeing d or parking it: its waiters, its
 * subscribers (they see the end), its handle, its charge, its pushback.
 */
static void
desc_end_file(struct serve *s, struct desc *d)
{
	sv_waiters_drop(s, NULL, d->key);
	sv_subs_free(s, d);
	locks_desc_end(s, d);
	if (!d->parked)
		RB_REMOVE(handles, &s->handles, d);
	sv_uncharge_handle(s, &d->cl, &d->ucl);
	free(d->pb);
	d->pb = NULL;
	d->pb_off = d->pb_len = 0;
}

static void
desc_free(struct serve *s, struct desc *d)
{
	desc_end_file(s, d);
	RB_REMOVE(inos, &s->inos, d);
	slots_del(&s->descs, d->key);
	sv_own_close(s, d->fd);
	free(d->att);
	free(d);
}

/*
 * A new description: a socket pair whose client end goes to the client;
 * our end tells us when the last copy of theirs closes.  The client end
 * has no name (anyone could take a name first): a process that did not
 * open it shows it to us (WIRE_OP_ATTACH) and we know it by its inode.
 */
static struct desc *
desc_new(struct serve *s, const struct pend *p, uint64_t handle, int *cfd,
	 int *err)
{
	struct stat st;
	struct desc *d;
	int sv[2], r;

	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	if (SYS(socketpair)(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) <
	    0) {
		*err = -errno;
		free(d);
		return NULL;
	}
	d->fd = sv_own_hide(s, sv[1]);
	d->key = slots_put(&s->descs, d);
	r = d->key ? 0 : -ENOMEM;
	if (r == 0 && SYS(fstat)(sv[0], &st) < 0)
		r = -errno;
	if (r == 0)
		r = sv_ep_add(s, d->fd, SRC_DESC, d->key);
	if (r < 0) {
		slots_del(&s->descs, d->key);
		sv_xclose(sv[0]);
		sv_own_close(s, d->fd);
		free(d);
		*err = r;
		return NULL;
	}
	d->c_ino = st.st_ino;
	RB_INSERT(inos, &s->inos, d);
	TAILQ_INIT(&d->subs);
	d->handle = handle;
	d->flags = p->oflags & STATUS_MASK;
	d->owner = p->ch != NULL ? p->ch->key : 0;
	d->cr = p->cr;
	RB_INSERT(handles, &s->handles, d);
	*cfd = sv[0];
	return d;
}

/* A packet made up here goes at the provider's next read. */
static void
synth_push(struct serve *s, struct synth *y)
{
	uint64_t one = 1;

	TAILQ_INSERT_TAIL(&s->synths, y, link);
	if (!s->kicked && SYS(write)(s->kick, &one, sizeof(one)) == sizeof(one))
		s->kicked = true;
}

/* Packets we make up ourselves (a close for an open nobody took). */
static void
synth_close(struct serve *s, uint64_t handle, const struct wire_creds *cr)
{
	struct synth *y = calloc(1, sizeof(*y));

	if (y == NULL)
		return; /* the provider keeps a handle; nothing else breaks */
	y->pkt.a = SYS_CLOSE;
	y->pkt.b = handle;
	y->pkt.pid = cr->pid;
	y->pkt.uid = cr->uid;
	y->pkt.gid = cr->gid;
	synth_push(s, y);
}

/* Pending requests ---------------------------------------------------- */

/*
 * A request's record.  The last one freed is kept for the next (a
 * provider with one client frees one a request, and makes the next at
 * once): a malloc and a free fewer per request.  Not in a sanitizer's
 * build, whose use-after-free checks must see every record go.
 */
#if defined(__SANITIZE_ADDRESS__)
#define PEND_KEEP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PEND_KEEP 0
#endif
#endif
#ifndef PEND_KEEP
#define PEND_KEEP 1
#endif

struct pend *
sv_pend_new(struct serve *s, struct sv_chan *ch, const struct wire_op *op)
{
	struct pend *p = s->spare;

	if (p != NULL) {
		s->spare = NULL;
		memset(p, 0, sizeof(*p));
	} else if ((p = calloc(1, sizeof(*p))) == NULL) {
		return NULL;
	}
	p->id = slots_put(&s->pends, p);
	if (p->id == 0) {
		free(p);
		return NULL;
	}
	p->op = op;
	if (ch != NULL) {
		p->ch = ch;
		ch->refs++;
		ch->pending++;
	}
	return p;
}

static void pend_free(struct serve *s, struct pend *p);

/*
 * A client's request, charged to it until answered (or refused: NULL).
 * Inline: every request to the provider comes this way.
 */
static inline struct pend *
pend_charged(struct serve *s, struct sv_chan *ch, const struct wire_op *op,
	     const struct wire_creds *cr)
{
	struct client *cl = req_client(s, ch, cr);
	struct pend *p;

	if (cl == NULL && (cl = client_new(s, false, cr->pid)) == NULL)
		return NULL;
	if ((p = sv_pend_new(s, ch, op)) == NULL) {
		client_put(s, cl);
		return NULL;
	}
	p->cl = cl;
	cl->pending++;
	if (((op->flags & WIRE_OPENS) || op->op == WIRE_OP_AT) &&
	    sv_charge_handle(s, cr, &p->hcl, &p->ucl) < 0) {
		pend_free(s, p);
		return NULL;
	}
	return p;
}

static void
pend_free(struct serve *s, struct pend *p)
{
	slots_del(&s->pends, p->id);
	sv_uncharge_handle(s, &p->hcl, &p->ucl);
	if (p->cl != NULL) {
		p->cl->pending--;
		client_put(s, p->cl);
	}
	if (p->ch != NULL) {
		p->ch->pending--;
		if (p->buf != NULL && p->ch->buf == NULL && !p->ch->dead) {
			p->ch->buf = p->buf; /* lend it back */
			p->buf = NULL;
		}
		sv_chan_put(p->ch);
	}
	free(p->buf);
	if (PEND_KEEP && s->spare == NULL)
		s->spare = p;
	else
		free(p);
}

/* Pushback ------------------------------------------------------------- */

/*
 * Keep bytes a read took for a client that is gone (see "Interrupted
 * reads" above), and tell waiters the description is readable: the
 * provider may not post for bytes it believes delivered.
 */
static void
pushback_keep(struct serve *s, struct desc *d, const char *data, size_t len)
{
	char line[160], *n;
	int saved = errno;
	int w;

	if (d->pb_len + len > PUSHBACK_MAX) {
		if (d->pb_warned)
			return;
		d->pb_warned = true;
		w = snprintf(line, sizeof(line),
			     "scheme %s: %zu bytes read for a client that "
			     "left dropped (pushback full)\n",
			     s->name, len);
		if (log_budget(s) && w > 0 && (size_t)w < sizeof(line) &&
		    SYS(write)(2, line, (size_t)w) < 0)
			s->log_quiet++;
		errno = saved;
		return;
	}
	if (d->pb_off > 0) { /* compact: the taken bytes are dead */
		memmove(d->pb, d->pb + d->pb_off, d->pb_len);
		d->pb_off = 0;
	}
	if ((n = realloc(d->pb, d->pb_len + len)) == NULL) {
		errno = saved;
		return;
	}
	memcpy(n + d->pb_len, data, len);
	d->pb = n;
	d->pb_len += len;
	sv_post(s, d->handle, EVENT_READ);
	errno = saved;
}

/*
 * A SYS_READ on a description holding pushback is answered from it, in
 * order before anything the provider still has.  False: none to give (or
 * a read of 0 bytes, which the provider answers as it would).
 */
static bool
pushback_take(struct serve *s, struct sv_chan *ch, enum sv_via via,
	      struct desc *d, const struct wire_req *req)
{
	uint64_t want =
	    req->arg[2] < WIRE_MAX_DATA ? req->arg[2] : WIRE_MAX_DATA;
	size_t n = d->pb_len < want ? d->pb_len : (size_t)want;
	struct wire_rep rep;

	if (req->op != SYS_READ || n == 0)
		return false;
	wire_rep_init(&rep, req->seq);
	rep.result = n;
	rep.gen = d->gen;
	rep.dflags = d->flags;
	sv_reply(s, ch, via, &rep, d->pb + d->pb_off, n, -1);
	/*
	 * Taken even if the reply failed: then this client is gone too, and
	 * its bytes go as they would on Linux with a reader that vanished.
	 */
	d->pb_off += n;
	d->pb_len -= n;
	if (d->pb_len == 0) {
		free(d->pb);
		d->pb = NULL;
		d->pb_off = 0;
	}
	return true;
}

/* Requests ------------------------------------------------------------- */

/* The fd that came with a request proves its channel holds the file. */
static int
attach_by_fd(struct serve *s, struct sv_chan *ch, struct desc *d, int fd)
{
	struct stat st;
	int r = -EBADF;

	if (fd >= 0 && !d->parked && SYS(fstat)(fd, &st) == 0 &&
	    S_ISSOCK(st.st_mode) &&
	    (st.st_ino == d->c_ino || sv_sub_proves(d, st.st_ino)))
		r = att_add(s, d, ch);
	sv_xclose(fd);
	return r;
}

/*
 * WIRE_OP_ATTACH with key 0: a process that got the fd by exec or
 * SCM_RIGHTS asks which description it is.  The fd's inode says (ours
 * are in s->inos); the answer carries its key, and the channel is
 * attached.  A parked description is nobody else's.
 */
static void
attach_unknown(struct serve *s, struct sv_chan *ch, const struct wire_req *req,
	       int fd)
{
	struct desc find = {.key = 0}, *d = NULL;
	struct wire_rep rep;
	struct stat st;
	int r = -EBADF;

	if (req->len == 0 && fd >= 0 && SYS(fstat)(fd, &st) == 0 &&
	    S_ISSOCK(st.st_mode)) {
		find.c_ino = st.st_ino;
		d = RB_NFIND(inos, &s->inos, &find);
		if (d != NULL && (d->c_ino != st.st_ino || d->parked))
			d = NULL;
	}
	if (d != NULL)
		r = att_add(s, d, ch);
	sv_xclose(fd);
	wire_rep_init(&rep, req->seq);
	rep.result = (uint64_t)(int64_t)r;
	if (r == 0) {
		rep.key = d->key;
		rep.gen = d->gen;
		rep.dflags = d->flags;
	}
	sv_reply(s, ch, SV_SOCK, &rep, NULL, 0, -1);
}

static int
payload_ok(const struct wire_op *op, const struct wire_req *req,
	   const char *payload)
{
	switch (op->in) {
	case WIRE_IN_PATH:
		if (req->len > WIRE_MAX_PATH)
			return -ENAMETOOLONG;
		if (memchr(payload, '\0', req->len) != NULL)
			return -EINVAL;
		return 0;
	case WIRE_IN_BUF:
		return 0;
	case WIRE_IN_AT:
		return sv_at_check(req);
	default:
		return req->len == 0 ? 0 : -EPROTO;
	}
}

/* Fill the packet the provider will read; its pointers go into buf. */
static void
fill_packet(struct scheme_packet *pkt, struct pend *p, const struct desc *d,
	    const struct wire_req *req, char *payload)
{
	pkt->id = p->id;
	pkt->pid = p->cr.pid;
	pkt->uid = p->cr.uid;
	pkt->gid = p->cr.gid;
	pkt->a = req->op;
	pkt->b = d != NULL ? d->handle : 0;
	pkt->c = req->arg[1];
	pkt->d = req->arg[2];
	payload[req->len] = '\0'; /* paths are NUL-terminated at b[c] */
	if (p->op->in == WIRE_IN_PATH) {
		pkt->b = (uintptr_t)payload;
		pkt->c = req->len;
	} else if (p->op->in == WIRE_IN_BUF) {
		pkt->c = (uintptr_t)payload;
		pkt->d = req->len;
	}
	if (p->op->out != WIRE_OUT_NONE) {
		p->size =
		    req->arg[2] < WIRE_MAX_DATA ? req->arg[2] : WIRE_MAX_DATA;
		if (p->op->out == WIRE_OUT_STRUCT)
			memset(payload, 0, p->size);
		pkt->c = (uintptr_t)payload;
		pkt->d = p->size;
	}
}

/*
 * A WIRE_IO row's arguments go in p->io, which lives until the answer:
 * the flags, the offset and the length the client sent (arg[0..2]), and
 * the buffer fill_packet() gave (or the memfd).  The packet points to it.
 */
static void
io_wrap(struct pend *p, struct scheme_packet *pkt, const struct wire_req *req)
{
	p->io.flags = (uint32_t)req->arg[0];
	p->io.offset = req->arg[1];
	p->io.len = req->arg[2];
	if (p->op->in != WIRE_IN_NONE || p->op->out != WIRE_OUT_NONE) {
		p->io.buf = pkt->c;
		p->io.len = pkt->d;
	}
	pkt->c = (uintptr_t)&p->io;
	pkt->d = sizeof(p->io);
}

/*
 * The fd a request on a description may carry: the client's own fd, or a
 * subscription socket of it, as proof of holding it (all WIRE_OP_ATTACH
 * carries, on the socket).
 */
static __attribute__((noinline)) enum sv_verdict
fd_taken(struct serve *s, struct sv_req *r)
{
	int err;

	if (r->d == NULL || r->fd < 0) {
		sv_xclose(r->fd);
		r->fd = -1;
		if (r->req->op != WIRE_OP_ATTACH)
			return SV_PROVIDER;
		sv_reply_err(s, r->ch, r->via, r->req->seq, -EBADF, WIRE_OK);
		return SV_ANSWERED;
	}
	err = attach_by_fd(s, r->ch, r->d, r->fd);
	r->fd = -1;
	if (r->req->op == WIRE_OP_ATTACH || err < 0) {
		sv_reply_err(s, r->ch, r->via, r->req->seq, err, WIRE_OK);
		return SV_ANSWERED;
	}
	return SV_PROVIDER;
}

/* Nearly every request carries none: one test, inline. */
static inline enum sv_verdict
take_fd(struct serve *s, struct sv_req *r)
{
	if (r->fd < 0 && r->req->op != WIRE_OP_ATTACH)
		return SV_PROVIDER;
	return fd_taken(s, r);
}

/*
 * Whether a request on this channel may name a path: not on a keyed-only
 * channel; on one the broker made for an owner, only from the owner, and
 * only while the owner's epoch is the one the channel was made in (it
 * has not changed namespace since).  One load of the broker's table,
 * acquire: the broker stores a new epoch (release) before it answers the
 * setrens, so a request sent after that answer sees it.
 */
static bool
may_name(const struct serve *s, const struct sv_chan *ch,
	 const struct wire_creds *cr)
{
	if (ch->flags & SERVE_CHAN_NOPATHS)
		return false;
	if (s->cfg.epochs == NULL || !ch->owned)
		return true;
	if (cr->pid != ch->owner || ch->owner >= s->cfg.nepochs)
		return false;
	return atomic_load_explicit(&s->cfg.epochs[ch->owner],
				    memory_order_acquire) == ch->epoch;
}

/*
 * A request we can make sense of on this channel, as its row says, and
 * its description if it names one.
 */
static int
request_ok(struct serve *s, struct sv_req *r)
{
	const struct wire_op *op = r->op;

	if (op == NULL || (op->flags & WIRE_INNER))
		return op == NULL ? -ENOSYS : -EBADF;
	if ((op->flags & WIRE_NAMES) && !may_name(s, r->ch, r->cr))
		return -ENODEV; /* as Redox says for a scheme not in the ns */
	if (!(op->flags & WIRE_KEYED) ||
	    (r->req->key == 0 && (op->flags & WIRE_KEY0)))
		return 0;
	r->d = slots_get(&s->descs, r->req->key);
	if (r->d == NULL || r->d->parked) {
		r->d = NULL;
		return -EBADF;
	}
	return 0;
}

/*
 * A refusal of a request on a description carries its generation and
 * flags, as any answer does: with them an O_NONBLOCK client returns
 * EAGAIN, and a blocking one waits for the next post, instead of taking
 * stale values for a reason to ask again at once.
 */
static void
refuse(struct serve *s, const struct sv_req *r, int err)
{
	struct wire_rep rep;

	sv_trace_refused(s, r, err);
	wire_rep_init(&rep, r->req->seq);
	rep.result = (uint64_t)(int64_t)err;
	if (r->d != NULL) {
		rep.gen = r->d->gen;
		rep.dflags = r->d->flags;
	}
	sv_reply(s, r->ch, r->via, &rep, NULL, 0, -1);
}

/*
 * May the request go on: the channel must hold the description, and
 * neither it nor its client may be at a cap.  A CANCEL only gives back,
 * so it always may; a WAIT (a blocking client that was told EAGAIN,
 * perhaps by a cap) is held here, not by the provider, and is bounded by
 * the channel's cap alone.  A refusal is answered here.
 */
static enum sv_verdict
admit(struct serve *s, const struct sv_req *r)
{
	int err = 0;

	if (r->d != NULL && !desc_attached(r->d, r->ch)) {
		sv_reply_err(s, r->ch, r->via, r->req->seq, -EBADF,
			     WIRE_NOTATTACHED);
		return SV_ANSWERED;
	}
	if (r->req->op == WIRE_OP_CANCEL)
		return SV_PROVIDER;
	if (r->ch->pending >= CHAN_MAX_PENDING)
		err = -EAGAIN;
	else if (r->req->op != WIRE_OP_WAIT)
		err = client_admit(s, r->ch, r->op, r->cr);
	if (err < 0) {
		refuse(s, r, err);
		return SV_ANSWERED;
	}
	return SV_PROVIDER;
}

/*
 * A packet the serving code asks the provider itself, as p's caller;
 * counted as a request, since its answer is (schemectl info).
 */
static void
inner_packet(struct serve *s, struct scheme_packet *pkt, const struct pend *p,
	     uint64_t op, uint64_t handle)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->id = p->id;
	pkt->pid = p->cr.pid;
	pkt->uid = p->cr.uid;
	pkt->gid = p->cr.gid;
	pkt->a = op;
	pkt->b = handle;
	s->st.requests++;
}

/* The provider's SYS_CLOSE of d's handle; false if no request slot is free. */
static bool
close_packet(struct serve *s, const struct desc *d, struct scheme_packet *pkt)
{
	struct pend *p = sv_pend_new(s, NULL, wire_op(SYS_CLOSE));

	if (p == NULL)
		return false;
	p->kind = PEND_CLOSE;
	p->cr = d->cr;
	sv_trace_asked(s, p, d);
	inner_packet(s, pkt, p, SYS_CLOSE, d->handle);
	return true;
}

/*
 * WIRE_OP_PARK: the client closed its last fd of d and keeps the socket
 * for its next open of this scheme (saving a socket pair's making and
 * unmaking, most of an open's cost).  The provider hears SYS_CLOSE now,
 * as it would at the socket's end; the description answers nothing more
 * until an open reuses it, or the socket's end frees it.  Only the
 * process that opened it may park it; there is no answer.
 */
static enum sv_verdict
own_park(struct serve *s, struct sv_req *r, struct scheme_packet *pkt)
{
	struct desc *d = r->d;

	sv_xclose(r->fd);
	if (d == NULL ||
	    (!desc_attached(d, r->ch) && d->cr.pid != r->cr->pid) ||
	    !close_packet(s, d, pkt)) {
		s->st.dropped_malformed += d == NULL;
		return SV_ANSWERED; /* not parked: its socket's end closes it */
	}
	desc_end_file(s, d);
	d->natt = 0;
	d->owner = 0;
	d->handle = 0;
	d->parked = true;
	d->park_chan = r->ch->key;
	return SV_PACKET;
}

/*
 * An open may come down the request pipe only to take back what was
 * parked on that same channel.  A pipe's requests carry the credentials
 * the pipes were made with, not their writer's: a process that inherited
 * a channel's pipes could otherwise open by name as the channel's owner
 * (serve.h, Namespaces).  Any other open is sent back to the socket
 * (WIRE_RESEND), where the kernel says who sends it.
 */
static bool
pipe_open_ok(struct serve *s, const struct sv_chan *ch,
	     const struct wire_req *req)
{
	const struct desc *d = slots_get(&s->descs, req->key);

	return d != NULL && d->parked && d->park_chan == ch->key;
}

/* An open's new file on a parked description of the same process. */
static struct desc *
unpark(struct serve *s, const struct pend *p, uint64_t handle)
{
	struct desc *d = slots_get(&s->descs, p->reuse);

	if (d == NULL || !d->parked || p->ch == NULL || d->cr.pid != p->cr.pid)
		return NULL;
	d->parked = false;
	d->handle = handle;
	d->gen++;
	d->flags = p->oflags & STATUS_MASK;
	d->owner = p->ch->key;
	d->cr = p->cr;
	RB_INSERT(handles, &s->handles, d);
	return d;
}

/*
 * WIRE_OP_PIPES and WIRE_OP_SHM: a channel's upgrade to its pipe
 * transport, in two explicit steps (pipe.c).  PIPES: fd is the read end
 * of a pipe the client will write its requests to; the answer carries the
 * read end of one we make for the replies.
 */
static enum sv_verdict
own_pipes(struct serve *s, struct sv_req *q, struct scheme_packet *pkt)
{
	struct sv_chan *ch = q->ch;
	struct wire_rep rep;
	int pp[2], r;

	if ((r = sv_pipe_make(ch, q->fd, pp)) == 0) {
		ch->pr = sv_own_hide(s, q->fd);
		ch->pw = sv_own_hide(s, pp[1]);
		ch->prr = sv_own_hide(s, pp[0]);
		ch->pcr = *q->cr;
		r = sv_ep_add(s, ch->pr, SRC_PIPE, ch->key);
	} else {
		sv_xclose(q->fd);
	}
	wire_rep_init(&rep, q->req->seq);
	rep.result = (uint64_t)(int64_t)r;
	sv_reply(s, ch, SV_SOCK, &rep, NULL, 0, r == 0 ? ch->prr : -1);
	return SV_ANSWERED;
}

/* SHM, after the pipes: the memfd answers by pipe carry their data in. */
static enum sv_verdict
own_shm(struct serve *s, struct sv_req *q, struct scheme_packet *pkt)
{
	int r = sv_pipe_shm(q->ch, q->fd);

	sv_xclose(q->fd);
	sv_reply_err(s, q->ch, SV_SOCK, q->req->seq, r, WIRE_OK);
	return SV_ANSWERED;
}

/*
 * WIRE_OP_POSTS, after the pipes: fd is the read end of the post pipe;
 * the answer carries the timerfd that rings for it (pipe.c, Posts).
 */
static enum sv_verdict
own_posts(struct serve *s, struct sv_req *q, struct scheme_packet *pkt)
{
	struct sv_chan *ch = q->ch;
	struct wire_rep rep;
	int t = sv_pipe_posts(ch, q->fd), r = t < 0 ? t : 0;

	if (t >= 0) {
		ch->post = sv_own_hide(s, q->fd);
		ch->ptimer = sv_own_hide(s, t);
		r = sv_ep_add(s, ch->ptimer, SRC_POST, ch->key);
	} else {
		sv_xclose(q->fd);
	}
	wire_rep_init(&rep, q->req->seq);
	rep.result = (uint64_t)(int64_t)r;
	sv_reply(s, ch, SV_SOCK, &rep, NULL, 0, r == 0 ? ch->ptimer : -1);
	return SV_ANSWERED;
}

/* WIRE_OP_DRAIN: its mark read the posts (chan_pipe_ready); no answer.
 * An fd sent with it (on the socket) is nobody's. */
static enum sv_verdict
own_drain(struct serve *s, struct sv_req *q, struct scheme_packet *pkt)
{
	sv_xclose(q->fd);
	return SV_ANSWERED;
}

/* WIRE_OP_GENS: the scheme's change count, an fd to map (gens.c). */
static enum sv_verdict
own_gens(struct serve *s, struct sv_req *q, struct scheme_packet *pkt)
{
	struct wire_rep rep;
	int fd = s->gens_fd;

	if (fd < 0 && (fd = sv_gens_make(&s->gens)) >= 0)
		s->gens_fd = fd = sv_own_hide(s, fd);
	sv_xclose(q->fd);
	wire_rep_init(&rep, q->req->seq);
	rep.result = (uint64_t)(int64_t)(fd < 0 ? fd : 0);
	sv_reply(s, q->ch, SV_SOCK, &rep, NULL, 0, fd);
	return SV_ANSWERED;
}

/* WIRE_OP_ATTACH: with key 0, which description is this fd?  Else the
 * fd proves the channel holds key's (take_fd). */
static enum sv_verdict
own_attach(struct serve *s, struct sv_req *r, struct scheme_packet *pkt)
{
	if (r->req->key != 0)
		return take_fd(s, r);
	attach_unknown(s, r->ch, r->req, r->fd);
	return SV_ANSWERED;
}

static enum sv_verdict
own_wait(struct serve *s, struct sv_req *r, struct scheme_packet *pkt)
{
	sv_do_wait(s, r->ch, r->d, r->req);
	return SV_ANSWERED;
}

static enum sv_verdict
own_cancel(struct serve *s, struct sv_req *r, struct scheme_packet *pkt)
{
	/* A lock granted before this was answered before this: in order. */
	if (s->locks != NULL)
		lk_cancel(s->locks, lkwait_of, r->ch, lkwait_free);
	plock_cancel(s, r->ch);
	sv_do_cancel(s, r->ch, r->req);
	return SV_ANSWERED;
}

/* SUBSCRIBE and POLL ask the provider SYS_FEVENT, for us. */
static enum sv_verdict
own_subscribe(struct serve *s, struct sv_req *r, struct scheme_packet *pkt)
{
	int err =
	    sv_do_subscribe(s, r->d, (uint32_t)r->req->arg[1], r->cr,
			    &r->req->arg[2]); /* the subscription's slot */

	if (err < 0) {
		sv_reply_err(s, r->ch, r->via, r->req->seq, err, WIRE_OK);
		return SV_ANSWERED;
	}
	r->op = wire_op(SYS_FEVENT);
	r->kind = PEND_SUB;
	return SV_PROVIDER;
}

static enum sv_verdict
own_poll(struct serve *s, struct sv_req *r, struct scheme_packet *pkt)
{
	r->op = wire_op(SYS_FEVENT);
	r->kind = PEND_POLL;
	return SV_PROVIDER;
}

/*
 * WIRE_OP_LOCK.  The first lock asked on a description learns its file's
 * identity from the provider (a SYS_FSTAT of ours, PEND_LOCKID; a
 * provider with no inode numbers gives each description its own), then
 * the lock table answers.  A CLOSE from a process holding no POSIX lock
 * anywhere here has nothing to release and asks nobody.
 */
static enum sv_verdict
lockid_ask(struct serve *s, struct sv_req *r, const struct wire_lock *wl,
	   struct scheme_packet *pkt)
{
	struct pend *p = pend_charged(s, r->ch, wire_op(SYS_FSTAT), r->cr);
	char *buf = r->ch->buf + sizeof(struct wire_req);

	if (p == NULL) {
		sv_reply_err(s, r->ch, r->via, r->req->seq, -EAGAIN, WIRE_OK);
		return SV_ANSWERED;
	}
	p->kind = PEND_LOCKID;
	p->seq = r->req->seq;
	p->key = r->d->key;
	p->cr = *r->cr;
	p->via = r->via;
	p->lk = *wl;
	p->size = sizeof(struct stat);
	memset(buf, 0, p->size);
	p->buf = r->ch->buf; /* the packet points into it */
	r->ch->buf = NULL;
	sv_trace_asked(s, p, r->d);
	inner_packet(s, pkt, p, SYS_FSTAT, r->d->handle);
	pkt->c = (uintptr_t)buf;
	pkt->d = p->size;
	return SV_PACKET;
}

static void
lockid_answer(struct serve *s, struct pend *p, int64_t res)
{
	struct desc *d = slots_get(&s->descs, p->key);
	struct stat st;

	if (d == NULL || d->parked) {
		sv_reply_err(s, p->ch, p->via, p->seq, -EBADF, WIRE_OK);
		return;
	}
	memcpy(&st, p->buf + sizeof(struct wire_req), sizeof(st));
	if (!d->fid_known) {
		d->fid_known = true;
		d->fid_none = res != 0 || st.st_ino == 0;
		d->fid.dev = st.st_dev;
		d->fid.ino = st.st_ino;
	}
	if (d->fid_none && p->lk.cmd != WIRE_LK_CLOSE) {
		sv_reply_err(s, p->ch, p->via, p->seq, -ENOLCK, WIRE_OK);
		return;
	}
	lock_run(s, p->ch, p->via, p->seq, d, &p->lk, p->cr.pid);
}

/*
 * Locks the provider keeps (scheme.h "Locks").  Until it has answered a
 * SYS_LOCK, each WIRE_OP_LOCK is offered to it as one; an answer without
 * the served mark (or -ENOSYS) makes the locks ours for good, and the
 * request is served by our table after all (its SYS_FSTAT asked then,
 * in the channel buffer the request kept for it).  Once the provider
 * serves them, every lock request is its: the owners are made here as
 * for our table (lock_owner), and what a client cannot say is said for
 * it, by requests nobody waits for: a description's end and a process's
 * (RELEASE_ALL), a wait given up (CANCEL), and a grant that crossed it
 * (F_UNLCK of what was granted).
 */
_Static_assert((int)WIRE_LK_POSIX == (int)SCHEME_LOCK_POSIX &&
		   (int)WIRE_LK_OFD == (int)SCHEME_LOCK_OFD &&
		   (int)WIRE_LK_FLOCK == (int)SCHEME_LOCK_FLOCK &&
		   WIRE_LK_EOF == SCHEME_LOCK_EOF,
	       "wire.h and scheme.h number lock kinds alike");

static int
lock_check(const struct wire_lock *wl)
{
	if (wl->cmd < WIRE_LK_GET || wl->cmd > WIRE_LK_CLOSE ||
	    wl->kind < WIRE_LK_POSIX || wl->kind > WIRE_LK_FLOCK ||
	    wl->start < 0 || wl->end < wl->start ||
	    (wl->type != F_RDLCK && wl->type != F_WRLCK &&
	     wl->type != F_UNLCK) ||
	    (wl->cmd == WIRE_LK_GET &&
	     (wl->type == F_UNLCK || wl->kind == WIRE_LK_FLOCK)))
		return -EINVAL;
	return 0;
}

/* p's arguments, where the trace (tools/trace.c) finds them. */
static void
plock_traced(struct pend *p)
{
	p->cmd = p->plk.cmd | (uint64_t)p->plk.kind << 8 |
		 (uint64_t)(uint16_t)p->plk.type << 16;
	p->arg = (uint64_t)p->plk.start;
}

/* p's SYS_LOCK on handle: its c is p->plk. */
static void
plock_packet(const struct pend *p, uint64_t handle, struct scheme_packet *pkt)
{
	*pkt = (struct scheme_packet){.id = p->id,
				      .pid = p->cr.pid,
				      .uid = p->cr.uid,
				      .gid = p->cr.gid,
				      .a = SYS_LOCK,
				      .b = handle,
				      .c = (uintptr_t)&p->plk,
				      .d = sizeof(p->plk)};
}

/* p asked at the provider's next read, after what is queued already. */
static bool
plock_queue(struct serve *s, struct pend *p, uint64_t handle)
{
	struct synth *y = calloc(1, sizeof(*y));

	if (y == NULL)
		return false;
	plock_packet(p, handle, &y->pkt);
	y->p = p;
	synth_push(s, y);
	return true;
}

/* A SYS_LOCK of ours that nobody waits for, at the provider's next read. */
static void
plock_synth(struct serve *s, uint64_t handle, const struct scheme_lock *lk,
	    const struct wire_creds *cr)
{
	struct pend *p = sv_pend_new(s, NULL, wire_op(SYS_LOCK));

	if (p == NULL)
		return; /* the provider keeps a lock of nobody's, as it keeps
			   a handle when a close is lost */
	p->kind = PEND_LOCK;
	p->cr = *cr;
	p->plk = *lk;
	p->plk.served = 0;
	plock_traced(p);
	if (!plock_queue(s, p, handle))
		pend_free(s, p);
}

static void
plock_release_all(struct serve *s, uint64_t owner, uint8_t kind,
		  const struct wire_creds *cr)
{
	struct scheme_lock lk = {.cmd = SCHEME_LOCK_RELEASE_ALL,
				 .kind = kind,
				 .type = F_UNLCK,
				 .end = SCHEME_LOCK_EOF,
				 .owner = owner,
				 .pid = (int32_t)cr->pid};

	plock_synth(s, 0, &lk, cr);
}

/* The request p asked, as the provider is told it (wl: the client's). */
static void
plock_fill(struct pend *p, const struct wire_lock *wl)
{
	static const uint8_t cmds[] = {
	    [WIRE_LK_GET] = SCHEME_LOCK_GET,
	    [WIRE_LK_SET] = SCHEME_LOCK_SET,
	    [WIRE_LK_SETW] = SCHEME_LOCK_SETW,
	    [WIRE_LK_CLOSE] = SCHEME_LOCK_RELEASE,
	};
	struct scheme_lock *lk = &p->plk;

	memset(lk, 0, sizeof(*lk));
	lk->cmd = cmds[wl->cmd];
	lk->kind = wl->cmd == WIRE_LK_CLOSE ? SCHEME_LOCK_POSIX : wl->kind;
	lk->type = wl->cmd == WIRE_LK_CLOSE ? F_UNLCK : wl->type;
	lk->start = wl->start;
	lk->end = wl->end;
	lk->owner = lock_owner(p->key, lk->kind, p->cr.pid);
	lk->pid = (int32_t)p->cr.pid;
	plock_traced(p);
}

/*
 * Holders that have ended without our hearing yet, as holder_gone()
 * finds them for our table (a parent that locks after its child's wait
 * returned must find the child's locks gone).  A provider cannot say
 * whose lock is in the way, so the processes and locked descriptions
 * watched (up to PLOCK_ENDINGS of each) are looked at, and the releases
 * of those that ended made up now.  True if any was: the request then
 * goes after them.
 */
#define PLOCK_ENDINGS 64

static bool
plock_endings(struct serve *s)
{
	struct pollfd pfd[2 * PLOCK_ENDINGS];
	uint64_t keys[2 * PLOCK_ENDINGS];
	nfds_t np = 0, n;
	bool any = false;

	for (uint32_t i = 0; i < s->pids.used && np < PLOCK_ENDINGS; i++) {
		struct lkpid *lp = s->pids.obj[i];

		if (lp != NULL) {
			pfd[np] =
			    (struct pollfd){.fd = lp->fd, .events = POLLIN};
			keys[np++] = lp->key;
		}
	}
	n = np;
	for (uint32_t i = 0; i < s->descs.used && n < np + PLOCK_ENDINGS; i++) {
		struct desc *d = s->descs.obj[i];

		if (d != NULL && d->plocked && !d->parked) {
			pfd[n] =
			    (struct pollfd){.fd = d->fd, .events = POLLRDHUP};
			keys[n++] = d->key;
		}
	}
	if (n == 0 || SYS(poll)(pfd, n, 0) <= 0)
		return false;
	for (nfds_t i = 0; i < n; i++) {
		void *o = i < np ? slots_get(&s->pids, keys[i])
				 : slots_get(&s->descs, keys[i]);

		if (o == NULL || pfd[i].revents == 0)
			continue;
		if (i < np)
			pid_gone(s, o);
		else if (pfd[i].revents & (POLLHUP | POLLRDHUP | POLLERR))
			locks_desc_end(s, o);
		any = true;
	}
	return any;
}

/* WIRE_OP_LOCK, offered to the provider: its SYS_LOCK. */
static enum sv_verdict
plock_ask(struct serve *s, struct sv_req *r, const struct wire_lock *wl,
	  struct scheme_packet *pkt)
{
	struct pend *p;
	int err;

	if ((err = lock_check(wl)) < 0 || (err = lock_access(r->d, wl)) < 0 ||
	    (p = pend_charged(s, r->ch, wire_op(SYS_LOCK), r->cr)) == NULL) {
		sv_reply_err(s, r->ch, r->via, r->req->seq,
			     err < 0 ? err : -EAGAIN, WIRE_OK);
		return SV_ANSWERED;
	}
	p->kind = PEND_LOCK;
	p->seq = r->req->seq;
	p->key = r->d->key;
	p->cr = *r->cr;
	p->via = r->via;
	p->lk = *wl;
	if (s->lock_by == LOCKS_ASK) { /* for our SYS_FSTAT, if not served */
		p->buf = r->ch->buf;
		r->ch->buf = NULL;
	}
	r->d->plocked |= wl->kind != WIRE_LK_POSIX;
	plock_fill(p, wl);
	if (s->lock_by == LOCKS_PROVIDER && wl->cmd != WIRE_LK_SETW &&
	    wl->type != F_UNLCK && plock_endings(s)) {
		if (!plock_queue(s, p, r->d->handle)) {
			sv_reply_err(s, r->ch, r->via, r->req->seq, -ENOMEM,
				     WIRE_OK);
			pend_free(s, p);
		}
		return SV_ANSWERED;
	}
	sv_trace_asked(s, p, r->d);
	plock_packet(p, r->d->handle, pkt);
	s->st.requests++;
	return SV_PACKET;
}

/* The client gave up its waits on ch: each is withdrawn at the provider. */
static void
plock_cancel(struct serve *s, const struct sv_chan *ch)
{
	if (s->lock_by == LOCKS_OURS)
		return;
	for (uint32_t i = 0; i < s->pends.used; i++) {
		struct pend *p = s->pends.obj[i];
		struct scheme_lock lk;
		const struct desc *d;

		if (p == NULL || p->kind != PEND_LOCK || p->ch != ch ||
		    p->cancelled || p->lk.cmd != WIRE_LK_SETW)
			continue;
		p->cancelled = true;
		d = slots_get(&s->descs, p->key);
		lk = (struct scheme_lock){
		    .cmd = SCHEME_LOCK_CANCEL,
		    .kind = p->lk.kind,
		    .type = p->lk.type,
		    .start = p->lk.start,
		    .end = p->lk.end,
		    .owner = lock_owner(p->key, p->lk.kind, p->cr.pid),
		    .wait = p->id,
		    .pid = (int32_t)p->cr.pid};
		plock_synth(s, d != NULL && !d->parked ? d->handle : 0, &lk,
			    &p->cr);
	}
}

/*
 * A grant nobody is left to hold (the wait was given up, or its client
 * went): let it go.  A description gone already lets go of all its own;
 * a process's range needs the handle: without it, the lock goes when
 * the process does (watched from now on).
 */
static void
plock_let_go(struct serve *s, const struct pend *p)
{
	const struct desc *d = slots_get(&s->descs, p->key);
	struct scheme_lock lk = {.cmd = SCHEME_LOCK_SET,
				 .kind = p->lk.kind,
				 .type = F_UNLCK,
				 .start = p->lk.start,
				 .end = p->lk.end,
				 .owner =
				     lock_owner(p->key, p->lk.kind, p->cr.pid),
				 .pid = (int32_t)p->cr.pid};

	if (d != NULL && !d->parked)
		plock_synth(s, d->handle, &lk, &p->cr);
	else if (p->lk.kind != WIRE_LK_POSIX)
		plock_release_all(s, lk.owner, SCHEME_LOCK_OFD, &p->cr);
	else
		pid_watch(s, p->cr.pid);
}

/*
 * Not served: the locks are ours, and p is served by our table after
 * all.  False when it was asked again (our SYS_FSTAT for the file's
 * identity, in the buffer it kept).
 */
static bool
plock_fall_back(struct serve *s, struct pend *p)
{
	struct desc *d = slots_get(&s->descs, p->key);
	struct synth *y;

	s->lock_by = LOCKS_OURS;
	if (p->ch == NULL || p->ch->dead || p->cancelled)
		return true;
	if (p->buf == NULL ||
	    (s->locks == NULL && (s->locks = lk_new(lk_granted, s)) == NULL)) {
		sv_reply_err(s, p->ch, p->via, p->seq, -ENOMEM, WIRE_OK);
		return true;
	}
	if (d == NULL || d->parked || d->fid_known) {
		lockid_answer(s, p, 0); /* EBADF, or the table's answer */
		return true;
	}
	if ((y = calloc(1, sizeof(*y))) == NULL) {
		sv_reply_err(s, p->ch, p->via, p->seq, -ENOMEM, WIRE_OK);
		return true;
	}
	slots_del(&s->pends, p->id); /* a new id, as at_go_on's */
	p->id = slots_put(&s->pends, p);
	p->kind = PEND_LOCKID;
	p->op = wire_op(SYS_FSTAT);
	p->size = sizeof(struct stat);
	memset(p->buf + sizeof(struct wire_req), 0, p->size);
	y->pkt = (struct scheme_packet){
	    .id = p->id,
	    .pid = p->cr.pid,
	    .uid = p->cr.uid,
	    .gid = p->cr.gid,
	    .a = SYS_FSTAT,
	    .b = d->handle,
	    .c = (uintptr_t)(p->buf + sizeof(struct wire_req)),
	    .d = p->size};
	y->p = p;
	if (p->id == 0) {
		free(y);
		sv_reply_err(s, p->ch, p->via, p->seq, -ENOMEM, WIRE_OK);
		return true;
	}
	synth_push(s, y);
	return false;
}

/* The provider's answer to a SYS_LOCK; false when p was asked again. */
static bool
plock_answered(struct serve *s, struct pend *p, int64_t res)
{
	const struct scheme_lock *lk = &p->plk;
	bool granted = res == 0 && p->lk.type != F_UNLCK &&
		       (p->lk.cmd == WIRE_LK_SET || p->lk.cmd == WIRE_LK_SETW);
	struct wire_lock ans = p->lk;

	if (lk->served != SCHEME_SERVED || res == -ENOSYS) {
		if (s->lock_by != LOCKS_PROVIDER)
			return plock_fall_back(s, p);
		res = -ENOLCK; /* it served them before */
	}
	s->lock_by = LOCKS_PROVIDER;
	if (p->ch == NULL)
		return true; /* ours: nobody waits */
	if (p->cancelled || p->ch->dead) {
		if (granted)
			plock_let_go(s, p);
		return true;
	}
	if (res > 0 || res < -4095)
		res = -EIO;
	if (res == 0 && p->lk.cmd == WIRE_LK_GET) {
		ans.type = lk->type;
		ans.start = lk->start;
		ans.end = lk->end;
		ans.pid = lk->pid;
		if (lock_check(&ans) < 0 && ans.type != F_UNLCK)
			res = -EIO;
	}
	if (granted && p->lk.kind == WIRE_LK_POSIX)
		pid_watch(s, p->cr.pid);
	lock_reply(s, p->ch, p->via, p->seq, slots_get(&s->descs, p->key),
		   (int)res, &ans);
	return true;
}

static enum sv_verdict
own_lock(struct serve *s, struct sv_req *r, struct scheme_packet *pkt)
{
	struct wire_lock wl;

	if (r->req->len != sizeof(wl)) {
		sv_reply_err(s, r->ch, r->via, r->req->seq, -EINVAL, WIRE_OK);
		return SV_ANSWERED;
	}
	memcpy(&wl, r->req + 1, sizeof(wl));
	if (wl.kind == WIRE_LK_POSIX && wl.cmd != WIRE_LK_GET &&
	    wl.type != F_UNLCK) {
		struct client *cl = client_find(s, false, r->cr->pid);

		if (cl != NULL)
			cl->locks = true; /* locks_chan_end */
	}
	if (s->lock_by != LOCKS_OURS)
		return plock_ask(s, r, &wl, pkt);
	if (s->locks == NULL && (s->locks = lk_new(lk_granted, s)) == NULL) {
		sv_reply_err(s, r->ch, r->via, r->req->seq, -ENOMEM, WIRE_OK);
		return SV_ANSWERED;
	}
	if (wl.cmd == WIRE_LK_CLOSE && !r->d->fid_known &&
	    !lk_holds(s->locks, LK_POSIX, r->cr->pid)) {
		sv_reply_err(s, r->ch, r->via, r->req->seq, 0, WIRE_OK);
		return SV_ANSWERED;
	}
	if (!r->d->fid_known)
		return lockid_ask(s, r, &wl, pkt);
	if (r->d->fid_none) /* no identity: locks that exclude nobody */
		sv_reply_err(s, r->ch, r->via, r->req->seq,
			     wl.cmd == WIRE_LK_CLOSE ? 0 : -ENOLCK, WIRE_OK);
	else
		lock_run(s, r->ch, r->via, r->req->seq, r->d, &wl,
			 r->cr->pid);
	return SV_ANSWERED;
}

/*
 * What the serving code does itself with its own kinds of request (wire.h
 * rows WIRE_OP_*), and when: at once, before the channel's caps and the
 * description's attachment (the channel's own set-up, and PARK, which
 * gives back), or once admitted like a provider's request.  Indexed by
 * the op's low bits, the wire's own being numbered from OWN_BASE + 1: a
 * provider's request, the usual one, is told apart by one compare.
 */
enum own_when { OWN_AT_ONCE, OWN_ADMITTED };

#define OWN_BASE 0x7f000000u
#define OWN(op)	 [(op)-OWN_BASE]

static const struct own_row {
	enum own_when when;
	enum sv_verdict (*fn)(struct serve *, struct sv_req *,
			      struct scheme_packet *);
} own_rows[] = {
    OWN(WIRE_OP_PIPES) = {OWN_AT_ONCE, own_pipes},
    OWN(WIRE_OP_SHM) = {OWN_AT_ONCE, own_shm},
    OWN(WIRE_OP_PARK) = {OWN_AT_ONCE, own_park},
    OWN(WIRE_OP_ATTACH) = {OWN_AT_ONCE, own_attach},
    OWN(WIRE_OP_WAIT) = {OWN_ADMITTED, own_wait},
    OWN(WIRE_OP_CANCEL) = {OWN_ADMITTED, own_cancel},
    OWN(WIRE_OP_SUBSCRIBE) = {OWN_ADMITTED, own_subscribe},
    OWN(WIRE_OP_POLL) = {OWN_ADMITTED, own_poll},
    OWN(WIRE_OP_LOCK) = {OWN_ADMITTED, own_lock},
    OWN(WIRE_OP_GENS) = {OWN_AT_ONCE, own_gens},
    OWN(WIRE_OP_POSTS) = {OWN_AT_ONCE, own_posts},
    OWN(WIRE_OP_DRAIN) = {OWN_AT_ONCE, own_drain},
};

static const struct own_row *
own_row(uint32_t op)
{
	uint32_t i = op - OWN_BASE;

	if (i >= sizeof(own_rows) / sizeof(own_rows[0]) ||
	    own_rows[i].fn == NULL)
		return NULL;
	return &own_rows[i];
}

/* A request turned down before anyone acts on it. */
static void
turn_down(struct serve *s, struct sv_req *r, int err)
{
	sv_trace_refused(s, r, err);
	sv_xclose(r->fd);
	/*
	 * A PARK is never answered: its client does not read one.  One for
	 * a description gone already (its socket's end came first: the pipe
	 * is read one request an event) is dropped.
	 */
	if (r->req->op == WIRE_OP_PARK || r->req->op == WIRE_OP_DRAIN)
		s->st.dropped_malformed += err != -EBADF;
	else
		sv_reply_err(s, r->ch, r->via, r->req->seq, err, WIRE_OK);
}

/* A request for the provider: a pending record and the packet it reads. */
static size_t
ask_provider(struct serve *s, struct sv_req *r, struct scheme_packet *pkt)
{
	const struct wire_op *op = r->op;
	struct wire_req *req = r->req;
	char *payload = (char *)(req + 1);
	struct desc *d = r->d;
	struct pend *p;
	int err;

	if (d != NULL && d->pb_len > 0 &&
	    pushback_take(s, r->ch, r->via, d, req))
		return 0;
	if ((err = payload_ok(op, req, payload)) < 0 ||
	    (p = pend_charged(s, r->ch, op, r->cr)) == NULL) {
		if (r->kind == PEND_SUB) /* it would never be handed over */
			sv_sub_drop(s, req->arg[2]);
		sv_trace_refused(s, r, err < 0 ? err : -EAGAIN);
		sv_reply_err(s, r->ch, r->via, req->seq,
			     err < 0 ? err : -EAGAIN, WIRE_OK);
		return 0;
	}
	p->kind = r->kind;
	p->seq = req->seq;
	p->key = req->key;
	if (req->op == SYS_OPEN) { /* its key offers a parked description */
		p->reuse = req->key;
		p->key = 0;
	}
	p->cmd = req->arg[1];
	p->arg = req->arg[2];
	p->want = (uint32_t)req->arg[1];
	p->wait = req->arg[2] != 0;
	p->gen0 = d != NULL ? d->gen : 0;
	p->oflags = (op->flags & WIRE_OPENS) && d != NULL
			? d->flags
			: (uint32_t)req->arg[2];
	p->cr = *r->cr;
	p->via = r->via;
	if ((p->changes = sv_gens_changes(req)))
		sv_gens_bump(s); /* and again when answered (gens.c) */
	sv_trace_asked(s, p, d);
	if (r->kind != PEND_REQUEST) { /* SYS_FEVENT(handle, flags) */
		req->op = SYS_FEVENT;
		req->arg[2] = 0;
	}
	if (op->in == WIRE_IN_AT)
		sv_at_open(pkt, p, req, payload);
	else
		fill_packet(pkt, p, d, req, payload);
	if (p->via == SV_PIPE && r->ch->shm != NULL &&
	    op->out == WIRE_OUT_BYTES) {
		pkt->c = (uintptr_t)r->ch->shm; /* answered in place */
		p->in_shm = true;
	}
	if (op->flags & WIRE_IO)
		io_wrap(p, pkt, req);
	if (op->in != WIRE_IN_NONE || op->out != WIRE_OUT_NONE) {
		p->buf = r->ch->buf; /* the packet points into it */
		r->ch->buf = NULL;
	}
	s->st.requests++;
	return 1;
}

/*
 * One request, from the socket or the pipe (r->via), generic over its row
 * (wire.h): checked as the row says, then served here (own_rows) or asked
 * of the provider.  Returns the packets made for the provider (0 or 1).
 */
static size_t
chan_request(struct serve *s, struct sv_req *r, struct scheme_packet *pkt)
{
	const struct own_row *own = own_row(r->req->op);
	enum sv_verdict v;
	int err;

	if (r->via == SV_PIPE && r->req->op == SYS_OPEN &&
	    !pipe_open_ok(s, r->ch, r->req)) {
		sv_reply_err(s, r->ch, r->via, r->req->seq, -EAGAIN,
			     WIRE_RESEND);
		return 0;
	}
	if ((err = request_ok(s, r)) < 0) {
		turn_down(s, r, err);
		return 0;
	}
	if (own != NULL && own->when == OWN_AT_ONCE)
		v = own->fn(s, r, pkt);
	else if (take_fd(s, r) == SV_ANSWERED || admit(s, r) == SV_ANSWERED)
		v = SV_ANSWERED;
	else
		v = own != NULL ? own->fn(s, r, pkt) : SV_PROVIDER;
	switch (v) {
	case SV_PACKET:
		return 1;
	case SV_PROVIDER:
		return ask_provider(s, r, pkt);
	default:
		return 0;
	}
}

/* Bytes wait in ch->pq: serve_read takes them before asking epoll. */
static void
chan_queue(struct serve *s, struct sv_chan *ch)
{
	if (ch->pq_len > 0 && !ch->dead && !ch->queued) {
		TAILQ_INSERT_TAIL(&s->queued, ch, qlink);
		ch->queued = true;
	}
}

/*
 * The channel's posts, nothing queued before them (pipe.c, Posts): they
 * join the queue; anything but PARKs ends the channel.
 */
static void
posts_read(struct serve *s, struct sv_chan *ch)
{
	ch->post_due = false;
	if (sv_pipe_drain(ch, NULL, 0) < 0) {
		s->st.dropped_malformed++;
		chan_kill(s, ch); /* may free ch: the timer holds no ref */
		return;
	}
	chan_queue(s, ch);
}

/*
 * One request from the pipe (pipe.c reads it).  Only requests whose row
 * says WIRE_BY_PIPE come this way; anything else ends the channel, as a
 * malformed message on its socket does.  Bytes the read brought past the
 * request (what the client wrote after a PARK) put the channel on the
 * queued list, which serve_read takes before asking epoll again: no
 * event will come for them.
 */
static size_t
chan_pipe_ready(struct serve *s, struct sv_chan *ch, struct scheme_packet *pkt)
{
	struct sv_req r = {.ch = ch, .fd = -1, .cr = &ch->pcr, .via = SV_PIPE};
	size_t out;
	ssize_t n;

	if (ch->buf == NULL && (ch->buf = malloc(RECVBUF)) == NULL)
		return 0;
	r.req = (struct wire_req *)ch->buf;
	if ((n = sv_pipe_recv(ch, r.req)) == 0)
		return 0;
	if (n > 0 && (r.req->flags & WIRE_REQ_DRAIN)) {
		r.req->flags &= ~WIRE_REQ_DRAIN; /* the posts, then it */
		if ((n = sv_pipe_drain(ch, r.req, (size_t)n)) > 0)
			n = sv_pipe_recv(ch, r.req);
		else if (n == 0)
			n = (ssize_t)sizeof(*r.req) + r.req->len;
	}
	if (n < 0 || (r.op = wire_op(r.req->op)) == NULL ||
	    !(r.op->flags & WIRE_BY_PIPE)) {
		if (n != -EPIPE)
			s->st.dropped_malformed++;
		chan_kill(s, ch);
		return 0;
	}
	ch->refs++; /* the request may end the channel */
	out = chan_request(s, &r, pkt);
	if (ch->pq_len == 0 && ch->post_due && !ch->dead)
		posts_read(s, ch);
	chan_queue(s, ch);
	sv_chan_put(ch);
	return out;
}

/*
 * A channel's post timer rang (pipe.c, Posts): its posts join the queue,
 * or, when requests are queued already, are read once those are served.
 */
static void
chan_post_ready(struct serve *s, struct sv_chan *ch)
{
	uint64_t v;

	/* only to clear its count: the posts are read whatever it says */
	(void)SYS(read)(ch->ptimer, &v, sizeof(v));
	if (ch->pq_len > 0 || ch->queued)
		ch->post_due = true;
	else
		posts_read(s, ch);
}

/*
 * Requests read from pipes and not yet served (chan_pipe_ready).  Asked
 * twice a read, and there are nearly never any: that costs one test.
 */
static size_t
take_queued(struct serve *s, struct scheme_packet *pkts, size_t max)
{
	struct sv_chan *ch;
	size_t out = 0;

	if (TAILQ_EMPTY(&s->queued))
		return 0;
	while (out < max && (ch = TAILQ_FIRST(&s->queued)) != NULL) {
		TAILQ_REMOVE(&s->queued, ch, qlink);
		ch->queued = false;
		out += chan_pipe_ready(s, ch, &pkts[out]);
	}
	return out;
}

static size_t
chan_ready(struct serve *s, struct sv_chan *ch, struct scheme_packet *pkt)
{
	struct sv_req r = {.kind = PEND_REQUEST};
	struct wire_creds cr;
	struct iovec iov;
	ssize_t n;
	int fd;

	if (ch->buf == NULL && (ch->buf = malloc(RECVBUF)) == NULL)
		return 0; /* try again on the next event */
	iov.iov_base = ch->buf;
	iov.iov_len = RECVBUF - 1;
	n = wire_recv(ch->fd, &iov, 1, &fd, &cr,
		      MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -EAGAIN || n == -EINTR)
		return 0;
	if (n <= 0 ||
	    wire_req_check((struct wire_req *)ch->buf, (size_t)n) < 0) {
		if (n != 0)
			s->st.dropped_malformed++;
		sv_xclose(fd);
		chan_kill(s, ch);
		return 0;
	}
	r.ch = ch;
	r.req = (struct wire_req *)ch->buf;
	r.op = wire_op(r.req->op);
	r.fd = fd;
	r.cr = &cr;
	r.via = SV_SOCK;
	return chan_request(s, &r, pkt);
}

/* The last client fd of a description closed: tell the provider, once. */
static size_t
desc_ready(struct serve *s, struct desc *d, uint32_t events,
	   struct scheme_packet *pkt)
{
	char junk[256];

	if (!(events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR))) {
		/*
		 * Bytes written straight to the fd, bypassing the preload (fds
		 * passed with them are closed by the kernel: no room for
		 * them).  A bounded batch: a client writing without end must
		 * not keep us here, epoll reports the rest.
		 */
		for (int i = 0;
		     i < MAX_EVENTS &&
		     SYS(recv)(d->fd, junk, sizeof(junk), MSG_DONTWAIT) > 0;
		     i++)
			s->st.dropped_malformed++;
		return 0;
	}
	if (d->parked) { /* its SYS_CLOSE went when it was parked */
		desc_free(s, d);
		return 0;
	}
	if (!close_packet(s, d, pkt))
		return 0; /* the event stays; try again */
	desc_free(s, d);
	return 1;
}

static size_t
take_synths(struct serve *s, struct scheme_packet *pkts, size_t max)
{
	struct synth *y;
	struct pend *p;
	uint64_t v;
	size_t n = 0;

	while (n < max && (y = TAILQ_FIRST(&s->synths)) != NULL) {
		if ((p = y->p) == NULL) {
			p = sv_pend_new(s, NULL, wire_op(SYS_CLOSE));
			if (p == NULL)
				break;
			p->kind = PEND_CLOSE;
			p->cr = (struct wire_creds){(uint32_t)y->pkt.pid,
						    y->pkt.uid, y->pkt.gid};
			y->pkt.id = p->id;
		}
		sv_trace_asked(s, p, NULL);
		p->t_handle = y->pkt.b;
		pkts[n++] = y->pkt;
		s->st.requests++;
		TAILQ_REMOVE(&s->synths, y, link);
		free(y);
	}
	if (s->kicked && TAILQ_EMPTY(&s->synths) &&
	    SYS(read)(s->kick, &v, sizeof(v)) == sizeof(v))
		s->kicked = false;
	return n;
}

/*
 * Watch callbacks run without the lock: they call back into serve (to add
 * a channel, or to stop).  Watches are only freed by serve_free().
 */
static void
run_watch(struct serve *s, struct watch *w, uint32_t events)
{
	sv_unlock(&s->lock);
	w->fn(s, w->arg, events);
	sv_lock(&s->lock);
}

static size_t
dispatch(struct serve *s, const struct epoll_event *ev, int n,
	 struct scheme_packet *pkts, size_t max)
{
	size_t out = 0;
	int pass, i;

	for (pass = SRC_CHAN; pass <= SRC_WATCH; pass++) {
		for (i = 0; i < n && out < max; i++) {
			int kind = (int)(ev[i].data.u64 >> SLOTS_KEY_BITS);
			uint64_t key =
			    ev[i].data.u64 & ((1ull << SLOTS_KEY_BITS) - 1);
			void *o;

			if ((kind == SRC_PIPE || kind == SRC_POST ? SRC_CHAN
			     : kind == SRC_TRACE ? SRC_SUB
			     : kind == SRC_PID	 ? SRC_WATCH
						 : kind) != pass)
				continue;
			if (kind == SRC_CHAN &&
			    (o = slots_get(&s->chans, key)) != NULL)
				out += chan_ready(s, o, &pkts[out]);
			else if (kind == SRC_PIPE &&
				 (o = slots_get(&s->chans, key)) != NULL)
				out += chan_pipe_ready(s, o, &pkts[out]);
			else if (kind == SRC_POST &&
				 (o = slots_get(&s->chans, key)) != NULL)
				chan_post_ready(s, o);
			else if (kind == SRC_DESC &&
				 (o = slots_get(&s->descs, key)) != NULL)
				out +=
				    desc_ready(s, o, ev[i].events, &pkts[out]);
			else if (kind == SRC_SUB &&
				 (o = slots_get(&s->subs, key)) != NULL)
				sv_sub_ready(s, o, ev[i].events);
			else if (kind == SRC_TRACE)
				sv_trace_gone(s, (int)key);
			else if (kind == SRC_PID &&
				 (o = slots_get(&s->pids, key)) != NULL)
				pid_gone(s, o);
			else if (kind == SRC_WATCH &&
				 (o = slots_get(&s->watchv, key)) != NULL)
				run_watch(s, o, ev[i].events);
		}
	}
	return out;
}

/*
 * Direct reads.  On one CPU, a round trip with a client is two context
 * switches, and every system call of ours in it counts: epoll_wait()
 * before the read of the request pipe made a read of 8 bytes cost 1.42
 * times a pipe round trip, where a provider that blocks in read() of the
 * pipe itself is at the floor (README, Performance).  So once the last
 * DIRECT_AFTER rounds brought one request each, all by the same
 * channel's pipe and nothing else, a thread that has nothing in hand and
 * no other thread waiting takes that pipe out of the epoll set and blocks
 * in read() of it (through an end of its own, pipe.c sv_pipe_reopen),
 * and stays so from one serve_read to the next.  Anything else ready in
 * the set wakes the waker (waker.c), which rings the pipe; so does
 * another thread that comes to serve_read, or the channel's end.  The
 * reader then puts the pipe back and waits in epoll_wait() again.
 *
 * Only on one CPU (spin.h, spin_worth): with more, serve_read spins
 * before it blocks, which a read cannot.  Never when the program has a
 * signal handler that restarts reads (serve_config, restarts): a read()
 * of the pipe would be restarted after it, where epoll_wait() says EINTR,
 * and a provider that stops on a signal would not stop.
 */
#define DIRECT_AFTER	 8
#define DIRECT_RECHECK 256 /* direct reads between looks at the CPUs */

/* After epoll_wait's n events: the streak of rounds of one pipe alone. */
static void
direct_count(struct serve *s, const struct epoll_event *ev, int n)
{
	uint64_t key;

	if (n == 1 && (int)(ev[0].data.u64 >> SLOTS_KEY_BITS) == SRC_PIPE) {
		key = ev[0].data.u64 & ((1ull << SLOTS_KEY_BITS) - 1);
		s->streak = key == s->hot ? s->streak + 1 : 1;
		s->hot = key;
	} else if (n > 0) {
		s->streak = 0;
	}
}

/* The waker's epoll set (holding ours), and the waker. */
static bool
waker_ready(struct serve *s)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int ep;

	if (s->w.ep < 0 && !s->w.failed) {
		ep = sv_own_hide(s, SYS(epoll_create1)(EPOLL_CLOEXEC));
		if (ep < 0 || SYS(epoll_ctl)(ep, EPOLL_CTL_ADD, s->ep, &ev) < 0) {
			sv_own_close(s, ep);
			s->w.failed = true;
			return false;
		}
		s->w.ep = ep;
	}
	return s->w.ep >= 0 && sv_waker_here(s);
}

static bool
direct_enter(struct serve *s, struct sv_chan *ch)
{
	if (ch->dead || ch->pr < 0 || ch->dr == -2 || ch->pq_len > 0)
		return false;
	/* where what a read brings goes: had now, it cannot fail after */
	if (!sv_pipe_pq(ch))
		return false;
	if (ch->dr < 0) {
		if (sv_pipe_reopen(ch) < 0) {
			ch->dr = ch->dw = -2;
			return false;
		}
		ch->dr = sv_own_hide(s, ch->dr);
		ch->dw = sv_own_hide(s, ch->dw);
	}
	if (!waker_ready(s))
		return false;
	if (SYS(epoll_ctl)(s->ep, EPOLL_CTL_DEL, ch->pr, NULL) < 0) {
		/* moved by the program (serve_relocate): its item is the
		 * old number's, so never on this channel */
		direct_close(s, ch, -2);
		return false;
	}
	s->direct = ch;
	ch->refs++;
	s->w.rung = false;
	sv_cond_signal(&s->w.cv);
	return true;
}

/* Whether this thread, with nothing in hand, should read directly. */
static bool
direct_worth(struct serve *s, int timeout_ms)
{
	struct sv_chan *ch = s->direct;

	if (timeout_ms >= 0 || s->sleepers > 0 || s->cfg.restarts == NULL ||
	    s->cfg.restarts())
		return false;
	if (ch != NULL) /* and still on one CPU, asked now and then */
		return !s->w.rung && !ch->dead && ch->pq_len == 0 &&
		       (++s->w.reads % DIRECT_RECHECK != 0 || !spin_worth()) &&
		       sv_waker_here(s);
	return s->streak >= DIRECT_AFTER && !spin_worth() &&
	       (ch = slots_get(&s->chans, s->hot)) != NULL &&
	       direct_enter(s, ch);
}

/*
 * No direct read now: its pipe goes back into the epoll set, or, while
 * another thread is in the read, that read is rung to an end.
 */
static void
direct_end(struct serve *s)
{
	struct sv_chan *ch = s->direct;

	if (ch == NULL)
		return;
	if (s->w.busy) {
		if (!s->w.rung) {
			s->w.rung = true;
			sv_pipe_ring(ch);
		}
		return;
	}
	s->direct = NULL;
	s->w.rung = false;
	s->streak = 0;
	if (!ch->dead && sv_ep_add(s, ch->pr, SRC_PIPE, ch->key) < 0)
		chan_kill(s, ch);
	if (ch->dead)
		direct_close(s, ch, -1);
	sv_chan_put(ch);
}

/*
 * One blocking read of the direct channel's pipe, the lock dropped
 * around it; what came joins the channel's queue (behind what is there:
 * posts another thread read meanwhile) and its first request is served.
 * Packets made (0 or 1), or -EINTR.
 */
static ssize_t
direct_read(struct serve *s, struct scheme_packet *pkt)
{
	struct sv_chan *ch = s->direct;
	char b[PIPE_BUF];
	int fd = ch->dr, saved = errno, err;
	ssize_t n;

	s->sleepers++;
	s->w.busy = true;
	sv_unlock(&s->lock);
	n = SYS(read)(fd, b, sizeof(b)); /* no cancellation point: serve_wake */
	err = errno;
	sv_lock(&s->lock);
	s->w.busy = false;
	s->sleepers--;
	errno = saved;
	if (n < 0 && err == EINTR)
		return -EINTR;
	if (n <= 0 || ch->dead) {
		s->w.rung = true; /* back to epoll, which will say */
		return 0;
	}
	if (ch->pq_len + (size_t)n > 2 * PIPE_BUF) { /* cannot be: see pq */
		s->st.dropped_malformed++;
		chan_kill(s, ch);
		return 0;
	}
	memcpy(ch->pq + ch->pq_len, b, (size_t)n);
	ch->pq_len += (uint32_t)n;
	return (ssize_t)chan_pipe_ready(s, ch, pkt);
}

/*
 * A direct read is a raw read(): libc's, a cancellation point, costs a
 * switch to asynchronous cancellation and back (two atomics and some 60
 * instructions a request), and a thread cancelled in it would leave the
 * channel's pipe out of the epoll set for good (w.busy).  So a thread
 * that is cancelled must be woken (the preload's pthread_cancel calls
 * this): the read is rung to its end, and every thread's next wait is
 * epoll_wait, a cancellation point, at least once (the streak starts
 * again), where the cancellation is acted on.
 */
void
serve_wake(struct serve *s)
{
	sv_lock(&s->lock);
	s->streak = 0;
	if (s->direct != NULL) {
		if (s->w.busy && !s->w.rung)
			sv_pipe_ring(s->direct);
		s->w.rung = true;
	}
	sv_unlock(&s->lock);
}

/*
 * Up to max packets: at least one, or -EAGAIN once timeout_ms (-1:
 * forever) has passed with none, or 0 when the scheme has been stopped.
 */
ssize_t
serve_read(struct serve *s, struct scheme_packet *pkts, size_t max,
	   int timeout_ms)
{
	struct epoll_event ev[MAX_EVENTS];
	struct deadline dl;
	uint64_t spin_end = 0;
	size_t out;
	int n, w, wait = timeout_ms, saved = errno;

	if (max == 0)
		return -EINVAL;
	deadline_start(&dl, timeout_ms);
	sv_lock(&s->lock);
	for (;;) {
		if (s->stopped) {
			sv_unlock(&s->lock);
			return 0;
		}
		out = take_synths(s, pkts, max);
		out += take_queued(s, pkts + out, max - out);
		if (out > 0)
			break;
		if (direct_worth(s, timeout_ms)) {
			if ((n = (int)direct_read(s, pkts)) < 0) {
				sv_unlock(&s->lock);
				return n;
			}
			out = (size_t)n + take_queued(s, pkts + n, max - (size_t)n);
			if (out > 0)
				break;
			continue;
		}
		direct_end(s);
		s->sleepers++;
		sv_unlock(&s->lock);
		w = wait;
		if (w != 0 && (spin_end != 0 || spin_worth())) { /* spin.h */
			if (spin_end == 0)
				spin_end = spin_now() + SPIN_NS;
			if (spin_now() < spin_end)
				w = 0;
		}
		n = SYS(epoll_wait)(
		    s->ep, ev, max < MAX_EVENTS ? (int)max : MAX_EVENTS, w);
		if (n == 0 && w != wait)
			spin_pause();
		if (n < 0) {
			n = -errno;
			sv_lock(&s->lock);
			s->sleepers--;
			sv_unlock(&s->lock);
			errno = saved;
			return n;
		}
		sv_lock(&s->lock);
		s->sleepers--;
		direct_count(s, ev, n);
		out = dispatch(s, ev, n, pkts, max);
		out += take_queued(s, pkts + out, max - out);
		if (out > 0)
			break;
		if (s->stopped)
			continue; /* read returns 0 from now on */
		if (timeout_ms >= 0 && (wait = (int)deadline_left(&dl)) == 0)
			break;
	}
	/* What is left queued is for a thread in epoll_wait, if any. */
	if (!TAILQ_EMPTY(&s->queued) && s->sleepers > 0 && !s->kicked &&
	    SYS(write)(s->kick, &(uint64_t){1}, sizeof(uint64_t)) ==
		sizeof(uint64_t))
		s->kicked = true;
	sv_unlock(&s->lock);
	errno = saved;
	return out > 0 ? (ssize_t)out : -EAGAIN;
}

/* Answers -------------------------------------------------------------- */

/* F_GETFL and F_SETFL are ours to keep once the provider agrees. */
static int64_t
fcntl_result(struct pend *p, struct desc *d, int64_t res)
{
	if (res < 0 && res != -ENOSYS)
		return res;
	if (p->cmd == F_GETFL)
		return d->flags;
	if (p->cmd == F_SETFL) {
		d->flags =
		    (d->flags & ~SETFL_MASK) | ((uint32_t)p->arg & SETFL_MASK);
		return 0;
	}
	return res;
}

static void
answer(struct serve *s, struct pend *p, int64_t res)
{
	struct desc *d = slots_get(&s->descs, p->key);
	const char *data = p->in_shm ? p->ch->shm
			   : p->buf  ? p->buf + sizeof(struct wire_req)
				     : NULL;
	struct wire_rep rep;
	size_t len = 0;
	int cfd = -1;

	wire_rep_init(&rep, p->seq);
	/*
	 * A result below -4095 is no errno: for an open, a handle of 2^63 or
	 * more (scheme.h allows less), which the client would take for an
	 * error whose low bits make an fd number.  Either way, the answer is
	 * unusable: say EIO.
	 */
	if (res < -4095)
		res = -EIO;
	if ((p->op->flags & WIRE_OPENS) && res >= 0) {
		/*
		 * If the client is gone, closing our copy of its end below is
		 * what makes the provider hear SYS_CLOSE; only a description
		 * we could not make needs a close made up for it.
		 */
		int err = 0;

		if (p->reuse != 0 && (d = unpark(s, p, (uint64_t)res)) != NULL)
			rep.status = WIRE_REUSED;
		else
			d = desc_new(s, p, (uint64_t)res, &cfd, &err);
		if (d == NULL) {
			synth_close(s, (uint64_t)res, &p->cr);
			res = err;
		} else {
			rep.key = d->key;
			/* The open's charge is the file's now. */
			d->cl = p->hcl;
			d->ucl = p->ucl;
			p->hcl = p->ucl = NULL;
		}
	}
	if (p->op->op == SYS_FCNTL && d != NULL)
		res = fcntl_result(p, d, res);
	if (p->op->op == SYS_FMAP)
		res = sv_fmap_answer(d, p->buf, res, &cfd, &data, &len);
	if (res >= 0 && p->op->out == WIRE_OUT_BYTES)
		len = (size_t)res;
	else if (res == 0 && p->op->out == WIRE_OUT_STRUCT)
		len = p->size;
	if (d != NULL) {
		rep.gen = d->gen;
		rep.dflags = d->flags;
	}
	rep.result = (uint64_t)res;
	if (p->changes)
		sv_gens_bump(s);
	sv_reply(s, p->ch, p->via, &rep, data, len, cfd);
	sv_xclose(cfd);
	/*
	 * Read bytes whose client is gone (before or by this reply) are the
	 * next reader's, not nobody's (see "Interrupted reads").
	 */
	if (p->op->op == SYS_READ && len > 0 && data != NULL && d != NULL &&
	    (p->ch == NULL || p->ch->dead))
		pushback_keep(s, d, data, len);
}

/*
 * Whether the client has closed ch, which epoll may not have told us yet:
 * a provider that took its time over an open has not read since.
 */
static bool
chan_hung_up(const struct sv_chan *ch)
{
	int saved = errno;
	ssize_t n;
	char c;

	n = SYS(recv)(ch->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	n = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
	errno = saved;
	return n != 0;
}

/*
 * A request by path (at.c) whose open gave handle h: ask the request on
 * it at the provider's next read, under a new id (an answer to the open
 * sent twice must not pass for the next step's).  False when it cannot
 * go on: the client is gone (then nothing more is asked on the handle),
 * or no memory.  Either way the handle is closed, now or after the next
 * step (serve_write).
 */
static bool
at_go_on(struct serve *s, struct pend *p, uint64_t h)
{
	struct synth *y = NULL;

	if (p->ch != NULL && !p->ch->dead && !chan_hung_up(p->ch) &&
	    (y = calloc(1, sizeof(*y))) != NULL) {
		slots_del(&s->pends, p->id);
		p->id = slots_put(&s->pends, p);
	}
	if (y == NULL || p->id == 0) {
		free(y);
		synth_close(s, h, &p->cr);
		return false;
	}
	p->at_handle = h;
	sv_at_inner(&y->pkt, p);
	y->p = p;
	synth_push(s, y);
	return true;
}

/*
 * A client's request answered res by the provider.  A request by path
 * goes on after its open, and its handle is closed after the request on
 * it, before the client hears the answer (so that its next request finds
 * the provider's handle gone, as after a close of its own).
 */
static bool
request_answered(struct serve *s, struct pend *p, int64_t res)
{
	if (p->at_step == SV_AT_OPEN && res >= 0) {
		if (at_go_on(s, p, (uint64_t)res))
			return false;
		res = p->ch == NULL || p->ch->dead ? -EIO : -ENOMEM;
	} else if (p->at_step == SV_AT_INNER) {
		synth_close(s, p->at_handle, &p->cr);
	}
	answer(s, p, res);
	return true;
}

void
serve_write(struct serve *s, const struct scheme_packet *pkt)
{
	struct pend *p;
	int64_t res = (int64_t)pkt->a;

	sv_lock(&s->lock);
	if (pkt->id == 0) {
		if (pkt->a == SYS_FEVENT)
			sv_post(s, pkt->b, pkt->c);
		else
			s->st.dropped_malformed++;
		sv_unlock(&s->lock);
		return;
	}
	p = slots_get(&s->pends, pkt->id);
	if (p == NULL) {
		s->st.dropped_unknown++;
		sv_unlock(&s->lock);
		return;
	}
	s->st.answers++;
	if (res == -41) /* Redox's EWOULDBLOCK */
		res = -EAGAIN;
	/*
	 * An optional request answered by a provider that does not know it
	 * (scheme.h "Optional requests"): whatever it said means ENOSYS.
	 */
	if ((p->op->flags & WIRE_IO) && p->io.served != SCHEME_SERVED)
		res = -ENOSYS;
	if (p->op->out == WIRE_OUT_BYTES && res > 0 &&
	    (uint64_t)res > p->size) {
		s->st.dropped_badsize++;
		res = -EIO;
	}
	sv_trace_answered(s, p, res);
	if (p->kind == PEND_REQUEST) {
		if (!request_answered(s, p, res)) {
			sv_unlock(&s->lock);
			return; /* asked again: p stays */
		}
	} else if (p->kind == PEND_POLL || p->kind == PEND_SUB) {
		struct desc *d = slots_get(&s->descs, p->key);

		/* Pushback is ours to read: the provider does not know it. */
		if (d != NULL && d->pb_len > 0 && res >= 0)
			res |= EVENT_READ;
		sv_fevent_answer(s, p, res);
	} else if (p->kind == PEND_LOCKID) {
		lockid_answer(s, p, res);
	} else if (p->kind == PEND_LOCK && !plock_answered(s, p, res)) {
		sv_unlock(&s->lock);
		return; /* asked again: p stays */
	}
	pend_free(s, p);
	sv_unlock(&s->lock);
}

/*
 * Answer an open by handing the client a kernel fd of ours (a dup of fd)
 * instead of a new open file of the scheme: the broker gives a driver the
 * VFIO device this way.  The client keeps it as an ordinary fd.
 */
void
serve_answer_fd(struct serve *s, const struct scheme_packet *pkt, int fd)
{
	struct wire_rep rep;
	struct pend *p;

	sv_lock(&s->lock);
	p = slots_get(&s->pends, pkt->id);
	if (p == NULL || !(p->op->flags & WIRE_OPENS) ||
	    p->kind != PEND_REQUEST) {
		s->st.dropped_unknown++;
		sv_unlock(&s->lock);
		return;
	}
	s->st.answers++;
	wire_rep_init(&rep, p->seq);
	rep.key = 0; /* not an open file of the scheme */
	if (p->at_step != SV_AT_NONE) { /* the client makes it, and asks */
		rep.status = WIRE_SEPARATE;
		rep.result = (uint64_t)(int64_t)-EOPNOTSUPP;
		fd = -1;
	}
	sv_reply(s, p->ch, p->via, &rep, NULL, 0, fd);
	pend_free(s, p);
	sv_unlock(&s->lock);
}

/* Set up and tear down ------------------------------------------------- */

int
serve_watch(struct serve *s, int fd, serve_watch_fn fn, void *arg)
{
	struct watch *w = calloc(1, sizeof(*w));
	uint64_t key;
	int r;

	if (w == NULL)
		return -ENOMEM;
	w->fd = fd;
	w->fn = fn;
	w->arg = arg;
	sv_lock(&s->lock);
	key = slots_put(&s->watchv, w);
	r = key ? sv_ep_add(s, fd, SRC_WATCH, key) : -ENOMEM;
	if (r < 0) {
		slots_del(&s->watchv, key);
		free(w);
	} else {
		TAILQ_INSERT_TAIL(&s->watches, w, link);
	}
	sv_unlock(&s->lock);
	return r;
}

static uint32_t
at_least(uint64_t v, uint32_t floor)
{
	return v > floor ? (v < UINT32_MAX ? (uint32_t)v : UINT32_MAX) : floor;
}

/*
 * The caps (serve.h, Limits), from the fd limit we have now: every open
 * file and subscription is one fd here, every channel one to four (with
 * its pipes).  The provider keeps an eighth, and 64, for itself; of the
 * rest a user may hold half in files and a sixteenth in channels (so at
 * most three quarters, leaving a quarter to everyone else however it
 * floods), and one of its processes half of that (so another of its
 * processes still gets as much).  A cap the provider sets for a process
 * raises its user's to at least as much.
 */
static void
caps_init(struct serve *s, const struct serve_config *cfg)
{
	uint64_t nofile = 1024, reserve, budget;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		nofile = rl.rlim_cur;
	if (nofile > 1u << 24)
		nofile = 1u << 24;
	reserve = 64 + nofile / 8;
	budget = nofile > reserve ? nofile - reserve : 0;
	s->max_handles =
	    cfg->max_handles ? cfg->max_handles : at_least(budget / 4, 8);
	s->max_handles_uid = cfg->max_handles_uid
				 ? cfg->max_handles_uid
				 : at_least(budget / 2, s->max_handles);
	s->max_chans =
	    cfg->max_chans ? cfg->max_chans : at_least(budget / 64, 8);
	s->max_chans_uid = cfg->max_chans_uid
			       ? cfg->max_chans_uid
			       : at_least(budget / 16, s->max_chans);
	s->max_pending =
	    cfg->max_pending ? cfg->max_pending : SERVE_MAX_PENDING;
}

struct serve *
serve_new(const struct serve_config *cfg)
{
	struct serve *s = calloc(1, sizeof(*s));
	int saved = errno;

	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	if (cfg->name != NULL && cfg->name[0] != '\0')
		snprintf(s->name, sizeof(s->name), "%s", cfg->name);
	else
		snprintf(s->name, sizeof(s->name), "#%llx",
			 (unsigned long long)cfg->inst);
	s->cfg.name = s->name;
	s->gens_fd = -1;
	s->w.ep = -1;
	caps_init(s, cfg);
	RB_INIT(&s->clients);
	RB_INIT(&s->users);
	RB_INIT(&s->inos);
	TAILQ_INIT(&s->chanlist);
	TAILQ_INIT(&s->queued);
	TAILQ_INIT(&s->watches);
	TAILQ_INIT(&s->waiters);
	TAILQ_INIT(&s->synths);
	RB_INIT(&s->handles);
	s->ep = sv_own_hide(s, SYS(epoll_create1)(EPOLL_CLOEXEC));
	/* Hidden before epoll learns it: epoll keys items by fd number. */
	s->kick = sv_own_hide(s, SYS(eventfd)(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (s->ep < 0 || s->kick < 0 ||
	    sv_ep_add(s, s->kick, SRC_KICK, 1) < 0) {
		sv_own_close(s, s->ep);
		sv_own_close(s, s->kick);
		free(s);
		errno = saved;
		return NULL;
	}
	errno = saved;
	return s;
}

int
serve_fd(const struct serve *s)
{
	return s->ep;
}

void
serve_stop(struct serve *s)
{
	struct sv_chan *ch;
	struct desc *d;

	sv_lock(&s->lock);
	s->stopped = true;
	while ((ch = TAILQ_FIRST(&s->chanlist)) != NULL)
		chan_kill(s, ch);
	while ((d = RB_MIN(handles, &s->handles)) != NULL)
		desc_free(s, d);
	for (uint32_t i = 0; i < s->descs.used; i++)
		if ((d = s->descs.obj[i]) != NULL) /* parked */
			desc_free(s, d);
	sv_trace_close_all(s); /* its tracers read the end */
	for (uint32_t i = 0; i < s->pids.used; i++)
		if (s->pids.obj[i] != NULL)
			pid_unwatch(s, s->pids.obj[i]);
	sv_unlock(&s->lock);
}

/*
 * One of our fds was moved to another number (the program wanted it).
 * Epoll keeps reporting it: its item stays with the open file.
 */
void
serve_relocate(struct serve *s, int oldfd, int newfd)
{
	struct sv_chan *ch;
	struct desc *d;
	uint32_t i;

	sv_lock(&s->lock);
	if (s->ep == oldfd)
		s->ep = newfd;
	if (s->kick == oldfd)
		s->kick = newfd;
	if (s->w.ep == oldfd)
		s->w.ep = newfd;
	TAILQ_FOREACH(ch, &s->chanlist, link)
	{
		ch->fd = ch->fd == oldfd ? newfd : ch->fd;
		ch->pr = ch->pr == oldfd ? newfd : ch->pr;
		ch->pw = ch->pw == oldfd ? newfd : ch->pw;
		ch->prr = ch->prr == oldfd ? newfd : ch->prr;
		ch->post = ch->post == oldfd ? newfd : ch->post;
		ch->ptimer = ch->ptimer == oldfd ? newfd : ch->ptimer;
		ch->dr = ch->dr == oldfd ? newfd : ch->dr;
		ch->dw = ch->dw == oldfd ? newfd : ch->dw;
	}
	for (i = 0; i < s->descs.used; i++) {
		d = s->descs.obj[i];
		if (d != NULL && d->fd == oldfd)
			d->fd = newfd;
	}
	for (i = 0; i < s->subs.used; i++) {
		struct sub *sub = s->subs.obj[i];

		if (sub != NULL && sub->fd == oldfd)
			sub->fd = newfd;
	}
	for (i = 0; i < s->pids.used; i++) {
		struct lkpid *lp = s->pids.obj[i];

		if (lp != NULL && lp->fd == oldfd)
			lp->fd = newfd;
	}
	sv_unlock(&s->lock);
}

int
serve_stopped(const struct serve *s)
{
	return s->stopped;
}

void
serve_free(struct serve *s)
{
	struct client *cl;
	struct watch *w;
	struct synth *y;
	uint32_t i;

	if (s == NULL)
		return;
	sv_waker_stop(s);
	serve_stop(s);
	sv_lock(&s->lock);
	direct_end(s); /* its channel is dead: this frees it */
	sv_unlock(&s->lock);
	for (i = 0; i < s->pends.used; i++)
		if (s->pends.obj[i] != NULL)
			pend_free(s, s->pends.obj[i]);
	while ((w = TAILQ_FIRST(&s->watches)) != NULL) {
		TAILQ_REMOVE(&s->watches, w, link);
		free(w);
	}
	while ((y = TAILQ_FIRST(&s->synths)) != NULL) {
		TAILQ_REMOVE(&s->synths, y, link);
		free(y);
	}
	while ((cl = RB_MIN(clients, &s->clients)) != NULL) {
		RB_REMOVE(clients, &s->clients, cl); /* none, if counts hold */
		free(cl);
	}
	while ((cl = RB_MIN(clients, &s->users)) != NULL) {
		RB_REMOVE(clients, &s->users, cl);
		free(cl);
	}
	slots_free(&s->chans);
	slots_free(&s->descs);
	slots_free(&s->pends);
	slots_free(&s->watchv);
	slots_free(&s->subs);
	slots_free(&s->pids);
	lk_free(s->locks);
	sv_gens_unmap(s->gens);
	sv_own_close(s, s->gens_fd);
	free(s->spare);
	sv_own_close(s, s->ep);
	sv_own_close(s, s->kick);
	sv_own_close(s, s->w.ep);
	free(s);
}

/* For fork: no thread may be inside serve while the process is copied. */
void
serve_lock(struct serve *s)
{
	sv_lock(&s->lock);
}

void
serve_unlock(struct serve *s)
{
	sv_unlock(&s->lock);
}

/*
 * In a forked child that is not the scheme's provider: close our copies
 * of everything (nobody else notices) and forget.  The lock was taken by
 * serve_lock() in the parent before the fork.
 */
void
serve_abandon(struct serve *s)
{
	sv_unlock(&s->lock);
	serve_free(s);
}

void
serve_stats(const struct serve *s, struct wire_stats *st)
{
	*st = s->st;
}

uint64_t
serve_drops(const struct serve *s)
{
	return s->st.dropped_unknown + s->st.dropped_badsize +
	       s->st.dropped_malformed;
}

size_t
serve_count_descs(const struct serve *s)
{
	return (size_t)(s->descs.used - s->descs.nfree);
}

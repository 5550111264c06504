/*
 * poll.c - poll() and select() over scheme fds mixed with ordinary ones.
 *
 * Each scheme fd's provider is asked, on this thread's channel to it,
 * what of the wanted flags is ready (WIRE_OP_POLL, which asks SYS_FEVENT
 * and carries the fd as proof of holding it).  A provider answers at
 * once when something is ready and otherwise, if we may wait, when it
 * posts.  Meanwhile the kernel polls the ordinary fds and the channels
 * themselves.  Whatever ends the wait, the polls still out are withdrawn
 * (WIRE_OP_CANCEL) and answers that crossed the withdrawal still count:
 * nothing is left on a channel to confuse its next request.
 *
 * poll() is never restarted after a signal (as in the kernel): EINTR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scheme/scheme.h>

#include "../proto/serve/deadline.h"
#include "chan.h"
#include "client.h"
#include "fdtab.h"
#include "fdops.h"
#include "real.h"

struct pq {	    /* one scheme fd being asked about */
	nfds_t idx; /* in the program's array */
	struct chan *ch;
	uint64_t seq;
	bool answered;
};

struct pchan { /* one channel in use */
	struct chan *ch;
	uint64_t broker, inst;
	size_t outstanding;
	bool dead;
};

struct pstate {
	struct pollfd *fds;
	nfds_t n;
	struct pq *q;
	size_t nq;
	struct pchan *c;
	size_t nc;
};

static uint32_t
wanted(short events)
{
	return (events & (POLLIN | POLLRDNORM) ? EVENT_READ : 0) |
	       (events & (POLLOUT | POLLWRNORM) ? EVENT_WRITE : 0);
}

static short
revents(short events, uint64_t flags)
{
	short r = 0;

	if (flags & EVENT_READ)
		r |= POLLIN | POLLRDNORM;
	if (flags & EVENT_WRITE)
		r |= POLLOUT | POLLWRNORM;
	return r & events;
}

/* The channel for this fd's provider, shared by its fds in this call. */
static struct pchan *
pchan_for(struct pstate *st, struct sfd *e)
{
	size_t i;

	for (i = 0; i < st->nc; i++)
		if (st->c[i].inst == e->inst && st->c[i].broker == e->broker)
			return st->c[i].dead ? NULL : &st->c[i];
	st->c[st->nc] = (struct pchan){NULL, e->broker, e->inst, 0, false};
	if (chan_by_inst(e->broker, e->inst, &st->c[st->nc].ch) < 0) {
		st->c[st->nc++].dead = true;
		return NULL;
	}
	return &st->c[st->nc++];
}

static void
pchan_dead(struct pchan *pc)
{
	if (!pc->dead && pc->ch != NULL)
		chan_drop(pc->ch);
	pc->dead = true;
	pc->ch = NULL;
}

/* Its provider is gone: the fd is hung up. */
static void
mark_hup(struct pstate *st, nfds_t idx)
{
	st->fds[idx].revents |= POLLHUP | POLLERR;
}

static int
ask(struct pstate *st, nfds_t idx, struct sfd *e, bool wait)
{
	struct pollfd *p = &st->fds[idx];
	struct pchan *pc = pchan_for(st, e);
	struct wire_req req;

	if (wanted(p->events) == 0) /* only errors and hang-ups: none come */
		return 0;
	if (pc == NULL) {
		mark_hup(st, idx);
		return 0;
	}
	wire_req_init(&req, WIRE_OP_POLL, e->key);
	req.arg[1] = wanted(p->events);
	req.arg[2] = wait;
	if (chan_send(pc->ch, &req, NULL, 0, p->fd) < 0) {
		pc->ch = NULL; /* dropped by chan_send */
		pc->dead = true;
		mark_hup(st, idx);
		return 0;
	}
	st->q[st->nq++] = (struct pq){idx, pc->ch, req.seq, false};
	pc->outstanding++;
	return 0;
}

/* An answer on a channel: which of our questions, and what is ready. */
static void
take_answer(struct pstate *st, struct pchan *pc, const struct wire_rep *rep)
{
	size_t i;

	for (i = 0; i < st->nq; i++) {
		struct pq *q = &st->q[i];

		if (q->ch != pc->ch || q->seq != rep->seq || q->answered)
			continue;
		q->answered = true;
		pc->outstanding--;
		if ((int64_t)rep->result < 0)
			mark_hup(st, q->idx);
		else
			st->fds[q->idx].revents |=
			    revents(st->fds[q->idx].events, rep->result);
		return;
	}
}

/* Read what answers have come (all of them if `block`). */
static int
collect(struct pstate *st, struct pchan *pc, bool block, uint64_t until)
{
	struct wire_rep rep;
	ssize_t n;

	while (!pc->dead && (pc->outstanding > 0 || until != 0)) {
		n = chan_recv(pc->ch, &rep, NULL, 0, NULL,
			      MSG_CMSG_CLOEXEC | (block ? 0 : MSG_DONTWAIT));
		if (n == -EAGAIN)
			return 0;
		if (n == -EINTR)
			return -EINTR;
		if (n < 0) {
			for (size_t i = 0; i < st->nq; i++)
				if (st->q[i].ch == pc->ch && !st->q[i].answered)
					mark_hup(st, st->q[i].idx);
			pchan_dead(pc);
			return 0;
		}
		if (until != 0 && rep.seq == until)
			return 0; /* the withdrawal's own answer */
		take_answer(st, pc, &rep);
	}
	return 0;
}

/* Withdraw what is still out, keeping answers that crossed on the way. */
static void
cancel_all(struct pstate *st)
{
	struct wire_req req;
	size_t i;

	for (i = 0; i < st->nc; i++) {
		struct pchan *pc = &st->c[i];

		if (pc->dead || pc->outstanding == 0)
			continue;
		wire_req_init(&req, WIRE_OP_CANCEL, 0);
		if (chan_send(pc->ch, &req, NULL, 0, -1) < 0) {
			pc->ch = NULL;
			pc->dead = true;
			continue;
		}
		while (collect(st, pc, true, req.seq) == -EINTR)
			; /* finish the exchange: the channel must be clean */
		pc->outstanding = 0;
	}
}

static int
count_ready(const struct pstate *st)
{
	int n = 0;

	for (nfds_t i = 0; i < st->n; i++)
		if (st->fds[i].revents != 0)
			n++;
	return n;
}

/*
 * The kernel's part: the ordinary fds (k[0..nk), for fds[map[i]]) and the
 * channels with questions out, until something is ready, the time is up,
 * or a signal comes.  Returns 0 or -errno.
 */
static int
kernel_wait(struct pstate *st, struct pollfd *k, nfds_t nk, const nfds_t *map,
	    long timeout, const sigset_t *mask)
{
	struct timespec ts, *tsp = NULL;
	struct deadline dl;
	nfds_t i, m;
	long ms;

	deadline_start(&dl, timeout);
	for (;;) {
		for (m = nk, i = 0; i < st->nc; i++)
			if (!st->c[i].dead && st->c[i].outstanding > 0)
				k[m++] =
				    (struct pollfd){st->c[i].ch->fd, POLLIN, 0};
		if (timeout >= 0) {
			ms = deadline_left(&dl);
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (ms % 1000) * 1000000L;
			tsp = &ts;
		}
		if (REAL(ppoll)(k, m, tsp, mask) < 0)
			return -errno;
		for (i = 0; i < st->nc; i++)
			if (collect(st, &st->c[i], false, 0) < 0)
				return -EINTR;
		for (i = 0; i < nk; i++)
			st->fds[map[i]].revents = k[i].revents;
		if (count_ready(st) > 0 ||
		    (tsp != NULL && deadline_left(&dl) == 0))
			return 0;
	}
}

/*
 * poll() over fds of which some are scheme fds.  timeout_ms as poll's
 * (-1: forever); mask as ppoll's.  Returns the count, or -errno.  Small
 * calls use the stack: poll may be called from a signal handler.
 */
int
sc_poll(struct pollfd *fds, nfds_t n, long timeout_ms, const sigset_t *mask)
{
	enum { SMALL = 64 };
	struct pq qs[SMALL];
	struct pchan cs[SMALL];
	struct pollfd ks[2 * SMALL];
	nfds_t maps[SMALL];
	struct pstate st = {fds, n, qs, 0, cs, 0};
	struct pollfd *k = ks;
	nfds_t i, nk = 0, *map = maps;
	size_t c;
	int r;

	if (n > SMALL) {
		st.q = calloc(n, sizeof(*st.q));
		st.c = calloc(n, sizeof(*st.c));
		k = calloc(2 * n, sizeof(*k));
		map = calloc(n, sizeof(*map));
		if (st.q == NULL || st.c == NULL || k == NULL || map == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		struct sfd *e = fdtab_get(fds[i].fd);

		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;
		if (e != NULL && e->ops->ours)
			fds[i].revents = POLLNVAL;
		else if (e != NULL && e->ops->requests)
			ask(&st, i, e, timeout_ms != 0);
		else {
			map[nk] = i;
			k[nk++] = (struct pollfd){fds[i].fd, fds[i].events, 0};
		}
	}
	if (timeout_ms == 0) /* every provider answers at once: wait for it */
		for (c = 0; c < st.nc; c++)
			collect(&st, &st.c[c], true, 0);
	r = kernel_wait(&st, k, nk, map, count_ready(&st) ? 0 : timeout_ms,
			mask);
	cancel_all(&st);
	for (c = 0; c < st.nc; c++)
		if (!st.c[c].dead)
			chan_release(st.c[c].ch);
	if (r == 0)
		r = count_ready(&st);
out:
	if (n > SMALL) {
		free(st.q);
		free(st.c);
		free(k);
		free(map);
	}
	return r;
}

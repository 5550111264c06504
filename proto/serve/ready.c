/*
 * ready.c - readiness on the provider's side: who is told when a provider
 * posts SYS_FEVENT for one of its handles.
 *
 *  - WIRE_OP_WAIT: a blocking client that got EAGAIN waits for the next
 *    post after the generation it saw (any flags).
 *  - WIRE_OP_POLL: poll()/select() ask what is ready now; we ask the
 *    provider SYS_FEVENT and answer at once when something is, or when a
 *    matching post comes (if the client is willing to wait).
 *    WIRE_OP_CANCEL withdraws a channel's waiting polls.
 *  - WIRE_OP_SUBSCRIBE: epoll and event: registrations.  We make a socket
 *    pair, ask SYS_FEVENT once, send a record if ready, and give the
 *    subscriber its end with the answer; from then on one record per
 *    matching post.  Holding that end also proves the right to ask about
 *    the description (a thread that never touched the fd may be the one
 *    that waits), without keeping the description open.
 *
 * No lost wake-ups: the description's generation is bumped by every post,
 * and a SYS_FEVENT answer of "not ready" given while a post slipped in
 * (the generation moved since we asked) counts as ready.  Subscriptions
 * are listed before we ask, so a post can never fall between.
 *
 * Bounded memory: a record is sent only when its flags are not already
 * queued on that socket (SIOCOUTQ says when the subscriber has drained
 * it), so a flood of posts costs each subscriber at most one record per
 * flag.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve_impl.h"
#include "../sys.h"

#define ALL_FLAGS (EVENT_READ | EVENT_WRITE)

/* Waiters ---------------------------------------------------------------- */

void
sv_waiters_drop(struct serve *s, struct sv_chan *ch, uint64_t key)
{
	struct waiter *w, *tmp;

	TAILQ_FOREACH_SAFE(w, &s->waiters, link, tmp)
	{
		if ((ch != NULL && w->ch != ch) || (key != 0 && w->key != key))
			continue;
		TAILQ_REMOVE(&s->waiters, w, link);
		w->ch->pending--;
		sv_chan_put(w->ch);
		free(w);
	}
}

static int
waiter_add(struct serve *s, struct sv_chan *ch, uint64_t seq, uint64_t key,
	   uint32_t flags)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return -ENOMEM;
	w->ch = ch;
	ch->refs++;
	ch->pending++;
	w->seq = seq;
	w->key = key;
	w->flags = flags;
	TAILQ_INSERT_TAIL(&s->waiters, w, link);
	return 0;
}

static void
answer_ready(struct serve *s, struct sv_chan *ch, uint64_t seq,
	     const struct desc *d, uint64_t flags)
{
	struct wire_rep rep;

	wire_rep_init(&rep, seq);
	rep.result = flags;
	if (d != NULL) {
		rep.gen = d->gen;
		rep.dflags = d->flags;
	}
	sv_reply(s, ch, SV_SOCK, &rep, NULL, 0, -1);
}

/* WIRE_OP_WAIT: answer once a post passes the generation the client saw. */
void
sv_do_wait(struct serve *s, struct sv_chan *ch, struct desc *d,
	   const struct wire_req *req)
{
	if (d->gen != req->arg[2] || waiter_add(s, ch, req->seq, d->key, 0) < 0)
		answer_ready(s, ch, req->seq, d, 0);
}

/*
 * WIRE_OP_CANCEL: the client stops waiting.  Its waiters go without an
 * answer, and so do its polls still with the provider; then this answer,
 * after which the channel carries nothing more of them.
 */
void
sv_do_cancel(struct serve *s, struct sv_chan *ch, const struct wire_req *req)
{
	uint32_t i;

	sv_waiters_drop(s, ch, 0);
	for (i = 0; i < s->pends.used; i++) {
		struct pend *p = s->pends.obj[i];

		if (p != NULL && p->ch == ch && p->kind == PEND_POLL)
			p->cancelled = true;
	}
	sv_reply_err(s, ch, SV_SOCK, req->seq, 0, WIRE_OK);
}

/* Subscriptions ---------------------------------------------------------- */

static void
sub_free(struct serve *s, struct sub *sub)
{
	TAILQ_REMOVE(&sub->d->subs, sub, link);
	slots_del(&s->subs, sub->key);
	sv_uncharge_handle(s, &sub->cl, &sub->ucl);
	sv_own_close(s, sub->fd);
	sv_xclose(sub->give);
	free(sub);
}

bool
sv_sub_proves(const struct desc *d, ino_t ino)
{
	const struct sub *sub;

	TAILQ_FOREACH(sub, &d->subs, link)
	if (sub->peer_ino == ino)
		return true;
	return false;
}

/* A subscription made for a request that was then refused. */
void
sv_sub_drop(struct serve *s, uint64_t key)
{
	struct sub *sub = slots_get(&s->subs, key);

	if (sub != NULL)
		sub_free(s, sub);
}

void
sv_subs_free(struct serve *s, struct desc *d)
{
	struct sub *sub;

	while ((sub = TAILQ_FIRST(&d->subs)) != NULL)
		sub_free(s, sub);
}

/* One record, unless these flags already wait undrained on the socket. */
static void
record(struct serve *s, struct sub *sub, uint32_t flags)
{
	struct wire_rec rec = {WIRE_MAGIC, WIRE_VERSION, flags, sub->d->gen};
	int queued = 0;
	ssize_t n;

	if (flags == 0)
		return;
	if (SYS(ioctl)(sub->fd, SIOCOUTQ, &queued) == 0 && queued == 0)
		sub->queued = 0; /* drained since */
	if ((sub->queued & flags) == flags)
		return;
	n = SYS(send)(sub->fd, &rec, sizeof(rec), MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == sizeof(rec))
		sub->queued |= flags;
	else if (n < 0 && errno != EAGAIN && errno != ENOBUFS)
		sub_free(s, sub); /* the subscriber is gone */
}

/* The subscriber closed its end (or sent us something it should not). */
void
sv_sub_ready(struct serve *s, struct sub *sub, uint32_t events)
{
	char junk[64];

	if (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) {
		sub_free(s, sub);
		return;
	}
	while (SYS(recv)(sub->fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		s->st.dropped_malformed++;
}

/*
 * A new subscription, listed at once so that no post is missed while we
 * ask the provider what is ready; *key is its slot.  Its socket is an fd
 * held for the subscriber: charged to it as an open file is.
 */
int
sv_do_subscribe(struct serve *s, struct desc *d, uint32_t flags,
		const struct wire_creds *cr, uint64_t *key)
{
	struct sub *sub;
	struct stat st;
	int sv[2], r;

	if ((flags & ~ALL_FLAGS) != 0 || flags == 0)
		return -EINVAL;
	if ((sub = calloc(1, sizeof(*sub))) == NULL)
		return -ENOMEM;
	if (SYS(socketpair)(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) <
		0 ||
	    SYS(fstat)(sv[1], &st) < 0) {
		r = -errno;
		free(sub);
		return r;
	}
	sub->fd = sv_own_hide(s, sv[0]);
	sub->give = sv[1];
	sub->peer_ino = st.st_ino;
	sub->d = d;
	sub->flags = flags;
	sub->key = slots_put(&s->subs, sub);
	r = sub->key ? sv_ep_add(s, sub->fd, SRC_SUB, sub->key) : -ENOMEM;
	if (r == 0)
		r = sv_charge_handle(s, cr, &sub->cl, &sub->ucl);
	if (r < 0) {
		slots_del(&s->subs, sub->key);
		sv_own_close(s, sub->fd);
		sv_xclose(sub->give);
		free(sub);
		return r;
	}
	TAILQ_INSERT_TAIL(&d->subs, sub, link);
	*key = sub->key;
	return 0;
}

/* The provider answered our SYS_FEVENT -------------------------------- */

/*
 * A provider that cannot say (any error: it does not implement
 * SYS_FEVENT) is taken to be always ready, as Linux takes a file that
 * cannot be polled.  "Not ready" while a post slipped in counts as ready.
 */
static uint32_t
ready_flags(const struct pend *p, const struct desc *d, int64_t res)
{
	if (res < 0)
		return p->want;
	if (((uint64_t)res & p->want) != 0)
		return (uint32_t)res & p->want;
	if (d != NULL && d->gen != p->gen0)
		return p->want;
	return 0;
}

void
sv_fevent_answer(struct serve *s, struct pend *p, int64_t res)
{
	struct desc *d = slots_get(&s->descs, p->key);
	uint32_t ready = ready_flags(p, d, res);
	struct sub *sub;

	if (p->kind == PEND_SUB) {
		struct wire_rep rep;

		if ((sub = slots_get(&s->subs, p->arg)) == NULL) {
			sv_reply_err(s, p->ch, SV_SOCK, p->seq, -EBADF, WIRE_OK);
			return;
		}
		record(s, sub, ready);
		wire_rep_init(&rep, p->seq);
		sv_reply(s, p->ch, SV_SOCK, &rep, NULL, 0, sub->give); /* its end */
		sv_xclose(sub->give); /* gone with the answer, or to nobody */
		sub->give = -1;
		return;
	}
	if (p->cancelled || p->ch == NULL || p->ch->dead)
		return;
	if (ready != 0 || !p->wait || d == NULL ||
	    waiter_add(s, p->ch, p->seq, p->key, p->want) < 0)
		answer_ready(s, p->ch, p->seq, d, ready);
}

/* Posts ------------------------------------------------------------------ */

static void
wake(struct serve *s, struct desc *d, uint32_t flags)
{
	struct waiter *w, *tmp;
	struct sub *sub, *stmp;

	TAILQ_FOREACH_SAFE(w, &s->waiters, link, tmp)
	{
		if (w->key != d->key || (w->flags != 0 && !(w->flags & flags)))
			continue;
		TAILQ_REMOVE(&s->waiters, w, link);
		w->ch->pending--;
		answer_ready(s, w->ch, w->seq, d,
			     w->flags ? w->flags & flags : flags);
		sv_chan_put(w->ch);
		free(w);
	}
	TAILQ_FOREACH_SAFE(sub, &d->subs, link, stmp)
	record(s, sub, sub->flags & flags);
}

/* A provider's id-0 SYS_FEVENT: every open file with that handle. */
void
sv_post(struct serve *s, uint64_t handle, uint64_t flags)
{
	struct desc find = {.handle = handle, .key = 0}, *d;

	for (d = RB_NFIND(handles, &s->handles, &find);
	     d != NULL && d->handle == handle;
	     d = RB_NEXT(handles, &s->handles, d)) {
		d->gen++;
		wake(s, d, (uint32_t)flags & ALL_FLAGS);
	}
}

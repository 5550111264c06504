/*
 * epset.c - epoll sets that watch scheme fds, and event: queues (epset.h).
 *
 * Semantics.  Edge-triggered registrations (EPOLLET, and every event:
 * registration, as on Redox) report what the provider posted and drain
 * the records.  Level-triggered ones ask the provider what is ready
 * before reporting (records stay while it is; they are drained when it
 * is not), so a program is never told a scheme fd is readable when a
 * read would block.  When a scheme fd's open file ends (its last fd
 * closed anywhere, or its provider gone) the provider closes the
 * subscription: it is reported once, with EPOLLHUP, and forgotten.
 *
 * Lifetimes.  As with epoll itself, a registration holds no reference to
 * the watched file: closing the last fd of it removes it.  An fd number
 * reused for another file is a new registration; events of the old one
 * are recognised by their key and dropped (the reader does not have to
 * guess which file an event is for).
 *
 * Locks.  Each set has its own lock, held while a provider answers a
 * query (sub_flags) or a subscription (add, modify): so it is not one of
 * state.h's, which prepare takes before a fork.  A fork's child may
 * find it held by a thread of the parent that is not there: the child
 * makes every set's lock anew (a walk of the fd table, whose records are
 * what hold the sets), as it does the state.h locks held across calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../proto/serve/slots.h"
#include "client.h"
#include "epset.h"
#include "fdtab.h"
#include "hidden.h"
#include "real.h"
#include "state.h"

#define TAG	  (0xa5ull << SLOTS_KEY_BITS)
#define TAG_MASK  (0xffull << SLOTS_KEY_BITS)
#define KEY_MASK  ((1ull << SLOTS_KEY_BITS) - 1)
#define ALL	  (EVENT_READ | EVENT_WRITE)
#define PASS_BITS (EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP)

struct epent {
	int fd;		   /* the program's fd: the event's id */
	int sub;	   /* subscription socket, or -1: a plain fd */
	uint64_t key;	   /* our slot, in the epoll data */
	uint64_t data;	   /* the program's data or token */
	uint32_t interest; /* EVENT_READ | EVENT_WRITE */
	uint32_t kflags;   /* EPOLLET, EPOLLONESHOT, ... as asked */
	uint32_t uevents;  /* an epoll program's events, as asked */
	dev_t dev;	   /* which file the fd was, to tell reuse */
	ino_t ino;
	struct sfd id; /* a scheme fd's description */
};

struct epset {
	atomic_int refs;
	pthread_mutex_t lock;
	bool eventq;
	atomic_bool nonblock;
	struct slots ents;
	uint64_t *byfd; /* fd -> key */
	size_t nbyfd;
};

struct epset *
epset_new(bool eventq, bool nonblock)
{
	struct epset *es = calloc(1, sizeof(*es));

	if (es == NULL)
		return NULL;
	atomic_store(&es->refs, 1);
	pthread_mutex_init(&es->lock, NULL);
	es->eventq = eventq;
	atomic_store(&es->nonblock, nonblock);
	return es;
}

struct epset *
epset_of(int epfd)
{
	struct sfd *e = fdtab_get(epfd);

	return e != NULL ? e->es : NULL; /* an event queue's or an epoll's */
}

/* The set behind a program's epoll fd, made when it first meets a scheme. */
struct epset *
epset_attach(int epfd)
{
	struct epset *es = epset_of(epfd);
	struct sfd *e;

	if (es != NULL)
		return es;
	if ((es = epset_new(false, false)) == NULL ||
	    (e = sfd_new(&fdops_epoll)) == NULL) {
		free(es);
		return NULL;
	}
	e->es = es;
	if (fdtab_set(epfd, e) < 0) {
		sfd_free(e);
		free(es);
		return NULL;
	}
	return es;
}

void
epset_hold(struct epset *es)
{
	atomic_fetch_add(&es->refs, 1);
}

static void
ent_free(struct epset *es, struct epent *ent)
{
	if (ent->sub >= 0)
		hidden_close(ent->sub);
	if ((size_t)ent->fd < es->nbyfd && es->byfd[ent->fd] == ent->key)
		es->byfd[ent->fd] = 0;
	slots_del(&es->ents, ent->key);
	free(ent);
}

/* The last fd of the set is gone (the kernel forgot its items). */
void
epset_put(struct epset *es)
{
	if (atomic_fetch_sub(&es->refs, 1) != 1)
		return;
	for (uint32_t i = 0; i < es->ents.used; i++)
		if (es->ents.obj[i] != NULL)
			ent_free(es, es->ents.obj[i]);
	slots_free(&es->ents);
	free(es->byfd);
	pthread_mutex_destroy(&es->lock);
	free(es);
}

bool
epset_nonblock(const struct epset *es)
{
	return atomic_load(&es->nonblock);
}

void
epset_setfl(struct epset *es, int flags)
{
	atomic_store(&es->nonblock, (flags & O_NONBLOCK) != 0);
}

static struct epent *
lookup(struct epset *es, int fd)
{
	if (fd < 0 || (size_t)fd >= es->nbyfd || es->byfd[fd] == 0)
		return NULL;
	return slots_get(&es->ents, es->byfd[fd]);
}

static int
index_fd(struct epset *es, int fd, uint64_t key)
{
	size_t n = es->nbyfd;
	uint64_t *m;

	if ((size_t)fd >= n) {
		while (n <= (size_t)fd)
			n = n ? n * 2 : 64;
		if ((m = reallocarray(es->byfd, n, sizeof(*m))) == NULL)
			return -ENOMEM;
		memset(m + es->nbyfd, 0, (n - es->nbyfd) * sizeof(*m));
		es->byfd = m;
		es->nbyfd = n;
	}
	es->byfd[fd] = key;
	return 0;
}

static uint32_t
kernel_events(const struct epent *ent)
{
	uint32_t ev = ent->kflags & PASS_BITS;

	if (ent->sub >= 0) /* records arrive as data on the socket */
		return ev | EPOLLIN | (ent->kflags & EPOLLET);
	if (ent->interest & EVENT_READ)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (ent->interest & EVENT_WRITE)
		ev |= EPOLLOUT;
	return ev | EPOLLET; /* plain fds in an event: queue: edges */
}

static int
kctl(int epfd, int op, const struct epent *ent)
{
	struct epoll_event ev = {.events = kernel_events(ent),
				 .data.u64 = TAG | ent->key};

	return REAL(epoll_ctl)(epfd, op, ent->sub >= 0 ? ent->sub : ent->fd,
			       &ev) < 0
		   ? -errno
		   : 0;
}

/* Where the registration's records come from: a new subscription. */
static int
subscribe(struct epent *ent, int fd, struct sfd *e)
{
	int sub = e->ops->subscribe(fd, e, ent->interest);

	if (sub < 0)
		return sub;
	ent->sub = sub;
	ent->id = *e;
	return 0;
}

static int
add(struct epset *es, int epfd, int fd, struct epent *tmpl)
{
	struct sfd *e = fdtab_get(fd);
	struct epent *ent = malloc(sizeof(*ent));
	struct stat st;
	int r;

	if (ent == NULL)
		return -ENOMEM;
	*ent = *tmpl;
	ent->fd = fd;
	ent->sub = -1;
	r = REAL(fstat)(fd, &st) < 0 ? -errno : 0;
	ent->dev = st.st_dev;
	ent->ino = st.st_ino;
	if (r == 0 && e != NULL && e->ops->subscribe != NULL)
		r = subscribe(ent, fd, e);
	if (r == 0 && (ent->key = slots_put(&es->ents, ent)) == 0)
		r = -ENOMEM;
	if (r == 0 && (r = index_fd(es, fd, ent->key)) == 0 &&
	    (r = kctl(epfd, EPOLL_CTL_ADD, ent)) == 0)
		return 0;
	if (ent->key != 0)
		slots_del(&es->ents, ent->key);
	if (ent->sub >= 0)
		hidden_close(ent->sub);
	free(ent);
	return r;
}

/* Another file now has this fd number: forget the old registration. */
static bool
stale(const struct epent *ent, int fd)
{
	struct stat st;

	return REAL(fstat)(fd, &st) < 0 || st.st_dev != ent->dev ||
	       st.st_ino != ent->ino;
}

static int
modify(struct epset *es, int epfd, struct epent *ent, struct epent *tmpl)
{
	struct sfd *e = fdtab_get(ent->fd);
	int old = ent->sub, r;

	if (old >= 0 && tmpl->interest != ent->interest) {
		ent->interest = tmpl->interest;
		if (e == NULL || (r = subscribe(ent, ent->fd, e)) < 0) {
			ent->sub = old;
			return e == NULL ? -EBADF : r;
		}
		ent->kflags = tmpl->kflags;
		REAL(epoll_ctl)(epfd, EPOLL_CTL_DEL, old, NULL);
		hidden_close(old);
		r = kctl(epfd, EPOLL_CTL_ADD, ent);
	} else {
		ent->interest = tmpl->interest;
		ent->kflags = tmpl->kflags;
		r = kctl(epfd, EPOLL_CTL_MOD, ent);
	}
	ent->data = tmpl->data;
	ent->uevents = tmpl->uevents;
	return r;
}

static void
del(struct epset *es, int epfd, struct epent *ent)
{
	REAL(epoll_ctl)
	(epfd, EPOLL_CTL_DEL, ent->sub >= 0 ? ent->sub : ent->fd,
	 NULL); /* a closed fd has left the set already */
	ent_free(es, ent);
}

/*
 * epoll_ctl for the set; interest is EVENT_* and kflags the epoll flags
 * (EPOLLET, EPOLLONESHOT...) as asked.  For an epoll program, `data` is
 * its epoll_data and the events it asked go in the top of kflags' user
 * part (uevents); errors are the kernel's (EEXIST, ENOENT, EBADF).
 */
int
epset_ctl(struct epset *es, int epfd, int op, int fd, uint32_t interest,
	  uint32_t kflags, uint64_t data)
{
	struct epent tmpl = {.interest = interest & ALL,
			     .kflags = kflags,
			     .uevents = kflags,
			     .data = data},
		     *ent;
	int r;

	pthread_mutex_lock(&es->lock);
	ent = lookup(es, fd);
	if (ent != NULL && op != EPOLL_CTL_DEL && stale(ent, fd)) {
		del(es, epfd, ent);
		ent = NULL;
	}
	if (op == EPOLL_CTL_ADD)
		r = ent != NULL ? -EEXIST : add(es, epfd, fd, &tmpl);
	else if (op == EPOLL_CTL_MOD)
		r = ent == NULL ? -ENOENT : modify(es, epfd, ent, &tmpl);
	else if (ent != NULL)
		del(es, epfd, ent), r = 0;
	else
		r = -ENOENT;
	pthread_mutex_unlock(&es->lock);
	return r;
}

/* What a subscription has to say: flags, or -1 when its file ended. */
static int
sub_flags(struct epent *ent, uint32_t kevents)
{
	bool gone;
	uint32_t flags;
	int ready;

	if (kevents & (EPOLLHUP | EPOLLERR))
		return -1;
	if (ent->kflags & EPOLLET) {
		flags = sc_drain(ent->sub, &gone);
		return gone ? -1 : (int)(flags & ent->interest);
	}
	ready = sc_query(ent->sub, &ent->id, ent->interest);
	if (ready < 0)
		return -1;
	if (ready == 0) {
		sc_drain(ent->sub, &gone); /* not ready: forget the posts */
		return gone ? -1 : 0;
	}
	return ready;
}

static uint32_t
to_epoll(uint32_t flags)
{
	return (flags & EVENT_READ ? EPOLLIN | EPOLLRDNORM : 0) |
	       (flags & EVENT_WRITE ? EPOLLOUT | EPOLLWRNORM : 0);
}

/*
 * An epoll program's events, translated in place: ours become the
 * program's fd's events and data, dropped when there is nothing to say
 * (a one-shot registration is then armed again).  Returns the count.
 */
int
epset_translate(struct epset *es, int epfd, struct epoll_event *ev, int n)
{
	struct epent *ent;
	int i, out = 0, f;

	pthread_mutex_lock(&es->lock);
	for (i = 0; i < n; i++) {
		if ((ev[i].data.u64 & TAG_MASK) != TAG) {
			ev[out++] = ev[i];
			continue;
		}
		ent = slots_get(&es->ents, ev[i].data.u64 & KEY_MASK);
		if (ent == NULL)
			continue; /* an event of a registration since gone */
		f = sub_flags(ent, ev[i].events);
		if (f < 0) {
			ev[out].events = (ent->uevents & (EPOLLIN | EPOLLOUT)) |
					 EPOLLHUP | EPOLLERR;
			ev[out++].data.u64 = ent->data;
			del(es, epfd, ent);
			continue;
		}
		if ((to_epoll((uint32_t)f) & ent->uevents) == 0) {
			if (ent->kflags & EPOLLONESHOT)
				kctl(epfd, EPOLL_CTL_MOD, ent);
			continue;
		}
		ev[out].events = to_epoll((uint32_t)f) & ent->uevents;
		ev[out++].data.u64 = ent->data;
	}
	pthread_mutex_unlock(&es->lock);
	return out;
}

static uint32_t
plain_flags(const struct epent *ent, uint32_t kevents)
{
	uint32_t f = 0;

	if (kevents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		f |= EVENT_READ;
	if (kevents & (EPOLLOUT | EPOLLERR))
		f |= EVENT_WRITE;
	return f & ent->interest;
}

/*
 * An event: queue's events as Redox gives them: the fd, what happened,
 * the caller's token.  A scheme fd whose open file ended reports its
 * interest once and is forgotten.
 */
int
epset_events(struct epset *es, int epfd, const struct epoll_event *ev, int n,
	     struct scheme_event *out)
{
	struct epent *ent;
	int i, k = 0, f;

	pthread_mutex_lock(&es->lock);
	for (i = 0; i < n; i++) {
		ent = (ev[i].data.u64 & TAG_MASK) == TAG
			  ? slots_get(&es->ents, ev[i].data.u64 & KEY_MASK)
			  : NULL;
		if (ent == NULL)
			continue;
		f = ent->sub >= 0 ? sub_flags(ent, ev[i].events)
				  : (int)plain_flags(ent, ev[i].events);
		if (f == 0)
			continue;
		out[k].id = (uint64_t)ent->fd;
		out[k].flags = f < 0 ? ent->interest : (uint64_t)f;
		out[k++].data = ent->data;
		if (f < 0)
			del(es, epfd, ent);
	}
	pthread_mutex_unlock(&es->lock);
	return k;
}

/* A record holding a set was copied (a dup) or let go. */
void
epset_record_hold(struct sfd *e)
{
	epset_hold(e->es);
}

void
epset_record_put(struct sfd *e)
{
	epset_put(e->es);
}

/*
 * The ops of a program's epoll fd once it watches a scheme fd (fdops.h):
 * the kernel's, but for the set kept beside it.
 */
const struct sfd_ops fdops_epoll = {
    .kind = "epoll set",
    .hold = epset_record_hold,
    .put = epset_record_put,
};

/* A fork's child: no thread of it holds a set's lock (see the top). */
static void
fork_child(void)
{
	struct sfd *e;

	for (int fd = fdtab_next(0); fd >= 0; fd = fdtab_next(fd + 1))
		if ((e = fdtab_get(fd)) != NULL && e->es != NULL)
			pthread_mutex_init(&e->es->lock, NULL);
}

const struct st_fork_hook epset_fork_hook = {ST_FDTAB, NULL, NULL, fork_child};

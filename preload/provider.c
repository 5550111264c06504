/*
 * provider.c - schemes this process provides (see provider.h).
 *
 * The broker hands us clients' channels over the registration connection
 * (WIRE_CTL_NEWCHAN); serve watches it and calls ctl_ready(), inside the
 * program's read().  When the broker closes it (the scheme was removed,
 * or the broker stopped) the scheme stops and read() returns 0.
 *
 * The program may hold several fds for one scheme (dup); the scheme goes
 * when the last is closed.  Counters of dropped answers go to the broker,
 * where `schemectl info` shows them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../proto/serve.h"
#include "../proto/sys.h"
#include "../proto/wire.h"
#include "bconn.h"
#include "hidden.h"
#include "provider.h"
#include "real.h"

#define BATCH 64

struct provider {
	struct serve *s; /* NULL in a forked child: not ours to serve */
	_Atomic int ctl;
	atomic_int refs;
	atomic_bool nonblock;
	pthread_mutex_t lock; /* reported counters */
	struct wire_stats reported;
	struct timespec reported_at;
	struct provider *next, **prev;
};

/* Every scheme this process provides, for fork. */
static pthread_mutex_t plock = PTHREAD_MUTEX_INITIALIZER;
static struct provider *plist;
static bool keep_on_fork;

static void
serve_moved(void *ctx, int oldfd, int newfd)
{
	struct provider *p = ctx;

	serve_relocate(p->s, oldfd, newfd);
}

static int
hide(int fd, void *ctx)
{
	return hidden_move(fd, serve_moved, ctx);
}

static void
unhide_close(int fd, void *ctx)
{
	hidden_close(fd);
}

static void
ctl_moved(void *ctx, int oldfd, int newfd)
{
	struct provider *p = ctx;
	int expected = oldfd;

	atomic_compare_exchange_strong(&p->ctl, &expected, newfd);
}

/* The broker speaks: a new client channel, or the end of the scheme. */
static void
ctl_ready(struct serve *s, void *arg, uint32_t events)
{
	struct provider *p = arg;
	struct wire_ctl m;
	struct iovec iov = {&m, sizeof(m)};
	ssize_t n;
	int fd;

	for (;;) {
		n = wire_recv(atomic_load(&p->ctl), &iov, 1, &fd, NULL,
			      MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n <= 0 || wire_ctl_check(&m, (size_t)n) < 0) {
			if (fd >= 0)
				REAL(close)(fd);
			serve_stop(s);
			return;
		}
		if (m.type == WIRE_CTL_NEWCHAN && fd >= 0)
			serve_add_chan(s, hide(fd, p));
		else if (fd >= 0)
			REAL(close)(fd);
	}
}

/*
 * Counters go to the broker when an answer was dropped, and otherwise at
 * most every 100 ms while requests come in (schemectl info shows them as
 * last reported).
 */
static void
report(struct provider *p)
{
	struct wire_stats st;
	struct wire_ctl m;
	struct timespec now;
	long ms;

	serve_stats(p->s, &st);
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&p->lock);
	ms = (now.tv_sec - p->reported_at.tv_sec) * 1000 +
	     (now.tv_nsec - p->reported_at.tv_nsec) / 1000000;
	if (st.dropped_unknown == p->reported.dropped_unknown &&
	    st.dropped_badsize == p->reported.dropped_badsize &&
	    st.dropped_malformed == p->reported.dropped_malformed &&
	    (st.answers == p->reported.answers || ms < 100)) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	p->reported = st;
	p->reported_at = now;
	pthread_mutex_unlock(&p->lock);
	wire_ctl_init(&m, WIRE_CTL_STATS);
	m.len = sizeof(st);
	wire_send(atomic_load(&p->ctl), &m, sizeof(m), &st, sizeof(st), -1,
		  NULL, MSG_DONTWAIT);
}

/* A scheme with thousands of open files needs thousands of fds. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < (1 << 20) ? rl.rlim_max : 1 << 20;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* A connection of our own to the broker, registered as the scheme. */
static int
do_register(const char *name, size_t len, struct wire_ctl *rep)
{
	struct iovec iov = {rep, sizeof(*rep)};
	struct wire_ctl req;
	ssize_t n;
	int fd;

	if ((fd = bconn_open()) < 0)
		return fd == -ENOTCONN ? -ECONNREFUSED : fd;
	wire_ctl_init(&req, WIRE_CTL_CREATE);
	req.len = (uint32_t)len;
	n = wire_send(fd, &req, sizeof(req), name, len, -1, NULL, 0);
	while (n >= 0 && (n = wire_recv(fd, &iov, 1, NULL, NULL, 0)) == -EINTR)
		;
	if (n <= 0 || wire_ctl_check(rep, (size_t)n) < 0 ||
	    rep->type != (WIRE_CTL_CREATE | WIRE_CTL_REPLY)) {
		REAL(close)(fd);
		return -ECONNREFUSED;
	}
	if (rep->err < 0) {
		REAL(close)(fd);
		return rep->err; /* EEXIST, EACCES, ... */
	}
	return fd;
}

static void
provider_free(struct provider *p)
{
	if (p->s == NULL) { /* abandoned in a fork: nothing else is left */
		pthread_mutex_destroy(&p->lock);
		free(p);
		return;
	}
	pthread_mutex_lock(&plock);
	if (p->prev != NULL) {
		*p->prev = p->next;
		if (p->next != NULL)
			p->next->prev = p->prev;
	}
	pthread_mutex_unlock(&plock);
	serve_free(p->s);
	hidden_close(atomic_load(&p->ctl));
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int
provider_create(const char *name, size_t len, int flags)
{
	struct serve_config cfg;
	struct wire_ctl rep;
	struct provider *p;
	struct sfd *e;
	int ctl, fd;

	if (wire_name_check(name, len) < 0)
		return -EINVAL;
	if ((ctl = do_register(name, len, &rep)) < 0)
		return ctl;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		REAL(close)(ctl);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	atomic_store(&p->ctl, hidden_move(ctl, ctl_moved, p));
	cfg = (struct serve_config){.broker = rep.broker,
				    .inst = rep.inst,
				    .hide_fd = hide,
				    .close_fd = unhide_close,
				    .ctx = p};
	e = sfd_new(SFD_PROVIDER);
	fd = -1;
	if (e != NULL && (p->s = serve_new(&cfg)) != NULL &&
	    serve_watch(p->s, atomic_load(&p->ctl), ctl_ready, p) == 0)
		fd = REAL(fcntl)(
		    serve_fd(p->s),
		    (flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	if (e != NULL)
		e->prov = p; /* complete before the table shows it */
	pthread_mutex_lock(&plock);
	p->next = plist;
	if (plist != NULL)
		plist->prev = &p->next;
	plist = p;
	p->prev = &plist;
	pthread_mutex_unlock(&plock);
	atomic_store(&p->refs, 1);
	atomic_store(&p->nonblock, (flags & O_NONBLOCK) != 0);
	if (fd < 0 || fdtab_set(fd, e) < 0) {
		if (fd >= 0)
			REAL(close)(fd);
		sfd_free(e);
		provider_free(p);
		return -ENOMEM;
	}
	raise_nofile();
	return fd;
}

ssize_t
provider_read(struct sfd *e, void *buf, size_t n)
{
	struct scheme_packet pkts[BATCH];
	struct provider *p = e->prov;
	size_t want = n / sizeof(pkts[0]);
	ssize_t r;

	if (want == 0)
		return -EINVAL;
	if (p->s == NULL)
		return 0; /* a forked child's copy: the scheme is not here */
	r = serve_read(p->s, pkts, want < BATCH ? want : BATCH,
		       atomic_load(&p->nonblock) ? 0 : -1);
	if (r <= 0)
		return r;
	/* The program's buffer need not be aligned for the struct. */
	memcpy(buf, pkts, (size_t)r * sizeof(pkts[0]));
	report(p);
	return r * (ssize_t)sizeof(pkts[0]);
}

ssize_t
provider_write(struct sfd *e, const void *buf, size_t n)
{
	struct provider *p = e->prov;
	struct scheme_packet pkt;
	size_t i;

	if (n % sizeof(pkt) != 0)
		return -EINVAL;
	if (p->s == NULL)
		return -EBADF;
	for (i = 0; i < n; i += sizeof(pkt)) {
		memcpy(&pkt, (const char *)buf + i, sizeof(pkt));
		serve_write(p->s, &pkt);
	}
	report(p);
	return (ssize_t)n;
}

void
provider_hold(struct sfd *e)
{
	atomic_fetch_add(&e->prov->refs, 1);
}

/* One fd of the scheme is gone; with the last, so is the scheme. */
void
provider_put(struct sfd *e)
{
	struct provider *p = e->prov;

	if (atomic_fetch_sub(&p->refs, 1) == 1)
		provider_free(p);
}

void
provider_setfl(struct sfd *e, int flags)
{
	atomic_store(&e->prov->nonblock, (flags & O_NONBLOCK) != 0);
}

/*
 * Fork.  A scheme belongs to the process that created it: in a child the
 * copies of its sockets are closed (or the broker and the provider would
 * never hear of a close while the child lives), and the child's scheme fd
 * reads end-of-file.  daemon() is the exception: its parent exits at
 * once, and the child carries on as the provider.
 */
void
provider_keep_on_fork(bool keep)
{
	keep_on_fork = keep;
}

void
provider_atfork_prepare(void)
{
	struct provider *p;

	pthread_mutex_lock(&plock);
	for (p = plist; p != NULL; p = p->next)
		serve_lock(p->s);
}

void
provider_atfork_parent(void)
{
	struct provider *p;

	for (p = plist; p != NULL; p = p->next)
		serve_unlock(p->s);
	pthread_mutex_unlock(&plock);
}

void
provider_atfork_child(void)
{
	struct provider *p;

	for (p = plist; p != NULL; p = p->next) {
		if (keep_on_fork) {
			serve_unlock(p->s);
			continue;
		}
		serve_abandon(p->s);
		p->s = NULL;
		hidden_close(atomic_exchange(&p->ctl, -1));
	}
	if (!keep_on_fork)
		plist = NULL;
	pthread_mutex_unlock(&plock);
}

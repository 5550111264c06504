/*
 * provider.c - schemes this process provides (see provider.h).
 *
 * The broker hands us clients' channels over the registration connection
 * (WIRE_CTL_NEWCHAN), and tracers' sockets (WIRE_CTL_NEWTRACE); serve
 * watches it and calls ctl_ready(), inside the program's read().  When
 * the broker closes it (the scheme was removed, or the broker stopped)
 * the scheme stops and read() returns 0.
 *
 * The program may hold several fds for one scheme (dup); the scheme goes
 * when the last is closed.  Counters of dropped answers go to the broker,
 * where `schemectl info` shows them.
 *
 * A NEWCHAN carries whom the channel is for (struct wire_newchan): its
 * flags (a keyed-only channel, for a client whose namespace does not hold
 * the scheme, refuses paths), its owner's pid, uid and epoch, by which
 * serve caps channels and refuses paths on a channel made before its
 * owner changed namespace (serve.h).  A message we cannot read that way
 * is logged and its fd closed: refusing a channel costs one client,
 * misreading it could give paths to a client that may not name them.
 * The broker's epoch table comes with the answer to CREATE: a sealed
 * memfd, mapped read-only here while the scheme lives.
 *
 * Limits, read from the environment when the scheme is created (0, unset
 * or not a number: the default, a share of our fd limit; see serve.h):
 *
 *	SCHEME_MAX_HANDLES	open files per client process
 *	SCHEME_MAX_HANDLES_UID	open files per client user
 *	SCHEME_MAX_CHANNELS	channels per client process
 *	SCHEME_MAX_CHANNELS_UID	channels per client user
 *	SCHEME_MAX_PENDING	unanswered requests per client process (1024)
 *
 * A read returns at most BATCH packets; a write takes at most MAX_WRITE
 * packets and says how many it took (a short count, as a pipe would),
 * so neither loops or copies without bound on the program's say-so.  The
 * packets past the count were not taken: write them again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "../proto/nofile.h"
#include "../proto/serve/serve.h"
#include "../proto/wire/wire.h"
#include "bconn.h"
#include "hidden.h"
#include "provider.h"
#include "fdops.h"
#include "handlers.h"
#include "real.h"
#include "state.h"
#include "uaccess.h"
#include "wrap.h"

#define BATCH	  64
#define MAX_WRITE 4096 /* packets one write() takes: 224 KiB */

struct provider {
	struct serve *s; /* NULL in a forked child: not ours to serve */
	char name[WIRE_MAX_NAME + 1];
	_Atomic int ctl;
	atomic_int refs;
	atomic_bool nonblock;
	const _Atomic uint32_t *epochs; /* the broker's table, or NULL */
	uint32_t nepochs;
	pthread_mutex_t lock; /* reported counters */
	struct wire_stats reported;
	struct timespec reported_at;
	/*
	 * What a report() with nothing to say looks at, without the lock:
	 * the answers dropped when last reported, and until when (ns of the
	 * coarse clock) answers alone are not worth a report.
	 */
	_Atomic uint64_t quiet_drops;
	_Atomic int64_t quiet_until;
	struct provider *next, **prev;
};

/* Every scheme this process provides, for fork. */
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

/* A line on the program's stderr, as serve's refusals are. */
static void
say(const struct provider *p, const char *what)
{
	char line[160];
	int n, saved = errno;
	ssize_t w = 0;

	n = snprintf(line, sizeof(line), "scheme %s: %s\n", p->name, what);
	if (n > 0 && (size_t)n < sizeof(line))
		w = REAL(write)(2, line, (size_t)n);
	(void)w; /* nowhere else to say it */
	errno = saved;
}

static void
new_chan(struct provider *p, const struct wire_ctl *m, const void *payload,
	 int fd)
{
	struct serve_chan_info ci;
	struct wire_newchan nc;

	if (fd < 0)
		return;
	if (wire_newchan_get(payload, m->len, &nc) < 0) {
		say(p, "a channel we cannot read: refused");
		REAL(close)(fd);
		return;
	}
	ci = (struct serve_chan_info){
	    (nc.flags & WIRE_CHAN_NOPATHS) ? SERVE_CHAN_NOPATHS : 0, nc.pid,
	    nc.uid, nc.epoch};
	serve_add_chan_for(p->s, hide(fd, p), &ci); /* it owns fd now */
}

/*
 * The broker speaks: a new client channel, or the end of the scheme.  A
 * message too long for us is one we do not know: it goes (wire_recv closes
 * its fd), the scheme stays.
 */
static void
ctl_ready(struct serve *s, void *arg, uint32_t events)
{
	struct provider *p = arg;
	union {
		struct wire_ctl m;
		char buf[sizeof(struct wire_ctl) + 64];
	} u;
	struct iovec iov = {&u, sizeof(u)};
	ssize_t n;
	int fd;

	for (;;) {
		n = wire_recv(atomic_load(&p->ctl), &iov, 1, &fd, NULL,
			      MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n == -EMSGSIZE) {
			say(p, "a message from the broker too long: ignored");
			continue;
		}
		if (n <= 0 || wire_ctl_check(&u.m, (size_t)n) < 0) {
			if (fd >= 0)
				REAL(close)(fd);
			serve_stop(s);
			return;
		}
		if (u.m.type == WIRE_CTL_NEWCHAN)
			new_chan(p, &u.m, u.buf + sizeof(u.m), fd);
		else if (u.m.type == WIRE_CTL_NEWTRACE && fd >= 0)
			serve_add_trace(s,
					fd); /* a tracer (wire.h): ours now */
		else if (fd >= 0)
			REAL(close)(fd);
	}
}

/*
 * We carry on as the provider in a new process (daemon()): the broker
 * learns our pid from the message (it reads the sender's credentials on
 * a registration), since our open files, made from now on, say it.
 */
static void
announce(struct provider *p)
{
	struct wire_stats st;
	struct wire_ctl m;

	serve_stats(p->s, &st);
	wire_ctl_init(&m, WIRE_CTL_STATS);
	m.len = sizeof(st);
	wire_send(atomic_load(&p->ctl), &m, sizeof(m), &st, sizeof(st), -1,
		  NULL, MSG_DONTWAIT);
}

/*
 * Counters go to the broker when an answer was dropped, and otherwise at
 * most every 100 ms while requests come in (schemectl info shows them as
 * last reported).
 */
static uint64_t
drops(const struct wire_stats *st)
{
	return st->dropped_unknown + st->dropped_badsize +
	       st->dropped_malformed;
}

/* The slow part of report(): whether to send, and sending. */
static __attribute__((noinline)) void
report_now(struct provider *p, const struct wire_stats *st)
{
	struct wire_ctl m;
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&p->lock);
	ms = (now.tv_sec - p->reported_at.tv_sec) * 1000 +
	     (now.tv_nsec - p->reported_at.tv_nsec) / 1000000;
	if (st->dropped_unknown == p->reported.dropped_unknown &&
	    st->dropped_badsize == p->reported.dropped_badsize &&
	    st->dropped_malformed == p->reported.dropped_malformed &&
	    (st->answers == p->reported.answers || ms < 100)) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	p->reported = *st;
	p->reported_at = now;
	atomic_store_explicit(&p->quiet_drops, drops(st), memory_order_relaxed);
	atomic_store_explicit(&p->quiet_until,
			      (int64_t)now.tv_sec * 1000000000 + now.tv_nsec +
				  100000000,
			      memory_order_relaxed);
	pthread_mutex_unlock(&p->lock);
	wire_ctl_init(&m, WIRE_CTL_STATS);
	m.len = sizeof(*st);
	wire_send(atomic_load(&p->ctl), &m, sizeof(m), st, sizeof(*st), -1,
		  NULL, MSG_DONTWAIT);
}

/*
 * Called twice a request: the usual case, no answer dropped and under
 * 100 ms since the last report, costs no lock and a coarse clock (which
 * lags the other by at most a tick: a report may come that much later,
 * never sooner), inline in the caller.
 */
static inline void
report(struct provider *p)
{
	struct wire_stats st;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (serve_drops(p->s) !=
		atomic_load_explicit(&p->quiet_drops, memory_order_relaxed) ||
	    (int64_t)now.tv_sec * 1000000000 + now.tv_nsec >=
		atomic_load_explicit(&p->quiet_until, memory_order_relaxed)) {
		serve_stats(p->s, &st);
		report_now(p, &st);
	}
}

/* A cap from the environment; 0 (serve's default) unless a number. */
static uint32_t
env_cap(const char *var)
{
	const char *v = getenv(var);
	unsigned long n;
	char *end;
	int saved = errno, bad;

	if (v == NULL || *v < '0' || *v > '9')
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	bad = errno != 0 || *end != '\0' || n > UINT32_MAX;
	errno = saved;
	return bad ? 0 : (uint32_t)n;
}

/*
 * The broker's epoch table, read-only: a memfd sealed so that it can
 * neither shrink under us nor be written by anyone but the broker's
 * mapping.  Anything else is no table (serve then checks nothing, as the
 * broker does without one).
 */
static void
map_epochs(struct provider *p, int fd)
{
	int need = F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE, seals;
	struct stat st;
	void *m;

	if (fd < 0)
		return;
	seals = REAL(fcntl)(fd, F_GET_SEALS);
	if (seals >= 0 && (seals & need) == need && REAL(fstat)(fd, &st) == 0 &&
	    st.st_size >= (off_t)sizeof(uint32_t) &&
	    st.st_size / sizeof(uint32_t) <= UINT32_MAX &&
	    (m = REAL(mmap)(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd,
			    0)) != MAP_FAILED) {
		p->epochs = m;
		p->nepochs = (uint32_t)(st.st_size / sizeof(uint32_t));
	}
	REAL(close)(fd);
}

static void
unmap_epochs(struct provider *p)
{
	if (p->epochs != NULL)
		munmap((void *)p->epochs, p->nepochs * sizeof(uint32_t));
	p->epochs = NULL;
}

/*
 * A connection of our own to the broker, registered as the scheme; the
 * answer brings the epoch table (into *epochs, or -1).
 */
static int
do_register(const char *name, size_t len, struct wire_ctl *rep, int *epochs)
{
	struct iovec iov = {rep, sizeof(*rep)};
	struct wire_ctl req;
	ssize_t n;
	int fd;

	*epochs = -1;
	if ((fd = bconn_open()) < 0)
		return fd == -ENOTCONN ? -ECONNREFUSED : fd;
	wire_ctl_init(&req, WIRE_CTL_CREATE);
	req.len = (uint32_t)len;
	n = wire_send(fd, &req, sizeof(req), name, len, -1, NULL, 0);
	while (n >= 0 && (n = wire_recv(fd, &iov, 1, epochs, NULL,
					MSG_CMSG_CLOEXEC)) == -EINTR)
		;
	if (n <= 0 || wire_ctl_check(rep, (size_t)n) < 0 ||
	    rep->type != (WIRE_CTL_CREATE | WIRE_CTL_REPLY) || rep->err < 0) {
		if (*epochs >= 0)
			REAL(close)(*epochs);
		*epochs = -1;
		REAL(close)(fd);
		if (n > 0 && wire_ctl_check(rep, (size_t)n) == 0 &&
		    rep->type == (WIRE_CTL_CREATE | WIRE_CTL_REPLY))
			return rep->err; /* EEXIST, EACCES, ... */
		return -ECONNREFUSED;
	}
	return fd;
}

static void
provider_free(struct provider *p)
{
	if (p->s == NULL) { /* abandoned in a fork: nothing else is left */
		unmap_epochs(p);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return;
	}
	st_lock(ST_PROVIDERS);
	if (p->prev != NULL) {
		*p->prev = p->next;
		if (p->next != NULL)
			p->next->prev = p->prev;
	}
	st_unlock(ST_PROVIDERS);
	serve_free(p->s);
	unmap_epochs(p);
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
	int ctl, fd, epochs;

	if (wire_name_check(name, len) < 0)
		return -EINVAL;
	if ((ctl = do_register(name, len, &rep, &epochs)) < 0)
		return ctl;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		REAL(close)(ctl);
		if (epochs >= 0)
			REAL(close)(epochs);
		return -ENOMEM;
	}
	map_epochs(p, epochs);
	nofile_raise(); /* before serve_new: its caps are shares of it */
	pthread_mutex_init(&p->lock, NULL);
	memcpy(p->name, name, len); /* len <= WIRE_MAX_NAME, checked */
	atomic_store(&p->ctl, hidden_move(ctl, ctl_moved, p));
	cfg = (struct serve_config){.broker = rep.broker,
				    .inst = rep.inst,
				    .hide_fd = hide,
				    .close_fd = unhide_close,
				    .ctx = p,
				    .name = p->name,
				    .epochs = p->epochs,
				    .nepochs = p->nepochs,
				    .restarts = handlers_restart};
	cfg.max_handles = env_cap("SCHEME_MAX_HANDLES");
	cfg.max_handles_uid = env_cap("SCHEME_MAX_HANDLES_UID");
	cfg.max_chans = env_cap("SCHEME_MAX_CHANNELS");
	cfg.max_chans_uid = env_cap("SCHEME_MAX_CHANNELS_UID");
	cfg.max_pending = env_cap("SCHEME_MAX_PENDING");
	e = sfd_new(&fdops_provider);
	fd = -1;
	if (e != NULL && (p->s = serve_new(&cfg)) != NULL &&
	    serve_watch(p->s, atomic_load(&p->ctl), ctl_ready, p) == 0)
		fd = REAL(fcntl)(
		    serve_fd(p->s),
		    (flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	if (e != NULL)
		e->prov = p; /* complete before the table shows it */
	st_lock(ST_PROVIDERS);
	p->next = plist;
	if (plist != NULL)
		plist->prev = &p->next;
	plist = p;
	p->prev = &plist;
	st_unlock(ST_PROVIDERS);
	atomic_store(&p->refs, 1);
	atomic_store(&p->nonblock, (flags & O_NONBLOCK) != 0);
	if (fd < 0 || fdtab_set(fd, e) < 0) {
		if (fd >= 0)
			REAL(close)(fd);
		sfd_free(e);
		provider_free(p);
		return -ENOMEM;
	}
	return fd;
}

static inline __attribute__((always_inline)) ssize_t
provider_read(struct sfd *e, void *buf, size_t n)
{
	struct scheme_packet pkts[BATCH];
	struct provider *p = e->prov;
	size_t want = n / sizeof(pkts[0]), len, ok;
	bool aligned;
	ssize_t r;

	if (want == 0)
		return -EINVAL;
	if (p->s == NULL)
		return 0; /* a forked child's copy: the scheme is not here */
	if (want > BATCH)
		want = BATCH;
	len = want * sizeof(pkts[0]);
	if ((ok = ua_write_span(buf, len)) != len)
		want = ok / sizeof(pkts[0]); /* as far as buf may be written */
	if (want == 0)
		return -EFAULT;
	/*
	 * Reported before taking more, not after: then every request read
	 * so far and not yet answered is one the provider keeps, and the
	 * counters' difference means what schemectl info says it does.
	 */
	report(p);
	/*
	 * The program's buffer need not be aligned for the struct: then the
	 * packets come into ours and are copied.
	 */
	aligned = (uintptr_t)buf % _Alignof(struct scheme_packet) == 0;
	r = serve_read(p->s, aligned ? buf : pkts, want,
		       atomic_load(&p->nonblock) ? 0 : -1);
	if (r <= 0)
		return r;
	if (!aligned)
		memcpy(buf, pkts, (size_t)r * sizeof(pkts[0]));
	return r * (ssize_t)sizeof(pkts[0]);
}

static inline __attribute__((always_inline)) ssize_t
provider_write(struct sfd *e, const void *buf, size_t n)
{
	struct provider *p = e->prov;
	struct scheme_packet pkt;
	size_t i, ok;

	if (n % sizeof(pkt) != 0)
		return -EINVAL;
	if (p->s == NULL)
		return -EBADF;
	if (n > MAX_WRITE * sizeof(pkt))
		n = MAX_WRITE * sizeof(pkt); /* a short count: the rest later */
	if (n > 0 && (ok = ua_read_span(buf, n)) != n &&
	    (n = ok / sizeof(pkt) * sizeof(pkt)) == 0)
		return -EFAULT; /* buf cannot be read (uaccess.h) */
	for (i = 0; i < n; i += sizeof(pkt)) {
		memcpy(&pkt, (const char *)buf + i, sizeof(pkt));
		serve_write(p->s, &pkt);
	}
	report(p);
	return (ssize_t)n;
}

/*
 * A thread in a direct read (serve.c) is in no cancellation point: every
 * scheme of the process wakes its reader, which then waits in
 * epoll_wait, where the cancellation is acted on.  After the real call,
 * so that the woken thread finds it pending.
 */
EXPORT int
pthread_cancel(pthread_t t)
{
	struct provider *p;
	int r = REAL(pthread_cancel)(t), saved = errno;

	st_lock(ST_PROVIDERS);
	for (p = plist; p != NULL; p = p->next)
		if (p->s != NULL)
			serve_wake(p->s);
	st_unlock(ST_PROVIDERS);
	errno = saved;
	return r;
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

/* Each scheme's serving state whole for the child (ST_PROVIDERS held). */
static void
fork_prepare(void)
{
	struct provider *p;

	for (p = plist; p != NULL; p = p->next)
		serve_lock(p->s);
}

static void
fork_parent(void)
{
	struct provider *p;

	for (p = plist; p != NULL; p = p->next)
		serve_unlock(p->s);
}

static void
fork_child(void)
{
	struct provider *p;

	for (p = plist; p != NULL; p = p->next) {
		pthread_mutex_init(&p->lock, NULL);
		if (keep_on_fork) {
			serve_unlock(p->s);
			announce(p);
			continue;
		}
		serve_abandon(p->s);
		p->s = NULL;
		unmap_epochs(p);
		hidden_close(atomic_exchange(&p->ctl, -1));
	}
	if (!keep_on_fork)
		plist = NULL;
}

const struct st_fork_hook provider_fork_hook = {ST_PROVIDERS, fork_prepare,
						fork_parent, fork_child};

/*
 * The ops of a scheme this process provides (fdops.h): reads and writes
 * carry packets through the serving code; the rest is the kernel's, on
 * the serving code's epoll fd, which is what the fd is.
 */
static ssize_t
p_readv(int fd, struct sfd *e, const struct iovec *iov, int n)
{
	int r = ua_iov_first(iov, n);

	return r < 0 ? r : provider_read(e, iov[0].iov_base, iov[0].iov_len);
}

static ssize_t
p_writev(int fd, struct sfd *e, const struct iovec *iov, int n)
{
	int r = ua_iov_first(iov, n);

	return r < 0 ? r : provider_write(e, iov[0].iov_base, iov[0].iov_len);
}

/* read() and write() themselves (fdops.h): errno is set here. */
static ssize_t
p_read(int fd, struct sfd *e, void *buf, size_t n)
{
	int saved = errno;

	return wrap_ret(provider_read(e, buf, n), saved);
}

static ssize_t
p_write(int fd, struct sfd *e, const void *buf, size_t n)
{
	int saved = errno;

	return wrap_ret(provider_write(e, buf, n), saved);
}

static int
p_fcntl(int fd, struct sfd *e, int cmd, uintptr_t arg)
{
	int r;

	if (cmd == F_SETFL)
		atomic_store(&e->prov->nonblock, (arg & O_NONBLOCK) != 0);
	r = REAL(fcntl)(fd, cmd, arg);
	return r < 0 ? -errno : r;
}

const struct sfd_ops fdops_provider = {
    .kind = "scheme provided",
    .readv = p_readv,
    .writev = p_writev,
    .read = p_read,
    .write = p_write,
    .fcntl = p_fcntl,
    .hold = provider_hold,
    .put = provider_put,
};

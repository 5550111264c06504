/*
 * control.c - the listening socket and the control connections.
 *
 * Every process under the preload keeps one control connection for
 * CONNECT and LIST; a provider opens one more per scheme it creates, and
 * that connection *is* the scheme: when it closes (the provider closed its
 * scheme fd, exited, or was killed) the scheme is gone.
 *
 * Peers are identified by SO_PEERCRED, taken by the kernel at connect().
 * A peer's bad message is logged and its connection dropped; nothing a
 * peer sends is fatal to the broker.  Connections closed while a batch of
 * events is in hand are only freed once the batch is done (see reap()).
 *
 * Roles.  A connection is a process's own (it may ask anything), a
 * scheme's registration (it only reports STATS once it is one; each
 * message carries its sender's pid, so that the child that carries on
 * after daemon() is known as the one serving), or a namespace token (it
 * only JOINs).  A connection opens by name in its
 * rns and creates in its ens (ns.c); a channel by instance to a scheme
 * its rns does not see carries no path operations, so that the fds a
 * process held before it narrowed its namespace keep working and nothing
 * else does.
 *
 * Channels.  A channel is handed to its provider with whom it is for: the
 * asking connection's pid and uid, and that pid's epoch (epoch.c), so
 * that the provider can cap channels per process and user and refuse
 * paths on a channel made before its owner changed namespace.  The
 * client learns which process serves it: the creator of the scheme's
 * open files, by which a process that got one by exec or SCM_RIGHTS
 * recognises it (SERVES).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../proto/wire/sockpath.h"
#include "broker.h"
#include "log.h"

#define CTL_MAX_PAYLOAD 4096

static TAILQ_HEAD(, conn) graveyard = TAILQ_HEAD_INITIALIZER(graveyard);

static int
ctl_reply_fds(struct conn *c, const struct wire_ctl *req, int err,
	      uint64_t inst, const void *data, size_t len, const int *fds,
	      int nfds)
{
	struct wire_ctl rep;
	struct iovec iov[2] = {{&rep, sizeof(rep)}, {(void *)data, len}};
	ssize_t r;

	wire_ctl_init(&rep, req->type | WIRE_CTL_REPLY);
	rep.err = err;
	rep.inst = inst;
	rep.broker = br->id;
	rep.len = (uint32_t)len;
	r = wire_sendv_fds(c->src.fd, iov, len ? 2 : 1, fds, nfds, NULL,
			   MSG_DONTWAIT);
	return r < 0 ? (int)r : 0;
}

static int
ctl_reply(struct conn *c, const struct wire_ctl *req, int err, uint64_t inst,
	  const void *data, size_t len, int fd)
{
	return ctl_reply_fds(c, req, err, inst, data, len, &fd, fd >= 0);
}

#define may_administer policy_may_administer

/* A socket pair: one end for the client, the other for whoever serves. */
static int
new_channel(int sv[2])
{
	int one = 1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	/* Set before the client can send, so every request has creds. */
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	wire_setsockbuf(sv[0]);
	wire_setsockbuf(sv[1]);
	return 0;
}

/*
 * Give the provider its end of a new channel for c.  A provider whose
 * queue is full is busy (EAGAIN); one whose connection is broken has
 * died, and we may not have read its hang-up yet: it is removed now (and
 * s with it).  A built-in over a cap refuses the channel (EAGAIN).
 */
static int
hand_to_provider(struct conn *c, struct scheme *s, int fd, int gone,
		 uint32_t flags)
{
	struct wire_newchan nc = {flags, (uint32_t)c->peer.pid, c->peer.uid,
				  epoch_of(br, c->peer.pid)};
	struct wire_ctl m;
	ssize_t r;

	if (s->builtin != NULL) {
		struct serve_chan_info ci = {
		    flags & WIRE_CHAN_NOPATHS ? SERVE_CHAN_NOPATHS : 0, nc.pid,
		    nc.uid, nc.epoch};

		return serve_add_chan_for(s->builtin, fd, &ci);
	}
	wire_ctl_init(&m, WIRE_CTL_NEWCHAN);
	m.inst = s->inst;
	m.broker = br->id;
	m.len = sizeof(nc);
	r = wire_send(s->conn->src.fd, &m, sizeof(m), &nc, sizeof(nc), fd, NULL,
		      MSG_DONTWAIT);
	close(fd);
	if (r == -EAGAIN || r == -ENOBUFS)
		return -EAGAIN;
	if (r < 0) {
		control_close(br, s->conn);
		return gone;
	}
	return 0;
}

/* A channel to s for c: *fd is the client's end. */
static int
chan_for(struct conn *c, struct scheme *s, uint32_t flags, int gone, int *fd)
{
	int sv[2], r;

	if ((r = new_channel(sv)) < 0)
		return r;
	if ((r = hand_to_provider(c, s, sv[1], gone, flags)) < 0) {
		close(sv[0]);
		return r;
	}
	*fd = sv[0];
	return 0;
}

/* A channel by instance carries paths only if c's namespace sees s. */
static uint32_t
inst_flags(const struct conn *c, const struct scheme *s)
{
	return ns_sees(c->rns, s) ? 0 : WIRE_CHAN_NOPATHS;
}

static void
do_connect(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	char name[WIRE_MAX_NAME + 1];
	struct wire_chan out = {0};
	struct scheme *s = NULL;
	uint32_t flags = 0;
	int fd = -1, r;

	if (m->inst != 0) {
		s = registry_by_inst(br, m->inst);
		r = s != NULL ? 0 : -EBADF; /* its provider is gone */
		if (r == 0)
			flags = inst_flags(c, s); /* maybe only the fds held */
	} else if (m->len > WIRE_MAX_NAME) {
		r = -ENAMETOOLONG;
	} else {
		memcpy(name, payload, m->len);
		name[m->len] = '\0';
		s = registry_by_name(br, name);
		r = s != NULL ? 0 : -ENOENT;
		if (c->rns->id == WIRE_NS_NULL ||
		    (s != NULL && !ns_sees(c->rns, s)))
			r = -ENODEV; /* as Redox: not in this namespace */
	}
	if (r == 0 && s->local && flags) /* event: holds nothing across */
		r = -ENODEV;
	if (r == 0 && s->local) { /* served in each process: no channel */
		ctl_reply(c, m, 0, s->inst, NULL, 0, -1);
		return;
	}
	if (r == 0) {
		out = (struct wire_chan){s->inst, (uint32_t)s->pid, 0};
		r = chan_for(c, s, flags, m->inst ? -EBADF : -ENOENT, &fd);
	}
	if (r < 0) {
		log_debug("connect by pid %d: %s", (int)c->peer.pid,
			  strerror(-r));
		ctl_reply(c, m, r, 0, NULL, 0, -1);
		return;
	}
	ctl_reply(c, m, 0, out.inst, &out, sizeof(out), fd);
	close(fd);
}

/* Whether pids[i] came earlier in the list. */
static bool
seen(const char *pids, size_t i, uint32_t pid)
{
	uint32_t p;

	while (i-- > 0) {
		memcpy(&p, pids + i * sizeof(p), sizeof(p));
		if (p == pid)
			return true;
	}
	return false;
}

/*
 * SERVES: which schemes the given pids serve, with a channel to each (by
 * instance, as CONNECT gives one: keyed-only where c's namespace does not
 * see the scheme).  A process that got fds by exec or SCM_RIGHTS asks
 * this once about their peers, the processes that made them.
 */
static void
do_serves(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	struct wire_chan out[WIRE_SERVES_MAX];
	int fds[WIRE_SERVES_MAX], nfd = 0;
	size_t i, n = 0, npid = m->len / sizeof(uint32_t);
	struct scheme *s, *next;
	uint32_t pid;

	if (m->len % sizeof(pid) != 0 || npid > WIRE_SERVES_MAX) {
		ctl_reply(c, m, -EINVAL, 0, NULL, 0, -1);
		return;
	}
	for (i = 0; i < npid && n < WIRE_SERVES_MAX; i++) {
		memcpy(&pid, payload + i * sizeof(pid), sizeof(pid));
		if (pid == 0 || pid > INT_MAX || seen(payload, i, pid))
			continue;
		for (s = registry_by_pid(br, (pid_t)pid, NULL);
		     s != NULL && n < WIRE_SERVES_MAX; s = next) {
			/* Found dead, s goes: its neighbour stays. */
			next = registry_by_pid(br, (pid_t)pid, s);
			if (s->local)
				continue;
			out[n] = (struct wire_chan){s->inst, pid, 0};
			out[n].err =
			    chan_for(c, s, inst_flags(c, s), -EBADF, &fds[nfd]);
			nfd += out[n++].err == 0;
		}
	}
	ctl_reply_fds(c, m, 0, 0, out, n * sizeof(out[0]), fds, nfd);
	while (nfd > 0)
		close(fds[--nfd]);
}

/* Hand a tracer's socket to whoever serves s: its provider, or us. */
static int
hand_trace(struct scheme *s, int fd)
{
	struct wire_ctl m;
	ssize_t r;

	if (s->builtin != NULL)
		return serve_add_trace(s->builtin, fd);
	wire_ctl_init(&m, WIRE_CTL_NEWTRACE);
	m.inst = s->inst;
	m.broker = br->id;
	r = wire_send(s->conn->src.fd, &m, sizeof(m), NULL, 0, fd, NULL,
		      MSG_DONTWAIT);
	close(fd);
	return r < 0 ? (int)r : 0;
}

/* May c trace s: its own user's scheme, or any for root and our uid. */
static bool
may_trace(const struct conn *c, const struct scheme *s)
{
	return !s->local && ns_sees(c->rns, s) &&
	       (s->owner.uid == c->peer.uid || may_administer(&c->peer));
}

/* One scheme traced: a socket pair, one end to its server, one to c. */
static int
trace_one(struct scheme *s, struct wire_traced *t, int *fd)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	wire_setsockbuf(sv[1]);
	if ((r = hand_trace(s, sv[1])) < 0) {
		close(sv[0]);
		return r;
	}
	memset(t, 0, sizeof(*t));
	t->inst = s->inst;
	memcpy(t->name, s->name, sizeof(t->name));
	*fd = sv[0];
	return 0;
}

/*
 * TRACE (wire.h "Tracing"): the schemes named ('\n'-separated), or every
 * one c sees and may trace.  A name c does not see is ENOENT; one it may
 * not trace, EPERM; the answer's inst says which name (from 0).
 */
static void
do_trace(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	struct wire_traced out[WIRE_TRACE_MAX];
	int fds[WIRE_TRACE_MAX], n = 0, r = 0;
	uint64_t which = 0; /* the name being looked at, from 0 */
	char name[WIRE_MAX_NAME + 1];
	const char *p = payload, *end = payload + m->len, *nl;
	struct scheme *s;

	if (m->len == 0) {
		RB_FOREACH(s, scheme_names, &br->names)
		{
			if (n < WIRE_TRACE_MAX && may_trace(c, s) &&
			    trace_one(s, &out[n], &fds[n]) == 0)
				n++;
		}
	}
	for (; m->len > 0 && p < end; p = nl + 1, which++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p || nl - p > WIRE_MAX_NAME) {
			r = -EINVAL;
			break;
		}
		memcpy(name, p, (size_t)(nl - p));
		name[nl - p] = '\0';
		s = registry_by_name(br, name);
		if (s == NULL || !ns_sees(c->rns, s))
			r = -ENOENT;
		else if (!may_trace(c, s))
			r = -EPERM;
		else if (n >= WIRE_TRACE_MAX)
			r = -E2BIG;
		else if ((r = trace_one(s, &out[n], &fds[n])) == 0)
			n++;
		if (r < 0)
			break;
	}
	if (r < 0) {
		while (n > 0)
			close(fds[--n]);
		ctl_reply(c, m, r, which, NULL, 0, -1); /* inst: which name */
		return;
	}
	log_debug("pid %d traces %d schemes", (int)c->peer.pid, n);
	ctl_reply_fds(c, m, 0, 0, out, (size_t)n * sizeof(out[0]), fds, n);
	while (n > 0)
		close(fds[--n]);
}

static void
do_create(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	struct scheme *s;
	int r;

	if (c->scheme != NULL) {
		ctl_reply(c, m, -EBUSY, 0, NULL, 0, -1);
		return;
	}
	if (c->rns->id == WIRE_NS_NULL || c->ens->id == WIRE_NS_NULL)
		r = -ENODEV; /* ":" is not in the null namespace */
	else
		r = wire_name_check(payload, m->len);
	if (r == 0 && m->len == sizeof(WIRE_NS_FILE_NAME) - 1 &&
	    memcmp(payload, WIRE_NS_FILE_NAME, m->len) == 0)
		r = -EEXIST; /* the name mkns gives ordinary files */
	if (r < 0 || (r = policy_may_create(br, c)) < 0 ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		ctl_reply(c, m, r < 0 ? r : -ENOMEM, 0, NULL, 0, -1);
		return;
	}
	memcpy(s->name, payload, m->len);
	s->conn = c;
	s->owner = c->peer;
	s->pid = c->peer.pid;
	if ((r = registry_add(br, s)) < 0 ||
	    (r = ns_add(c->ens, s->inst)) < 0) {
		if (r != -EEXIST)
			registry_remove(br, s);
		free(s);
		ctl_reply(c, m, r, 0, NULL, 0, -1);
		return;
	}
	c->scheme = s;
	policy_created(br, c);
	/* From now on each message it sends says who sent it. */
	setsockopt(c->src.fd, SOL_SOCKET, SO_PASSCRED, &(int){1}, sizeof(int));
	log_info("scheme %s: created by pid %d uid %u (instance %llu)", s->name,
		 (int)c->peer.pid, (unsigned)c->peer.uid,
		 (unsigned long long)s->inst);
	/* The epoch table goes with the answer: the provider maps it. */
	ctl_reply(c, m, 0, s->inst, NULL, 0, br->epoch_fd);
}

static void
do_list(struct conn *c, const struct wire_ctl *m)
{
	size_t n = registry_list(br, c->rns, NULL, 0);
	char *buf = malloc(n + 1);

	if (buf == NULL) {
		ctl_reply(c, m, -ENOMEM, 0, NULL, 0, -1);
		return;
	}
	registry_list(br, c->rns, buf, n);
	ctl_reply(c, m, 0, 0, buf, n, -1);
	free(buf);
}

/*
 * What `schemectl info` shows (schemectl(1) says what each counts).  The
 * first lines are the broker's; each scheme line is its provider's
 * counters as last reported (providers report at most every 100 ms while
 * requests come in), and they add up: requests = answers + unanswered.
 */
#define INFO_LINE (WIRE_MAX_NAME + 256) /* one scheme's line, at most */

static size_t
info_scheme(char *buf, size_t len, const struct scheme *s)
{
	const struct wire_stats *st = &s->st;
	int n = snprintf(
	    buf, len,
	    "scheme %s instance %llu pid %d requests %llu answers %llu"
	    " unanswered %llu dropped_unknown %llu dropped_badsize %llu"
	    " dropped_malformed %llu\n",
	    s->name, (unsigned long long)s->inst, (int)s->owner.pid,
	    (unsigned long long)st->requests, (unsigned long long)st->answers,
	    (unsigned long long)(st->requests > st->answers
				     ? st->requests - st->answers
				     : 0),
	    (unsigned long long)st->dropped_unknown,
	    (unsigned long long)st->dropped_badsize,
	    (unsigned long long)st->dropped_malformed);

	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

static void
do_info(struct conn *c, const struct wire_ctl *m)
{
	size_t cap = INFO_LINE * (br->nprovided + 2), n, provided = 0;
	struct scheme *s;
	char *buf;

	if (cap > WIRE_MAX_DATA)
		cap = WIRE_MAX_DATA;
	if ((buf = malloc(cap)) == NULL) {
		ctl_reply(c, m, -ENOMEM, 0, NULL, 0, -1);
		return;
	}
	RB_FOREACH(s, scheme_insts, &br->insts)
	provided += s->inst >= INST_FIRST;
	n = (size_t)snprintf(buf, cap,
			     "pid %d\nbroker %016llx\nsocket %s\n"
			     "schemes %zu\nconnections %zu\n",
			     (int)getpid(), (unsigned long long)br->id,
			     br->path, provided, br->nconns);
	RB_FOREACH(s, scheme_names, &br->names)
	{
		if (s->builtin == NULL && !s->local && n < cap)
			n += info_scheme(buf + n, cap - n, s);
	}
	ctl_reply(c, m, 0, 0, buf, n < cap ? n : cap, -1);
	free(buf);
}

static void
rens_reply(struct conn *c, const struct wire_ctl *m, const struct ns *rns,
	   const struct ns *ens, int fd)
{
	struct wire_rens ns = {(int64_t)rns->id, (int64_t)ens->id,
			       rns->files ? WIRE_NS_FILES : 0, 0};

	ctl_reply(c, m, 0, (uint64_t)ns.rns, &ns, sizeof(ns), fd);
}

/*
 * A namespace token for a process about to be in rns and ens: our end is
 * a connection that only JOINs; the process's end is named, so that its
 * preload finds it again after an exec that dropped the environment.
 * The name is random (wire.h); one found taken is never the caller's
 * problem: another is drawn.
 */
static int
make_token(struct conn *c, struct ns *rns, struct ns *ens, int *theirs)
{
	uint8_t nonce[WIRE_NS_NONCE];
	struct sockaddr_un sa;
	struct conn *t;
	socklen_t len;
	int sv[2], r, tries;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0, sv) < 0)
		return -errno;
	for (tries = 0, r = -EADDRINUSE; r == -EADDRINUSE && tries < 8;
	     tries++) {
		if (getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce)) {
			r = -EAGAIN;
			break;
		}
		len = wire_nsname(&sa, br->id, nonce);
		r = bind(sv[1], (struct sockaddr *)&sa, len) < 0 ? -errno : 0;
		if (r == -EADDRINUSE)
			log_warnx("a namespace token's random name was taken");
	}
	if (r == 0)
		r = conn_new(br, sv[0], &c->peer, rns, ens, &t);
	else
		close(sv[0]);
	if (r < 0) {
		close(sv[1]);
		return r;
	}
	t->token = true;
	*theirs = sv[1];
	return 0;
}

static void
rens_forget(struct conn *c)
{
	ns_put(br, c->to_rns);
	ns_put(br, c->to_ens);
	c->to_rns = c->to_ens = NULL;
}

/*
 * setrens(), first step (wire.h): check the change, make the token the
 * process will hold, and answer what its namespaces will be.  Nothing
 * moves until COMMIT; a SETRENS not committed is forgotten.
 */
static void
do_setrens(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	struct wire_rens want;
	struct ns *rns, *ens;
	int err = 0, fd = -1;

	rens_forget(c);
	if (m->len != sizeof(want)) {
		ctl_reply(c, m, -EINVAL, 0, NULL, 0, -1);
		return;
	}
	memcpy(&want, payload, sizeof(want));
	rns = ns_enter(br, c->rns, NULL, want.rns, &err);
	ens = rns ? ns_enter(br, c->ens, c->rns, want.ens, &err) : NULL;
	if (rns != NULL && ens != NULL && (rns != c->rns || ens != c->ens))
		err =
		    epoch_check(br, c->peer.pid); /* COMMIT's bump (epoch.c) */
	if (rns != NULL && ens != NULL && err == 0 &&
	    (rns->id != WIRE_NS_ROOT || ens->id != WIRE_NS_ROOT))
		err = make_token(c, rns, ens, &fd);
	if (rns == NULL || ens == NULL || err < 0) {
		ctl_reply(c, m, err, 0, NULL, 0, -1);
		return;
	}
	c->to_rns = ns_get(rns);
	c->to_ens = ns_get(ens);
	rens_reply(c, m, rns, ens, fd);
	if (fd >= 0)
		close(fd);
}

/*
 * setrens(), second step: every connection of the calling process moves,
 * so that none it keeps can be used to open in the namespace it left.
 * Nothing here can fail half-way: it is pointers and counts.
 */
static void
do_commit(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	struct ns *rns = c->to_rns, *ens = c->to_ens;
	struct wire_rens want;
	struct conn *x;

	if (m->len != sizeof(want) || rns == NULL) {
		ctl_reply(c, m, -EINVAL, 0, NULL, 0, -1);
		return;
	}
	memcpy(&want, payload, sizeof(want));
	if ((want.rns != -1 && want.rns != (int64_t)rns->id) ||
	    (want.ens != -1 && want.ens != (int64_t)ens->id)) {
		ctl_reply(c, m, -EINVAL, 0, NULL, 0, -1);
		return;
	}
	if (rns != c->rns || ens != c->ens)
		(void)epoch_bump(br, c->peer.pid); /* before the answer */
	TAILQ_FOREACH(x, &br->conns, link)
	{
		if (x->peer.pid != c->peer.pid || x->token || x->scheme)
			continue;
		ns_put(br, x->rns);
		ns_put(br, x->ens);
		x->rns = ns_get(rns);
		x->ens = ns_get(ens);
	}
	rens_forget(c);
	log_info("pid %d: namespaces now %llu, %llu", (int)c->peer.pid,
		 (unsigned long long)rns->id, (unsigned long long)ens->id);
	rens_reply(c, m, rns, ens, -1);
}

static void
do_mkns(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	struct ns *ns;
	int r;

	if ((r = ns_make(br, c, payload, m->len, &ns)) < 0) {
		log_debug("mkns by pid %d: %s", (int)c->peer.pid, strerror(-r));
		ctl_reply(c, m, r, 0, NULL, 0, -1);
		return;
	}
	ctl_reply(c, m, 0, ns->id, NULL, 0, -1);
}

/* On a token: fd is one end of a socket pair, a connection in its ns. */
static void
do_join(struct conn *t, int fd)
{
	struct ucred peer;
	socklen_t len = sizeof(peer);
	int type = 0, r = -EINVAL;
	socklen_t tlen = sizeof(type);
	struct conn *c;

	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 &&
	    type == SOCK_SEQPACKET &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 &&
	    fcntl(fd, F_SETFL, O_NONBLOCK) == 0)
		r = conn_new(br, fd, &peer, t->rns, t->ens, &c);
	else if (fd >= 0)
		close(fd);
	if (r < 0 && r != -EMFILE && r != -EACCES)
		log_warnx("pid %d: a join without a usable socket (%s)",
			  (int)t->peer.pid, strerror(-r));
}

/* What each role may ask: a registration reports, a token joins. */
static bool
role_allows(const struct conn *c, uint32_t type)
{
	if (c->token)
		return type == WIRE_CTL_JOIN;
	if (c->scheme != NULL) /* a second CREATE is answered EBUSY */
		return type == WIRE_CTL_STATS || type == WIRE_CTL_CREATE;
	return type != WIRE_CTL_JOIN && type != WIRE_CTL_STATS;
}

static void
dispatch(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	if (!role_allows(c, m->type)) {
		ctl_reply(c, m, -EPERM, 0, NULL, 0, -1);
		return;
	}
	switch (m->type) {
	case WIRE_CTL_GETNS:
		rens_reply(c, m, c->rns, c->ens, -1);
		break;
	case WIRE_CTL_SETRENS:
		do_setrens(c, m, payload);
		break;
	case WIRE_CTL_COMMIT:
		do_commit(c, m, payload);
		break;
	case WIRE_CTL_MKNS:
		do_mkns(c, m, payload);
		break;
	case WIRE_CTL_CONNECT:
		do_connect(c, m, payload);
		break;
	case WIRE_CTL_SERVES:
		do_serves(c, m, payload);
		break;
	case WIRE_CTL_TRACE:
		do_trace(c, m, payload);
		break;
	case WIRE_CTL_CREATE:
		do_create(c, m, payload);
		break;
	case WIRE_CTL_LIST:
		do_list(c, m);
		break;
	case WIRE_CTL_INFO:
		if (c->rns->id != WIRE_NS_ROOT)
			ctl_reply(c, m, -EPERM, 0, NULL, 0, -1);
		else
			do_info(c, m);
		break;
	case WIRE_CTL_STOP:
		if (!may_administer(&c->peer) || c->rns->id != WIRE_NS_ROOT) {
			ctl_reply(c, m, -EPERM, 0, NULL, 0, -1);
			break;
		}
		log_info("stop requested by pid %d", (int)c->peer.pid);
		ctl_reply(c, m, 0, 0, NULL, 0, -1);
		br->quit = true;
		break;
	case WIRE_CTL_IRQ_RAISE:
		ctl_reply(c, m,
			  may_administer(&c->peer) && c->rns->id == WIRE_NS_ROOT
			      ? irq_raise(br, m->inst)
			      : -EPERM,
			  0, NULL, 0, -1);
		break;
	case WIRE_CTL_STATS:
		if (m->len == sizeof(c->scheme->st))
			memcpy(&c->scheme->st, payload, sizeof(c->scheme->st));
		break;
	default:
		ctl_reply(c, m, -ENOSYS, 0, NULL, 0, -1);
		break;
	}
}

/* Its provider carries on in another process (after daemon()). */
static void
moved(struct broker *b, struct scheme *s, pid_t pid)
{
	log_info("scheme %s: served by pid %d now (was %d)", s->name, (int)pid,
		 (int)s->pid);
	registry_set_pid(b, s, pid);
}

void
control_ready(struct broker *b, struct conn *c, uint32_t events)
{
	union {
		struct wire_ctl m;
		char buf[sizeof(struct wire_ctl) + CTL_MAX_PAYLOAD + 1];
	} u;
	struct iovec iov = {u.buf, sizeof(u.buf) - 1};
	struct wire_creds cr;
	ssize_t n;
	int fd;

	for (;;) {
		fd = -1;
		n = wire_recv(c->src.fd, &iov, 1, c->token ? &fd : NULL, &cr,
			      MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n > 0 && c->token && wire_ctl_check(&u.m, (size_t)n) == 0 &&
		    u.m.type == WIRE_CTL_JOIN) {
			do_join(c, fd); /* never answered: tokens are shared */
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (n <= 0 || c->token || wire_ctl_check(&u.m, (size_t)n) < 0) {
			if (n != 0)
				log_warnx("pid %d: malformed control message "
					  "(%zd bytes), dropping connection",
					  (int)c->peer.pid, n);
			control_close(b, c);
			return;
		}
		u.buf[n] = '\0';
		if (c->scheme != NULL && cr.pid != 0 &&
		    (pid_t)cr.pid != c->scheme->pid)
			moved(b, c->scheme, (pid_t)cr.pid);
		dispatch(c, &u.m, u.buf + sizeof(u.m));
		if (b->quit || c->src.fd < 0)
			return;
	}
}

void
control_close(struct broker *b, struct conn *c)
{
	if (c->src.fd < 0)
		return;
	if (c->scheme != NULL) {
		log_info("scheme %s: removed (provider pid %d uid %u closed "
			 "it or exited)",
			 c->scheme->name, (int)c->peer.pid,
			 (unsigned)c->peer.uid);
		registry_remove(b, c->scheme);
		policy_removed(b, c);
		free(c->scheme);
		c->scheme = NULL;
	}
	log_debug("pid %d uid %u: %s closed (%zu open)", (int)c->peer.pid,
		  (unsigned)c->peer.uid,
		  c->token ? "namespace token" : "connection", b->nconns - 1);
	ns_forget_maker(b, c);
	rens_forget(c);
	ns_put(b, c->rns);
	ns_put(b, c->ens);
	c->rns = c->ens = NULL;
	policy_leave(b, c);
	broker_unwatch(b, &c->src);
	close(c->src.fd);
	c->src.fd = -1;
	TAILQ_REMOVE(&b->conns, c, link);
	b->nconns--;
	TAILQ_INSERT_TAIL(&graveyard, c, link);
}

/* Free connections closed during the batch of events just handled. */
void
control_reap(void)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&graveyard)) != NULL) {
		TAILQ_REMOVE(&graveyard, c, link);
		free(c);
	}
}

/*
 * Turned away at the door: one answer with the errno, then closed.  What
 * the peer already sent is read first: closing a unix socket with unread
 * data makes the peer's next read fail with ECONNRESET instead of
 * delivering our answer.
 */
static void
refuse(int fd, int err)
{
	struct wire_ctl m;
	char junk[256];
	int n = 0;

	while (n++ < 64 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	wire_ctl_init(&m, WIRE_CTL_REPLY);
	m.err = err;
	m.broker = br->id;
	wire_send(fd, &m, sizeof(m), NULL, 0, -1, NULL, MSG_DONTWAIT);
	close(fd);
}

/*
 * A connection from peer in the given namespaces, watched.  Returns 0, or
 * -errno with fd closed (answered with the refusal when the policy says
 * no).
 */
int
conn_new(struct broker *b, int fd, const struct ucred *peer, struct ns *rns,
	 struct ns *ens, struct conn **out)
{
	struct conn *c = calloc(1, sizeof(*c));
	int r;

	if (c == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->peer = *peer;
	c->src.kind = SRC_CONN;
	c->src.fd = fd;
	LIST_INIT(&c->made);
	if ((r = policy_admit(b, c)) < 0) {
		free(c);
		refuse(fd, r);
		return r;
	}
	if ((r = broker_watch(b, &c->src)) < 0) {
		policy_leave(b, c);
		free(c);
		close(fd);
		return r;
	}
	c->rns = ns_get(rns);
	c->ens = ns_get(ens);
	TAILQ_INSERT_TAIL(&b->conns, c, link);
	b->nconns++;
	log_debug("pid %d uid %u gid %u: connected (%zu open)", (int)peer->pid,
		  (unsigned)peer->uid, (unsigned)peer->gid, b->nconns);
	*out = c;
	return 0;
}

/*
 * Out of fds, accept() fails and leaves the connection queued: the
 * listening socket stays readable and the loop would spin.  A spare fd is
 * given up to take the connection and close it at once.
 */
static int spare = -1;

static void
accept_starved(struct broker *b)
{
	int fd;

	log_warnx("accept: out of fds; turning a connection away");
	if (spare >= 0)
		close(spare);
	fd = accept4(b->listen.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		refuse(fd, -EMFILE);
	spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void
control_accept(struct broker *b)
{
	struct ucred peer;
	struct conn *c;
	socklen_t len;
	int fd;

	for (;;) {
		fd = accept4(b->listen.fd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				accept_starved(b);
			else if (errno != EAGAIN && errno != EINTR &&
				 errno != ECONNABORTED)
				log_warnx("accept: %s", strerror(errno));
			return;
		}
		len = sizeof(peer);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0) {
			close(fd);
			continue;
		}
		conn_new(b, fd, &peer, &b->ns_root, &b->ns_root, &c);
	}
}

/*
 * Listen on b->path.  A socket file nobody answers on is left over from a
 * broker that died, and is replaced; one that answers is another broker,
 * and one we may not connect to is another user's.
 */
int
control_listen(struct broker *b)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd, r;

	if (strlen(b->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, b->path);
	if ((fd = sockpath_connect(b->path)) >= 0) {
		close(fd);
		return -EADDRINUSE;
	}
	if (fd == -EACCES || fd == -EPERM)
		return fd; /* someone's, not ours to replace */
	if (fd == -ECONNREFUSED)
		unlink(b->path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177); /* the socket is born 0600 */
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r == 0)
		r = policy_socket(b);
	if (r < 0 || listen(fd, 128) < 0 || stat(b->path, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	b->sock_dev = st.st_dev;
	b->sock_ino = st.st_ino;
	return control_adopt(b, fd);
}

/* Accept on fd from now on: our own socket, or systemd's (listen.c). */
int
control_adopt(struct broker *b, int fd)
{
	spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	b->listen.kind = SRC_LISTEN;
	b->listen.fd = fd;
	return broker_watch(b, &b->listen);
}

/* Close every connection (providers see their scheme end) and the socket. */
void
control_shutdown(struct broker *b)
{
	struct stat st;
	struct conn *c;

	while ((c = TAILQ_FIRST(&b->conns)) != NULL)
		control_close(b, c);
	control_reap();
	if (b->listen.fd >= 0)
		close(b->listen.fd);
	if (stat(b->path, &st) == 0 && st.st_dev == b->sock_dev &&
	    st.st_ino == b->sock_ino)
		unlink(b->path); /* only if it is still ours */
}

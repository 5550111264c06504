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
 * scheme's registration (it only reports STATS once it is one), or a
 * namespace token (it only JOINs).  A connection opens by name in its
 * rns and creates in its ens (ns.c); a channel by instance to a scheme
 * its rns does not see carries no path operations, so that the fds a
 * process held before it narrowed its namespace keep working and nothing
 * else does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../proto/sockpath.h"
#include "broker.h"
#include "log.h"

#define CTL_MAX_PAYLOAD 4096

static TAILQ_HEAD(, conn) graveyard = TAILQ_HEAD_INITIALIZER(graveyard);

static int
ctl_reply(struct conn *c, const struct wire_ctl *req, int err, uint64_t inst,
	  const void *data, size_t len, int fd)
{
	struct wire_ctl rep;
	ssize_t r;

	wire_ctl_init(&rep, req->type | WIRE_CTL_REPLY);
	rep.err = err;
	rep.inst = inst;
	rep.broker = br->id;
	rep.len = (uint32_t)len;
	r = wire_send(c->src.fd, &rep, sizeof(rep), data, len, fd, NULL,
		      MSG_DONTWAIT);
	return r < 0 ? (int)r : 0;
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
 * Give the provider its end of a new channel.  A provider whose queue is
 * full is busy (EAGAIN); one whose connection is broken has died, and
 * we may not have read its hang-up yet: it is removed now.
 */
static int
hand_to_provider(struct scheme *s, int fd, int gone, uint32_t flags)
{
	struct wire_ctl m;
	ssize_t r;

	if (s->builtin != NULL)
		return serve_add_chan(
		    s->builtin, fd,
		    flags & WIRE_CHAN_NOPATHS ? SERVE_CHAN_NOPATHS : 0);
	wire_ctl_init(&m, WIRE_CTL_NEWCHAN);
	m.inst = s->inst;
	m.broker = br->id;
	m.len = flags ? sizeof(flags) : 0;
	r = wire_send(s->conn->src.fd, &m, sizeof(m), &flags,
		      flags ? sizeof(flags) : 0, fd, NULL, MSG_DONTWAIT);
	close(fd);
	if (r == -EAGAIN || r == -ENOBUFS)
		return -EAGAIN;
	if (r < 0) {
		control_close(br, s->conn);
		return gone;
	}
	return 0;
}

static void
do_connect(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	char name[WIRE_MAX_NAME + 1];
	struct scheme *s = NULL;
	int sv[2] = {-1, -1}, r;
	uint32_t flags = 0;

	if (m->inst != 0) {
		s = registry_by_inst(br, m->inst);
		r = s != NULL ? 0 : -EBADF; /* its provider is gone */
		if (r == 0 && !ns_sees(c->rns, s))
			flags = WIRE_CHAN_NOPATHS; /* only the fds it holds */
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
	if (r == 0)
		r = new_channel(sv);
	if (r == 0) {
		r = hand_to_provider(s, sv[1], m->inst ? -EBADF : -ENOENT,
				     flags);
		sv[1] = -1;
	}
	if (r < 0) {
		log_debug("connect by pid %d: %s", (int)c->peer.pid,
			  strerror(-r));
		ctl_reply(c, m, r, 0, NULL, 0, -1);
	} else {
		ctl_reply(c, m, 0, s->inst, NULL, 0, sv[0]);
	}
	if (sv[0] >= 0)
		close(sv[0]);
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
	if (r < 0 || (r = policy_may_create(br, c)) < 0 ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		ctl_reply(c, m, r < 0 ? r : -ENOMEM, 0, NULL, 0, -1);
		return;
	}
	memcpy(s->name, payload, m->len);
	s->conn = c;
	s->owner = c->peer;
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
	log_info("scheme %s: created by pid %d uid %u (instance %llu)", s->name,
		 (int)c->peer.pid, (unsigned)c->peer.uid,
		 (unsigned long long)s->inst);
	ctl_reply(c, m, 0, s->inst, NULL, 0, -1);
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

static void
do_info(struct conn *c, const struct wire_ctl *m)
{
	char buf[CTL_MAX_PAYLOAD];
	struct scheme *s;
	size_t n, provided = 0;

	RB_FOREACH(s, scheme_insts, &br->insts)
	provided += s->inst >= INST_FIRST;
	n = (size_t)snprintf(buf, sizeof(buf),
			     "pid %d\nbroker %016llx\nsocket %s\n"
			     "schemes %zu\nconnections %zu\n",
			     (int)getpid(), (unsigned long long)br->id,
			     br->path, provided, br->nconns);
	RB_FOREACH(s, scheme_names, &br->names)
	{
		if (s->builtin != NULL || s->local || n >= sizeof(buf))
			continue;
		n += (size_t)snprintf(
		    buf + n, sizeof(buf) - n,
		    "scheme %s instance %llu pid %d requests %llu answers %llu"
		    " dropped_unknown %llu dropped_badsize %llu"
		    " dropped_malformed %llu\n",
		    s->name, (unsigned long long)s->inst, (int)s->owner.pid,
		    (unsigned long long)s->st.requests,
		    (unsigned long long)s->st.answers,
		    (unsigned long long)s->st.dropped_unknown,
		    (unsigned long long)s->st.dropped_badsize,
		    (unsigned long long)s->st.dropped_malformed);
	}
	if (n > sizeof(buf))
		n = sizeof(buf);
	ctl_reply(c, m, 0, 0, buf, n, -1);
}

static void
rens_reply(struct conn *c, const struct wire_ctl *m, int fd)
{
	struct wire_rens ns = {(int64_t)c->rns->id, (int64_t)c->ens->id};

	ctl_reply(c, m, 0, ns.rns, &ns, sizeof(ns), fd);
}

/*
 * A namespace token for a process now in c's namespaces: our end is a
 * connection that only JOINs; the process's end is named, so that its
 * preload finds it again after an exec that dropped the environment.
 */
static int
make_token(struct conn *c, int *theirs)
{
	struct sockaddr_un sa;
	struct conn *t;
	socklen_t len;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0, sv) < 0)
		return -errno;
	len = wire_nsname(&sa, br->id, ++br->next_token);
	if (bind(sv[1], (struct sockaddr *)&sa, len) < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if ((r = conn_new(br, sv[0], &c->peer, c->rns, c->ens, &t)) < 0) {
		close(sv[1]);
		return r;
	}
	t->token = true;
	*theirs = sv[1];
	return 0;
}

/*
 * setrens(): every connection of the calling process moves, so that none
 * it keeps can be used to open in the namespace it left.
 */
static void
do_setrens(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	struct wire_rens want;
	struct ns *rns, *ens;
	struct conn *x;
	int err = 0, fd = -1;

	if (m->len != sizeof(want)) {
		ctl_reply(c, m, -EINVAL, 0, NULL, 0, -1);
		return;
	}
	memcpy(&want, payload, sizeof(want));
	rns = ns_enter(br, c->rns, c->rns, c->ens, want.rns, &err);
	ens = rns ? ns_enter(br, c->ens, c->rns, c->ens, want.ens, &err) : NULL;
	if (rns == NULL || ens == NULL) {
		ctl_reply(c, m, err, 0, NULL, 0, -1);
		return;
	}
	TAILQ_FOREACH(x, &br->conns, link)
	{
		if (x->peer.pid != c->peer.pid || x->token || x->scheme)
			continue;
		ns_put(br, x->rns);
		ns_put(br, x->ens);
		x->rns = ns_get(rns);
		x->ens = ns_get(ens);
	}
	if ((rns->id != WIRE_NS_ROOT || ens->id != WIRE_NS_ROOT) &&
	    (err = make_token(c, &fd)) < 0) {
		ctl_reply(c, m, err, 0, NULL, 0, -1);
		return;
	}
	log_info("pid %d: namespaces now %llu, %llu", (int)c->peer.pid,
		 (unsigned long long)rns->id, (unsigned long long)ens->id);
	rens_reply(c, m, fd);
	if (fd >= 0)
		close(fd);
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
		rens_reply(c, m, -1);
		break;
	case WIRE_CTL_SETRENS:
		do_setrens(c, m, payload);
		break;
	case WIRE_CTL_MKNS:
		do_mkns(c, m, payload);
		break;
	case WIRE_CTL_CONNECT:
		do_connect(c, m, payload);
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

void
control_ready(struct broker *b, struct conn *c, uint32_t events)
{
	union {
		struct wire_ctl m;
		char buf[sizeof(struct wire_ctl) + CTL_MAX_PAYLOAD + 1];
	} u;
	struct iovec iov = {u.buf, sizeof(u.buf) - 1};
	ssize_t n;
	int fd;

	for (;;) {
		fd = -1;
		n = wire_recv(c->src.fd, &iov, 1, c->token ? &fd : NULL, NULL,
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
		log_info("scheme %s: removed (provider pid %d closed it or "
			 "exited)",
			 c->scheme->name, (int)c->peer.pid);
		registry_remove(b, c->scheme);
		policy_removed(b, c);
		free(c->scheme);
		c->scheme = NULL;
	}
	ns_forget_maker(b, c);
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
 * broker that died, and is replaced; one that answers is another broker.
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

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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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

static bool
may_administer(const struct ucred *who)
{
	return who->uid == 0 || who->uid == geteuid();
}

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
hand_to_provider(struct scheme *s, int fd, int gone)
{
	struct wire_ctl m;
	ssize_t r;

	if (s->builtin != NULL)
		return serve_add_chan(s->builtin, fd);
	wire_ctl_init(&m, WIRE_CTL_NEWCHAN);
	m.inst = s->inst;
	m.broker = br->id;
	r = wire_send(s->conn->src.fd, &m, sizeof(m), NULL, 0, fd, NULL,
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

static void
do_connect(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	char name[WIRE_MAX_NAME + 1];
	struct scheme *s = NULL;
	int sv[2] = {-1, -1}, r;

	if (m->inst != 0) {
		s = registry_by_inst(br, m->inst);
		r = s != NULL ? 0 : -EBADF; /* its provider is gone */
	} else if (m->len > WIRE_MAX_NAME) {
		r = -ENAMETOOLONG;
	} else {
		memcpy(name, payload, m->len);
		name[m->len] = '\0';
		s = registry_by_name(br, name);
		r = s != NULL ? 0 : -ENOENT;
	}
	if (r == 0 && s->local) { /* served in each process: no channel */
		ctl_reply(c, m, 0, s->inst, NULL, 0, -1);
		return;
	}
	if (r == 0)
		r = new_channel(sv);
	if (r == 0) {
		r = hand_to_provider(s, sv[1], m->inst ? -EBADF : -ENOENT);
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
	if ((r = wire_name_check(payload, m->len)) < 0 ||
	    (r = may_administer(&c->peer) ? 0 : -EACCES) < 0 ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		ctl_reply(c, m, r < 0 ? r : -ENOMEM, 0, NULL, 0, -1);
		return;
	}
	memcpy(s->name, payload, m->len);
	s->conn = c;
	s->owner = c->peer;
	if ((r = registry_add(br, s)) < 0) {
		free(s);
		ctl_reply(c, m, r, 0, NULL, 0, -1);
		return;
	}
	c->scheme = s;
	log_info("scheme %s: created by pid %d uid %u (instance %llu)", s->name,
		 (int)c->peer.pid, (unsigned)c->peer.uid,
		 (unsigned long long)s->inst);
	ctl_reply(c, m, 0, s->inst, NULL, 0, -1);
}

static void
do_list(struct conn *c, const struct wire_ctl *m)
{
	size_t n = registry_list(br, NULL, 0);
	char *buf = malloc(n + 1);

	if (buf == NULL) {
		ctl_reply(c, m, -ENOMEM, 0, NULL, 0, -1);
		return;
	}
	registry_list(br, buf, n);
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
dispatch(struct conn *c, const struct wire_ctl *m, const char *payload)
{
	switch (m->type) {
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
		do_info(c, m);
		break;
	case WIRE_CTL_STOP:
		if (!may_administer(&c->peer)) {
			ctl_reply(c, m, -EPERM, 0, NULL, 0, -1);
			break;
		}
		log_info("stop requested by pid %d", (int)c->peer.pid);
		ctl_reply(c, m, 0, 0, NULL, 0, -1);
		br->quit = true;
		break;
	case WIRE_CTL_IRQ_RAISE:
		ctl_reply(c, m,
			  may_administer(&c->peer) ? irq_raise(br, m->inst)
						   : -EPERM,
			  0, NULL, 0, -1);
		break;
	case WIRE_CTL_STATS:
		if (c->scheme != NULL && m->len == sizeof(c->scheme->st))
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

	for (;;) {
		n = wire_recv(c->src.fd, &iov, 1, NULL, NULL,
			      MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n <= 0 || wire_ctl_check(&u.m, (size_t)n) < 0) {
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
		free(c->scheme);
		c->scheme = NULL;
	}
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

void
control_accept(struct broker *b)
{
	struct conn *c;
	socklen_t len;
	int fd;

	for (;;) {
		fd = accept4(b->listen.fd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warnx("accept: %s", strerror(errno));
			return;
		}
		c = calloc(1, sizeof(*c));
		len = sizeof(struct ucred);
		if (c == NULL || getsockopt(fd, SOL_SOCKET, SO_PEERCRED,
					    &c->peer, &len) < 0) {
			free(c);
			close(fd);
			continue;
		}
		c->src.kind = SRC_CONN;
		c->src.fd = fd;
		if (broker_watch(b, &c->src) < 0) {
			free(c);
			close(fd);
			continue;
		}
		TAILQ_INSERT_TAIL(&b->conns, c, link);
		b->nconns++;
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
	if (r < 0 || listen(fd, 128) < 0 || stat(b->path, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	b->sock_dev = st.st_dev;
	b->sock_ino = st.st_ino;
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

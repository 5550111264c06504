/*
 * bconn.c - this process's control connection to the broker (bconn.h).
 *
 * ST_BCONN is held across a call to the broker (state.h): a fork's child
 * finds it free and drops the parent's connection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../proto/wire/sockpath.h"
#include "bconn.h"
#include "creds.h"
#include "hidden.h"
#include "real.h"
#include "state.h"

static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static _Atomic int cfd = -1;
static _Atomic int token = -1; /* our namespace token, if not root */
static _Atomic(pthread_t) holder;
static atomic_bool held;

void
bconn_init(void)
{
	if (sockpath_default(path, sizeof(path)) < 0)
		path[0] = '\0';
}

/*
 * The broker's address: $SCHEME_SOCKET as last seen (a program may set it
 * after start-up), else where the broker was at start-up.  It is noted at
 * each connection and fork, so that a program that then clears its
 * environment keeps its broker, and so do its children.
 */
void
bconn_refresh(void)
{
	const char *env = getenv("SCHEME_SOCKET");

	if (env == NULL || env[0] == '\0' || strlen(env) >= sizeof(path))
		return;
	st_lock(ST_BCONN_PATH);
	strcpy(path, env);
	st_unlock(ST_BCONN_PATH);
}

void
bconn_path(char *buf, size_t len)
{
	bconn_refresh();
	st_lock(ST_BCONN_PATH);
	snprintf(buf, len, "%s", path);
	st_unlock(ST_BCONN_PATH);
}

/*
 * A connection in our namespace, made through the token (wire.h): one end
 * of a socket pair goes to the broker, which answers on it from now on.
 */
static int
join(int tok)
{
	struct wire_ctl m;
	int sv[2];
	ssize_t r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	wire_ctl_init(&m, WIRE_CTL_JOIN);
	r = wire_send(tok, &m, sizeof(m), NULL, 0, sv[1], NULL, 0);
	REAL(close)(sv[1]);
	if (r < 0) {
		REAL(close)(sv[0]);
		return r == -EMFILE ? r : -ENOTCONN;
	}
	return sv[0];
}

/*
 * The broker's socket is there but not ours to use: a program that
 * changed its uid before its first scheme call, or one pointed at
 * another user's broker.  Its scheme paths get EACCES, not ENOENT from
 * the disk, and it is told why, once.
 */
static int
refused(const char *p, int err)
{
	static atomic_bool told;
	char line[sizeof(path) + 160];
	int n, saved = errno;
	ssize_t w = 0;

	if (!atomic_exchange(&told, true)) {
		n = snprintf(line, sizeof(line),
			     "scheme: the broker at %s does not admit uid %u "
			     "(%s): scheme paths are refused; see schemed(8), "
			     "--group\n",
			     p, (unsigned)geteuid(), strerror(-err));
		if (n > 0 && (size_t)n < sizeof(line))
			w = REAL(write)(2, line, (size_t)n);
		(void)w; /* nowhere else to say it */
	}
	errno = saved;
	return -EACCES;
}

/*
 * A new connection, not hidden; -ENOTCONN when no broker answers, -EACCES
 * when one is there that we may not connect to.
 */
int
bconn_open(void)
{
	char p[sizeof(path)];
	int fd, tok = atomic_load(&token);

	if (tok >= 0)
		return join(tok);
	bconn_path(p, sizeof(p));
	if (p[0] == '\0')
		return -ENOTCONN;
	fd = sockpath_connect(p);
	if (fd == -EACCES || fd == -EPERM)
		return refused(p, fd);
	return fd == -EMFILE || fd == -ENFILE || fd >= 0 ? fd : -ENOTCONN;
}

static void
close_all(int *fds, int *nfds)
{
	while (*nfds > 0)
		REAL(close)(fds[--*nfds]);
}

/* One request and its answer, with up to *nfds fds into fds[]. */
static int
exchange(int fd, struct wire_ctl *req, const void *payload, size_t len,
	 struct wire_ctl *rep, void *rbuf, size_t rlen, int *fds, int *nfds)
{
	struct iovec iov[2] = {{rep, sizeof(*rep)}, {rbuf, rlen}};
	struct wire_creds cr;
	int max = *nfds;
	ssize_t n;

	req->len = (uint32_t)len;
	creds_get(&cr);
	n = wire_send(fd, req, sizeof(*req), payload, len, -1, &cr, 0);
	if (n == -EPERM) {
		creds_refresh(); /* our ids changed under us */
		creds_get(&cr);
		n = wire_send(fd, req, sizeof(*req), payload, len, -1, &cr, 0);
	}
	*nfds = 0;
	if (n < 0)
		return -ENOTCONN;
	do {
		*nfds = max;
		n = wire_recv_fds(fd, iov, rbuf ? 2 : 1, fds, nfds,
				  MSG_CMSG_CLOEXEC);
	} while (n == -EINTR); /* control calls are short; stay in step */
	if (n <= 0 || wire_ctl_check(rep, (size_t)n) < 0 ||
	    rep->type != (req->type | WIRE_CTL_REPLY)) {
		close_all(fds, nfds);
		if (n > 0 && wire_ctl_check(rep, (size_t)n) == 0 &&
		    rep->type == WIRE_CTL_REPLY && rep->err < 0)
			return -EDQUOT; /* turned away at the door: see err */
		return -ENOTCONN;
	}
	return rep->err;
}

static void
relocate(void *ctx, int oldfd, int newfd)
{
	int expected = oldfd;

	atomic_compare_exchange_strong(&cfd, &expected, newfd);
}

/*
 * Returns the broker's answer (0 or -errno), or -ENOTCONN when no broker
 * answers at our socket path; the fds that came with it (at most *nfds)
 * are in fds[], their number in *nfds.  A connection found broken (the
 * broker was restarted) is replaced once.
 */
int
bconn_call_fds(struct wire_ctl *req, const void *payload, size_t len,
	       struct wire_ctl *rep, void *rbuf, size_t rlen, int *fds,
	       int *nfds)
{
	int r, tries, tmp, max = *nfds;

	if (atomic_load(&held) &&
	    pthread_equal(atomic_load(&holder), pthread_self())) {
		/* A signal handler interrupted our own call: go alone. */
		*nfds = 0;
		if ((tmp = bconn_open()) < 0)
			return tmp;
		*nfds = max;
		r = exchange(tmp, req, payload, len, rep, rbuf, rlen, fds,
			     nfds);
		REAL(close)(tmp);
		if (r == -EDQUOT)
			r = rep->err;
		return r;
	}
	st_lock(ST_BCONN);
	atomic_store(&holder, pthread_self());
	atomic_store(&held, true);
	for (tries = 0; tries < 2; tries++) {
		*nfds = 0;
		if (atomic_load(&cfd) < 0) {
			r = bconn_open();
			if (r < 0)
				break;
			atomic_store(&cfd, hidden_move(r, relocate, NULL));
		}
		*nfds = max;
		r = exchange(atomic_load(&cfd), req, payload, len, rep, rbuf,
			     rlen, fds, nfds);
		if (r == -EDQUOT) { /* the broker's policy or caps refused us */
			hidden_close(atomic_exchange(&cfd, -1));
			r = rep->err;
			break;
		}
		if (r != -ENOTCONN)
			break;
		hidden_close(atomic_exchange(&cfd, -1));
	}
	atomic_store(&held, false);
	st_unlock(ST_BCONN);
	return r;
}

/* bconn_call_fds with at most one fd (in *fd, or -1; fd may be NULL). */
int
bconn_call(struct wire_ctl *req, const void *payload, size_t len,
	   struct wire_ctl *rep, void *rbuf, size_t rlen, int *fd)
{
	int got = -1, n = fd != NULL, r;

	r = bconn_call_fds(req, payload, len, rep, rbuf, rlen, &got, &n);
	if (fd != NULL)
		*fd = n > 0 ? got : -1;
	return r;
}

static void
token_relocate(void *ctx, int oldfd, int newfd)
{
	int expected = oldfd;

	(void)ctx;
	atomic_compare_exchange_strong(&token, &expected, newfd);
}

/*
 * Our namespace token from now on (the broker's answer to setrens, or one
 * found among the fds we were born with): hidden, but kept across exec,
 * since that is how a namespace outlives one.
 */
void
bconn_token_set(int fd)
{
	int old;

	fd = hidden_move(fd, token_relocate, NULL);
	REAL(fcntl)(fd, F_SETFD, 0);
	old = atomic_exchange(&token, fd);
	if (old >= 0 && old != fd)
		hidden_close(old);
}

bool
bconn_token_held(void)
{
	return atomic_load(&token) >= 0;
}

/* The child must not share the parent's connection: framing would mix. */
static void
fork_child(void)
{
	int fd = atomic_exchange(&cfd, -1);

	if (fd >= 0)
		hidden_close(fd);
	atomic_store(&held, false);
	bconn_refresh();
}

const struct st_fork_hook bconn_fork_hook = {ST_BCONN, NULL, NULL, fork_child};

/*
 * identify.c - recognising scheme fds that arrived without us: inherited
 * across exec, or received over SCM_RIGHTS.
 *
 * A description's fd has no name: a name anyone can read can be taken by
 * anyone first.  What it has is a peer, the provider that made the
 * socket pair (SO_PEERCRED gives its pid).  A candidate is an unnamed
 * AF_UNIX SOCK_SEQPACKET socket whose peer is another process.  For the
 * candidates of a start-up, or of one recvmsg, we ask the broker once
 * which schemes their peers serve (SERVES, which hands over a channel to
 * each), then show each candidate to its provider (WIRE_OP_ATTACH, key
 * 0), which knows its inode and answers which description it is.  A peer
 * this thread already has a channel to is asked directly, without the
 * broker; a start-up without candidates asks nobody.  A candidate no
 * provider knows is not ours and stays the plain socket it is.
 *
 * Nothing crosses exec in the environment, so a program that clears its
 * environment or passes fds to an unrelated process loses nothing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../proto/wire/wire.h"
#include "bconn.h"
#include "fd_client.h"
#include "chan.h"
#include "fdtab.h"
#include "fdops.h"
#include "identify.h"
#include "real.h"
#include "stdio.h"

#define BATCH WIRE_SERVES_MAX /* candidates resolved together */

struct cand {
	int fd;
	uint32_t pid; /* its peer */
	bool ours;
};

/* What SERVES said: channels to the schemes the candidates' peers serve. */
struct served {
	uint64_t broker;
	int n;
	struct wire_chan c[WIRE_SERVES_MAX];
};

/*
 * fd is a candidate, whose peer is *pid.  sa and len are its getsockname;
 * unnamed, a unix socket's is the family alone.
 */
static bool
candidate(int fd, const struct sockaddr_un *sa, socklen_t len, uint32_t *pid)
{
	struct ucred peer;
	socklen_t plen = sizeof(peer), tlen;
	int type;

	if (len != sizeof(sa_family_t) || sa->sun_family != AF_UNIX)
		return false;
	tlen = sizeof(type);
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_SEQPACKET ||
	    REAL(getsockopt)(fd, SOL_SOCKET, SO_PEERCRED, &peer, &plen) < 0 ||
	    peer.pid <= 0 || peer.pid == getpid())
		return false; /* ours as a provider, if any: not as a client */
	*pid = (uint32_t)peer.pid;
	return true;
}

static bool
adopt(int fd, uint64_t broker, uint64_t inst, uint64_t key)
{
	struct sfd *e = sfd_new(&fdops_client);

	if (e == NULL)
		return false;
	e->broker = broker;
	e->inst = inst;
	e->key = key; /* gen 0: not ours to park, others may hold it */
	if (fdtab_set(fd, e) < 0) {
		sfd_free(e);
		return false;
	}
	return true;
}

/*
 * Show c's fd to inst's provider: true if it is one of its descriptions,
 * which c's fd is from now on.  A channel that dies on the way (its
 * provider is exiting, a signal) is made again, a few times.
 */
static bool
attach(struct cand *c, uint64_t broker, uint64_t inst)
{
	struct wire_req req;
	struct wire_rep rep;
	struct chan *ch;
	int r, tries;
	bool fresh;

	for (tries = 0; tries < 3; tries++) {
		if (chan_by_inst(broker, inst, &ch) < 0)
			return false;
		fresh = ch->seq == 0;
		wire_req_init(&req, WIRE_OP_ATTACH, 0);
		r = chan_call(ch, &req, NULL, 0, NULL, 0, &rep, NULL,
			      MSG_CMSG_CLOEXEC, c->fd);
		if (r == -ENOTCONN || r == -EINTR || (r == -EIO && fresh))
			continue;
		if (r < 0)
			return false;
		chan_release(ch);
		if ((int64_t)rep.result < 0 || rep.key == 0)
			return false;
		return c->ours = adopt(c->fd, broker, inst, rep.key);
	}
	return false;
}

/* Whether this thread had a channel to inst of pid before SERVES. */
static bool
tried(uint32_t pid, uint64_t broker, uint64_t inst)
{
	uint64_t b[BATCH], in[BATCH];
	int n = chan_insts_of(pid, b, in, BATCH);

	for (int i = 0; i < n; i++)
		if (b[i] == broker && in[i] == inst)
			return true;
	return false;
}

/* SERVES for the pids of the candidates not known yet. */
static int
serves(const struct cand *c, int n, struct served *sv, int *fds, int *nfds)
{
	uint32_t pids[BATCH];
	struct wire_ctl req, rep;
	int i, np = 0, r;

	for (i = 0; i < n; i++)
		if (!c[i].ours)
			pids[np++] = c[i].pid; /* the broker skips repeats */
	*nfds = 0;
	if (np == 0)
		return -ENOENT;
	wire_ctl_init(&req, WIRE_CTL_SERVES);
	*nfds = WIRE_SERVES_MAX;
	r = bconn_call_fds(&req, pids, (size_t)np * sizeof(pids[0]), &rep,
			   sv->c, sizeof(sv->c), fds, nfds);
	if (r == 0 && (sv->n = wire_chans_check(sv->c, rep.len, *nfds)) < 0)
		r = -EPROTO;
	if (r < 0) {
		while (*nfds > 0)
			REAL(close)(fds[--*nfds]);
		return r;
	}
	sv->broker = rep.broker;
	return 0;
}

/*
 * The candidates c[0..n): first by the channels this thread has to their
 * peers, then by what SERVES says about the rest.
 */
static void
resolve(struct cand *c, int n)
{
	uint64_t b[BATCH], in[BATCH];
	int fds[WIRE_SERVES_MAX], nfds, i, j, k;
	struct served sv;
	bool known[WIRE_SERVES_MAX];

	for (i = 0; i < n; i++) {
		k = chan_insts_of(c[i].pid, b, in, BATCH);
		for (j = 0; j < k && !attach(&c[i], b[j], in[j]); j++)
			;
	}
	if (serves(c, n, &sv, fds, &nfds) < 0)
		return;
	for (j = 0, k = 0; j < sv.n; j++) {
		known[j] = tried(sv.c[j].pid, sv.broker, sv.c[j].inst);
		if (sv.c[j].err == 0)
			chan_adopt(fds[k++], sv.broker, &sv.c[j]);
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < sv.n && !c[i].ours; j++)
			if (sv.c[j].pid == c[i].pid && !known[j])
				attach(&c[i], sv.broker, sv.c[j].inst);
}

/*
 * fds received together (SCM_RIGHTS): those that are scheme files are
 * ours from now on; the std streams follow.
 */
void
identify_fds(const int *fds, int n)
{
	struct sockaddr_un sa;
	struct cand c[BATCH];
	socklen_t len;
	int i = 0, j, k, saved = errno;

	while (i < n) {
		for (k = 0; i < n && k < BATCH; i++) {
			len = sizeof(sa);
			if (fdtab_get(fds[i]) == NULL &&
			    REAL(getsockname)(fds[i], (struct sockaddr *)&sa,
					      &len) == 0 &&
			    candidate(fds[i], &sa, len, &c[k].pid)) {
				c[k].fd = fds[i];
				c[k++].ours = false;
			}
		}
		if (k > 0)
			resolve(c, k);
		for (j = 0; j < k; j++)
			if (c[j].ours)
				stdio_std_update(c[j].fd);
	}
	errno = saved;
}

/*
 * One fd we were born with: a namespace token (only at start-up, so that
 * a token received later over a socket never moves a process into another
 * namespace behind its back), or a candidate, added to c[].
 */
static void
identify_start(int fd, struct cand *c, int *k)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	uint64_t broker;

	if (fdtab_get(fd) != NULL ||
	    REAL(getsockname)(fd, (struct sockaddr *)&sa, &len) < 0)
		return;
	if (wire_nsname_parse(&sa, len, &broker) == 0) {
		bconn_token_set(fd);
	} else if (candidate(fd, &sa, len, &c[*k].pid)) {
		c[*k].fd = fd;
		c[(*k)++].ours = false;
		if (*k == BATCH) {
			resolve(c, *k);
			*k = 0;
		}
	}
}

/* Every open fd, from /proc/self/fd (or the first 256 without /proc). */
void
identify_all(void)
{
	struct cand c[BATCH];
	char buf[4096];
	long n, pos;
	int dir, fd, k = 0, saved = errno;

	dir = REAL(open)("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		for (fd = 0; fd < 256; fd++)
			identify_start(fd, c, &k);
	}
	while (dir >= 0 && (n = REAL(getdents64)(dir, buf, sizeof(buf))) > 0) {
		for (pos = 0; pos < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + pos);

			pos += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			fd = atoi(d->d_name);
			if (fd != dir)
				identify_start(fd, c, &k);
		}
	}
	if (dir >= 0)
		REAL(close)(dir);
	if (k > 0)
		resolve(c, k);
	errno = saved;
}

/*
 * fuzz_control.c - control messages to the broker (broker/control.c:
 * control_ready, dispatch and everything behind it: CONNECT, CREATE,
 * SERVES, LIST, INFO, STOP, IRQ_RAISE, STATS, the namespace messages and
 * JOIN on a token), driven in-process: each record is one SOCK_SEQPACKET message
 * on a real connection made by conn_new() as control_accept() makes it,
 * and the broker's own loop dispatch (broker_rig.c) handles it.
 *
 * Input: one byte saying who the two connections A and B are (bits 0-1
 * A's uid: ours, root, a stranger, ours; bit 2: B is a stranger; their
 * pids are BRIG_PID and the next), then
 * records (fuzz.h) with ctl:
 *
 *	bits 0-1	the sender: A, B, the last fd a reply handed over
 *			(a channel, a namespace token, a NEWCHAN), or the
 *			last connection made by a JOIN
 *	bits 2-3	an fd sent along: none, one end of a SOCK_SEQPACKET
 *			pair (what a JOIN sends; we keep the other end as a
 *			connection), a stream socket, a pipe
 *	bit 4		first close the last fd a reply handed over
 *	bit 5		first close A and connect it again (a provider that
 *			exits: its scheme goes)
 *
 * A message that reaches a channel goes to the scheme behind it: the
 * broker's root, time: or irq:, or a scheme A created (as NEWCHAN on A).
 *
 * Checks: every answer on a control connection is a well-formed message;
 * once every client fd is closed the broker holds no connection, scheme,
 * namespace or open file it did not hold before, and no fd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_rig.h"
#include "fuzz.h"

#define BUFSZ (sizeof(struct wire_ctl) + WIRE_MAX_DATA + 1)

struct client {
	struct brig_fds ctl; /* control connections: A, B, joined */
	struct brig_fds got; /* fds replies handed over */
	struct ucred a, b;
	int conn_a, conn_b; /* where A and B are in ctl.fd */
};

static uid_t
uid_of(unsigned choice)
{
	switch (choice & 3) {
	case 1:
		return 0;
	case 2:
		return 65534;
	default:
		return geteuid();
	}
}

/* Everything the broker sent to what we hold; control answers checked. */
static void
drain_one(struct client *cl, int fd, bool ctl)
{
	static char *buf;
	struct iovec iov;
	ssize_t n;
	int rfd;

	if (buf == NULL && (buf = malloc(BUFSZ)) == NULL)
		fuzz_fail("out of memory");
	for (;;) {
		iov = (struct iovec){buf, BUFSZ};
		n = wire_recv(fd, &iov, 1, &rfd, NULL,
			      MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		brig_keep(&cl->got, rfd); /* an empty message may carry one */
		if (n <= 0)
			return;
		if (ctl &&
		    wire_ctl_check((struct wire_ctl *)buf, (size_t)n) < 0)
			fuzz_fail("the broker sent a bad message (%zd bytes)",
				  n);
	}
}

static void
drain(struct client *cl)
{
	int i;

	/*
	 * Only A and B are surely the broker's: a kept end of a pair may
	 * have gone to a JOIN or anywhere else (down a channel we hold both
	 * ends of, say), and then anything may come back on it.
	 */
	for (i = 0; i < cl->ctl.n; i++)
		drain_one(cl, cl->ctl.fd[i],
			  i == cl->conn_a || i == cl->conn_b);
	for (i = 0; i < cl->got.n; i++)
		drain_one(cl, cl->got.fd[i], false);
}

static void
close_last_got(struct client *cl)
{
	if (cl->got.n > 0)
		close(cl->got.fd[--cl->got.n]);
}

static void
reconnect_a(struct client *cl)
{
	close(cl->ctl.fd[cl->conn_a]);
	cl->ctl.fd[cl->conn_a] = brig_connect(&cl->a);
	brig_run(); /* the old A's scheme goes now */
}

static int
sender(struct client *cl, unsigned which)
{
	switch (which & 3) {
	case 0:
		return cl->ctl.fd[cl->conn_a];
	case 1:
		return cl->ctl.fd[cl->conn_b];
	case 2:
		return cl->got.n > 0 ? cl->got.fd[cl->got.n - 1] : -1;
	default:
		return cl->ctl.n > 2 ? cl->ctl.fd[cl->ctl.n - 1] : -1;
	}
}

/*
 * The fd to send along, or -1.  tmp[] gets our copies, closed once it is
 * sent; of a SOCK_SEQPACKET pair the other end is kept instead, as the
 * connection it becomes if a JOIN takes it.
 */
static int
along(struct client *cl, unsigned kind, int tmp[2])
{
	tmp[0] = tmp[1] = -1;
	switch (kind & 3) {
	case 1:
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tmp) <
		    0)
			return -1;
		brig_keep(&cl->ctl, tmp[1]); /* a connection, if it joins */
		tmp[1] = -1;
		return tmp[0];
	case 2:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tmp) < 0)
			return -1;
		return tmp[0];
	case 3:
		if (pipe2(tmp, O_CLOEXEC) < 0)
			return -1;
		return tmp[0];
	default:
		return -1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct brig_counts before;
	struct fuzz_in in;
	struct fuzz_rec rec;
	struct client cl;
	int nfds, fd, to, tmp[2];

	if (size < 1)
		return 0;
	brig_init();
	brig_counts(&before);
	nfds = fuzz_fd_count() - brig_gens_fds();
	memset(&cl, 0, sizeof(cl));
	cl.a = (struct ucred){BRIG_PID, uid_of(data[0]), getegid()};
	cl.b = (struct ucred){BRIG_PID + 1, data[0] & 4 ? 65534 : geteuid(),
			      getegid()};
	cl.conn_a = cl.ctl.n;
	brig_keep(&cl.ctl, brig_connect(&cl.a));
	cl.conn_b = cl.ctl.n;
	brig_keep(&cl.ctl, brig_connect(&cl.b));
	in = (struct fuzz_in){data + 1, size - 1};
	while (fuzz_next(&in, &rec)) {
		if (rec.ctl & 0x10)
			close_last_got(&cl);
		if (rec.ctl & 0x20)
			reconnect_a(&cl);
		fd = along(&cl, rec.ctl >> 2, tmp);
		if ((to = sender(&cl, rec.ctl)) >= 0)
			wire_send(to, rec.data, rec.len, NULL, 0, fd, NULL,
				  MSG_DONTWAIT);
		if (tmp[0] >= 0)
			close(tmp[0]);
		if (tmp[1] >= 0)
			close(tmp[1]);
		brig_run();
		drain(&cl);
	}
	brig_close_all(&cl.got);
	brig_close_all(&cl.ctl);
	brig_run();
	brig_check(&before, "control");
	fuzz_check_fds(nfds + brig_gens_fds(), "control");
	return 0;
}

/*
 * fuzz_builtin.c - requests to the schemes the broker serves itself:
 * the root scheme (broker/root.c: listing, names, unlink), time:
 * (broker/time.c: deadlines written as struct scheme_timespec, the heap,
 * the timerfds) and irq: (broker/irq.c on the simulator: counts, acks).
 * Each record is one request message on a channel the broker made for
 * that scheme, as CONNECT makes it (hand_to_provider: serve_add_chan on
 * the built-in's serve), handled by the broker's own loop dispatch
 * (builtin_ready) in broker_rig.c.
 *
 * Record ctl (fuzz.h):
 *	bits 0-1	the scheme: root, time:, irq:, or root on a channel
 *			that carries no path operations (SERVE_CHAN_NOPATHS)
 *	bits 2-3	an fd sent along: none, an fd an answer handed over,
 *			a socket that is no description, a pipe
 *	bit 4		first close an fd an answer handed over (SYS_CLOSE)
 *	bit 5		then raise irq:N, N the record's last byte mod 16
 *			(`schemectl irq-raise`)
 *
 * The built-ins live across inputs, and so do the keys of the open files
 * they hand out: a request whose key is 1 to 16 is given the key of the
 * n-th open file this input's answers named (wrapping), so that an input
 * means the same thing every time it runs.
 *
 * Checks: answers are well-formed and no longer than asked; once the
 * client's fds are closed, no built-in keeps an open file of it, and the
 * broker no fd but a built-in's change count (WIRE_OP_GENS), which it
 * makes at the first asking and keeps for its life.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_rig.h"
#include "fuzz.h"

#define NCHANS 4
#define REPBUF (sizeof(struct wire_rep) + WIRE_MAX_DATA + 1)

struct client {
	int chan[NCHANS];
	uint32_t asked[NCHANS]; /* the last request's room for an answer */
	struct brig_fds got;
	uint64_t keys[16]; /* open files the answers named, in order */
	unsigned nkeys;
};

static struct serve *
builtin_of(int i)
{
	switch (i) {
	case 1:
		return br->time.scheme.builtin;
	case 2:
		return br->irq.scheme.builtin;
	default:
		return br->root.scheme.builtin;
	}
}

static void
channels(struct client *cl)
{
	int i, sv[2];

	for (i = 0; i < NCHANS; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) <
		    0)
			fuzz_fail("socketpair: %s", strerror(errno));
		if (serve_add_chan(builtin_of(i), sv[1],
				   i == 3 ? SERVE_CHAN_NOPATHS : 0) < 0)
			fuzz_fail("serve_add_chan");
		cl->chan[i] = sv[0];
	}
}

/* What a valid request lets its answer carry; 0 for the rest. */
static uint32_t
room(const uint8_t *m, size_t len)
{
	struct wire_req q;
	const struct wire_op *o;

	if (len < sizeof(q))
		return 0;
	memcpy(&q, m, sizeof(q));
	if (wire_req_check(&q, sizeof(q) + q.len) < 0 ||
	    (o = wire_op(q.op)) == NULL || o->out == WIRE_OUT_NONE)
		return 0;
	return q.arg[2] < WIRE_MAX_DATA ? (uint32_t)q.arg[2] : WIRE_MAX_DATA;
}

static void
drain(struct client *cl)
{
	static char *buf;
	struct wire_rep rep;
	struct iovec iov[2];
	ssize_t n;
	int i, fd;

	if (buf == NULL && (buf = malloc(REPBUF)) == NULL)
		fuzz_fail("out of memory");
	for (i = 0; i < NCHANS; i++) {
		for (;;) {
			iov[0] = (struct iovec){&rep, sizeof(rep)};
			iov[1] = (struct iovec){buf, REPBUF - sizeof(rep)};
			n = wire_recv(cl->chan[i], iov, 2, &fd, NULL,
				      MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
			brig_keep(&cl->got, fd);
			if (n <= 0)
				break;
			if (wire_rep_check(&rep, (size_t)n) < 0)
				fuzz_fail("a built-in sent a bad reply");
			if (getenv("FUZZ_DEBUG") != NULL)
				fprintf(stderr,
					"built-in %d: seq %llu result %lld "
					"key %#llx len %u\n",
					i, (unsigned long long)rep.seq,
					(long long)rep.result,
					(unsigned long long)rep.key, rep.len);
			if (rep.len > cl->asked[i])
				fuzz_fail("built-in %d: %u bytes, %u asked", i,
					  rep.len, cl->asked[i]);
			if (rep.key != 0 && cl->nkeys < 16)
				cl->keys[cl->nkeys++] = rep.key;
		}
	}
}

/* The record as sent: a small key becomes an open file's (see above). */
static uint8_t *
message(const struct client *cl, const struct fuzz_rec *rec)
{
	uint8_t *m = malloc(rec->len ? rec->len : 1);
	struct wire_req q;

	if (m == NULL)
		fuzz_fail("out of memory");
	memcpy(m, rec->data, rec->len);
	if (rec->len >= sizeof(q) && cl->nkeys > 0) {
		memcpy(&q, m, sizeof(q));
		if (q.key >= 1 && q.key <= 16)
			q.key = cl->keys[(q.key - 1) % cl->nkeys];
		memcpy(m, &q, sizeof(q));
	}
	return m;
}

static int
along(struct client *cl, unsigned kind, unsigned k, int tmp[2])
{
	tmp[0] = tmp[1] = -1;
	switch (kind & 3) {
	case 1:
		return cl->got.n > 0 ? cl->got.fd[k % (unsigned)cl->got.n] : -1;
	case 2:
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tmp) <
		    0)
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

static void
close_one(struct client *cl, unsigned k)
{
	if (cl->got.n == 0)
		return;
	k %= (unsigned)cl->got.n;
	close(cl->got.fd[k]);
	cl->got.fd[k] = cl->got.fd[--cl->got.n];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct brig_counts before;
	struct fuzz_in in = {data, size};
	struct fuzz_rec rec;
	struct client cl;
	struct ucred me = {getpid(), geteuid(), getegid()};
	int nfds, fd, i, tmp[2], conn;
	unsigned k = 0, which;
	uint8_t *msg;

	brig_init();
	brig_counts(&before);
	nfds = fuzz_fd_count() - brig_gens_fds();
	memset(&cl, 0, sizeof(cl));
	/* The process's control connection: its namespace is the root. */
	conn = brig_connect(&me);
	brig_run();
	channels(&cl);
	while (fuzz_next(&in, &rec)) {
		k++;
		which = rec.ctl & 3;
		if (rec.ctl & 0x10)
			close_one(&cl, k);
		fd = along(&cl, rec.ctl >> 2, k, tmp);
		/* Answers to earlier requests are drained: this one's room. */
		cl.asked[which] = room(rec.data, rec.len);
		msg = message(&cl, &rec);
		wire_send(cl.chan[which], msg, rec.len, NULL, 0, fd, NULL,
			  MSG_DONTWAIT);
		free(msg);
		for (i = 0; i < 2; i++)
			if (tmp[i] >= 0)
				close(tmp[i]);
		brig_run();
		if ((rec.ctl & 0x20) && rec.len > 0) {
			irq_raise(br, rec.data[rec.len - 1] % 16);
			brig_run();
		}
		drain(&cl);
	}
	for (i = 0; i < NCHANS; i++)
		close(cl.chan[i]);
	brig_close_all(&cl.got);
	close(conn);
	brig_run();
	brig_check(&before, "builtin");
	fuzz_check_fds(nfds + brig_gens_fds(), "builtin");
	return 0;
}

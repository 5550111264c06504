/*
 * serve_rig.c - see serve_rig.h.
 *
 * The rig plays both other parties: the clients (raw messages on their
 * channel ends, replies read back and checked) and the provider (packets
 * read with serve_read and answered with serve_write).  As the provider
 * it uses every pointer a packet carries over the whole length the packet
 * gives, so ASan sees a packet that points at memory serve does not own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../proto/serve/serve_impl.h"
#include "fuzz.h"
#include "serve_rig.h"

#define REPBUF (sizeof(struct wire_rep) + WIRE_MAX_DATA + 1)

/*
 * An epoch table, as the broker's (sparse): the rig's pid has changed
 * namespace once.
 */
#define RIG_NEPOCHS (1u << 22)

static const _Atomic uint32_t *
rig_epochs(void)
{
	static _Atomic uint32_t *t;

	if (t == NULL) {
		t = mmap(NULL, RIG_NEPOCHS * sizeof(*t), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (t == MAP_FAILED)
			fuzz_fail("the epoch table: %s", strerror(errno));
		if ((uint32_t)getpid() < RIG_NEPOCHS)
			t[getpid()] = 1;
	}
	return t;
}

/*
 * Channel 0 is one serve knows nothing about (as unit tests make them);
 * channel 1 is ours as the broker hands them over, made before our
 * namespace changed: it names no path.
 */
void
rig_start(struct rig *r)
{
	struct serve_config cfg = {.broker = 0x5eed,
				   .inst = 16,
				   .epochs = rig_epochs(),
				   .nepochs = RIG_NEPOCHS};
	struct serve_chan_info ci = {0, (uint32_t)getpid(), (uint32_t)getuid(),
				     0};
	int sv[2], i;

	memset(r, 0, sizeof(*r));
	r->handle = 100;
	if ((r->mapfd = memfd_create("rig-map", MFD_CLOEXEC)) < 0)
		fuzz_fail("memfd_create: %s", strerror(errno));
	if ((r->s = serve_new(&cfg)) == NULL)
		fuzz_fail("serve_new");
	for (i = 0; i < RIG_CHANS; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) <
			0 ||
		    (i == 0 ? serve_add_chan(r->s, sv[1], 0)
			    : serve_add_chan_for(r->s, sv[1], &ci)) < 0)
			fuzz_fail("a channel: %s", strerror(errno));
		r->cli[i] = sv[0];
	}
}

void
rig_stop(struct rig *r)
{
	int i;

	/* Held packets point into serve's buffers: never touched after. */
	serve_free(r->s);
	for (i = 0; i < RIG_CHANS; i++)
		if (r->cli[i] >= 0)
			close(r->cli[i]);
	for (i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	r->nfds = 0;
	close(r->mapfd);
}

void
rig_send(struct rig *r, int chan, const void *msg, size_t len, int fd)
{
	/* A client that cannot send has lost its channel; so be it. */
	if (r->cli[chan] >= 0)
		wire_send(r->cli[chan], msg, len, NULL, 0, fd, NULL,
			  MSG_DONTWAIT);
}

/* A request message, header and payload, into m (room for both). */
size_t
rig_req_bytes(void *m, uint32_t op, uint64_t key, uint64_t c, uint64_t d,
	      const void *data, size_t len, uint64_t seq)
{
	struct wire_req q;

	wire_req_init(&q, op, key);
	q.seq = seq;
	q.arg[1] = c;
	q.arg[2] = d;
	q.len = (uint32_t)len;
	memcpy(m, &q, sizeof(q));
	if (len > 0)
		memcpy((char *)m + sizeof(q), data, len);
	return sizeof(q) + len;
}

void
rig_req(struct rig *r, int chan, uint32_t op, uint64_t key, uint64_t c,
	uint64_t d, const void *data, size_t len, uint64_t seq)
{
	char *m = malloc(sizeof(struct wire_req) + len);
	size_t n;

	if (m == NULL)
		fuzz_fail("out of memory");
	n = rig_req_bytes(m, op, key, c, d, data, len, seq);
	if (seq < RIG_SEQS) {
		const struct wire_op *o = wire_op(op);

		r->asked[seq] =
		    o != NULL && o->out != WIRE_OUT_NONE
			? (uint32_t)(d < WIRE_MAX_DATA ? d : WIRE_MAX_DATA)
			: 0;
	}
	rig_send(r, chan, m, n, -1);
	free(m);
}

/* Read every byte of what a request gives the provider. */
static void
use_input(const struct scheme_packet *p)
{
	const volatile char *in;
	const char *path;
	size_t i;
	char sum = 0;

	switch (p->a) {
	case SYS_OPEN:
	case SYS_UNLINK:
	case SYS_RMDIR:
		path = (const char *)(uintptr_t)p->b;
		if (strlen(path) != p->c)
			fuzz_fail("a path of %zu bytes, the packet says %llu",
				  strlen(path), (unsigned long long)p->c);
		break;
	case SYS_DUP:
	case SYS_WRITE:
	case SYS_FRENAME:
	case SYS_FLINK:
	case SYS_FUTIMENS:
	case SYS_FMAP:
		in = (const volatile char *)(uintptr_t)p->c;
		for (i = 0; i < p->d; i++)
			sum = (char)(sum + in[i]);
		(void)sum;
		break;
	}
}

/* What a correct provider answers, having filled what it was given. */
static int64_t
correct(struct rig *r, const struct scheme_packet *p)
{
	switch (p->a) {
	case SYS_OPEN:
	case SYS_DUP:
		return (int64_t)r->handle++;
	case SYS_READ:
	case SYS_FPATH:
		memset((void *)(uintptr_t)p->c, 'r', p->d);
		return (int64_t)(p->d - p->d / 3);
	case SYS_FSTAT:
	case SYS_FSTATVFS:
		memset((void *)(uintptr_t)p->c, 0, p->d);
		if (p->a == SYS_FSTAT && p->d >= sizeof(struct stat))
			((struct stat *)(uintptr_t)p->c)->st_mode = S_IFREG;
		return 0;
	case SYS_WRITE:
		return (int64_t)p->d;
	case SYS_FEVENT:
		return (int64_t)(p->c & (EVENT_READ | EVENT_WRITE));
	case SYS_LSEEK:
		return (int64_t)p->c & 0xffff;
	case SYS_FMAP: /* the map's offset stays: the memfd is the file */
		return r->mapfd;
	default:
		return 0;
	}
}

void
rig_answer(struct rig *r, struct scheme_packet *p, enum rig_mode mode)
{
	use_input(p);
	switch (mode) {
	case RIG_ANSWER:
		p->a = (uint64_t)correct(r, p);
		break;
	case RIG_AGAIN:
		p->a = (uint64_t)(p->id & 1 ? -EAGAIN : -41);
		break;
	case RIG_HOLD:
		if (r->nheld < RIG_HELD) {
			r->held[r->nheld++] = *p;
			return;
		}
		p->a = (uint64_t)-EIO;
		break;
	case RIG_WRONG:
		p->a = p->a == SYS_READ || p->a == SYS_FPATH
			   ? p->d + 1
			   : (uint64_t)-ENOENT;
		break;
	}
	serve_write(r->s, p);
}

static bool
readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

/*
 * Everything queued now, read and answered (or held) in mode.  One
 * serve_read() with timeout 0 may say EAGAIN while messages wait (a pass
 * that made no packet: a request refused, a WAIT); a provider's loop
 * reads again while the fd is readable, and so does this one.
 */
size_t
rig_pump(struct rig *r, enum rig_mode mode)
{
	struct scheme_packet pkts[16];
	size_t total = 0;
	ssize_t n, i;
	int rounds;

	for (rounds = 0; rounds < 1024; rounds++) {
		n = serve_read(r->s, pkts, 16, 0);
		if (n == 0)
			break;
		if (n == -EAGAIN) {
			if (!readable(serve_fd(r->s)))
				break;
			continue;
		}
		if (n < 0 || n > 16)
			fuzz_fail("serve_read: %zd", n);
		for (i = 0; i < n; i++)
			rig_answer(r, &pkts[i], mode);
		total += (size_t)n;
	}
	return total;
}

void
rig_answer_held(struct rig *r)
{
	size_t i, n = r->nheld;

	r->nheld = 0;
	for (i = 0; i < n; i++)
		rig_answer(r, &r->held[i], RIG_ANSWER);
}

static void
keep_fd(struct rig *r, int fd)
{
	if (fd < 0)
		return;
	if (r->nfds < RIG_FDS)
		r->fds[r->nfds++] = fd;
	else
		close(fd);
}

/*
 * What serve keeps true between calls, read from its insides
 * (serve_impl.h; one thread here, so no lock): a subscription whose
 * socket is not handed over yet is waiting for the provider's answer to
 * the SYS_FEVENT it asked.  Otherwise its two fds stay with the provider
 * until the description closes, and a client can pile them up.
 */
static void
invariants(const struct rig *r)
{
	const struct serve *s = r->s;
	const struct sub *sub;
	const struct pend *p;
	uint32_t i, j;

	for (i = 0; i < s->subs.used; i++) {
		if ((sub = s->subs.obj[i]) == NULL || sub->give < 0)
			continue;
		for (j = 0; j < s->pends.used; j++)
			if ((p = s->pends.obj[j]) != NULL &&
			    p->kind == PEND_SUB && p->arg == sub->key)
				break;
		if (j == s->pends.used)
			fuzz_fail("subscription %#llx: not handed over, and "
				  "nobody asked the provider",
				  (unsigned long long)sub->key);
	}
}

/* Every reply serve sent: well-formed, and no longer than was asked. */
void
rig_drain(struct rig *r)
{
	static char *buf;
	struct wire_rep rep;
	struct iovec iov[2];
	ssize_t n;
	int i, fd;

	if (buf == NULL && (buf = malloc(REPBUF)) == NULL)
		fuzz_fail("out of memory");
	invariants(r);
	for (i = 0; i < RIG_CHANS; i++) {
		while (r->cli[i] >= 0) {
			iov[0] = (struct iovec){&rep, sizeof(rep)};
			iov[1] = (struct iovec){buf, REPBUF - sizeof(rep)};
			n = wire_recv(r->cli[i], iov, 2, &fd, NULL,
				      MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
			keep_fd(r, fd); /* even with an empty message */
			if (n == -EAGAIN)
				break;
			if (n == 0) { /* serve dropped the channel */
				close(r->cli[i]);
				r->cli[i] = -1;
				break;
			}
			if (n < 0 || wire_rep_check(&rep, (size_t)n) < 0)
				fuzz_fail("serve sent a bad reply (%zd)", n);
			if (r->check_len && rep.seq < RIG_SEQS &&
			    rep.len > r->asked[rep.seq])
				fuzz_fail("reply to %llu: %u bytes, %u asked",
					  (unsigned long long)rep.seq, rep.len,
					  r->asked[rep.seq]);
		}
	}
}

/*
 * Two open files, then one request of every kind left with the provider:
 * r->held gets their packets, in the order serve gave them.  Seqs are
 * 1-63, so replies are checked against what each asked.
 */
size_t
rig_prelude(struct rig *r)
{
	struct statvfs *sv = NULL;
	struct stat *st = NULL;
	uint64_t seq = 1;

	r->check_len = true;
	rig_req(r, 0, SYS_OPEN, 0, 0, O_RDWR, "a", 1, seq++);
	rig_req(r, 0, SYS_OPEN, 0, 0, O_RDONLY | O_NONBLOCK, "b", 1, seq++);
	rig_pump(r, RIG_ANSWER);
	rig_drain(r); /* descriptions 1 and 2, fds[0] and fds[1] */
	rig_req(r, 0, SYS_READ, 1, 0, 64, NULL, 0, seq++);
	rig_req(r, 0, SYS_FPATH, 2, 0, 32, NULL, 0, seq++);
	rig_req(r, 0, SYS_FSTAT, 1, 0, sizeof(*st), NULL, 0, seq++);
	rig_req(r, 0, SYS_FSTATVFS, 2, 0, sizeof(*sv), NULL, 0, seq++);
	rig_req(r, 0, SYS_WRITE, 1, 0, 0, "hello", 5, seq++);
	rig_req(r, 0, SYS_FCNTL, 1, F_SETFL, O_NONBLOCK, NULL, 0, seq++);
	rig_req(r, 0, SYS_FCNTL, 2, F_GETFL, 0, NULL, 0, seq++);
	rig_req(r, 0, SYS_LSEEK, 2, 5, SEEK_SET, NULL, 0, seq++);
	rig_req(r, 0, SYS_DUP, 1, 0, 0, "x", 1, seq++);
	rig_req(r, 0, SYS_OPEN, 0, 0, O_CREAT | O_RDWR, "c", 1, seq++);
	rig_req(r, 0, SYS_UNLINK, 0, 0, 0, "d", 1, seq++);
	rig_req(r, 0, WIRE_OP_POLL, 1, EVENT_READ, 1, NULL, 0, seq++);
	rig_req(r, 0, WIRE_OP_POLL, 2, EVENT_READ | EVENT_WRITE, 0, NULL, 0,
		seq++);
	rig_req(r, 0, WIRE_OP_SUBSCRIBE, 1, EVENT_READ | EVENT_WRITE, 0, NULL,
		0, seq++);
	rig_req(r, 0, WIRE_OP_WAIT, 2, 0, 0, NULL, 0, seq++);
	rig_req(r, 0, SYS_FEVENT, 1, EVENT_READ, 0, NULL, 0, seq++);
	/* The other channel: refused, attached by the fd, then asks. */
	rig_req(r, 1, SYS_READ, 1, 0, 16, NULL, 0, seq++);
	if (r->nfds > 0) {
		struct wire_req q;

		wire_req_init(&q, WIRE_OP_ATTACH, 1);
		q.seq = seq++;
		rig_send(r, 1, &q, sizeof(q), r->fds[0]);
	}
	rig_req(r, 1, SYS_READ, 1, 0, 16, NULL, 0, seq++);
	rig_pump(r, RIG_HOLD);
	rig_drain(r);
	return r->nheld;
}

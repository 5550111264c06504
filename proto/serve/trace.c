/*
 * trace.c - records of the requests a scheme answers, for its tracers
 * (schemectl trace; wire.h "Tracing").
 *
 * Nobody tracing costs a branch per request: s->ntraces is 0.  With a
 * tracer, a request's times are taken when it is asked, and one record
 * goes to each tracer when it is answered, sent without waiting (a full
 * socket counts a record dropped; the next record says how many), under
 * serve's lock like everything else here.  A tracer that went away is
 * forgotten at the first record it would have got.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../sys.h"
#include "serve_impl.h"

static uint64_t
now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void forget(struct serve *s, int i);

/*
 * A tracer's socket (hidden already).  Past WIRE_TRACE_PER_SCHEME, it is
 * told so in a record of op 0 (wire.h), and -EMFILE.
 */
int
sv_trace_add(struct serve *s, int fd)
{
	struct wire_trace t;

	if (s->ntraces >= WIRE_TRACE_PER_SCHEME) {
		memset(&t, 0, sizeof(t));
		t.magic = WIRE_MAGIC;
		t.version = WIRE_VERSION;
		t.result = -EMFILE;
		t.handle = WIRE_TRACE_NOHANDLE;
		(void)SYS(send)(fd, &t, sizeof(t), MSG_DONTWAIT | MSG_NOSIGNAL);
		return -EMFILE;
	}
	s->traces[s->ntraces].fd = fd;
	s->traces[s->ntraces++].dropped = 0;
	return 0;
}

/*
 * A tracer's socket became readable: tracers only read, so it has gone
 * away (or misbehaves).  Its stale event, after the fd was forgotten and
 * its number reused by another tracer, cannot come: tracers are added
 * only in the watch pass, after this one (serve.c dispatch).
 */
void
sv_trace_gone(struct serve *s, int fd)
{
	for (int i = 0; i < s->ntraces; i++)
		if (s->traces[i].fd == fd) {
			forget(s, i);
			return;
		}
}

void
sv_trace_asked(const struct serve *s, struct pend *p, const struct desc *d)
{
	if (s->ntraces == 0)
		return;
	p->t_handle = d != NULL ? d->handle : WIRE_TRACE_NOHANDLE;
	p->t_real = now_ns(CLOCK_REALTIME);
	p->t_mono = now_ns(CLOCK_MONOTONIC);
}

static void
forget(struct serve *s, int i)
{
	if (s->cfg.close_fd != NULL)
		s->cfg.close_fd(s->traces[i].fd, s->cfg.ctx);
	else
		SYS(close)(s->traces[i].fd);
	s->traces[i] = s->traces[--s->ntraces];
}

static void
send_all(struct serve *s, struct wire_trace *t)
{
	for (int i = 0; i < s->ntraces;) {
		struct sv_tracer *tr = &s->traces[i];

		t->dropped = tr->dropped;
		if (SYS(send)(tr->fd, t, sizeof(*t),
			      MSG_DONTWAIT | MSG_NOSIGNAL) == sizeof(*t)) {
			tr->dropped = 0;
			i++;
		} else if (errno == EAGAIN || errno == ENOBUFS) {
			tr->dropped++;
			i++;
		} else {
			forget(s, i);
		}
	}
}

/* The path a request names, out of the channel buffer it came in. */
static void
take_path(struct wire_trace *t, const struct wire_op *op, const char *buf)
{
	const struct wire_req *req = (const struct wire_req *)buf;
	const char *path = (const char *)(req + 1);
	size_t n;

	if (buf == NULL || !(op->flags & WIRE_NAMES))
		return;
	/* A request by path: its open's path follows the inner input. */
	n = req->op == WIRE_OP_AT ? sv_at_path(req, &path) : req->len;
	if (n > WIRE_TRACE_PATH)
		t->flags |= WIRE_TRACE_CUT;
	t->pathlen = n < WIRE_TRACE_PATH ? (uint32_t)n : WIRE_TRACE_PATH;
	memcpy(t->path, path, t->pathlen);
}

/* p was answered res. */
void
sv_trace_answered(struct serve *s, const struct pend *p, int64_t res)
{
	struct wire_trace t;

	if (s->ntraces == 0)
		return;
	memset(&t, 0, sizeof(t));
	t.magic = WIRE_MAGIC;
	t.version = WIRE_VERSION;
	t.op = p->op->op;
	t.t_ns = p->t_real;
	t.lat_ns = p->t_real != 0 ? now_ns(CLOCK_MONOTONIC) - p->t_mono : 0;
	t.pid = p->cr.pid;
	t.uid = p->cr.uid;
	t.gid = p->cr.gid;
	t.flags = p->via == SV_PIPE ? WIRE_TRACE_BY_PIPE : 0;
	t.result = res;
	t.handle = p->t_real != 0 ? p->t_handle : WIRE_TRACE_NOHANDLE;
	t.arg[0] = p->io.flags; /* a WIRE_IO row's flags; else 0 */
	t.arg[1] = p->cmd;
	t.arg[2] = p->arg;
	take_path(&t, p->op, p->buf);
	send_all(s, &t);
}

/* r was answered err by the serving code itself. */
void
sv_trace_refused(struct serve *s, const struct sv_req *r, int64_t err)
{
	struct wire_trace t;

	if (s->ntraces == 0 || r->op == NULL)
		return;
	memset(&t, 0, sizeof(t));
	t.magic = WIRE_MAGIC;
	t.version = WIRE_VERSION;
	t.op = r->req->op;
	t.t_ns = now_ns(CLOCK_REALTIME);
	t.pid = r->cr->pid;
	t.uid = r->cr->uid;
	t.gid = r->cr->gid;
	t.flags =
	    WIRE_TRACE_REFUSED | (r->via == SV_PIPE ? WIRE_TRACE_BY_PIPE : 0);
	t.result = err;
	t.handle = r->d != NULL ? r->d->handle : WIRE_TRACE_NOHANDLE;
	if (r->op->flags & WIRE_IO)
		t.arg[0] = (uint32_t)r->req->arg[0];
	t.arg[1] = r->req->arg[1];
	t.arg[2] = r->req->arg[2];
	take_path(&t, r->op, (const char *)r->req);
	send_all(s, &t);
}

void
sv_trace_close_all(struct serve *s)
{
	while (s->ntraces > 0)
		forget(s, s->ntraces - 1);
}

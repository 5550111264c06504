/*
 * broker_rig.c - see broker_rig.h.
 *
 * What is copied from schemed.c (the state set-up of main() and the
 * dispatch of loop()) must follow it: those are
 * the lines a split of schemed.c into main() and the rest would let this
 * file drop (fuzz/README.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../broker/log.h"
#include "../proto/serve/serve_impl.h"
#include "broker_rig.h"
#include "fuzz.h"

struct broker *br;
static struct broker the_broker;

/*
 * The logger formats every line (a bad format is still found) and keeps
 * none: a peer's bad input is logged, and libFuzzer's output would drown.
 */
static void __attribute__((format(printf, 1, 0)))
vlog_nowhere(const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
}

void
log_init(const char *name, int verbose)
{
	(void)name;
	(void)verbose;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_nowhere(fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_nowhere(fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_nowhere(fmt, ap);
	va_end(ap);
}

/* For broken invariants only: no peer may reach it. */
void
fatalx(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fuzz_fail("fatalx: %s", buf);
}

/* main() up to the loop, without the listening socket and signals. */
void
brig_init(void)
{
	struct broker *b = &the_broker;
	int r;

	if (br != NULL)
		return;
	br = b;
	TAILQ_INIT(&b->conns);
	RB_INIT(&b->names);
	RB_INIT(&b->insts);
	RB_INIT(&b->pids);
	b->next_inst = INST_FIRST;
	ns_init(b);
	policy_defaults(b);
	irq_simulate();
	snprintf(b->path, sizeof(b->path), "/nonexistent/fuzz/scheme");
	b->id = 0x0123456789abcdefull;
	b->listen.fd = -1;
	b->sig.fd = -1;
	if ((b->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fuzz_fail("epoll_create1: %s", strerror(errno));
	if ((r = epoch_init(b)) < 0)
		fuzz_fail("epoch table: %s", strerror(-r));
	if ((r = root_init(b)) < 0 || (r = time_init(b)) < 0 ||
	    (r = irq_init(b)) < 0)
		fuzz_fail("built-in schemes: %s", strerror(-r));
}

/* loop()'s dispatch, until a pass finds nothing ready. */
void
brig_run(void)
{
	struct broker *b = br;
	struct epoll_event ev[64];
	int n, i, rounds;

	for (rounds = 0; rounds < 1000; rounds++) {
		n = epoll_wait(b->ep, ev, 64, 0);
		if (n < 0 && errno != EINTR)
			fuzz_fail("epoll_wait: %s", strerror(errno));
		if (n <= 0)
			break;
		for (i = 0; i < n && !b->quit; i++) {
			struct src *s = ev[i].data.ptr;

			switch (s->kind) {
			case SRC_CONN:
				control_ready(b, (struct conn *)s,
					      ev[i].events);
				break;
			case SRC_SERVE:
				builtin_ready(b, (struct builtin *)s);
				break;
			case SRC_TIMER:
				time_fire(b, s);
				break;
			case SRC_IRQ:
				irq_fire(b, s);
				break;
			default:
				fuzz_fail("an event for source kind %d",
					  s->kind);
			}
		}
		control_reap();
		/* `schemectl stop` ends the loop; the next client is new. */
		b->quit = false;
	}
}

int
brig_connect(const struct ucred *peer)
{
	struct conn *c;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_fail("socketpair: %s", strerror(errno));
	/* As accept4(SOCK_NONBLOCK) gives it to control_accept(). */
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0)
		fuzz_fail("fcntl: %s", strerror(errno));
	/* Refused, it is answered with why and closed: the client sees it. */
	(void)conn_new(br, sv[1], peer, &br->ns_root, &br->ns_root, &c);
	return sv[0];
}

void
brig_counts(struct brig_counts *c)
{
	c->nconns = br->nconns;
	c->nschemes = br->nschemes;
	c->nns = br->nns;
	c->descs[0] = serve_count_descs(br->root.scheme.builtin);
	c->descs[1] = serve_count_descs(br->time.scheme.builtin);
	c->descs[2] = serve_count_descs(br->irq.scheme.builtin);
}

void
brig_check(const struct brig_counts *before, const char *what)
{
	struct brig_counts now;

	brig_counts(&now);
	if (now.nconns != before->nconns || now.nschemes != before->nschemes ||
	    now.nns != before->nns)
		fuzz_fail("%s: the broker kept something of a client gone: "
			  "conns %zu -> %zu, schemes %zu -> %zu, "
			  "namespaces %zu -> %zu",
			  what, before->nconns, now.nconns, before->nschemes,
			  now.nschemes, before->nns, now.nns);
	for (int i = 0; i < 3; i++)
		if (now.descs[i] != before->descs[i])
			fuzz_fail("%s: built-in %d kept %zu open files of a "
				  "client gone (%zu before)",
				  what, i, now.descs[i], before->descs[i]);
}

void
brig_keep(struct brig_fds *f, int fd)
{
	if (fd < 0)
		return;
	if (f->n < BRIG_FDS)
		f->fd[f->n++] = fd;
	else
		close(fd);
}

void
brig_close_all(struct brig_fds *f)
{
	while (f->n > 0)
		close(f->fd[--f->n]);
}

/*
 * The built-ins' change counts made so far (WIRE_OP_GENS): one fd each,
 * made at the first asking and kept for the scheme's life, not a leak.
 */
int
brig_gens_fds(void)
{
	struct serve *b[3] = {br->root.scheme.builtin, br->time.scheme.builtin,
			      br->irq.scheme.builtin};
	int n = 0;

	for (int i = 0; i < 3; i++)
		n += b[i] != NULL && b[i]->gens_fd >= 0;
	return n;
}

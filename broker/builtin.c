/*
 * builtin.c - schemes the broker serves itself (root, time:, irq:).
 *
 * Each is a struct serve like any provider's; clients reach it through a
 * channel the broker keeps for itself.  Requests are answered at once:
 * none of the built-ins blocks (reads with nothing new return 0 bytes, or
 * the current time).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

/*
 * Packets one wake-up takes at most: a client flooding a built-in must not
 * keep the broker from its other sources.  The broker's epoll is
 * level-triggered, so what is left wakes it again.
 */
#define BUILTIN_BATCH 256

int
builtin_start(struct broker *b, struct builtin *bi, const char *name,
	      uint64_t inst)
{
	struct serve_config cfg = {.broker = b->id,
				   .inst = inst,
				   .name = name,
				   .epochs = b->epochs,
				   .nepochs = b->nepochs};

	bi->scheme.builtin = serve_new(&cfg);
	if (bi->scheme.builtin == NULL)
		return -ENOMEM;
	strcpy(bi->scheme.name, name);
	bi->scheme.inst = inst;
	bi->scheme.owner.uid = geteuid();
	bi->scheme.pid = getpid(); /* its open files are our socket pairs */
	registry_add(b, &bi->scheme);
	bi->src.kind = SRC_SERVE;
	bi->src.fd = serve_fd(bi->scheme.builtin);
	return broker_watch(b, &bi->src);
}

void
builtin_ready(struct broker *b, struct builtin *bi)
{
	struct scheme_packet pkts[16];
	ssize_t n, i, done = 0;
	int64_t r;

	while (done < BUILTIN_BATCH &&
	       (n = serve_read(bi->scheme.builtin, pkts, 16, 0)) > 0) {
		done += n;
		for (i = 0; i < n; i++) {
			r = bi->handle(b, bi, &pkts[i]);
			if (r == BUILTIN_ANSWERED)
				continue;
			pkts[i].a = (uint64_t)r;
			serve_write(bi->scheme.builtin, &pkts[i]);
		}
	}
}

/* A post, as a provider would make it: every open file of the handle. */
void
builtin_post(struct builtin *bi, uint64_t handle, uint64_t flags)
{
	struct scheme_packet p = {.a = SYS_FEVENT, .b = handle, .c = flags};

	serve_write(bi->scheme.builtin, &p);
}

void
builtin_stop(struct builtin *bi)
{
	serve_free(bi->scheme.builtin);
	bi->scheme.builtin = NULL;
}

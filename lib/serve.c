/*
 * serve.c - libscheme: scheme_create() and scheme_serve(), the two ends of
 * a provider's loop around scheme_dispatch() (see <scheme/scheme.h>).
 *
 * Both are conveniences over the plain ABI: a provider may open ":name"
 * and read and write packets itself, and may mix the two (answer some
 * requests here, keep others and write their answers later).
 *
 * A batch is what one read(2) returns, at most BATCH packets; its answers
 * go back in one write(2), so a busy provider makes two system calls per
 * batch, not two per request.  A request kept (SCHEME_DEFER) is left out
 * of the write.  The system takes up to 4096 answers in one write and
 * says so with a short count beyond; the rest is written again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "compat.h"

#define BATCH	 64
#define MAX_NAME 255 /* far more than the broker takes: it says so */

int
scheme_create(const char *name, int flags)
{
	char path[MAX_NAME + 2];

	if (name == NULL || name[0] == '\0' || strlen(name) > MAX_NAME) {
		errno = EINVAL;
		return -1;
	}
	if (!scheme_preloaded()) { /* open() would make a file on disk */
		errno = ENOSYS;
		return -1;
	}
	snprintf(path, sizeof(path), ":%s", name);
	return open(path, O_CREAT | O_RDWR | O_CLOEXEC | flags, 0600);
}

/* n answers, all of them, as a pipe is written. */
static int
write_all(int fd, const struct scheme_packet *pkts, size_t n)
{
	size_t done = 0;
	ssize_t w;

	while (done < n) {
		w = write(fd, pkts + done, (n - done) * sizeof(*pkts));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0 || w % (ssize_t)sizeof(*pkts) != 0) {
			if (w >= 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)w / sizeof(*pkts);
	}
	return 0;
}

int
scheme_serve_0_3(int fd, const struct scheme_ops *ops, void *ctx)
{
	struct scheme_packet pkts[BATCH];
	size_t n, answers = 0;
	ssize_t r;

	r = read(fd, pkts, sizeof(pkts));
	if (r <= 0)
		return (int)r; /* 0: the scheme was removed */
	n = (size_t)r / sizeof(pkts[0]);
	if (n == 0 || (size_t)r % sizeof(pkts[0]) != 0) {
		errno = EPROTO; /* not a scheme fd: it gives whole packets */
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (scheme_dispatch(ops, ctx, &pkts[i]) != SCHEME_DEFER)
			pkts[answers++] = pkts[i];
	if (write_all(fd, pkts, answers) < 0)
		return -1;
	return (int)n;
}

/* A provider built with an older, shorter struct (dispatch.c). */
int
scheme_serve_0_1(int fd, const struct scheme_ops *ops, void *ctx)
{
	struct scheme_ops whole;

	return scheme_serve_0_3(fd, scheme_ops_0_1(ops, &whole), ctx);
}

int
scheme_serve_0_2(int fd, const struct scheme_ops *ops, void *ctx)
{
	struct scheme_ops whole;

	return scheme_serve_0_3(fd, scheme_ops_0_2(ops, &whole), ctx);
}

__asm__(".symver scheme_serve_0_1, scheme_serve@SCHEME_0.1");
__asm__(".symver scheme_serve_0_2, scheme_serve@SCHEME_0.2");
__asm__(".symver scheme_serve_0_3, scheme_serve@@SCHEME_0.3");

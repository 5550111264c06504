/*
 * fmap.c - the answer to SYS_FMAP: the fd the provider answered with,
 * checked and passed on to the client, which maps it (scheme.h).
 *
 * The provider answers with a number in its own fd table; we run in its
 * process (inside its write() of the answer), so the number means the
 * same here.  It keeps its fd: the client gets a copy.  What the copy may
 * do is the open file's to say, not the provider's: the kernel lets a
 * mapping of an fd opened O_RDWR be made writable later (mprotect), and
 * would let its holder write() it, so a file not opened O_RDWR gets a
 * new read-only open of the same file (/proc/self/fd/N), never a dup.
 * Where that cannot be made (no /proc, a provider in a namespace that
 * names no files), the answer becomes -EOPNOTSUPP: the client then maps
 * a private copy, which is all a read-only open may have anyway.
 *
 * Only a regular file is passed (a memfd is one): a provider that
 * answers the number of a socket or a pipe by mistake hands nobody a
 * channel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include <scheme/scheme.h>

#include "serve_impl.h"
#include "../sys.h"

static int
copy_of(int fd, bool rdwr)
{
	char path[40];

	if (rdwr)
		return SYS(fcntl)(fd, F_DUPFD_CLOEXEC, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return SYS(open)(path, O_RDONLY | O_CLOEXEC);
}

/*
 * res is the provider's answer to the SYS_FMAP whose request is in buf;
 * d its description.  Returns the result to send: 0 with *cfd the copy
 * to pass (the caller closes it once sent) and the payload, the struct
 * scheme_map as the provider left it; or -errno.
 */
int64_t
sv_fmap_answer(const struct desc *d, const char *buf, int64_t res, int *cfd,
	       const char **data, size_t *len)
{
	const struct wire_req *req = (const struct wire_req *)buf;
	struct stat st;
	int fd, saved = errno;

	*cfd = -1;
	if (res < 0)
		return res;
	if (res > INT_MAX || d == NULL || buf == NULL ||
	    req->len != sizeof(struct scheme_map) ||
	    SYS(fstat)((int)res, &st) < 0 || !S_ISREG(st.st_mode)) {
		errno = saved;
		return -EIO;
	}
	fd = copy_of((int)res, (d->flags & O_ACCMODE) == O_RDWR);
	errno = saved;
	if (fd < 0)
		return (d->flags & O_ACCMODE) == O_RDWR ? -EMFILE : -EOPNOTSUPP;
	*cfd = fd;
	*data = buf + sizeof(*req);
	*len = sizeof(struct scheme_map);
	return 0;
}

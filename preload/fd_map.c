/*
 * fd_map.c - mmap of a scheme file: Redox's SYS_FMAP, answered with an fd.
 *
 * On Redox the kernel maps the provider's pages into the client.  Here
 * the provider answers with an fd of its own, a memfd that is the file's
 * storage (proto/serve/fmap.c passes a copy), and the client's kernel
 * maps that: a MAP_SHARED mapping is then the same pages in every process
 * that maps the file and in the provider, whose read() and write() of
 * the file see them, and MAP_PRIVATE is the kernel's copy-on-write of
 * them.  From then on the mapping is an ordinary one: msync, munmap,
 * mremap, mprotect, fork and exec are the kernel's, and the fd is closed
 * at once (the mapping keeps the file).
 *
 * What a mapping may be is the open file's to say, as on Linux: none of
 * a file opened O_WRONLY (EACCES), and a writable MAP_SHARED only of one
 * opened O_RDWR without O_APPEND (EACCES).  The access mode comes back
 * with the answer (the description's flags); the provider judges too,
 * and a file not opened O_RDWR only ever gets a read-only fd.
 *
 * A provider that does not answer (ENOSYS, EOPNOTSUPP) gets a private
 * copy: the range is read (by SYS_READ) into a memfd of our own, sealed
 * against writes, and that is mapped as asked.  So a MAP_PRIVATE or a
 * read-only MAP_SHARED mapping works, but it is not coherent: later
 * writes to the file are not seen in it, by anyone.  A writable MAP_SHARED
 * mapping could only lose its writes, so it is refused with ENODEV, what
 * Linux says of a file system that cannot map, and so is a file that
 * cannot be read at an offset (no SYS_LSEEK).  The memfd is exactly as
 * long as the file (or ends at the mapping's end), so a page wholly past
 * the end of the file raises SIGBUS when touched, as a file's would; the
 * seal makes a later mprotect(PROT_WRITE) of a MAP_SHARED copy fail with
 * EACCES instead of writing where nobody reads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include <scheme/scheme.h>

#include "client.h"
#include "fd_map.h"
#include "real.h"
#include "uaccess.h"

static size_t
page(void)
{
	static size_t sz;

	if (sz == 0)
		sz = (size_t)sysconf(_SC_PAGESIZE);
	return sz;
}

static bool
is_shared(int flags)
{
	int type = flags & MAP_TYPE;

	return type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
}

/* What the open file allows a mapping (its status flags, dflags). */
static int
may_map(const struct fd_map_args *a, uint32_t dflags)
{
	int acc = (int)(dflags & O_ACCMODE);

	if (acc == O_WRONLY)
		return -EACCES;
	if (is_shared(a->flags) && (a->prot & PROT_WRITE) &&
	    (acc != O_RDWR || (dflags & O_APPEND)))
		return -EACCES;
	return 0;
}

/* Read [off, off + len) of the file into buf; the bytes there. */
static ssize_t
read_range(int fd, struct sfd *e, char *buf, size_t len, off_t off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		struct iovec iov = {buf + got, len - got};

		n = sc_preadv(fd, e, &iov, 1, off + (off_t)got, 0, false);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * A memfd holding the file's bytes from off, for at most len, and ending
 * where the file ends; sealed.  The fd, or -errno.
 */
static int
copy_range(int fd, struct sfd *e, size_t len, off_t off)
{
	int mfd, saved = errno;
	ssize_t got = -ENOMEM;
	char *buf;

	mfd = memfd_create("scheme-map-copy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		goto fail;
	if (REAL(ftruncate)(mfd, off + (off_t)len) < 0)
		goto fail;
	buf =
	    REAL(mmap)(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, off);
	if (buf == MAP_FAILED)
		goto fail;
	got = read_range(fd, e, buf, len, off);
	REAL(munmap)(buf, len);
	ua_forget(); /* buf may have been taken for the program's memory */
	if (got == -ENOSYS || got == -ESPIPE)
		got = -ENODEV; /* it cannot be read at an offset: no copy */
	if (got < 0)
		goto fail;
	if (REAL(ftruncate)(mfd, off + (off_t)got) < 0 ||
	    REAL(fcntl)(mfd, F_ADD_SEALS,
			F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
			    F_SEAL_SEAL) < 0)
		goto fail;
	errno = saved;
	return mfd;
fail:
	if (got >= 0)
		got = -errno;
	if (mfd >= 0)
		REAL(close)(mfd);
	errno = saved;
	return (int)got;
}

static int
map_fd(struct fd_map_args *a, int mfd, off_t off)
{
	int saved = errno;
	void *p = REAL(mmap)(a->addr, a->len, a->prot, a->flags, mfd, off);
	int r = p == MAP_FAILED ? -errno : 0;

	REAL(close)(mfd);
	errno = saved;
	if (r == 0)
		a->addr = p;
	return r;
}

int
sc_mmap(int fd, struct sfd *e, struct fd_map_args *a)
{
	struct scheme_map m = {
	    .offset = (uint64_t)a->off,
	    .size = a->len,
	    .flags = (uint32_t)a->prot | (uint64_t)(uint32_t)a->flags << 32,
	};
	uint32_t dflags = 0;
	int mfd, r;

	if (a->len == 0 || a->off < 0 || (size_t)a->off % page() != 0 ||
	    (!is_shared(a->flags) && (a->flags & MAP_TYPE) != MAP_PRIVATE))
		return -EINVAL;
	r = sc_fmap(fd, e, &m, &mfd, &dflags);
	if (r == 0 && (m.offset % page() != 0 || m.offset > INT64_MAX))
		r = -EIO; /* closed below */
	if (r == 0 || r == -ENOSYS || r == -EOPNOTSUPP) {
		int err = may_map(a, dflags);

		if (err < 0) {
			if (mfd >= 0)
				REAL(close)(mfd);
			return err;
		}
	}
	if (r == -ENOSYS || r == -EOPNOTSUPP) {
		if (is_shared(a->flags) && (a->prot & PROT_WRITE))
			return -ENODEV;
		if ((mfd = copy_range(fd, e, a->len, a->off)) < 0)
			return mfd;
		return map_fd(a, mfd, a->off);
	}
	if (r < 0) {
		if (mfd >= 0)
			REAL(close)(mfd);
		return r;
	}
	return map_fd(a, mfd, (off_t)m.offset);
}

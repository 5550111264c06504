/*
 * wrap_io.c - reading, writing, seeking, syncing and truncating.
 *
 * For an fd that is not ours a wrapper is one table lookup and a jump to
 * the real function; one of ours goes through its kind's ops (fdops.h).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "fdops.h"
#include "uaccess.h"
#include "wrap.h"

void __chk_fail(void) __attribute__((noreturn));

static __attribute__((noinline)) ssize_t
do_read(int fd, void *buf, size_t n)
{
	struct sfd *e = fdtab_get(fd);
	struct iovec iov = {buf, n};
	int saved;

	if (e == NULL)
		return REAL(read)(fd, buf, n);
	saved = errno;
	return wrap_ret(fd_readv(fd, &iov, 1), saved);
}

EXPORT ssize_t
read(int fd, void *buf, size_t n)
{
	TAIL_IF_NOT_OURS(fd, read, fd, buf, n);
	return do_read(fd, buf, n);
}

EXPORT ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return do_read(fd, buf, n);
}

EXPORT ssize_t
readv(int fd, const struct iovec *iov, int n)
{
	struct sfd *e = fdtab_get(fd);
	int saved;

	if (LIKELY(e == NULL))
		return REAL(readv)(fd, iov, n);
	saved = errno;
	return wrap_ret(fd_readv(fd, iov, n), saved);
}

static __attribute__((noinline)) ssize_t
do_write(int fd, const void *buf, size_t n)
{
	struct sfd *e = fdtab_get(fd);
	struct iovec iov = {(void *)buf, n};
	int saved;

	if (e == NULL)
		return REAL(write)(fd, buf, n);
	saved = errno;
	return wrap_ret(fd_writev(fd, &iov, 1), saved);
}

EXPORT ssize_t
write(int fd, const void *buf, size_t n)
{
	TAIL_IF_NOT_OURS(fd, write, fd, buf, n);
	return do_write(fd, buf, n);
}

EXPORT ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	struct sfd *e = fdtab_get(fd);
	int saved;

	if (LIKELY(e == NULL))
		return REAL(writev)(fd, iov, n);
	saved = errno;
	return wrap_ret(fd_writev(fd, iov, n), saved);
}

static inline ssize_t
pio(int fd, const struct iovec *iov, int n, off_t off, bool write,
    struct sfd *e)
{
	int saved = errno;

	return wrap_ret(fd_preadv(fd, iov, n, off, write), saved);
}

/* Positioned I/O: a single buffer, or a vector. */
#define PIO_BUF(name, ptype, otype, write)                                     \
	EXPORT ssize_t name(int fd, ptype buf, size_t n, otype off)            \
	{                                                                      \
		struct sfd *e = fdtab_get(fd);                                 \
		struct iovec iov = {(void *)buf, n};                           \
                                                                               \
		if (LIKELY(e == NULL))                                         \
			return REAL(name)(fd, buf, n, off);                    \
		return pio(fd, &iov, 1, off, write, e);                        \
	}

#define PIO_VEC(name, otype, write)                                            \
	EXPORT ssize_t name(int fd, const struct iovec *iov, int n, otype off) \
	{                                                                      \
		struct sfd *e = fdtab_get(fd);                                 \
                                                                               \
		if (LIKELY(e == NULL))                                         \
			return REAL(name)(fd, iov, n, off);                    \
		return pio(fd, iov, n, off, write, e);                         \
	}

PIO_BUF(pread, void *, off_t, false)
PIO_BUF(pread64, void *, off64_t, false)
PIO_BUF(pwrite, const void *, off_t, true)
PIO_BUF(pwrite64, const void *, off64_t, true)
PIO_VEC(preadv, off_t, false)
PIO_VEC(preadv64, off64_t, false)
PIO_VEC(pwritev, off_t, true)
PIO_VEC(pwritev64, off64_t, true)

static inline ssize_t
pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen,
	  ssize_t (*real)(int, void *, size_t, off_t))
{
	struct sfd *e = fdtab_get(fd);
	struct iovec iov[1] = {{buf, n}};
	int saved = errno;

	if (n > buflen)
		__chk_fail();
	if (LIKELY(e == NULL))
		return real(fd, buf, n, off);
	return wrap_ret(fd_preadv(fd, iov, 1, off, false), saved);
}

EXPORT ssize_t
__pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	return pread_chk(fd, buf, n, off, buflen, REAL(pread));
}

EXPORT ssize_t
__pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
	return pread_chk(fd, buf, n, off, buflen, REAL(pread64));
}

EXPORT off_t
lseek(int fd, off_t off, int whence)
{
	struct sfd *e = fdtab_get(fd);

	if (LIKELY(e == NULL))
		return REAL(lseek)(fd, off, whence);
	int saved = errno;

	return wrap_ret(fd_lseek(fd, off, whence), saved);
}

EXPORT off64_t
lseek64(int fd, off64_t off, int whence)
{
	struct sfd *e = fdtab_get(fd);

	if (LIKELY(e == NULL))
		return REAL(lseek64)(fd, off, whence);
	int saved = errno;

	return wrap_ret(fd_lseek(fd, off, whence), saved);
}

static int
io_sync(int fd, struct sfd *e, bool data, int (*real)(int))
{
	if (e->ops->fsync != NULL)
		return e->ops->fsync(fd, e, data);
	return real(fd) < 0 ? -errno : 0;
}

EXPORT int
fsync(int fd)
{
	struct sfd *e = fdtab_get(fd);

	if (LIKELY(e == NULL))
		return REAL(fsync)(fd);
	int saved = errno;

	return (int)wrap_ret(io_sync(fd, e, false, REAL(fsync)), saved);
}

EXPORT int
fdatasync(int fd)
{
	struct sfd *e = fdtab_get(fd);

	if (LIKELY(e == NULL))
		return REAL(fdatasync)(fd);
	int saved = errno;

	return (int)wrap_ret(io_sync(fd, e, true, REAL(fdatasync)), saved);
}

static int
io_truncate(int fd, struct sfd *e, off_t len, int (*real)(int, off_t))
{
	if (e->ops->ftruncate != NULL)
		return e->ops->ftruncate(fd, e, len);
	return real(fd, len) < 0 ? -errno : 0;
}

EXPORT int
ftruncate(int fd, off_t len)
{
	struct sfd *e = fdtab_get(fd);

	if (LIKELY(e == NULL))
		return REAL(ftruncate)(fd, len);
	int saved = errno;

	return (int)wrap_ret(io_truncate(fd, e, len, REAL(ftruncate)), saved);
}

EXPORT int
ftruncate64(int fd, off64_t len)
{
	struct sfd *e = fdtab_get(fd);

	if (LIKELY(e == NULL))
		return REAL(ftruncate64)(fd, len);
	int saved = errno;

	return (int)wrap_ret(io_truncate(fd, e, len, REAL(ftruncate64)), saved);
}

/*
 * copy_file_range, sendfile and splice with a scheme fd on either side:
 * one chunk by read and write, as the kernel copies what it cannot splice
 * (the kernel itself would send a scheme fd's raw socket the bytes, or
 * refuse).  Offsets given are used and advanced; the fds' own are not.
 */
#define COPY_CHUNK 65536

static bool
involves_scheme(int a, int b)
{
	struct sfd *e = fdtab_get(a), *f = fdtab_get(b);

	return (e != NULL && (e->ops->requests || e->ops->ours)) ||
	       (f != NULL && (f->ops->requests || f->ops->ours));
}

static ssize_t
copy_chunk(int in, off64_t *inoff, int out, off64_t *outoff, size_t len)
{
	struct iovec iov;
	ssize_t n, w, done = 0, err = 0;
	char *buf;

	/* As the kernel: the offsets are read first, written back last. */
	if ((inoff != NULL && ua_read_ok(inoff, sizeof(*inoff)) < 0) ||
	    (outoff != NULL && ua_read_ok(outoff, sizeof(*outoff)) < 0))
		return -EFAULT;
	if (len == 0)
		return 0;
	if ((inoff != NULL && *inoff < 0) || (outoff != NULL && *outoff < 0))
		return -EINVAL;
	if ((buf = malloc(COPY_CHUNK)) == NULL)
		return -ENOMEM;
	iov = (struct iovec){buf, len < COPY_CHUNK ? len : COPY_CHUNK};
	n = inoff != NULL ? fd_preadv(in, &iov, 1, *inoff, false)
			  : fd_readv(in, &iov, 1);
	while (n > 0 && done < n) {
		iov = (struct iovec){buf + done, (size_t)(n - done)};
		w = outoff != NULL
			? fd_preadv(out, &iov, 1, *outoff + done, true)
			: fd_writev(out, &iov, 1);
		if (w <= 0) {
			err = w < 0 ? w : -EIO;
			break;
		}
		done += w;
	}
	free(buf);
	if (n <= 0)
		return n;
	/* What was read and not written is unread, where the input can seek
	 * (from a pipe it is lost, as with a failed write after read). */
	if (done < n && inoff == NULL)
		(void)fd_lseek(in, -(off_t)(n - done), SEEK_CUR);
	if (done == 0)
		return err;
	if ((inoff != NULL && ua_write_ok(inoff, sizeof(*inoff)) < 0) ||
	    (outoff != NULL && ua_write_ok(outoff, sizeof(*outoff)) < 0))
		return -EFAULT; /* copied, and cannot say where it got to */
	if (inoff != NULL)
		*inoff += done;
	if (outoff != NULL)
		*outoff += done;
	return done;
}

EXPORT ssize_t
copy_file_range(int in, off64_t *inoff, int out, off64_t *outoff, size_t len,
		unsigned flags)
{
	int saved = errno;

	if (LIKELY(!involves_scheme(in, out)))
		return REAL(copy_file_range)(in, inoff, out, outoff, len,
					     flags);
	if (flags != 0)
		return wrap_ret(-EINVAL, saved);
	return wrap_ret(copy_chunk(in, inoff, out, outoff, len), saved);
}

static ssize_t
send_file(int out, int in, off64_t *off, size_t count)
{
	return copy_chunk(in, off, out, NULL, count);
}

EXPORT ssize_t
sendfile(int out, int in, off_t *off, size_t count)
{
	int saved = errno;

	if (LIKELY(!involves_scheme(in, out)))
		return REAL(sendfile)(out, in, off, count);
	return wrap_ret(send_file(out, in, (off64_t *)off, count), saved);
}

EXPORT ssize_t
sendfile64(int out, int in, off64_t *off, size_t count)
{
	int saved = errno;

	if (LIKELY(!involves_scheme(in, out)))
		return REAL(sendfile64)(out, in, off, count);
	return wrap_ret(send_file(out, in, off, count), saved);
}

EXPORT ssize_t
splice(int in, off64_t *inoff, int out, off64_t *outoff, size_t len,
       unsigned flags)
{
	int saved = errno;

	if (LIKELY(!involves_scheme(in, out)))
		return REAL(splice)(in, inoff, out, outoff, len, flags);
	return wrap_ret(copy_chunk(in, inoff, out, outoff, len), saved);
}

/* Advice about a scheme file is taken, and has no effect. */
static int
fadvise(int fd, off64_t off, off64_t len, int advice,
	int (*real)(int, off64_t, off64_t, int))
{
	struct sfd *e = fdtab_get(fd);

	if (LIKELY(e == NULL) || (!e->ops->requests && !e->ops->ours))
		return real(fd, off, len, advice);
	if (e->ops->ours)
		return EBADF;
	if (advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE)
		return EINVAL;
	return 0;
}

EXPORT int
posix_fadvise(int fd, off_t off, off_t len, int advice)
{
	return fadvise(fd, off, len, advice, REAL(posix_fadvise));
}

EXPORT int
posix_fadvise64(int fd, off64_t off, off64_t len, int advice)
{
	return fadvise(fd, off, len, advice, REAL(posix_fadvise64));
}

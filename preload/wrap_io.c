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

/* The rest of read(): e is fd's record, which the wrapper looked up. */
static __attribute__((noinline)) ssize_t
do_read(int fd, struct sfd *e, void *buf, size_t n)
{
	struct iovec iov = {buf, n};
	int saved;

	if (e == NULL)
		return REAL(read)(fd, buf, n);
	saved = errno;
	return wrap_ret(fd_readv(fd, &iov, 1), saved);
}

/*
 * A kind with a read member is its whole work (fdops.h): a tail call,
 * with no frame of ours around it.
 */
static inline ssize_t
read_on(int fd, struct sfd *e, void *buf, size_t n)
{
	if (e != NULL && e->ops->read != NULL)
		return e->ops->read(fd, e, buf, n);
	return do_read(fd, e, buf, n);
}

EXPORT ssize_t
read(int fd, void *buf, size_t n)
{
	struct sfd *e;

	TAIL_IF_NOT_OURS(e, fd, read, fd, buf, n);
	return read_on(fd, e, buf, n);
}

EXPORT ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return read_on(fd, fdtab_get(fd), buf, n);
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
do_write(int fd, struct sfd *e, const void *buf, size_t n)
{
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
	struct sfd *e;

	TAIL_IF_NOT_OURS(e, fd, write, fd, buf, n);
	if (e != NULL && e->ops->write != NULL)
		return e->ops->write(fd, e, buf, n); /* as read_on */
	return do_write(fd, e, buf, n);
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

	return wrap_ret(fd_preadv(fd, iov, n, off, 0, write), saved);
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

/*
 * preadv2 and pwritev2: flags the kernel knows go to the provider with
 * the offset (struct scheme_io); others are EOPNOTSUPP, as the kernel
 * says.  An offset of -1 is the file's own: a plain readv or writev,
 * whose request has no room for flags, so RWF_APPEND there is refused.
 */
#define RWF_KNOWN (RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND)

static ssize_t
pio2(int fd, const struct iovec *iov, int n, off_t off, int rwf, bool write)
{
	if (rwf & ~RWF_KNOWN)
		return -EOPNOTSUPP;
	if (off != -1)
		return fd_preadv(fd, iov, n, off, rwf, write);
	if (write && (rwf & RWF_APPEND))
		return -EOPNOTSUPP;
	return write ? fd_writev(fd, iov, n) : fd_readv(fd, iov, n);
}

#define PIO_VEC2(name, otype, write)                                           \
	EXPORT ssize_t name(int fd, const struct iovec *iov, int n, otype off, \
			    int rwf)                                           \
	{                                                                      \
		struct sfd *e = fdtab_get(fd);                                 \
		int saved;                                                     \
                                                                               \
		if (LIKELY(e == NULL))                                         \
			return REAL(name)(fd, iov, n, off, rwf);               \
		saved = errno;                                                 \
		return wrap_ret(pio2(fd, iov, n, off, rwf, write), saved);     \
	}

PIO_VEC2(preadv2, off_t, false)
PIO_VEC2(preadv64v2, off64_t, false)
PIO_VEC2(pwritev2, off_t, true)
PIO_VEC2(pwritev64v2, off64_t, true)

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
	return wrap_ret(fd_preadv(fd, iov, 1, off, 0, false), saved);
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
 * fallocate: a request the provider may serve (SYS_FALLOCATE), else
 * EOPNOTSUPP.  glibc's posix_fallocate makes the system call itself, not
 * through fallocate(), and its fallback writes through calls of its own:
 * both are done here for a scheme file (fd_client.c).
 */
static int
io_fallocate(int fd, struct sfd *e, int mode, off64_t off, off64_t len)
{
	if (e->ops->fallocate != NULL)
		return e->ops->fallocate(fd, e, mode, off, len);
	return REAL(fallocate64)(fd, mode, off, len) < 0 ? -errno : 0;
}

#define FALLOCATE(name, otype)                                                 \
	EXPORT int name(int fd, int mode, otype off, otype len)                \
	{                                                                      \
		struct sfd *e = fdtab_get(fd);                                 \
		int saved;                                                     \
                                                                               \
		if (LIKELY(e == NULL))                                         \
			return REAL(name)(fd, mode, off, len);                 \
		saved = errno;                                                 \
		return (int)wrap_ret(io_fallocate(fd, e, mode, off, len),      \
				     saved);                                   \
	}

FALLOCATE(fallocate, off_t)
FALLOCATE(fallocate64, off64_t)

/*
 * glibc's fallback for a file whose provider does not serve SYS_FALLOCATE:
 * the file made at least off + len long by writing a zero byte at the
 * last place, unless it is that long already.  Not atomic, as glibc's is
 * not: a byte written there by someone else between the fstat and this
 * write is overwritten.
 */
static int
grow_by_writing(int fd, struct sfd *e, off64_t off, off64_t len)
{
	struct iovec iov = {(void *)"", 1};
	struct stat st;
	ssize_t w;
	int r;

	if (e->ops->fstat == NULL || e->ops->preadv == NULL)
		return -EOPNOTSUPP;
	if ((r = e->ops->fstat(fd, e, &st)) < 0)
		return r == -ENOSYS ? -EOPNOTSUPP : r;
	if (S_ISFIFO(st.st_mode))
		return -ESPIPE;
	if (!S_ISREG(st.st_mode))
		return -ENODEV;
	if (st.st_size >= off + len)
		return 0;
	w = e->ops->preadv(fd, e, &iov, 1, off + len - 1, 0, true);
	return w == 1 ? 0 : w < 0 ? (int)w : -EIO;
}

/* posix_fallocate answers an errno value, and leaves errno alone. */
static int
posix_falloc(int fd, struct sfd *e, off64_t off, off64_t len)
{
	int saved = errno, r;

	if (e->ops->fallocate == NULL)
		return REAL(posix_fallocate64)(fd, off, len);
	if (off < 0 || len <= 0)
		r = -EINVAL;
	else if (off > INT64_MAX - len)
		r = -EFBIG;
	else if ((r = e->ops->fallocate(fd, e, 0, off, len)) == -EOPNOTSUPP)
		r = grow_by_writing(fd, e, off, len);
	errno = saved;
	return -r;
}

EXPORT int
posix_fallocate(int fd, off_t off, off_t len)
{
	struct sfd *e = fdtab_get(fd);

	if (LIKELY(e == NULL))
		return REAL(posix_fallocate)(fd, off, len);
	return posix_falloc(fd, e, off, len);
}

EXPORT int
posix_fallocate64(int fd, off64_t off, off64_t len)
{
	struct sfd *e = fdtab_get(fd);

	if (LIKELY(e == NULL))
		return REAL(posix_fallocate64)(fd, off, len);
	return posix_falloc(fd, e, off, len);
}

/*
 * copy_file_range, sendfile and splice with a scheme fd on either side:
 * by read and write, as the kernel copies what it cannot splice (the
 * kernel itself would send a scheme fd's raw socket the bytes, or
 * refuse).  As much as asked is moved in one call, chunk by chunk, up to
 * what the kernel moves in one (MAX_RW_COUNT), until the input ends or
 * the output takes less: a program that does not loop gets all of a
 * file, as from a disk.  splice moves at most a pipe's capacity, as the
 * kernel's does, so that it never waits for room a reader of the same
 * thread would make.  Offsets given are used and advanced; the fds' own
 * are not.
 */
#define COPY_CHUNK (256 * 1024) /* a scheme read's most (WIRE_MAX_DATA) */
#define COPY_MAX   0x7ffff000	/* the kernel's MAX_RW_COUNT */

static bool
involves_scheme(int a, int b)
{
	struct sfd *e = fdtab_get(a), *f = fdtab_get(b);

	return (e != NULL && (e->ops->requests || e->ops->ours)) ||
	       (f != NULL && (f->ops->requests || f->ops->ours));
}

/*
 * One chunk: read up to len at *ioff (or the fd's offset), and write it
 * all at *ooff (or the fd's).  The bytes written, with *ioff and *ooff
 * advanced; *more false when the chunk ended short (end of input, or an
 * output that took less or failed: then *err says why).
 */
static ssize_t
copy_chunk(int in, off64_t *ioff, int out, off64_t *ooff, char *buf,
	   size_t len, bool *more, ssize_t *err)
{
	struct iovec iov = {buf, len};
	ssize_t n, w, done = 0;

	n = ioff != NULL ? fd_preadv(in, &iov, 1, *ioff, 0, false)
			 : fd_readv(in, &iov, 1);
	*more = n == (ssize_t)len;
	*err = n < 0 ? n : 0;
	while (n > 0 && done < n) {
		iov = (struct iovec){buf + done, (size_t)(n - done)};
		w = ooff != NULL ? fd_preadv(out, &iov, 1, *ooff + done, 0, true)
				 : fd_writev(out, &iov, 1);
		if (w <= 0) {
			*err = w < 0 ? w : -EIO;
			*more = false;
			break;
		}
		done += w;
	}
	/* What was read and not written is unread, where the input can seek
	 * (from a pipe it is lost, as with a failed write after read). */
	if (done < n && ioff == NULL)
		(void)fd_lseek(in, -(off_t)(n - done), SEEK_CUR);
	if (ioff != NULL)
		*ioff += done;
	if (ooff != NULL)
		*ooff += done;
	return done;
}

static ssize_t
copy_range(int in, off64_t *inoff, int out, off64_t *outoff, size_t len,
	   size_t max)
{
	off64_t ioff = 0, ooff = 0;
	ssize_t n, err = 0, total = 0;
	bool more = true;
	char *buf;

	/* As the kernel: the offsets are read first, written back last. */
	if ((inoff != NULL && ua_read_ok(inoff, sizeof(*inoff)) < 0) ||
	    (outoff != NULL && ua_read_ok(outoff, sizeof(*outoff)) < 0))
		return -EFAULT;
	if (len == 0)
		return 0;
	if ((inoff != NULL && (ioff = *inoff) < 0) ||
	    (outoff != NULL && (ooff = *outoff) < 0))
		return -EINVAL;
	if ((buf = malloc(COPY_CHUNK)) == NULL)
		return -ENOMEM;
	len = len < max ? len : max;
	while (more && (size_t)total < len) {
		size_t want = len - (size_t)total;

		n = copy_chunk(in, inoff != NULL ? &ioff : NULL, out,
			       outoff != NULL ? &ooff : NULL, buf,
			       want < COPY_CHUNK ? want : COPY_CHUNK, &more,
			       &err);
		total += n;
	}
	free(buf);
	if (total == 0)
		return err;
	if ((inoff != NULL && ua_write_ok(inoff, sizeof(*inoff)) < 0) ||
	    (outoff != NULL && ua_write_ok(outoff, sizeof(*outoff)) < 0))
		return -EFAULT; /* copied, and cannot say where it got to */
	if (inoff != NULL)
		*inoff = ioff;
	if (outoff != NULL)
		*outoff = ooff;
	return total;
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
	return wrap_ret(copy_range(in, inoff, out, outoff, len, COPY_MAX),
			saved);
}

static ssize_t
send_file(int out, int in, off64_t *off, size_t count)
{
	return copy_range(in, off, out, NULL, count, COPY_MAX);
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

/* What one splice moves at most: the capacity of its pipe. */
static size_t
pipe_room(int in, int out)
{
	int saved = errno;
	int a = REAL(fcntl)(in, F_GETPIPE_SZ), b = REAL(fcntl)(out, F_GETPIPE_SZ);

	errno = saved;
	return (size_t)(a > 0 ? a : b > 0 ? b : 65536);
}

EXPORT ssize_t
splice(int in, off64_t *inoff, int out, off64_t *outoff, size_t len,
       unsigned flags)
{
	int saved = errno;

	if (LIKELY(!involves_scheme(in, out)))
		return REAL(splice)(in, inoff, out, outoff, len, flags);
	return wrap_ret(copy_range(in, inoff, out, outoff, len, pipe_room(in, out)),
			saved);
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

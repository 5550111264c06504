/*
 * fdops.c - dispatch through an fd's ops (see fdops.h), and what the fd
 * table does itself: closing, copying and releasing records.
 *
 * Entries are cleared before the real close, so no other thread can open
 * a new file under a stale entry.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>

#include "fdops.h"
#include "fdtab.h"
#include "real.h"

static ssize_t
kernel(ssize_t r)
{
	return r < 0 ? -errno : r;
}

ssize_t
fd_readv(int fd, const struct iovec *iov, int n)
{
	struct sfd *e = fdtab_get(fd);

	if (e == NULL || e->ops->readv == NULL)
		return kernel(REAL(readv)(fd, iov, n));
	return e->ops->readv(fd, e, iov, n);
}

ssize_t
fd_writev(int fd, const struct iovec *iov, int n)
{
	struct sfd *e = fdtab_get(fd);

	if (e == NULL || e->ops->writev == NULL)
		return kernel(REAL(writev)(fd, iov, n));
	return e->ops->writev(fd, e, iov, n);
}

ssize_t
fd_preadv(int fd, const struct iovec *iov, int n, off_t off, int rwf,
	  bool write)
{
	struct sfd *e = fdtab_get(fd);

	if ((e == NULL || e->ops->preadv == NULL) && rwf != 0)
		return kernel(write ? REAL(pwritev2)(fd, iov, n, off, rwf)
				    : REAL(preadv2)(fd, iov, n, off, rwf));
	if (e == NULL || e->ops->preadv == NULL)
		return kernel(write ? REAL(pwritev)(fd, iov, n, off)
				    : REAL(preadv)(fd, iov, n, off));
	return e->ops->preadv(fd, e, iov, n, off, rwf, write);
}

off_t
fd_lseek(int fd, off_t off, int whence)
{
	struct sfd *e = fdtab_get(fd);

	if (e == NULL || e->ops->lseek == NULL)
		return kernel(REAL(lseek)(fd, off, whence));
	return e->ops->lseek(fd, e, off, whence);
}

/* A kind without its own mmap (a socket, an event: queue) is the kernel's. */
int
fd_mmap(int fd, struct fd_map_args *a)
{
	struct sfd *e = fdtab_get(fd);
	void *p;

	if (e == NULL || e->ops->mmap == NULL) {
		p = REAL(mmap)(a->addr, a->len, a->prot, a->flags, fd, a->off);
		if (p == MAP_FAILED)
			return -errno;
		a->addr = p;
		return 0;
	}
	return e->ops->mmap(fd, e, a);
}

/* A record that left the table: its kind lets go of it, then it is freed. */
void
fd_release(struct sfd *e)
{
	if (e == NULL)
		return;
	if (e->ops->put != NULL)
		e->ops->put(e);
	sfd_free(e);
}

/* newfd is a dup of an fd whose record is e. */
int
fd_adopt_copy(int newfd, struct sfd *e)
{
	struct sfd *n = sfd_copy(e);

	if (n == NULL)
		return -ENOMEM;
	if (n->ops->hold != NULL)
		n->ops->hold(n);
	if (fdtab_set(newfd, n) < 0) {
		fd_release(n);
		return -ENOMEM;
	}
	return 0;
}

/* fd is about to close: its kind may have something to say first. */
void
fd_closing(int fd)
{
	struct sfd *e = fdtab_get(fd);

	if (e != NULL && e->ops->closing != NULL)
		e->ops->closing(fd, e);
}

int
fd_close(int fd)
{
	struct sfd *e = fdtab_get(fd);
	int r;

	if (e != NULL && e->ops->ours)
		return -EBADF; /* ours, not the program's */
	fd_closing(fd);
	e = fdtab_take(fd);
	if (e != NULL && e->ops->park != NULL && e->ops->park(fd, e))
		r = 0; /* kept for the next open */
	else
		r = REAL(close)(fd) < 0 ? -errno : 0;
	fd_release(e);
	return r;
}

/* EBADF to a call (fdops.h): one of our own fds, as the program sees it. */
ssize_t
badf_io(int fd, struct sfd *e, const struct iovec *iov, int n)
{
	return -EBADF;
}

ssize_t
badf_pio(int fd, struct sfd *e, const struct iovec *iov, int n, off_t off,
	 int rwf, bool write)
{
	return -EBADF;
}

off_t
badf_lseek(int fd, struct sfd *e, off_t off, int whence)
{
	return -EBADF;
}

int
badf_sync(int fd, struct sfd *e, bool data)
{
	return -EBADF;
}

int
badf_off(int fd, struct sfd *e, off_t len)
{
	return -EBADF;
}

ssize_t
badf_buf(int fd, struct sfd *e, void *buf, size_t n)
{
	return -EBADF;
}

int
badf_stat(int fd, struct sfd *e, struct stat *st)
{
	return -EBADF;
}

int
badf_statvfs(int fd, struct sfd *e, struct statvfs *sv)
{
	return -EBADF;
}

int
badf_mode(int fd, struct sfd *e, mode_t mode)
{
	return -EBADF;
}

int
badf_own(int fd, struct sfd *e, uid_t uid, gid_t gid)
{
	return -EBADF;
}

int
badf_times(int fd, struct sfd *e, const struct timespec *ts)
{
	return -EBADF;
}

int
badf_path(int fd, struct sfd *e, char *buf, size_t n)
{
	return -EBADF;
}

int
badf_falloc(int fd, struct sfd *e, int mode, off_t off, off_t len)
{
	return -EBADF;
}

int
badf_fcntl(int fd, struct sfd *e, int cmd, uintptr_t arg)
{
	return -EBADF;
}

int
badf_ioctl(int fd, struct sfd *e, unsigned long req, void *arg)
{
	return -EBADF;
}

int
badf_map(int fd, struct sfd *e, struct fd_map_args *m)
{
	return -EBADF;
}

int
badf_flock(int fd, struct sfd *e, int op)
{
	return -EBADF;
}

const struct sfd_ops fdops_ours = {
    .kind = "ours",
    .ours = true,
    .readv = badf_io,
    .writev = badf_io,
    .preadv = badf_pio,
    .lseek = badf_lseek,
    .fsync = badf_sync,
    .ftruncate = badf_off,
    .fallocate = badf_falloc,
    .getdents = badf_buf,
    .fstat = badf_stat,
    .fstatvfs = badf_statvfs,
    .fchmod = badf_mode,
    .fchown = badf_own,
    .futimens = badf_times,
    .fpath = badf_path,
    .fcntl = badf_fcntl,
    .ioctl = badf_ioctl,
};

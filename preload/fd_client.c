/*
 * fd_client.c - the ops of a scheme file (fdops.h): every call on it is a
 * request to its provider (client.c), but the few the kernel keeps (its
 * fd flags, close-on-exec, dups).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include "client.h"
#include "dir.h"
#include "fd_client.h"
#include "fd_map.h"
#include "fdops.h"
#include "lock.h"
#include "pool.h"
#include "real.h"
#include "stdio.h"
#include "uaccess.h"

/* An lseek to 0 lists a directory afresh (getdents64, dir.c). */
static off_t
c_lseek(int fd, struct sfd *e, off_t off, int whence)
{
	if (off == 0 && whence == SEEK_SET)
		sdir_fd_rewound(fd);
	return sc_lseek(fd, e, off, whence);
}

static int
c_fsync(int fd, struct sfd *e, bool data)
{
	return sc_fsync(fd, e);
}

/*
 * F_GETFL and F_SETFL reach the provider (SYS_FCNTL), which may refuse;
 * the flags are then kept with the description, as on Redox, and the
 * kernel's kept in step.  Locks are the scheme's (lock.c): the kernel's
 * would lock this fd's own socket only.  Everything else is the
 * kernel's.
 */
static int
c_fcntl(int fd, struct sfd *e, int cmd, uintptr_t arg)
{
	int r;

	if (lock_fcntl_cmd(cmd))
		return lock_fcntl(fd, e, cmd, (struct flock *)arg);
	if (cmd == F_GETFL || cmd == F_SETFL) {
		r = sc_fcntl(fd, e, cmd, cmd == F_SETFL ? arg : 0);
		if (r >= 0 && cmd == F_SETFL)
			REAL(fcntl)(fd, F_SETFL, arg);
		return r;
	}
	r = REAL(fcntl)(fd, cmd, arg);
	return r < 0 ? -errno : r;
}

/*
 * FIONBIO (Python's os.set_blocking) is the provider's F_SETFL, as
 * fcntl's; close-on-exec is the kernel's; what a scheme cannot answer (a
 * terminal's TCGETS, FIONREAD...) is ENOTTY, as for a file that does not
 * do it.
 */
static int
c_ioctl(int fd, struct sfd *e, unsigned long req, void *arg)
{
	int flags, r;

	if (req == FIOCLEX || req == FIONCLEX) {
		r = REAL(ioctl)(fd, req, arg);
		return r < 0 ? -errno : r;
	}
	if (req != FIONBIO)
		return -ENOTTY;
	if (ua_read_ok(arg, sizeof(int)) < 0)
		return -EFAULT;
	if ((flags = sc_fcntl(fd, e, F_GETFL, 0)) < 0)
		return flags;
	flags = *(int *)arg ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	if ((r = sc_fcntl(fd, e, F_SETFL, (uint64_t)flags)) < 0)
		return r;
	REAL(ioctl)(fd, FIONBIO, arg); /* keep the kernel in step */
	return 0;
}

/* Two fds: closing one ends nothing (pool.h). */
static void
c_hold(struct sfd *e)
{
	pool_shared();
}

const struct sfd_ops fdops_client = {
    .kind = "scheme file",
    .requests = true,
    .readv = sc_readv,
    .writev = sc_writev,
    .read = sc_read,
    .write = sc_write,
    .preadv = sc_preadv,
    .lseek = c_lseek,
    .fsync = c_fsync,
    .ftruncate = sc_ftruncate,
    .fallocate = sc_fallocate,
    .getdents = sc_getdents64,
    .mmap = sc_mmap,
    .fstat = sc_fstat,
    .fstatvfs = sc_fstatvfs,
    .fchmod = sc_fchmod,
    .fchown = sc_fchown,
    .futimens = sc_futimens,
    .fpath = sc_fpath,
    .fcntl = c_fcntl,
    .ioctl = c_ioctl,
    .flock = lock_flock,
    .closing = lock_closing,
    .query = sc_query,
    .subscribe = sc_subscribe,
    .hold = c_hold,
    .park = pool_park,
};

/*
 * What Linux refuses on two kinds of open file, answered here before any
 * request: an O_PATH fd (open(2): "operations that act purely at the file
 * descriptor level", so no I/O, fchmod, fchown, locks: EBADF; F_GETFL
 * shows O_PATH) and a directory opened with O_DIRECTORY (read(2): EISDIR;
 * the provider's read of it is Redox's listing, which dir.c reads itself).
 * A directory opened without O_DIRECTORY is the provider's to refuse.
 * fds a program inherits across exec (identify.c) are plain scheme
 * files: the flags of their open are not known there.  An O_PATH fd's
 * flags are the open's; its fd flags and dups are the kernel's.
 */
static int
p_fcntl(int fd, struct sfd *e, int cmd, uintptr_t arg)
{
	int r;

	if (cmd == F_GETFL)
		return O_PATH | O_LARGEFILE;
	if (cmd == F_SETFL || lock_fcntl_cmd(cmd))
		return -EBADF;
	r = REAL(fcntl)(fd, cmd, arg);
	return r < 0 ? -errno : r;
}

const struct sfd_ops fdops_client_path = {
    .kind = "scheme file (O_PATH)",
    .requests = true,
    .readv = badf_io,
    .writev = badf_io,
    .preadv = badf_pio,
    .lseek = badf_lseek,
    .fsync = badf_sync,
    .ftruncate = badf_off,
    .fallocate = badf_falloc,
    .getdents = badf_buf,
    .mmap = badf_map,
    .fstat = sc_fstat,
    .fstatvfs = sc_fstatvfs,
    .fchmod = badf_mode,
    .fchown = badf_own,
    .futimens = badf_times,
    .fpath = sc_fpath,
    .fcntl = p_fcntl,
    .ioctl = badf_ioctl,
    .flock = badf_flock,
    .closing = lock_closing,
    .query = sc_query,
    .subscribe = sc_subscribe,
    .hold = c_hold,
    .park = pool_park,
};

static ssize_t
d_read(int fd, struct sfd *e, const struct iovec *iov, int n)
{
	return -EISDIR;
}

static ssize_t
d_pread(int fd, struct sfd *e, const struct iovec *iov, int n, off_t off,
	int rwf, bool write)
{
	return write ? sc_preadv(fd, e, iov, n, off, rwf, write) : -EISDIR;
}

const struct sfd_ops fdops_client_dir = {
    .kind = "scheme directory",
    .requests = true,
    .readv = d_read,
    .writev = sc_writev,
    .preadv = d_pread,
    .lseek = c_lseek,
    .fsync = c_fsync,
    .ftruncate = sc_ftruncate,
    .fallocate = sc_fallocate,
    .getdents = sc_getdents64,
    .mmap = sc_mmap,
    .fstat = sc_fstat,
    .fstatvfs = sc_fstatvfs,
    .fchmod = sc_fchmod,
    .fchown = sc_fchown,
    .futimens = sc_futimens,
    .fpath = sc_fpath,
    .fcntl = c_fcntl,
    .ioctl = c_ioctl,
    .flock = lock_flock,
    .closing = lock_closing,
    .query = sc_query,
    .subscribe = sc_subscribe,
    .hold = c_hold,
    .park = pool_park,
};

/*
 * The fd an open's answer brought (route.c), opened with flags: a scheme
 * file of the fd table from now on; fd 0-2 get a cookie stream (stdio.h).
 */
int
fd_client_adopt(int cfd, uint64_t broker, uint64_t inst, uint64_t key,
		int flags)
{
	const struct sfd_ops *ops = flags & O_PATH	  ? &fdops_client_path
				    : flags & O_DIRECTORY ? &fdops_client_dir
							  : &fdops_client;
	struct sfd *e = sfd_new(ops);

	if (e == NULL || fdtab_set(cfd, e) < 0) {
		sfd_free(e);
		REAL(close)(cfd);
		return -ENOMEM;
	}
	e->broker = broker;
	e->inst = inst;
	e->key = key;
	e->gen = pool_gen();
	if (cfd <= 2)
		stdio_std_update(cfd);
	return cfd;
}

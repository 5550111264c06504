/*
 * fdops.h - what each kind of fd of ours does, as a table of operations,
 * and the calls that dispatch through it.
 *
 * Every record of the fd table (fdtab.h) points to the ops of its kind,
 * as musl's FILE carries its read, write, seek and close: a scheme file
 * (client.c), a scheme this process provides (provider.c), an event:
 * queue (equeue.c), a program's epoll set that watches scheme fds
 * (epset.c), one of the preload's own fds (hidden.c).  A NULL member is
 * the kernel's own call on the fd.  Members take the fd and its record
 * and return >= 0 or -errno.  No code outside the files that build the
 * tables asks which kind a record is: it calls through them.
 *
 * The fd_*() calls below take any fd, ours or not (an fd with no record
 * is the kernel's), for the wrappers and for internal callers such as
 * cookie streams, which must not go through the exported wrappers.
 */
#ifndef PRELOAD_FDOPS_H
#define PRELOAD_FDOPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

struct sfd;

/* An mmap's arguments; addr is also where the mapping was made. */
struct fd_map_args {
	void *addr;
	size_t len;
	int prot, flags;
	off_t off;
};

struct sfd_ops {
	const char *kind;
	bool ours;     /* the preload's own: the program sees it closed */
	bool requests; /* its I/O is requests: libc's own I/O would miss it */
	/* I/O */
	ssize_t (*readv)(int, struct sfd *, const struct iovec *, int);
	ssize_t (*writev)(int, struct sfd *, const struct iovec *, int);
	/*
	 * read() and write() of one buffer, for a kind whose every call
	 * counts (a provider's packets, a scheme file's small reads and
	 * writes): the same as readv and writev of
	 * one iovec, without making and checking one.  Unlike the other
	 * members each is the wrapper's whole work, called in its tail:
	 * it returns as read() does, -1 with errno set, errno untouched on
	 * success (wrap_ret, wrap.h).  NULL: through readv and writev.
	 */
	ssize_t (*read)(int, struct sfd *, void *, size_t);
	ssize_t (*write)(int, struct sfd *, const void *, size_t);
	ssize_t (*preadv)(int, struct sfd *, const struct iovec *, int, off_t,
			  int rwf, bool write); /* rwf: preadv2's flags */
	off_t (*lseek)(int, struct sfd *, off_t, int);
	int (*fsync)(int, struct sfd *, bool data);
	int (*ftruncate)(int, struct sfd *, off_t);
	int (*fallocate)(int, struct sfd *, int mode, off_t, off_t);
	ssize_t (*getdents)(int, struct sfd *, void *, size_t);
	int (*mmap)(int, struct sfd *, struct fd_map_args *);
	/* metadata */
	int (*fstat)(int, struct sfd *, struct stat *);
	int (*fstatvfs)(int, struct sfd *, struct statvfs *);
	int (*fchmod)(int, struct sfd *, mode_t);
	int (*fchown)(int, struct sfd *, uid_t, gid_t);
	int (*futimens)(int, struct sfd *, const struct timespec *);
	int (*fpath)(int, struct sfd *, char *, size_t); /* a scheme path */
	/* control: F_DUPFD is the table's own (fd_dup) */
	int (*fcntl)(int, struct sfd *, int cmd, uintptr_t arg);
	int (*ioctl)(int, struct sfd *, unsigned long, void *);
	int (*flock)(int, struct sfd *, int op);
	/* readiness: what is ready now; a subscription socket for epoll */
	int (*query)(int, struct sfd *, uint32_t flags);
	int (*subscribe)(int, struct sfd *, uint32_t flags);
	/* the fd is about to be closed by this process (still open) */
	void (*closing)(int, struct sfd *);
	/* the record: copied (a dup), left the table, closed for reuse */
	void (*hold)(struct sfd *);
	void (*put)(struct sfd *);
	bool (*park)(int, struct sfd *);
};

/* The ops of one of our own fds: EBADF to everything (hidden.c). */
extern const struct sfd_ops fdops_ours;

/* EBADF, whatever the arguments: for the members of a kind that refuses
 * a call (fdops_ours; an O_PATH scheme file, fd_client.c). */
ssize_t badf_io(int, struct sfd *, const struct iovec *, int);
ssize_t badf_pio(int, struct sfd *, const struct iovec *, int, off_t, int,
		 bool);
off_t badf_lseek(int, struct sfd *, off_t, int);
int badf_sync(int, struct sfd *, bool);
int badf_off(int, struct sfd *, off_t);
int badf_falloc(int, struct sfd *, int, off_t, off_t);
ssize_t badf_buf(int, struct sfd *, void *, size_t);
int badf_map(int, struct sfd *, struct fd_map_args *);
int badf_stat(int, struct sfd *, struct stat *);
int badf_statvfs(int, struct sfd *, struct statvfs *);
int badf_mode(int, struct sfd *, mode_t);
int badf_own(int, struct sfd *, uid_t, gid_t);
int badf_times(int, struct sfd *, const struct timespec *);
int badf_path(int, struct sfd *, char *, size_t);
int badf_fcntl(int, struct sfd *, int, uintptr_t);
int badf_ioctl(int, struct sfd *, unsigned long, void *);
int badf_flock(int, struct sfd *, int);

ssize_t fd_readv(int fd, const struct iovec *iov, int n);
ssize_t fd_writev(int fd, const struct iovec *iov, int n);
ssize_t fd_preadv(int fd, const struct iovec *iov, int n, off_t off, int rwf,
		  bool write);
off_t fd_lseek(int fd, off_t off, int whence);
int fd_mmap(int fd, struct fd_map_args *a);
int fd_close(int fd);
void fd_closing(int fd);
int fd_adopt_copy(int newfd, struct sfd *e);
void fd_release(struct sfd *e);

#endif

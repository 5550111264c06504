/*
 * view_file.c - open files of scheme-fuse: open, create, read, write,
 * fsync, release.
 *
 * Each open through the mount is an open of the /scheme path by this
 * process, kept until RELEASE (the kernel's last close of that file).
 *
 * The page cache.  A regular file is read and mapped through the kernel's
 * page cache, so that mmap (shared and private) and execve work; writes
 * go through to the provider at once.  The cache is kept across opens
 * while the file is as the kernel last saw it (same size, mtime and
 * ctime, and an mtime at all); otherwise an open drops the cached pages
 * and the attributes, so a program that opens a file after a change made
 * through the preload sees the change (close-to-open, as NFS).  While a
 * file stays open, a change made elsewhere is seen when the kernel next
 * fetches its attributes (after the cache timeout).
 *
 * Past the page cache (direct I/O), every read and write reaches the
 * provider, at the offset given: files that are not regular (memfs's
 * fifo and stream, time:'s clocks; also not seekable), regular files of
 * size 0 opened read-only (a provider that makes its contents up may
 * give no size), and files opened with O_APPEND, whose writes go where
 * the provider's end of file is, not where the kernel thinks it is.
 *
 * A read that waits (a fifo's, which the provider keeps until data
 * comes) is interrupted by the kernel's INTERRUPT: SIGUSR1 to the thread
 * waiting makes the preload's wait return EINTR, which is the answer.
 * The signal is sent until the reader is seen to have stopped waiting,
 * since it may arrive just before the thread starts to wait.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "view.h"

#define MAX_IO (1 << 20)

struct vfile *
view_file_new(int fd)
{
	struct vfile *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->fd = fd;
	f->refs = 1;
	f->pos = 0;
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_init(&f->ilock, NULL);
	return f;
}

static void
file_free(struct vfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	pthread_mutex_destroy(&f->lock);
	pthread_mutex_destroy(&f->ilock);
	free(f);
}

/* The kernel's handle is gone, or a borrower is done (view.h). */
void
view_file_put(struct vfile *f)
{
	int left;

	pthread_mutex_lock(&view.lock);
	left = --f->refs;
	pthread_mutex_unlock(&view.lock);
	if (left == 0)
		file_free(f);
}

/*
 * Not under f->lock: fstat does not move the offset, and a read that
 * waits (a fifo's) holds the lock for as long as it waits.
 */
int
view_file_stat(struct vfile *f, struct stat *st)
{
	struct stat raw;

	if (fstat(f->fd, &raw) < 0)
		return -errno;
	view_attr(&raw, st);
	return 0;
}

/* The flags of our own open: the caller's, less what the kernel did. */
static int
open_flags(int flags)
{
	return (flags & ~(O_NOCTTY | O_CLOEXEC | O_NOFOLLOW | O_DIRECT)) |
	       O_CLOEXEC;
}

/*
 * How the kernel is to use the open file f, whose raw attributes are st;
 * whether the cached pages may stay (see the top).
 */
static void
choose_cache(struct vfile *f, const struct stat *raw, int flags,
	     struct fuse_file_info *fi)
{
	struct stat st;
	bool changed;

	view_attr(raw, &st);
	changed = vnode_seen(f->n, &st);
	f->stream = !S_ISREG(raw->st_mode);
	f->append = (flags & O_APPEND) != 0;
	f->direct = f->stream || f->append ||
		    (raw->st_size == 0 && (flags & O_ACCMODE) == O_RDONLY);
	fi->direct_io = f->direct;
	fi->nonseekable = f->stream;
	fi->keep_cache = !f->direct && !changed;
	fi->noflush = 1;
	if (changed && !f->direct)
		fuse_lowlevel_notify_inval_inode(view.se, vnode_id(f->n), -1,
						 0);
}

/* Our file for fd, opened as n; -errno (fd is closed) on failure. */
static int
file_open(struct vnode *n, int fd, int flags, struct fuse_file_info *fi)
{
	struct stat raw;
	struct vfile *f;

	if (fstat(fd, &raw) < 0 || (f = view_file_new(fd)) == NULL) {
		int e = errno;

		close(fd);
		return -e;
	}
	vnode_attach_file(n, f);
	choose_cache(f, &raw, flags, fi);
	fi->fh = (uint64_t)(uintptr_t)f;
	return 0;
}

void
view_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vnode *n = vnode_of(ino);
	char path[PATH_MAX];
	int fd = -1, r = vnode_path(n, path, sizeof(path));

	if (r == 0 && (fd = open(path, open_flags(fi->flags))) < 0)
		r = -errno;
	if (r == 0)
		r = file_open(n, fd, fi->flags, fi);
	if (r < 0) {
		fuse_reply_err(req, view_err(r));
		return;
	}
	if (fuse_reply_open(req, fi) != 0)
		view_release(NULL, ino, fi);
}

void
view_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	    struct fuse_file_info *fi)
{
	struct vnode *p = vnode_of(parent), *n;
	struct fuse_entry_param e;
	char path[PATH_MAX];
	struct stat raw, st;
	int fd = -1, r = p == &view.root
			     ? -EPERM
			     : vnode_child_path(p, name, path, sizeof(path));

	if (r == 0 && (fd = open(path, open_flags(fi->flags) | O_CREAT,
				 mode & 07777)) < 0)
		r = -errno;
	if (r == 0 && fstat(fd, &raw) < 0) {
		r = -errno;
		close(fd);
	}
	if (r < 0) {
		fuse_reply_err(req, view_err(r));
		return;
	}
	view_attr(&raw, &st);
	if ((n = vnode_enter(p, name, &st, false)) == NULL) {
		close(fd);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if ((r = file_open(n, fd, fi->flags, fi)) < 0) {
		vnode_forget(n, 1);
		fuse_reply_err(req, view_err(r));
		return;
	}
	view_entry_param(&e, n, &st);
	if (fuse_reply_create(req, &e, fi) != 0) {
		view_release(NULL, vnode_id(n), fi);
		vnode_forget(n, 1);
	}
}

/* Put fd's offset at off, unless it is there (f->lock held). */
static int
seek_to(struct vfile *f, off_t off)
{
	if (f->stream || f->pos == off)
		return 0;
	if (lseek(f->fd, off, SEEK_SET) < 0) {
		f->pos = -1;
		return -errno;
	}
	f->pos = off;
	return 0;
}

static void
on_sigusr1(int sig)
{
}

int
view_interrupts_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1; /* no SA_RESTART: the wait says EINTR */
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL);
}

/* Called by libfuse when the kernel interrupts the read (see the top). */
static void
interrupt_reader(fuse_req_t req, void *data)
{
	struct vfile *f = data;
	struct timespec ms = {0, 1000000};

	pthread_mutex_lock(&f->ilock);
	for (int i = 0; i < 2000 && atomic_load(&f->reading); i++) {
		pthread_kill(f->reader, SIGUSR1);
		nanosleep(&ms, NULL);
	}
	pthread_mutex_unlock(&f->ilock);
}

/* One read that may wait, which an INTERRUPT can end with EINTR. */
static ssize_t
read_waiting(fuse_req_t req, struct vfile *f, char *buf, size_t size)
{
	ssize_t n;

	f->reader = pthread_self();
	atomic_store(&f->reading, true);
	fuse_req_interrupt_func(req, interrupt_reader, f);
	n = fuse_req_interrupted(req) ? (errno = EINTR, -1)
				      : read(f->fd, buf, size);
	atomic_store(&f->reading, false);
	pthread_mutex_lock(&f->ilock); /* interrupt_reader() is done with f */
	pthread_mutex_unlock(&f->ilock);
	return n;
}

/*
 * Up to size bytes at off.  Through the page cache a short read means
 * end of file to the kernel, so it reads until size or end of file; a
 * direct read is one read, as the program's own would be.
 */
static ssize_t
read_at(fuse_req_t req, struct vfile *f, char *buf, size_t size, off_t off)
{
	size_t got = 0;
	ssize_t n;
	int r;

	if ((r = seek_to(f, off)) < 0)
		return r;
	do {
		n = f->direct ? read_waiting(req, f, buf + got, size - got)
			      : read(f->fd, buf + got, size - got);
		if (n < 0 && errno == EINTR && !f->direct)
			continue;
		if (n < 0) {
			f->pos = -1;
			return got > 0 ? (ssize_t)got : -errno;
		}
		got += (size_t)n;
		f->pos += n;
	} while (!f->direct && n > 0 && got < size);
	return (ssize_t)got;
}

void
view_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	  struct fuse_file_info *fi)
{
	struct vfile *f = (struct vfile *)(uintptr_t)fi->fh;
	char *buf = malloc(size < MAX_IO ? size : MAX_IO);
	ssize_t n;

	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&f->lock);
	n = read_at(req, f, buf, size < MAX_IO ? size : MAX_IO, off);
	pthread_mutex_unlock(&f->lock);
	if (n < 0)
		fuse_reply_err(req, view_err((int)n));
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

/* All of buf at off (at the provider's end of file with O_APPEND). */
static ssize_t
write_at(struct vfile *f, const char *buf, size_t size, off_t off)
{
	size_t done = 0;
	ssize_t n;
	int r;

	if (!f->append && (r = seek_to(f, off)) < 0)
		return r;
	while (done < size) {
		n = write(f->fd, buf + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			f->pos = -1;
			return done > 0 ? (ssize_t)done : n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
		f->pos = f->append ? -1 : f->pos + n;
	}
	return (ssize_t)done;
}

void
view_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
	   off_t off, struct fuse_file_info *fi)
{
	struct vfile *f = (struct vfile *)(uintptr_t)fi->fh;
	ssize_t n;

	pthread_mutex_lock(&f->lock);
	n = write_at(f, buf, size, off);
	pthread_mutex_unlock(&f->lock);
	if (n < 0)
		fuse_reply_err(req, view_err((int)n));
	else
		fuse_reply_write(req, (size_t)n);
}

void
view_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	   struct fuse_file_info *fi)
{
	struct vfile *f = (struct vfile *)(uintptr_t)fi->fh;
	int r;

	pthread_mutex_lock(&f->lock);
	r = fsync(f->fd) < 0 ? -errno : 0;
	pthread_mutex_unlock(&f->lock);
	fuse_reply_err(req, r < 0 ? view_err(r) : 0);
}

/* Also called with req NULL when an open's reply did not reach. */
void
view_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vfile *f = (struct vfile *)(uintptr_t)fi->fh;

	vnode_detach_file(f);
	view_file_put(f);
	if (req != NULL)
		fuse_reply_err(req, 0);
}

/*
 * stdio.c - FILE streams over scheme fds (see stdio.h).
 *
 * A cookie stream's fileno() is its fd (glibc keeps _fileno and honours
 * it for cookie streams), so isatty(fileno(stdout)) and fstat still work.
 * Swapping the std streams assigns the `stdin`/`stdout`/`stderr`
 * variables, which the program and libc both read through the same copy.
 *
 * A swapped std stream is flushed before its fd changes (dup2), with no
 * lock held, while another thread may be swapping it back: the flusher
 * counts itself on the cookie under ST_STDIO, and the stream is closed
 * by whichever of them comes last, never under a flush.  The program's
 * own streams are not flushed: glibc does not flush a stream when its fd
 * changes either.  A fork's child drops what its swapped streams hold,
 * which is the parent's to write: without the preload the child's dup2
 * and _exit would not write it either.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "fdtab.h"
#include "fdops.h"
#include "state.h"
#include "stdio.h"

struct cookie {
	int fd;
	bool owns; /* fclose closes the fd (not for a swapped std stream) */
	FILE *f;
	int flushers;	  /* a swapped one: stdio_std_flush()es under way */
	bool close_later; /* swapped back meanwhile: the last flusher closes */
};

/* Under ST_STDIO: a std stream's own FILE, and the cookie in its place. */
static FILE *orig[3];
static struct cookie *swapped[3];

/*
 * Our cookie streams, so that freopen() never hands one to glibc (whose
 * freopen cannot take a cookie stream: it crashes on its wide data).
 */
static FILE **ours;
static size_t nours, cours;

static void
ours_add(FILE *f)
{
	FILE **n;

	st_lock(ST_STDIO_OURS);
	if (nours == cours) {
		n = reallocarray(ours, cours ? cours * 2 : 16, sizeof(*n));
		if (n == NULL) {
			st_unlock(ST_STDIO_OURS);
			return;
		}
		ours = n;
		cours = cours ? cours * 2 : 16;
	}
	ours[nours++] = f;
	st_unlock(ST_STDIO_OURS);
}

static void
ours_del(FILE *f)
{
	st_lock(ST_STDIO_OURS);
	for (size_t i = 0; i < nours; i++)
		if (ours[i] == f) {
			ours[i] = ours[--nours];
			break;
		}
	st_unlock(ST_STDIO_OURS);
}

bool
stdio_is_ours(FILE *f)
{
	bool r = false;

	st_lock(ST_STDIO_OURS);
	for (size_t i = 0; i < nours && !r; i++)
		r = ours[i] == f;
	st_unlock(ST_STDIO_OURS);
	return r;
}

static ssize_t
ck_read(void *c, char *buf, size_t n)
{
	struct iovec iov = {buf, n};
	ssize_t r = fd_readv(((struct cookie *)c)->fd, &iov, 1);

	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static ssize_t
ck_write(void *c, const char *buf, size_t n)
{
	struct iovec iov = {(void *)buf, n};
	ssize_t r = fd_writev(((struct cookie *)c)->fd, &iov, 1);

	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static int
ck_seek(void *c, off64_t *pos, int whence)
{
	off_t r = fd_lseek(((struct cookie *)c)->fd, *pos, whence);

	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	*pos = r;
	return 0;
}

static int
ck_close(void *c)
{
	struct cookie *k = c;
	int r = 0;

	ours_del(k->f);
	if (k->owns && (r = fd_close(k->fd)) < 0) {
		errno = -r;
		r = -1;
	}
	free(k);
	return r;
}

static struct cookie *
cookie_open(int fd, const char *mode, bool owns)
{
	static const cookie_io_functions_t fns = {ck_read, ck_write, ck_seek,
						  ck_close};
	struct cookie *k = malloc(sizeof(*k));
	FILE *f;

	if (k == NULL)
		return NULL;
	*k = (struct cookie){.fd = fd, .owns = owns};
	f = fopencookie(k, mode, fns);
	if (f == NULL) {
		free(k);
		return NULL;
	}
	f->_fileno = fd;
	k->f = f;
	ours_add(f);
	return k;
}

FILE *
stdio_cookie(int fd, const char *mode, bool owns)
{
	struct cookie *k = cookie_open(fd, mode, owns);

	return k != NULL ? k->f : NULL;
}

/* fopen's mode letters as open() flags. */
int
stdio_mode_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r':
		flags = O_RDONLY;
		break;
	case 'w':
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_WRONLY | O_CREAT | O_APPEND;
		break;
	default:
		return -EINVAL;
	}
	for (mode++; *mode != '\0' && *mode != ','; mode++) {
		if (*mode == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*mode == 'e')
			flags |= O_CLOEXEC;
		else if (*mode == 'x')
			flags |= O_EXCL;
	}
	return flags;
}

static FILE **
std_slot(int fd)
{
	return fd == 0 ? &stdin : fd == 1 ? &stdout : &stderr;
}

/*
 * A swapped std stream that has left its slot (ST_STDIO held): closed by
 * the caller when nobody flushes it, else by the last flusher.
 */
static FILE *
std_retire(struct cookie *k)
{
	if (k->flushers > 0) {
		k->close_later = true;
		return NULL;
	}
	return k->f;
}

/* A flush of k is over: close it if it was retired meanwhile. */
static void
std_flushed(struct cookie *k)
{
	FILE *done = NULL;

	st_lock(ST_STDIO);
	if (--k->flushers == 0 && k->close_later)
		done = k->f;
	st_unlock(ST_STDIO);
	if (done != NULL)
		fclose(done);
}

/*
 * Before fd 1 or 2 changes: push out what its cookie stream holds, to
 * where it was meant to go (see the top).
 */
void
stdio_std_flush(int fd)
{
	struct cookie *k = NULL;

	if (fd != 1 && fd != 2)
		return;
	st_lock(ST_STDIO);
	if ((k = swapped[fd]) != NULL)
		k->flushers++;
	st_unlock(ST_STDIO);
	if (k != NULL) {
		fflush(k->f);
		std_flushed(k);
	}
}

/*
 * fd 0-2 changed: a scheme fd gets a cookie stream, anything else the
 * program's own stream back.  The swap is made under ST_STDIO; the
 * cookie stream it replaced is closed (flushed, through its provider)
 * after, so that no fork can copy the lock held across that wait.
 */
void
stdio_std_update(int fd)
{
	struct sfd *e;
	struct cookie *k;
	FILE **slot, *done = NULL;
	bool scheme;

	if (fd < 0 || fd > 2)
		return;
	e = fdtab_get(fd);
	scheme = e != NULL && e->ops->requests;
	slot = std_slot(fd);
	st_lock(ST_STDIO);
	if (scheme && swapped[fd] == NULL) {
		k = cookie_open(fd, fd == 0 ? "r" : "w", false);
		if (k != NULL) {
			if (fd == 2)
				setvbuf(k->f, NULL, _IONBF, 0);
			orig[fd] = *slot;
			*slot = k->f;
			swapped[fd] = k;
		}
	} else if (!scheme && swapped[fd] != NULL) {
		done = std_retire(swapped[fd]);
		*slot = orig[fd];
		swapped[fd] = NULL;
	}
	st_unlock(ST_STDIO);
	if (done != NULL)
		fclose(done); /* flushes; does not close the fd */
}

/*
 * freopen() on a swapped std stream: give the program's original stream
 * back, so that the real freopen works on it and keeps its fd number.
 */
FILE *
stdio_std_release(FILE *fp)
{
	struct cookie *k;
	FILE *ret;
	int fd;

	st_lock(ST_STDIO);
	for (fd = 0; fd < 3; fd++) {
		if ((k = swapped[fd]) == NULL || k->f != fp)
			continue;
		ret = *std_slot(fd) = orig[fd];
		swapped[fd] = NULL;
		k->flushers++; /* this flush, then closed by the last */
		k->close_later = true;
		st_unlock(ST_STDIO);
		fflush(fp); /* to the scheme file, before the fd is forgotten */
		sfd_free(fdtab_take(fd));
		std_flushed(k);
		return ret;
	}
	st_unlock(ST_STDIO);
	return fp;
}

/*
 * A fork's child (ST_STDIO reset): what its swapped streams hold was
 * written by the parent, which writes it (see the top); nobody flushes.
 */
static void
fork_child(void)
{
	for (int fd = 1; fd < 3; fd++)
		if (swapped[fd] != NULL) {
			__fpurge(swapped[fd]->f);
			swapped[fd]->flushers = 0;
		}
}

const struct st_fork_hook stdio_fork_hook = {ST_STDIO, NULL, NULL, fork_child};

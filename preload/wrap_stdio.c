/*
 * wrap_stdio.c - fopen, fopen64, freopen, freopen64 and fdopen.
 *
 * glibc's fopen opens through an internal call no preload sees, and its
 * streams read and write the same way; a scheme file therefore gets a
 * cookie stream (stdio.c) instead.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>

#include "../proto/wire/path.h"
#include "client.h"
#include "hidden.h"
#include "fdops.h"
#include "resolve.h"
#include "route.h"
#include "stdio.h"
#include "wrap.h"

/* A scheme path as a stream; NULL with errno, or SC_PASS in *pass. */
static FILE *
scheme_fopen(const char **path, char *buf, const char *mode, bool *pass)
{
	struct scheme_path sp;
	int flags, fd, saved = errno, dirfd = AT_FDCWD;
	int r = resolve_at(&dirfd, path, buf, RESOLVE_MAX, &sp);
	FILE *f;

	*pass = r == 0;
	if (LIKELY(*pass))
		return NULL;
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	if ((flags = stdio_mode_flags(mode)) < 0) {
		errno = EINVAL;
		return NULL;
	}
	fd = route_open(&sp, flags, 0666);
	if (fd == SC_PASS) {
		*pass = true;
		errno = saved;
		return NULL;
	}
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = stdio_cookie(fd, mode, true);
	if (f == NULL)
		fd_close(fd);
	else
		errno = saved;
	return f;
}

EXPORT FILE *
fopen(const char *path, const char *mode)
{
	char buf[RESOLVE_MAX];
	bool pass;
	FILE *f = scheme_fopen(&path, buf, mode, &pass);

	return pass ? REAL(fopen)(path, mode) : f;
}

EXPORT FILE *
fopen64(const char *path, const char *mode)
{
	char buf[RESOLVE_MAX];
	bool pass;
	FILE *f = scheme_fopen(&path, buf, mode, &pass);

	return pass ? REAL(fopen64)(path, mode) : f;
}

EXPORT FILE *
fdopen(int fd, const char *mode)
{
	struct sfd *e = fdtab_get(fd);

	if (LIKELY(e == NULL) || (!e->ops->requests && !e->ops->ours))
		return REAL(fdopen)(fd, mode);
	if (e->ops->ours) {
		errno = EBADF;
		return NULL;
	}
	return stdio_cookie(fd, mode, true);
}

/*
 * freopen.  For stdin, stdout and stderr a scheme file takes the stream's
 * fd number, as glibc does, and the std stream becomes (or stays) a cookie
 * stream over it.  Any other stream, or any stream of ours (glibc's
 * freopen cannot take a cookie stream), is closed and a new one returned:
 * code that keeps using the old pointer instead of the result loses.
 */
static FILE *
std_freopen(FILE *f, int stdfd)
{
	FILE *fp = stdfd == 0 ? stdin : stdfd == 1 ? stdout : stderr;
	int fd = fileno(f);

	fflush(fp);
	if (REAL(dup2)(fd, stdfd) < 0 ||
	    fd_adopt_copy(stdfd, fdtab_get(fd)) < 0) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	stdio_std_update(stdfd);
	return stdfd == 0 ? stdin : stdfd == 1 ? stdout : stderr;
}

static FILE *
do_freopen(const char *path, const char *mode, FILE *fp,
	   FILE *(*real)(const char *, const char *, FILE *))
{
	int stdfd = fp == stdin ? 0 : fp == stdout ? 1 : fp == stderr ? 2 : -1;
	char buf[RESOLVE_MAX];
	bool pass = true;
	FILE *f = NULL;

	if (path == NULL) /* a change of mode only */
		return stdio_is_ours(fp) ? fp : real(path, mode, fp);
	f = scheme_fopen(&path, buf, mode, &pass);
	if (!pass && f == NULL)
		return NULL; /* a scheme path that failed to open */
	if (!pass && stdfd >= 0)
		return std_freopen(f, stdfd);
	if (pass && stdfd >= 0) /* ordinary file: the real stream again */
		return real(path, mode, stdio_std_release(fp));
	if (pass && !stdio_is_ours(fp))
		return real(path, mode, fp);
	if (pass)
		f = REAL(fopen)(path, mode);
	fclose(fp);
	return f;
}

EXPORT FILE *
freopen(const char *path, const char *mode, FILE *fp)
{
	return do_freopen(path, mode, fp, REAL(freopen));
}

EXPORT FILE *
freopen64(const char *path, const char *mode, FILE *fp)
{
	return do_freopen(path, mode, fp, REAL(freopen64));
}

/*
 * wrap_stdio.c - fopen, fopen64, freopen, freopen64 and fdopen.
 *
 * glibc's fopen opens through an internal call no preload sees, and its
 * streams read and write the same way; a scheme file therefore gets a
 * cookie stream (stdio.c) instead.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>

#include "../proto/path.h"
#include "client.h"
#include "hidden.h"
#include "io.h"
#include "stdio.h"
#include "wrap.h"

/* A scheme path as a stream; NULL with errno, or SC_PASS in *pass. */
static FILE *
scheme_fopen(const char *path, const char *mode, bool *pass)
{
	struct scheme_path sp;
	int flags, fd, saved = errno;
	FILE *f;

	*pass = !path_classify(path, &sp);
	if (LIKELY(*pass))
		return NULL;
	if ((flags = stdio_mode_flags(mode)) < 0) {
		errno = EINVAL;
		return NULL;
	}
	fd = sc_open(&sp, flags, 0666);
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
		io_close(fd);
	else
		errno = saved;
	return f;
}

EXPORT FILE *
fopen(const char *path, const char *mode)
{
	bool pass;
	FILE *f = scheme_fopen(path, mode, &pass);

	return pass ? REAL(fopen)(path, mode) : f;
}

EXPORT FILE *
fopen64(const char *path, const char *mode)
{
	bool pass;
	FILE *f = scheme_fopen(path, mode, &pass);

	return pass ? REAL(fopen64)(path, mode) : f;
}

EXPORT FILE *
fdopen(int fd, const char *mode)
{
	struct sfd *e = fdtab_get(fd);

	if (LIKELY(e == NULL))
		return REAL(fdopen)(fd, mode);
	if (e->type != SFD_CLIENT) {
		errno = e->type == SFD_HIDDEN ? EBADF : EINVAL;
		return NULL;
	}
	return stdio_cookie(fd, mode, true);
}

/*
 * freopen onto a scheme path.  For stdin, stdout and stderr the new file
 * takes the stream's fd number, as glibc does, and the std stream becomes
 * a cookie stream over it: the stream the program gets back is then not
 * the one it passed, which matters only to code that kept the old
 * pointer.  Another stream is closed and replaced.
 */
static FILE *
scheme_freopen(const char *path, const char *mode, FILE *fp, bool *pass,
	       FILE *(*real)(const char *, const char *, FILE *))
{
	int stdfd = fp == stdin ? 0 : fp == stdout ? 1 : fp == stderr ? 2 : -1;
	FILE *f;
	int fd;

	f = path != NULL ? scheme_fopen(path, mode, pass) : NULL;
	if (path == NULL || *pass) {
		*pass = true;
		return NULL;
	}
	if (f == NULL)
		return NULL;
	if (stdfd < 0) {
		fclose(fp);
		return f;
	}
	fd = fileno(f);
	fflush(fp);
	if (REAL(dup2)(fd, stdfd) < 0 || io_adopt_copy(stdfd, fdtab_get(fd)) < 0) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	stdio_std_update(stdfd);
	return stdfd == 0 ? stdin : stdfd == 1 ? stdout : stderr;
}

EXPORT FILE *
freopen(const char *path, const char *mode, FILE *fp)
{
	bool pass;
	FILE *f = scheme_freopen(path, mode, fp, &pass, REAL(freopen));

	/* Onto an ordinary file: a swapped std stream turns back first. */
	return pass ? REAL(freopen)(path, mode, stdio_std_release(fp)) : f;
}

EXPORT FILE *
freopen64(const char *path, const char *mode, FILE *fp)
{
	bool pass;
	FILE *f = scheme_freopen(path, mode, fp, &pass, REAL(freopen64));

	return pass ? REAL(freopen64)(path, mode, stdio_std_release(fp)) : f;
}

/*
 * wrap_dir.c - the directory stream calls and getdents64.
 *
 * opendir and fdopendir of a scheme directory give a DIR of ours (dir.c);
 * every call taking a DIR tells ours from glibc's by its first word and
 * passes glibc's straight on.  scandir is wrapped whole: glibc's calls
 * its own opendir and readdir internally.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/wire/path.h"
#include "client.h"
#include "dir.h"
#include "resolve.h"
#include "route.h"
#include "wrap.h"

/* A scheme directory's stream: NULL with *err (SC_PASS: not a scheme's). */
static struct sdir *
sdir_open(const struct scheme_path *sp, int *err)
{
	struct sdir *d;
	int fd;

	fd = route_open(sp, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	if (fdtab_get(fd) == NULL) { /* a link led to the disk: glibc's */
		if ((d = (struct sdir *)REAL(fdopendir)(fd)) == NULL) {
			*err = -errno;
			REAL(close)(fd);
		}
		return d;
	}
	if ((d = sdir_fdopen(fd, err)) == NULL)
		fd_close(fd);
	return d;
}

/* The next entry of a stream sdir_open made, ours or glibc's. */
static struct dirent64 *
any_read(struct sdir *d, int *err)
{
	int saved = errno;
	struct dirent64 *ent;

	if (sdir_is(d))
		return sdir_read(d, err);
	errno = 0;
	ent = REAL(readdir64)((DIR *)d);
	*err = ent == NULL && errno != 0 ? -errno : 0;
	errno = saved;
	return ent;
}

static void
any_close(struct sdir *d)
{
	if (sdir_is(d))
		sdir_close(d);
	else
		REAL(closedir)((DIR *)d);
}

EXPORT DIR *
opendir(const char *path)
{
	char buf[RESOLVE_MAX];
	struct scheme_path sp;
	struct sdir *d;
	int saved = errno, dirfd = AT_FDCWD, err;

	err = resolve_at(&dirfd, &path, buf, sizeof(buf), &sp);
	if (LIKELY(err == 0))
		return REAL(opendir)(path);
	if (err < 0) {
		errno = -err;
		return NULL;
	}
	if ((d = sdir_open(&sp, &err)) == NULL) {
		if (err == SC_PASS) {
			errno = saved;
			return REAL(opendir)(path);
		}
		errno = -err;
	}
	return (DIR *)d;
}

EXPORT DIR *
fdopendir(int fd)
{
	struct sfd *e = fdtab_get(fd);
	struct sdir *d;
	int err;

	if (LIKELY(e == NULL) || (!e->ops->requests && !e->ops->ours))
		return REAL(fdopendir)(fd);
	if ((d = sdir_fdopen(fd, &err)) == NULL)
		errno = -err;
	return (DIR *)d;
}

static struct dirent64 *
read_ours(DIR *dirp)
{
	int saved = errno, err;
	struct dirent64 *ent = sdir_read((struct sdir *)dirp, &err);

	if (err < 0)
		errno = -err;
	else
		errno = saved; /* the end: errno as it was */
	return ent;
}

EXPORT struct dirent *
readdir(DIR *dirp)
{
	if (LIKELY(!sdir_is(dirp)))
		return REAL(readdir)(dirp);
	return (struct dirent *)read_ours(dirp);
}

EXPORT struct dirent64 *
readdir64(DIR *dirp)
{
	if (LIKELY(!sdir_is(dirp)))
		return REAL(readdir64)(dirp);
	return read_ours(dirp);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int
read_r_ours(DIR *dirp, struct dirent64 *entry, struct dirent64 **result)
{
	int saved = errno, err;
	struct dirent64 *ent = sdir_read((struct sdir *)dirp, &err);

	errno = saved;
	if (err < 0) {
		*result = NULL;
		return -err;
	}
	if (ent != NULL)
		memcpy(entry, ent, sizeof(*entry));
	*result = ent != NULL ? entry : NULL;
	return 0;
}

EXPORT int
readdir_r(DIR *dirp, struct dirent *entry, struct dirent **result)
{
	if (LIKELY(!sdir_is(dirp)))
		return REAL(readdir_r)(dirp, entry, result);
	return read_r_ours(dirp, (struct dirent64 *)entry,
			   (struct dirent64 **)result);
}

EXPORT int
readdir64_r(DIR *dirp, struct dirent64 *entry, struct dirent64 **result)
{
	if (LIKELY(!sdir_is(dirp)))
		return REAL(readdir64_r)(dirp, entry, result);
	return read_r_ours(dirp, entry, result);
}
#pragma GCC diagnostic pop

EXPORT int
closedir(DIR *dirp)
{
	int saved = errno;

	if (LIKELY(!sdir_is(dirp)))
		return REAL(closedir)(dirp);
	return (int)wrap_ret(sdir_close((struct sdir *)dirp), saved);
}

EXPORT int
dirfd(DIR *dirp)
{
	if (LIKELY(!sdir_is(dirp)))
		return REAL(dirfd)(dirp);
	return sdir_fd((struct sdir *)dirp);
}

EXPORT void
rewinddir(DIR *dirp)
{
	int saved = errno;

	if (LIKELY(!sdir_is(dirp))) {
		REAL(rewinddir)(dirp);
		return;
	}
	sdir_rewind((struct sdir *)dirp);
	errno = saved;
}

EXPORT long
telldir(DIR *dirp)
{
	if (LIKELY(!sdir_is(dirp)))
		return REAL(telldir)(dirp);
	return sdir_tell((struct sdir *)dirp);
}

EXPORT void
seekdir(DIR *dirp, long loc)
{
	int saved = errno;

	if (LIKELY(!sdir_is(dirp))) {
		REAL(seekdir)(dirp, loc);
		return;
	}
	sdir_seek((struct sdir *)dirp, loc);
	errno = saved;
}

typedef int (*dent_filter)(const struct dirent64 *);
typedef int (*dent_compar)(const struct dirent64 **, const struct dirent64 **);

/* scandir of a scheme directory: entries malloc'ed one by one, as glibc. */
static int
scan_ours(const struct scheme_path *sp, struct dirent64 ***list,
	  dent_filter filter, dent_compar compar)
{
	struct dirent64 **v = NULL, **nv, *ent;
	struct sdir *d;
	size_t n = 0, cap = 0;
	int err;

	if ((d = sdir_open(sp, &err)) == NULL)
		return err;
	while ((ent = any_read(d, &err)) != NULL) {
		if (filter != NULL && !filter(ent))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		if ((v[n] = malloc(sizeof(*ent))) == NULL) {
			err = -ENOMEM;
			break;
		}
		memcpy(v[n++], ent, sizeof(*ent));
	}
	any_close(d);
	if (err < 0) {
		while (n > 0)
			free(v[--n]);
		free(v);
		return err;
	}
	if (compar != NULL && n > 1)
		qsort(v, n, sizeof(*v),
		      (int (*)(const void *, const void *))compar);
	*list = v;
	return (int)n;
}

#define SCAN_BODY(dirfd, path, list, filter, compar, realcall)                 \
	do {                                                                   \
		char buf_[RESOLVE_MAX];                                        \
		struct scheme_path sp;                                         \
		int saved = errno;                                             \
		int r =                                                        \
		    resolve_at(&(dirfd), &(path), buf_, sizeof(buf_), &sp);    \
                                                                               \
		if (LIKELY(r == 0))                                            \
			return realcall;                                       \
		if (r > 0)                                                     \
			r = scan_ours(&sp, (struct dirent64 ***)(list),        \
				      (dent_filter)(filter),                   \
				      (dent_compar)(compar));                  \
		PASS_OR_RETURN(r, saved, realcall);                            \
	} while (0)

EXPORT int
scandir(const char *path, struct dirent ***list,
	int (*filter)(const struct dirent *),
	int (*compar)(const struct dirent **, const struct dirent **))
{
	int dirfd = AT_FDCWD;

	SCAN_BODY(dirfd, path, list, filter, compar,
		  REAL(scandir)(path, list, filter, compar));
}

EXPORT int
scandir64(const char *path, struct dirent64 ***list,
	  int (*filter)(const struct dirent64 *),
	  int (*compar)(const struct dirent64 **, const struct dirent64 **))
{
	int dirfd = AT_FDCWD;

	SCAN_BODY(dirfd, path, list, filter, compar,
		  REAL(scandir64)(path, list, filter, compar));
}

EXPORT int
scandirat(int dirfd, const char *path, struct dirent ***list,
	  int (*filter)(const struct dirent *),
	  int (*compar)(const struct dirent **, const struct dirent **))
{
	SCAN_BODY(dirfd, path, list, filter, compar,
		  REAL(scandirat)(dirfd, path, list, filter, compar));
}

EXPORT int
scandirat64(int dirfd, const char *path, struct dirent64 ***list,
	    int (*filter)(const struct dirent64 *),
	    int (*compar)(const struct dirent64 **, const struct dirent64 **))
{
	SCAN_BODY(dirfd, path, list, filter, compar,
		  REAL(scandirat64)(dirfd, path, list, filter, compar));
}

EXPORT ssize_t
getdents64(int fd, void *buf, size_t size)
{
	struct sfd *e = fdtab_get(fd);
	int saved = errno;

	if (LIKELY(e == NULL) || e->ops->getdents == NULL)
		return REAL(getdents64)(fd, buf, size);
	return wrap_ret(e->ops->getdents(fd, e, buf, size), saved);
}

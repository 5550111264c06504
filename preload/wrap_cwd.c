/*
 * wrap_cwd.c - the working directory: chdir and fchdir into a scheme
 * directory, getcwd while in one, and realpath of scheme paths.
 *
 * In a scheme directory the kernel's working directory stays where it
 * was; relative paths are ours to resolve (resolve.c), and the exec
 * wrappers hand the directory on to the child (SCHEME_CWD).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "resolve.h"
#include "uaccess.h"
#include "wrap.h"

/* Into the scheme directory sp names: it must be one. */
static int
enter(const struct scheme_path *sp)
{
	char canon[PATH_MAX];
	struct stat st;
	int r;

	if ((r = sc_stat(sp, &st, false)) < 0)
		return r;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if ((r = resolve_canonical(sp, canon, sizeof(canon))) < 0)
		return r;
	resolve_set_cwd(canon);
	return 0;
}

EXPORT int
chdir(const char *path)
{
	char buf[RESOLVE_MAX];
	struct scheme_path sp;
	int saved = errno, dirfd = AT_FDCWD, r;

	r = resolve_at(&dirfd, &path, buf, sizeof(buf), &sp);
	if (LIKELY(r == 0)) {
		if ((r = REAL(chdir)(path)) == 0 && resolve_in_scheme())
			resolve_set_cwd(NULL); /* out of the scheme */
		return r;
	}
	if (r > 0 && (r = enter(&sp)) == SC_PASS) {
		errno = saved;
		return REAL(chdir)(path);
	}
	return (int)wrap_ret(r, saved);
}

/* fchdir to a scheme directory fd: where its provider says it is. */
static int
enter_fd(int fd, struct sfd *e)
{
	char name[PATH_MAX];
	struct scheme_path sp;
	int n = sc_fpath(fd, e, name, sizeof(name) - 1);

	if (n < 0)
		return n;
	name[n] = '\0';
	if (!path_classify(name, &sp))
		return -ENOTDIR;
	return enter(&sp);
}

EXPORT int
fchdir(int fd)
{
	struct sfd *e = fdtab_get(fd);
	int saved = errno, r;

	if (LIKELY(e == NULL) || (!e->ops->requests && !e->ops->ours)) {
		if ((r = REAL(fchdir)(fd)) == 0 && resolve_in_scheme())
			resolve_set_cwd(NULL);
		return r;
	}
	if (e->ops->ours)
		return (int)wrap_ret(-EBADF, saved);
	return (int)wrap_ret(enter_fd(fd, e), saved);
}

EXPORT char *
getcwd(char *buf, size_t size)
{
	char here[PATH_MAX];
	int r;

	if (LIKELY(!resolve_in_scheme()))
		return REAL(getcwd)(buf, size);
	if ((r = resolve_getcwd(here, sizeof(here))) < 0)
		return REAL(getcwd)(buf, size); /* left it meanwhile */
	if (buf == NULL) { /* glibc's extension: ours to free */
		if (size != 0 && strlen(here) + 1 > size) {
			errno = ERANGE;
			return NULL;
		}
		return strdup(here);
	}
	if (size == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (strlen(here) + 1 > size) {
		errno = ERANGE;
		return NULL;
	}
	if (ua_write_ok(buf, strlen(here) + 1) < 0) { /* as the kernel */
		errno = EFAULT;
		return NULL;
	}
	return strcpy(buf, here);
}

EXPORT char *
get_current_dir_name(void)
{
	char here[PATH_MAX];

	if (LIKELY(!resolve_in_scheme()) ||
	    resolve_getcwd(here, sizeof(here)) < 0)
		return REAL(get_current_dir_name)();
	return strdup(here);
}

/*
 * realpath of a scheme path: its canonical spelling, if it exists (glibc's
 * would ask the kernel, which has no such file).
 */
EXPORT char *
realpath(const char *path, char *resolved)
{
	char buf[RESOLVE_MAX], canon[PATH_MAX];
	struct scheme_path sp;
	struct stat st;
	int saved = errno, dirfd = AT_FDCWD, r;

	r = resolve_at(&dirfd, &path, buf, sizeof(buf), &sp);
	if (LIKELY(r == 0))
		return REAL(realpath)(path, resolved);
	if (r > 0 && (r = sc_stat(&sp, &st, false)) == SC_PASS)
		return REAL(realpath)(path, resolved); /* no such scheme */
	if (r == 0)
		r = resolve_canonical(&sp, canon, sizeof(canon));
	if (r == 0 && resolved != NULL &&
	    ua_write_ok(resolved, strlen(canon) + 1) < 0)
		r = -EFAULT;
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	errno = saved;
	return resolved == NULL ? strdup(canon) : strcpy(resolved, canon);
}

EXPORT char *
canonicalize_file_name(const char *path)
{
	return realpath(path, NULL);
}

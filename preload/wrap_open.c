/*
 * wrap_open.c - the open family: open, openat, their 64 and fortified
 * (_2) names, and creat.
 *
 * Which names real programs call: python3 uses __open64_2 and open64,
 * GNU tar __openat_2, coreutils open and openat.  A relative path may
 * be a scheme's by its directory (resolve.c).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>

#include <limits.h>

#include "../proto/wire/path.h"
#include "client.h"
#include "resolve.h"
#include "route.h"
#include "wrap.h"

static int
try_open(int *dirfd, const char **path, char *buf, int flags, mode_t mode)
{
	struct scheme_path sp;
	int r = resolve_at(dirfd, path, buf, RESOLVE_MAX, &sp);

	if (LIKELY(r == 0))
		return SC_PASS;
	return r < 0 ? r : route_open(&sp, flags, mode);
}

#define MODE_ARG(flags, mode)                                                  \
	do {                                                                   \
		if (NEEDS_MODE(flags)) {                                       \
			va_list ap;                                            \
			va_start(ap, flags);                                   \
			mode = va_arg(ap, mode_t);                             \
			va_end(ap);                                            \
		}                                                              \
	} while (0)

/* Each wrapper: a scheme open, or else the real call, untouched. */
#define OPEN_BODY(realcall)                                                    \
	char buf_[RESOLVE_MAX];                                                \
	int saved = errno, r = try_open(&dirfd, &path, buf_, flags, mode);     \
	if (r == SC_PASS) {                                                    \
		errno = saved;                                                 \
		return realcall;                                               \
	}                                                                      \
	return (int)wrap_ret(r, saved)

EXPORT int
open(const char *path, int flags, ...)
{
	int dirfd = AT_FDCWD;
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	OPEN_BODY(REAL(open)(path, flags, mode));
}

EXPORT int
open64(const char *path, int flags, ...)
{
	int dirfd = AT_FDCWD;
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	OPEN_BODY(REAL(open64)(path, flags, mode));
}

EXPORT int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	OPEN_BODY(REAL(openat)(dirfd, path, flags, mode));
}

EXPORT int
openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	OPEN_BODY(REAL(openat64)(dirfd, path, flags, mode));
}

/*
 * The fortified names take no mode; with O_CREAT the real one aborts the
 * program, as it should, so such calls go to it whatever the path.
 */
EXPORT int
__open_2(const char *path, int flags)
{
	int dirfd = AT_FDCWD;
	mode_t mode = 0;

	if (NEEDS_MODE(flags))
		return REAL(__open_2)(path, flags);
	OPEN_BODY(REAL(__open_2)(path, flags));
}

EXPORT int
__open64_2(const char *path, int flags)
{
	int dirfd = AT_FDCWD;
	mode_t mode = 0;

	if (NEEDS_MODE(flags))
		return REAL(__open64_2)(path, flags);
	OPEN_BODY(REAL(__open64_2)(path, flags));
}

EXPORT int
__openat_2(int dirfd, const char *path, int flags)
{
	mode_t mode = 0;

	if (NEEDS_MODE(flags))
		return REAL(__openat_2)(dirfd, path, flags);
	OPEN_BODY(REAL(__openat_2)(dirfd, path, flags));
}

EXPORT int
__openat64_2(int dirfd, const char *path, int flags)
{
	mode_t mode = 0;

	if (NEEDS_MODE(flags))
		return REAL(__openat64_2)(dirfd, path, flags);
	OPEN_BODY(REAL(__openat64_2)(dirfd, path, flags));
}

EXPORT int
creat(const char *path, mode_t mode)
{
	int dirfd = AT_FDCWD;
	int flags = O_CREAT | O_WRONLY | O_TRUNC;

	OPEN_BODY(REAL(creat)(path, mode));
}

EXPORT int
creat64(const char *path, mode_t mode)
{
	int dirfd = AT_FDCWD;
	int flags = O_CREAT | O_WRONLY | O_TRUNC;

	OPEN_BODY(REAL(creat64)(path, mode));
}

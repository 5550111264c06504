/*
 * wrap.h - what every exported wrapper shares.
 *
 * A wrapper looks the fd or path up, hands an ordinary one straight to
 * the real function (the program's errno untouched), and converts our
 * -errno results into errno and -1 at this one boundary, leaving errno as
 * it was on success.
 */
#ifndef PRELOAD_WRAP_H
#define PRELOAD_WRAP_H

#include <errno.h>

#include "fdtab.h"
#include "real.h"

#define EXPORT	  __attribute__((visibility("default")))

/*
 * glibc declares some pointers nonnull (utimensat's and statx's path,
 * statx's buffer) that Linux takes NULL for, or answers EFAULT to
 * (Rust's std probes statx with NULLs): a copy of one the compiler may
 * assume nothing of.
 */
static inline const void *
maybe_null(const void *p)
{
	__asm__("" : "+r"(p));
	return p;
}
#define LIKELY(x) __builtin_expect(!!(x), 1)

static inline long
wrap_ret(long r, int saved)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	errno = saved;
	return r;
}

/*
 * The start of a hot wrapper (read, write): an fd that is not ours is a
 * tail call to the real function, so the wrapper has no frame of its own
 * on that path.  A call around the system call instead costs about 20 ns
 * on this VM, 8% of a one-byte read of /dev/zero (tools/bench).  e gets
 * fd's record, for the rest of the wrapper not to look it up again.
 */
#define TAIL_IF_NOT_OURS(e, fd, f, ...)                                        \
	do {                                                                   \
		(e) = fdtab_get(fd);                                           \
		if (LIKELY((e) == NULL) && LIKELY(real_fn.f != NULL))          \
			return real_fn.f(__VA_ARGS__);                         \
	} while (0)

/*
 * The end of a wrapper: a scheme call's result r, or, when r is SC_PASS
 * (not a scheme's after all), the real call with errno as it was.
 */
#define PASS_OR_RETURN(r, saved, realcall)                                     \
	do {                                                                   \
		if (LIKELY((r) == SC_PASS)) {                                  \
			errno = (saved);                                       \
			return realcall;                                       \
		}                                                              \
		return (int)wrap_ret((r), (saved));                            \
	} while (0)

/*
 * Body of a wrapper of one path: `call` (which may use `sp`) for a scheme
 * path, `realcall` for any other, and for one whose scheme is not there.
 * dirfd and path are variables: resolve_at may rewrite them for the
 * kernel (a relative path that climbed out of a scheme directory).
 * (Needs resolve.h.)
 */
#define ON_PATH_AT(dirfd, path, call, realcall)                                \
	do {                                                                   \
		char buf_[RESOLVE_MAX];                                        \
		struct scheme_path sp;                                         \
		int saved_ = errno;                                            \
		int r_ =                                                       \
		    resolve_at(&(dirfd), &(path), buf_, sizeof(buf_), &sp);    \
                                                                               \
		if (LIKELY(r_ == 0))                                           \
			return realcall;                                       \
		if (r_ > 0)                                                    \
			r_ = (call);                                           \
		PASS_OR_RETURN(r_, saved_, realcall);                          \
	} while (0)

#define ON_PATH(path, call, realcall)                                          \
	do {                                                                   \
		int dirfd_ = AT_FDCWD;                                         \
		ON_PATH_AT(dirfd_, path, call, realcall);                      \
	} while (0)

#endif

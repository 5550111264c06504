/*
 * wrap_uring.c - io_uring, refused at setup under the preload.
 *
 * An io_uring's operations reach the kernel by shared memory, past every
 * wrapper: one submitted on a scheme fd would read or write the socket
 * under it, and a write would vanish into the provider as a malformed
 * request while the program was told it succeeded.  So the preload says
 * ENOSYS to io_uring_setup, as a kernel without io_uring does, and
 * programs fall back to the calls it serves (libuv, liburing's users
 * and Rust's io-uring all check).  It is refused where a program sets it
 * up:
 *
 *  - syscall(SYS_io_uring_setup, ...) through libc's syscall() (libuv,
 *    Rust's crates) and, with SCHEME_RAWSYS=trap, an inline `syscall`
 *    instruction (liburing's own): wrap_syscall.c asks uring_refused();
 *  - liburing's setup functions, for a program linked with liburing.so:
 *    exported here.
 *
 * SCHEME_IO_URING=1 lets io_uring through, for a program that never hands
 * it a scheme fd (README, "Raw system calls").
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rawsys.h"
#include "wrap.h"

struct io_uring;
struct io_uring_params;

/* liburing's, as <liburing.h> declares them (no header at build time). */
int io_uring_queue_init_params(unsigned entries, struct io_uring *ring,
			       struct io_uring_params *p);
int io_uring_queue_init(unsigned entries, struct io_uring *ring,
			unsigned flags);
int io_uring_setup(unsigned entries, struct io_uring_params *p);

bool
uring_refused(void)
{
	const char *v = getenv("SCHEME_IO_URING");

	return v == NULL || strcmp(v, "1") != 0;
}

/* liburing's function of that name, when io_uring is let through. */
static void *
next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* liburing's calls answer -errno. */
EXPORT int
io_uring_queue_init_params(unsigned entries, struct io_uring *ring,
			   struct io_uring_params *p)
{
	int (*f)(unsigned, struct io_uring *, struct io_uring_params *);

	if (uring_refused() ||
	    (f = (__typeof__(f))next("io_uring_queue_init_params")) == NULL)
		return -ENOSYS;
	return f(entries, ring, p);
}

EXPORT int
io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags)
{
	int (*f)(unsigned, struct io_uring *, unsigned);

	if (uring_refused() ||
	    (f = (__typeof__(f))next("io_uring_queue_init")) == NULL)
		return -ENOSYS;
	return f(entries, ring, flags);
}

/* liburing's raw setup: -1 and errno, as the system call's wrapper. */
EXPORT int
io_uring_setup(unsigned entries, struct io_uring_params *p)
{
	int (*f)(unsigned, struct io_uring_params *);

	if (uring_refused() ||
	    (f = (__typeof__(f))next("io_uring_setup")) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return f(entries, p);
}

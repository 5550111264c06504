/*
 * real.c - resolving the next definitions (see real.h).
 *
 * dlsym may allocate, and an allocator or another interposer may call
 * back into one of our wrappers while we are resolving: such a call finds
 * `resolving` set and returns at once, leaving the pointer it needs to be
 * filled by the outer call.  Nothing here takes a lock.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>

#include "hot.h"
#include "real.h"

struct real_fns real_fn;

static atomic_int resolving;

COLD void
real_init(void)
{
	int expected = 0;

	if (!atomic_compare_exchange_strong(&resolving, &expected, 1))
		return;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#define RESOLVE(f)                                                             \
	if (real_fn.f == NULL)                                                 \
		real_fn.f = (__typeof__(f) *)dlsym(RTLD_NEXT, #f);
	REAL_FNS(RESOLVE)
#undef RESOLVE
#pragma GCC diagnostic pop
	atomic_store(&resolving, 0);
}

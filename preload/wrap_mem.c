/*
 * wrap_mem.c - munmap, mremap, mprotect, pkey_mprotect and shmdt: memory
 * the program gives up or closes.  Pages the kernel said were good
 * (uaccess.c) may be gone after any of them, so they are forgotten first.
 *
 * glibc's own munmap and mremap (of a large malloc'd block, freed or
 * grown) are internal calls no preload sees: a pointer into such a block
 * after free that a thread had passed before may still be taken for
 * good, and fault where the kernel would say EFAULT (README, "Limits").
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "uaccess.h"
#include "wrap.h"

EXPORT int
munmap(void *addr, size_t len)
{
	ua_forget();
	return REAL(munmap)(addr, len);
}

EXPORT void *
mremap(void *old, size_t oldlen, size_t newlen, int flags, ...)
{
	void *to = NULL;
	va_list ap;

	if (flags & MREMAP_FIXED) { /* as glibc: the fifth only then */
		va_start(ap, flags);
		to = va_arg(ap, void *);
		va_end(ap);
	}
	ua_forget();
	return REAL(mremap)(old, oldlen, newlen, flags, to);
}

EXPORT int
mprotect(void *addr, size_t len, int prot)
{
	ua_forget();
	return REAL(mprotect)(addr, len, prot);
}

EXPORT int
pkey_mprotect(void *addr, size_t len, int prot, int pkey)
{
	ua_forget();
	return REAL(pkey_mprotect)(addr, len, prot, pkey);
}

EXPORT int
shmdt(const void *addr)
{
	ua_forget();
	return REAL(shmdt)(addr);
}

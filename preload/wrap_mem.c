/*
 * wrap_mem.c - mmap of a scheme file (fd_map.c); munmap, mremap,
 * mprotect, pkey_mprotect and shmdt: memory the program gives up or
 * closes.  Pages the kernel said were good (uaccess.c) may be gone after
 * any of the latter, so they are forgotten first.
 *
 * mmap replaces what was at the address only with MAP_FIXED, which the
 * program asked for: a mapping of its own then goes, as with the
 * kernel's, so that one forgets too.  glibc's internal mmap (fopen's "m"
 * mode, malloc) reaches the kernel directly; none of it maps a scheme fd
 * we would see (a scheme FILE is a cookie stream).
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

#include "fdops.h"
#include "uaccess.h"
#include "wrap.h"

static void *
map(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct fd_map_args a = {addr, len, prot, flags, off};
	int saved = errno, r;

	if (flags & MAP_FIXED)
		ua_forget();
	if ((r = fd_mmap(fd, &a)) < 0) {
		errno = -r;
		return MAP_FAILED;
	}
	errno = saved;
	return a.addr;
}

EXPORT void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (LIKELY((flags & MAP_ANONYMOUS) || fdtab_get(fd) == NULL)) {
		if (flags & MAP_FIXED)
			ua_forget();
		return REAL(mmap)(addr, len, prot, flags, fd, off);
	}
	return map(addr, len, prot, flags, fd, off);
}

EXPORT void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	return mmap(addr, len, prot, flags, fd, (off_t)off);
}

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

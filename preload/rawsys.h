/*
 * rawsys.h - serving a system call given by number (wrap_syscall.c).
 */
#ifndef PRELOAD_RAWSYS_H
#define PRELOAD_RAWSYS_H

#include <stdbool.h>

/*
 * If system call `nr` with arguments a[0..5] is one the preload serves
 * (it names a path or an fd), make it through the preload's wrapper of
 * that call, put its result in *ret (-1 and errno on failure, as libc's
 * functions) and say true; else false, and nothing was done.
 */
bool rawsys_call(long nr, const long a[6], long *ret);

/* Whether io_uring_setup is refused (ENOSYS): wrap_uring.c. */
bool uring_refused(void);

#endif

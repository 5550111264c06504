/*
 * uaccess.h - the program's pointers, checked before we touch them.
 *
 * The kernel answers EFAULT for memory it cannot read or write.  A
 * wrapper that reads a pointer before the kernel does (a path it
 * classifies, an iovec, a struct it converts) or writes through one (a
 * stat it fills, a scheme read copied out of shared memory) must answer
 * the same, never fault: these say whether it may.  Each returns 0 or
 * -EFAULT, or the length that may be used.
 *
 * Memory that cannot go away while the call runs costs nothing to check:
 * the calling thread's stack above its stack pointer, the segments of the
 * objects loaded at start-up, and the brk heap.  Anything else is asked
 * of the kernel, a page at a time or with one madvise for a range
 * (uaccess.c says how), which is some 200 ns, and remembered by the
 * thread until the program next unmaps or protects memory (ua_forget,
 * from the munmap family's wrappers).
 *
 * The check and the use are two steps: a page another thread unmaps in
 * between (memory the program freed while passing it) still faults, as
 * it would in any libc function that reads it.  So does a page glibc
 * unmapped itself (a large block, freed) that this thread had used
 * before, when the program passes it again after free: glibc's own
 * munmap is not seen.
 */
#ifndef PRELOAD_UACCESS_H
#define PRELOAD_UACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

void ua_init(void);

/* The program may have unmapped memory: forget what the kernel said. */
void ua_forget(void);

/* Whether the n bytes at p are known readable without asking the kernel. */
bool ua_known(const void *p, size_t n);

/* How many of the n bytes at p may be read (written), from the first. */
size_t ua_read_span(const void *p, size_t n);
size_t ua_write_span(void *p, size_t n);

/* 0 when all n bytes at p may be read (written), else -EFAULT. */
int ua_read_ok(const void *p, size_t n);
int ua_write_ok(void *p, size_t n);

/*
 * The length of the string at s, as the kernel copies a path: -EFAULT
 * when it runs into memory that cannot be read before its NUL, max when
 * there is no NUL in the first max bytes.
 */
ssize_t ua_strnlen(const char *s, size_t max);

/*
 * The one buffer of a call that takes only iov[0] (a provider's or an
 * event queue's packets): -EINVAL for none, -EFAULT when iov[0] cannot be
 * read, else 0.
 */
int ua_iov_first(const struct iovec *iov, int n);

#endif

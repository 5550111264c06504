/*
 * seccomp.h - the filters that make a namespace hold for raw syscalls.
 *
 * seccomp_narrow() for any namespace but the root one, seccomp_null()
 * for the null namespace.  Both return 0 or -errno.
 */
#ifndef PRELOAD_SECCOMP_H
#define PRELOAD_SECCOMP_H

int seccomp_narrow(void);
int seccomp_null(void);
int seccomp_filtered(void);

#endif

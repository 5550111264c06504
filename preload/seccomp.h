/*
 * seccomp.h - the filters that make a namespace hold for raw syscalls.
 *
 * seccomp_null() for a namespace without ordinary files (the null one,
 * and mkns() namespaces not holding "file"): an allowlist.
 * seccomp_files() for one that holds them: a denylist, beside Landlock.
 * Both go on every thread at once or not at all; 0 or -errno
 * (-EOPNOTSUPP without libseccomp, -EBUSY when a thread has a filter
 * the others do not).
 */
#ifndef PRELOAD_SECCOMP_H
#define PRELOAD_SECCOMP_H

int seccomp_null(void);
int seccomp_files(void);

#endif

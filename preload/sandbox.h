/*
 * sandbox.h - confining the process in the kernel as its namespace says.
 *
 * Levels only rise: none (the root namespace), files (a namespace made
 * with "file": Landlock's scoping and a denylist filter), null (no
 * ordinary files: the allowlist filter).  sandbox_raise() applies what
 * `to` needs beyond `from`: 0, or -errno with nothing applied.
 *
 *   -EBUSY       the process holds a socket that could reach an address
 *                it does not already have (a datagram socket, or for
 *                "file", an unconnected network socket), or, for "file",
 *                it has more than one thread (Landlock is per thread);
 *   -EOPNOTSUPP  no libseccomp, or for "file" no Landlock ABI 6.
 */
#ifndef PRELOAD_SANDBOX_H
#define PRELOAD_SANDBOX_H

#include <stdint.h>

enum sandbox_level { SANDBOX_NONE, SANDBOX_FILES, SANDBOX_NULL };

enum sandbox_level sandbox_level_of(int64_t rns, uint32_t rflags);
int sandbox_raise(enum sandbox_level from, enum sandbox_level to);

#endif

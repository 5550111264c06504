/*
 * landlock.h - Landlock's scoping for namespaces that hold ordinary files.
 *
 * landlock_files() puts the calling thread (and what it makes later) in a
 * Landlock domain that leaves ordinary files as they are but keeps other
 * processes out of reach: ptrace access (/proc/<pid>/mem, fd/),
 * signals and abstract unix sockets (landlock.c says what is left).  It needs Landlock ABI 6
 * (Linux 6.12): -EOPNOTSUPP before, or when Landlock is off.
 * landlock_usable() says which, without changing anything.
 */
#ifndef PRELOAD_LANDLOCK_H
#define PRELOAD_LANDLOCK_H

int landlock_usable(void);
int landlock_files(void);

#endif

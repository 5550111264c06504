/*
 * unreach.h - whether the preload can reach a program at all.
 *
 * LD_PRELOAD is honoured by the dynamic loader, so it reaches neither a
 * program that has none (statically linked: no PT_INTERP) nor one the
 * loader runs in secure mode, where it drops LD_PRELOAD: set-user-ID or
 * set-group-ID to another than the caller, or with file capabilities.
 * schemerun refuses such a program; the preload's exec wrappers relay
 * its standard streams (preload/relay.c).
 *
 * Pure: the caller reads the file (its first bytes, its stat, whether it
 * has a security.capability attribute) with whatever I/O it has.
 */
#ifndef PROTO_UNREACH_H
#define PROTO_UNREACH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

enum unreach {
	UNREACH_NO,	/* dynamic, run as the caller: the preload is there */
	UNREACH_STATIC, /* no ELF interpreter */
	UNREACH_SETID,	/* secure mode: another user's or group's set-id */
	UNREACH_CAPS,	/* secure mode: file capabilities */
};

/*
 * head: the file's first len bytes (the ELF header and, usually, its
 * program headers: 4096 is enough for any linker's output).  Anything
 * not an ELF64 file whose program headers are in head (a script) is
 * UNREACH_NO: not ours to judge.
 */
enum unreach unreach_of(const void *head, size_t len, const struct stat *st,
			uid_t uid, gid_t gid, bool has_caps);

/* Why, in words ("is statically linked: ..."), or NULL for UNREACH_NO. */
const char *unreach_why(enum unreach u);

#endif

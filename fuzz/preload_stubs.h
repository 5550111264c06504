/*
 * preload_stubs.h - a provider made of the fuzz input, behind the few
 * preload functions that resolve.c and dir.c call (preload_stubs.c).
 *
 * Those two files are linked unchanged; everything they would ask a real
 * provider over a channel (read, fstat, fpath, open) is answered here
 * from struct fake_provider, which a target fills from its input.
 */
#ifndef FUZZ_PRELOAD_STUBS_H
#define FUZZ_PRELOAD_STUBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../preload/fdtab.h"

#define FAKE_FD	    700 /* a scheme fd number nothing else uses */
#define FAKE_REOPEN 701 /* the second open of load_reopened() */

struct fake_provider {
	const uint8_t *text; /* the listing SYS_READ returns */
	size_t len, pos;
	size_t chunk;  /* bytes per read at most (a short read) */
	bool eisdir;   /* the first read of FAKE_FD says EISDIR */
	bool notdir;   /* SYS_FSTAT says a regular file */
	int fail_read; /* this read (1, 2, ...) fails with EIO */
	int reads;
	const char *fpath; /* SYS_FPATH's answer (NULL: ENOSYS) */
	size_t fpath_len;  /* its bytes, NULs and all */
	int opens, closes; /* of FAKE_REOPEN, to check they pair */
	bool typed; /* SYS_GETDENTS answers the listing's bytes as entries
		       (struct scheme_dirent), else ENOSYS */
	bool typed_stat; /* the provider grants a cache, and
			    SYS_GETDENTS_STAT answers the bytes so */
};

extern struct fake_provider fake;

/* Make fd a scheme fd (with a scheme file's ops) of description key, or forget it. */
void fake_fd_set(int fd, uint64_t key);
void fake_fd_clear(int fd);

#endif

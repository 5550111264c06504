/*
 * nofile.c - see nofile.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/resource.h>

#include "nofile.h"

void
nofile_raise(void)
{
	struct rlimit rl;
	int saved = errno;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < (1 << 20) ? rl.rlim_max : 1 << 20;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	errno = saved;
}

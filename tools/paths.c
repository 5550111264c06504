/*
 * paths.c - see paths.h.  $SCHEME_PRELOAD overrides the library's path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"

static const char *
tool_name(enum paths_what what)
{
	switch (what) {
	case PATHS_VIEW:
		return "scheme-fuse";
	case PATHS_MEMFS:
		return "scheme-memfs";
	default:
		return "schemed";
	}
}

int
paths_find(char *buf, size_t len, enum paths_what what)
{
	char exe[PATH_MAX];
	const char *env = getenv("SCHEME_PRELOAD");
	ssize_t n;
	int r;

	if (what == PATHS_PRELOAD && env != NULL && env[0] == '/') {
		r = snprintf(buf, len, "%s", env);
		return r < 0 || (size_t)r >= len ? -ENAMETOOLONG : 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	if (what == PATHS_PRELOAD)
		r = snprintf(buf, len, "%s/%s/%s", dirname(exe),
			     SCHEME_LIBDIR_REL, SCHEME_PRELOAD_NAME);
	else
		r = snprintf(buf, len, "%s/%s", dirname(exe), tool_name(what));
	if (r < 0 || (size_t)r >= len)
		return -ENAMETOOLONG;
	return access(buf, R_OK) == 0 ? 0 : -ENOENT;
}

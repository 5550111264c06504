/*
 * resolve.h - which file a path names (see resolve.c).
 */
#ifndef PRELOAD_RESOLVE_H
#define PRELOAD_RESOLVE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "../proto/wire/path.h"

/*
 * The buffer resolve_at joins into: a relative path of up to PATH_MAX
 * bytes joined to a working directory of up to as many (Linux checks a
 * path's length as given, not after joining).
 */
#define RESOLVE_MAX (2 * PATH_MAX)

/*
 * 1: a scheme path, in *sp (which may point into buf); 0: the kernel's,
 * and then *path and *dirfd are what to give the kernel (rewritten when a
 * relative path climbed out of a scheme directory); or -errno.
 */
int resolve_at(int *dirfd, const char **path, char *buf, size_t len,
	       struct scheme_path *sp);
int resolve_last_dot(const char *path);
int resolve_canonical(const struct scheme_path *sp, char *out, size_t len);
struct sfd;
int resolve_fd_path(int fd, struct sfd *e, char *out, size_t len);
bool resolve_in_scheme(void);
void resolve_set_cwd(const char *canonical);
int resolve_getcwd(char *buf, size_t len);
void resolve_env(char *var, size_t len);
void resolve_init(void);

#endif

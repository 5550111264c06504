/*
 * paths.h - path calls on scheme paths (see paths.c).  Each returns >= 0,
 * -errno, or SC_PASS when the path is not a scheme's after all.
 */
#ifndef PRELOAD_PATHS_H
#define PRELOAD_PATHS_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "../proto/wire/path.h"
#include "fdtab.h"

int sc_unlink(const struct scheme_path *sp, bool dir);
int sc_path_do(const struct scheme_path *sp, int flags,
	       int (*fn)(int fd, struct sfd *e, void *arg), void *arg);
int sc_mkdir(const struct scheme_path *sp, mode_t mode);
int sc_chmod(const struct scheme_path *sp, mode_t mode, bool nofollow);
int sc_chown(const struct scheme_path *sp, uid_t uid, gid_t gid, bool nofollow);
int sc_utimens(const struct scheme_path *sp, const struct timespec ts[2],
	       bool nofollow);
int sc_truncate(const struct scheme_path *sp, off_t len);
int sc_rename(const struct scheme_path *from, const struct scheme_path *to,
	      unsigned flags);
int sc_link(const struct scheme_path *from, const struct scheme_path *to,
	    bool follow);
int sc_access(const struct scheme_path *sp, int mode, bool effective,
	      bool nofollow);

#endif

/*
 * stdio.h (preload) - FILE streams over scheme fds.
 *
 * glibc's stdio reads and writes with internal calls no preload can
 * catch, so a FILE over a scheme fd must be a fopencookie() stream whose
 * functions call ours.  fopen/fdopen/freopen of scheme paths make one,
 * and stdin, stdout and stderr are swapped for one whenever fd 0, 1 or 2
 * becomes a scheme fd (at start-up, or by dup2: `echo hi > x:y` in bash)
 * and swapped back when it stops being one.
 */
#ifndef PRELOAD_STDIO_H
#define PRELOAD_STDIO_H

#include <stdbool.h>
#include <stdio.h>

#include "state.h"

FILE *stdio_cookie(int fd, const char *mode, bool owns);
void stdio_std_flush(int fd);
void stdio_std_update(int fd);
FILE *stdio_std_release(FILE *fp);
bool stdio_is_ours(FILE *f);
int stdio_mode_flags(const char *mode);

extern const struct st_fork_hook stdio_fork_hook;

#endif

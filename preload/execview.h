/*
 * execview.h - executing a program stored on a scheme, from the
 * kernel-visible view (see execview.c).
 */
#ifndef PRELOAD_EXECVIEW_H
#define PRELOAD_EXECVIEW_H

#include <stddef.h>

/*
 * The path execve should be given for *path: unchanged when it is the
 * kernel's (0), the same file in the view of our broker's schemes when
 * it names a scheme file (1); *path is then buf, of RESOLVE_MAX bytes.
 * -EACCES, after one line on stderr saying how to get one, when no view
 * is mounted; another -errno when the path cannot be read or resolved.
 */
int execview_path(const char **path, char *buf, size_t len);

/*
 * A command without a slash, as execvp finds it on a PATH that names a
 * scheme directory: the path to exec into buf (then 1, *file is buf), 0
 * when PATH has no scheme directory or the command is on none of it
 * (execvp's own search goes on), or -errno.
 */
int execview_search(const char **file, char *buf, size_t len);

#endif

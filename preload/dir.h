/*
 * dir.h - scheme directories read as programs read them (see dir.c).
 */
#ifndef PRELOAD_DIR_H
#define PRELOAD_DIR_H

#include <dirent.h>
#include <stdbool.h>
#include <sys/types.h>

#include "../proto/path.h"
#include "fdtab.h"

struct sdir;

bool sdir_is(const void *dirp);
struct sdir *sdir_open(const struct scheme_path *sp, int *err);
struct sdir *sdir_fdopen(int fd, int *err);
struct dirent64 *sdir_read(struct sdir *d, int *err);
void sdir_rewind(struct sdir *d);
long sdir_tell(const struct sdir *d);
void sdir_seek(struct sdir *d, long loc);
int sdir_fd(const struct sdir *d);
int sdir_close(struct sdir *d);
ssize_t sc_getdents64(int fd, const struct sfd *e, void *buf, size_t size);
void sdir_fd_rewound(int fd);

#endif

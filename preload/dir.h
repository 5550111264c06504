/*
 * dir.h - scheme directories read as programs read them (see dir.c).
 */
#ifndef PRELOAD_DIR_H
#define PRELOAD_DIR_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../proto/wire/path.h"
#include "fdtab.h"

struct sdir;

bool sdir_is(const void *dirp);
struct sdir *sdir_fdopen(int fd, int *err);
struct dirent64 *sdir_read(struct sdir *d, int *err);
void sdir_rewind(struct sdir *d);
long sdir_tell(const struct sdir *d);
void sdir_seek(struct sdir *d, long loc);
int sdir_fd(const struct sdir *d);
int sdir_close(struct sdir *d);
/* What getdents64() writes: the kernel's record, which glibc does not
 * declare. */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

ssize_t sc_getdents64(int fd, struct sfd *e, void *buf, size_t size);
void sdir_fd_rewound(int fd);

#endif

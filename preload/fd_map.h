/*
 * fd_map.h - mmap of a scheme file (fd_map.c).
 */
#ifndef PRELOAD_FD_MAP_H
#define PRELOAD_FD_MAP_H

#include "fdops.h"

int sc_mmap(int fd, struct sfd *e, struct fd_map_args *a);

#endif

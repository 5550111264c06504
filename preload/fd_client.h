/*
 * fd_client.h - the ops of a scheme file (fd_client.c).
 */
#ifndef PRELOAD_FD_CLIENT_H
#define PRELOAD_FD_CLIENT_H

#include "fdops.h"

#include <stdint.h>

/* A scheme file; one opened O_PATH; a directory opened O_DIRECTORY. */
extern const struct sfd_ops fdops_client, fdops_client_path, fdops_client_dir;

int fd_client_adopt(int cfd, uint64_t broker, uint64_t inst, uint64_t key,
		    int flags);

#endif

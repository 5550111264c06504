/*
 * fd_client.h - the ops of a scheme file (fd_client.c).
 */
#ifndef PRELOAD_FD_CLIENT_H
#define PRELOAD_FD_CLIENT_H

#include "fdops.h"

#include <stdint.h>

extern const struct sfd_ops fdops_client;

int fd_client_adopt(int cfd, uint64_t broker, uint64_t inst, uint64_t key);

#endif

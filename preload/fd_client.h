/*
 * fd_client.h - the ops of a scheme file (fd_client.c).
 */
#ifndef PRELOAD_FD_CLIENT_H
#define PRELOAD_FD_CLIENT_H

#include "fdops.h"

extern const struct sfd_ops fdops_client;

#endif

/*
 * sockpath.h - where the broker listens.
 *
 *	$SCHEME_SOCKET			if set and not empty
 *	/run/scheme			for root
 *	$XDG_RUNTIME_DIR/scheme		for other users
 *	/tmp/scheme-UID/socket		when there is no runtime directory
 */
#ifndef PROTO_SOCKPATH_H
#define PROTO_SOCKPATH_H

#include <stddef.h>

int sockpath_default(char *buf, size_t len);
int sockpath_mkdir(const char *path);
int sockpath_connect(const char *path);

#endif

/*
 * bconn.h - this process's control connection to the broker.
 *
 * One per process, made on first need, CLOEXEC and hidden, dropped in a
 * forked child.  Outside the root namespace a new connection is made
 * through the namespace token (wire.h), which is kept across exec.  Calls are serialised; a call from a signal handler that
 * interrupted one in the same thread uses a connection of its own.
 */
#ifndef PRELOAD_BCONN_H
#define PRELOAD_BCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../proto/wire/wire.h"
#include "state.h"

int bconn_call(struct wire_ctl *req, const void *payload, size_t len,
	       struct wire_ctl *rep, void *rbuf, size_t rlen, int *fd);
int bconn_call_fds(struct wire_ctl *req, const void *payload, size_t len,
		   struct wire_ctl *rep, void *rbuf, size_t rlen, int *fds,
		   int *nfds);
int bconn_open(void);
void bconn_path(char *buf, size_t len);
void bconn_refresh(void);
void bconn_init(void);
void bconn_token_set(int fd);
bool bconn_token_held(void);
extern const struct st_fork_hook bconn_fork_hook;

#endif

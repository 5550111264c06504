/*
 * serve_chan.h - a struct serve (proto/serve.c) driven over real socket
 * pairs, as client channels reach a provider: what test_serve and the
 * serve-level cases of test_limits share.
 */
#ifndef TEST_SERVE_CHAN_H
#define TEST_SERVE_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <scheme/scheme.h>

#include "../proto/serve/serve.h"
#include "../proto/wire/wire.h"

extern struct serve *s; /* the serve under test, made by the suite's setup */

/* A new channel to s (SERVE_CHAN_* flags): the client's end. */
int new_chan(uint32_t flags);

/* A request on channel ch, with fd (-1: none) passed along. */
void send_req_fd(int ch, uint32_t op, uint64_t key, uint64_t c, uint64_t d,
		 const void *data, size_t len, uint64_t seq, int fd);
void send_req(int ch, uint32_t op, uint64_t key, uint64_t c, uint64_t d,
	      const void *data, size_t len, uint64_t seq);

/* One well-formed reply (and its fd into *rfd, if not NULL). */
ssize_t recv_rep(int ch, struct wire_rep *rep, void *data, size_t len,
		 int *rfd);

/* One packet from s, within a second. */
void read_one(struct scheme_packet *p);

/* Open path on ch, answered with handle h: the client's fd. */
int do_open(int ch, const char *path, uint64_t h, uint64_t *key);

#endif

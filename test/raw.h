/*
 * raw.h - the control protocol and channels spoken by hand, as a program
 * that does not go through the preload (or a hostile one) speaks them:
 * what test_ns and test_hostile share.
 */
#ifndef TEST_RAW_H
#define TEST_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "../proto/wire/wire.h"

/* A control connection of our own to the test's broker, or -1. */
int raw_conn(void);

/*
 * One control request (payload a string, or NULL); returns the answer's
 * err (or -EPIPE), the answer in *rep and its fd, if any, in *rfd.
 */
int raw_call(int fd, uint32_t type, uint64_t inst, const char *payload,
	     struct wire_ctl *rep, int *rfd);

/* What a request on a channel carries and what its answer brought. */
struct raw_io {
	const void *in; /* payload */
	size_t inlen;
	int sendfd; /* passed along, or -1 */
	void *out;  /* room for the answer's payload */
	size_t outlen;
	int rfd; /* out: the fd the answer brought, or -1 */
	struct wire_rep rep;
};

/*
 * One request (op, key, its arguments) on channel ch and its answer
 * (whatever its seq: a refusal of the channel comes unasked); returns the
 * answer's result, or -EPIPE when the channel is gone.  io may be NULL.
 */
int64_t raw_req(int ch, uint32_t op, uint64_t key, uint64_t c, uint64_t d,
		struct raw_io *io);

/* Open path on ch with flags: the result; the fd in *fd (or -1). */
int64_t raw_open(int ch, const char *path, uint32_t flags, int *fd,
		 uint64_t *key);

#endif

/*
 * fuzz.h - what the libFuzzer targets share.
 *
 * Most targets take a sequence of records rather than one blob, so that
 * one input can be several messages on a connection (a CREATE, then a
 * CONNECT to that name) or several requests whose later ones use what the
 * earlier ones opened.  A record is
 *
 *	uint8_t ctl;		what the harness does around it (per target)
 *	uint16_t len;		little-endian; clipped to what is left
 *	uint8_t data[len];
 *
 * seeds.c writes the seed corpus in the same format, with the helpers
 * below, so the two cannot drift apart.
 */
#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* libFuzzer's entry point (declared here for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

struct fuzz_rec {
	uint8_t ctl;
	const uint8_t *data;
	size_t len;
};

bool fuzz_next(struct fuzz_in *in, struct fuzz_rec *r);

/* The number of open fds: each iteration must give back what it took. */
int fuzz_fd_count(void);
void fuzz_check_fds(int before, const char *what);

/* A harness's own invariant broke: report it as a crash, with why. */
_Noreturn void fuzz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Seed writing (seeds.c): one record onto a growing buffer. */
struct fuzz_buf {
	uint8_t *p;
	size_t n, cap;
};

void fuzz_put(struct fuzz_buf *b, const void *data, size_t len);
void fuzz_put_rec(struct fuzz_buf *b, uint8_t ctl, const void *data,
		  size_t len);
int fuzz_write_seed(const char *dir, const char *target, const char *name,
		    struct fuzz_buf *b);

#endif

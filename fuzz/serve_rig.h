/*
 * serve_rig.h - a provider's struct serve (proto/serve.c) with clients on
 * real socket pairs, for the serve fuzz targets and their seeds.
 *
 * A rig is made fresh for each input, so the keys and packet ids serve
 * hands out are the same for the same input (slots start empty): the
 * seeds can name them, and the fuzzer can find them again.
 */
#ifndef FUZZ_SERVE_RIG_H
#define FUZZ_SERVE_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <scheme/scheme.h>

#include "../proto/serve/serve.h"
#include "../proto/wire/wire.h"

#define RIG_CHANS 2
#define RIG_FDS	  16
#define RIG_HELD  64
#define RIG_SEQS  64

enum rig_mode {
	RIG_ANSWER, /* as a correct provider would */
	RIG_AGAIN,  /* EAGAIN (or Redox's EWOULDBLOCK) */
	RIG_HOLD,   /* keep it, answer later (a blocking read) */
	RIG_WRONG,  /* an error, or more bytes than were asked */
};

struct rig {
	struct serve *s;
	int cli[RIG_CHANS]; /* the client ends of the channels */
	int fds[RIG_FDS];   /* fds answers handed to clients */
	int nfds;
	int mapfd; /* the memfd SYS_FMAP is answered with */
	struct scheme_packet held[RIG_HELD];
	size_t nheld;
	uint64_t handle;	  /* the next handle an open answers */
	uint32_t asked[RIG_SEQS]; /* by seq: payload bytes a reply may have */
	bool check_len; /* seqs are ours: check replies against asked */
};

void rig_start(struct rig *r);
void rig_stop(struct rig *r);
void rig_send(struct rig *r, int chan, const void *msg, size_t len, int fd);
size_t rig_req_bytes(void *m, uint32_t op, uint64_t key, uint64_t c, uint64_t d,
		     const void *data, size_t len, uint64_t seq);
void rig_req(struct rig *r, int chan, uint32_t op, uint64_t key, uint64_t c,
	     uint64_t d, const void *data, size_t len, uint64_t seq);
void rig_answer(struct rig *r, struct scheme_packet *p, enum rig_mode mode);
size_t rig_pump(struct rig *r, enum rig_mode mode);
void rig_answer_held(struct rig *r);
void rig_drain(struct rig *r);
size_t rig_prelude(struct rig *r);

#endif

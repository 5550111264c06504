/*
 * fuzz_serve_ans.c - answers a provider writes (serve_write in
 * proto/serve.c, sv_fevent_answer and sv_post in ready.c), whatever they
 * say: unknown ids, ids of requests already answered, results that are
 * huge, negative or more bytes than were asked, posts for any handle.
 *
 * Each input runs on a fresh rig after rig_prelude(): two open files and
 * one pending request of every kind (their ids are the same every time,
 * so seeds can answer them; seeds.c prints them).  The input is then a
 * sequence of struct scheme_packet, 56 bytes each, written as they are;
 * after each, what serve made of it is read (a close, say) and the
 * replies clients got are checked: well-formed, and never more bytes than
 * the request asked for.
 */
#define _GNU_SOURCE
#include <string.h>

#include "fuzz.h"
#include "serve_rig.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scheme_packet p;
	struct rig r;
	int before = fuzz_fd_count();

	rig_start(&r);
	rig_prelude(&r);
	for (; size >= sizeof(p); data += sizeof(p), size -= sizeof(p)) {
		memcpy(&p, data, sizeof(p));
		serve_write(r.s, &p);
		rig_pump(&r, RIG_ANSWER);
		rig_drain(&r);
	}
	rig_stop(&r);
	fuzz_check_fds(before, "serve_ans");
	return 0;
}

/*
 * fuzz_serve_req.c - requests a client sends a provider: each record is
 * one SOCK_SEQPACKET message on a channel of a fresh struct serve (the
 * code every provider runs, proto/serve.c and ready.c: chan_ready,
 * chan_request, attach, subscribe, wait, poll, cancel).  After each
 * message the rig reads what serve makes of it (serve_read, timeout 0),
 * answers as a provider would, and reads the replies back.
 *
 * Record ctl (see fuzz.h):
 *	bit 0		which of two channels sends it
 *	bits 1-2	an fd sent along: 0 none, 1 an fd an earlier answer
 *			handed over (a description, a subscription), 2 a
 *			socket that is neither, 3 a pipe
 *	bits 3-4	how the provider answers (enum rig_mode)
 *	bit 5		first close an fd an earlier answer handed over
 *			(the last close of a description: SYS_CLOSE)
 *	bit 6		then answer every held packet
 *	bit 7		then post SYS_FEVENT for the last handle opened
 *
 * Checks: every packet's pointers cover what it says, paths end in a NUL
 * where the packet says, replies are well-formed, and every fd serve
 * made is closed by serve_free.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "serve_rig.h"

static int
fd_to_send(struct rig *r, int kind, unsigned k, int *tmp)
{
	int sv[2];

	tmp[0] = tmp[1] = -1;
	switch (kind) {
	case 1:
		return r->nfds > 0 ? r->fds[k % (unsigned)r->nfds] : -1;
	case 2:
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) <
		    0)
			return -1;
		break;
	case 3:
		if (pipe2(sv, O_CLOEXEC) < 0)
			return -1;
		break;
	default:
		return -1;
	}
	tmp[0] = sv[0];
	tmp[1] = sv[1];
	return sv[0];
}

static void
close_one(struct rig *r, unsigned k)
{
	if (r->nfds == 0)
		return;
	k %= (unsigned)r->nfds;
	close(r->fds[k]);
	r->fds[k] = r->fds[--r->nfds];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct scheme_packet post;
	struct fuzz_rec rec;
	struct rig r;
	int before = fuzz_fd_count(), tmp[2], fd;
	unsigned k = 0;

	rig_start(&r);
	while (fuzz_next(&in, &rec)) {
		k++;
		if (rec.ctl & 0x20)
			close_one(&r, k);
		fd = fd_to_send(&r, (rec.ctl >> 1) & 3, k, tmp);
		rig_send(&r, rec.ctl & 1, rec.data, rec.len, fd);
		if (tmp[0] >= 0)
			close(tmp[0]);
		if (tmp[1] >= 0)
			close(tmp[1]);
		rig_pump(&r, (enum rig_mode)((rec.ctl >> 3) & 3));
		if (rec.ctl & 0x40)
			rig_answer_held(&r);
		if (rec.ctl & 0x80) {
			memset(&post, 0, sizeof(post));
			post.a = SYS_FEVENT;
			post.b = r.handle - 1;
			post.c = EVENT_READ | EVENT_WRITE;
			serve_write(r.s, &post);
		}
		rig_drain(&r);
	}
	/* What the client closed last reaches the provider too. */
	rig_pump(&r, RIG_ANSWER);
	rig_answer_held(&r);
	rig_drain(&r);
	rig_stop(&r);
	fuzz_check_fds(before, "serve_req");
	return 0;
}

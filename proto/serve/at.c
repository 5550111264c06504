/*
 * at.c - a request on a path in one round trip (WIRE_OP_AT, wire.h), as
 * the packets the provider reads: SYS_OPEN of the path, then the inner
 * request on the handle it gave.  serve.c asks them one after the other
 * and closes the handle (its synth_close); this file only checks the
 * request and fills packets, and calls nothing in serve.c.
 *
 * The inner request is one a client could have asked on an fd it opened
 * for the purpose; its input, if any, is at the start of the payload,
 * where its packet's c points, and the path follows.  Its output, if any,
 * is written over the payload once the open is done with the path (it is
 * what answer() sends back, as for any request).  The open must make no
 * file and change none: no O_CREAT, O_TRUNC and the like.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <scheme/scheme.h>

#include "serve_impl.h"

#define AT_OFLAGS                                                              \
	(O_ACCMODE | O_PATH | O_NOFOLLOW | O_DIRECTORY | O_NONBLOCK |          \
	 O_CLOEXEC | O_LARGEFILE | O_NOATIME | SCHEME_O_SYMLINK)

/* What may be asked on the handle: the calls by path that need it. */
static const uint32_t inner_ops[] = {
    SYS_FSTAT,	SYS_FSTATVFS, SYS_FPATH,     SYS_FCHMOD,
    SYS_FCHOWN, SYS_FUTIMENS, SYS_FTRUNCATE, SYS_FGRANT,
};

static const struct wire_op *
inner_op(const struct wire_req *req)
{
	uint32_t op = (uint32_t)req->arg[0];

	for (size_t i = 0; i < sizeof(inner_ops) / sizeof(inner_ops[0]); i++)
		if (inner_ops[i] == op)
			return wire_op(op);
	return NULL;
}

/* Bytes of the inner request's input at the payload's start. */
static size_t
in_len(const struct wire_op *in, const struct wire_req *req)
{
	if (in == NULL || in->in != WIRE_IN_BUF || req->arg[2] > req->len)
		return 0;
	return (size_t)req->arg[2];
}

/* 0, or why the request cannot be asked (before anything is). */
int
sv_at_check(const struct wire_req *req)
{
	const struct wire_op *in = inner_op(req);
	uint32_t oflags = (uint32_t)(req->arg[0] >> 32);
	const char *path;
	size_t n;

	if (in == NULL || (oflags & ~(uint32_t)AT_OFLAGS) != 0)
		return -EINVAL;
	if (in->in == WIRE_IN_BUF && req->arg[2] > req->len)
		return -EINVAL;
	n = sv_at_path(req, &path);
	if (n > WIRE_MAX_PATH)
		return -ENAMETOOLONG;
	return memchr(path, '\0', n) != NULL ? -EINVAL : 0;
}

/* The path in req's payload (which follows req), and its length. */
size_t
sv_at_path(const struct wire_req *req, const char **path)
{
	size_t skip = in_len(inner_op(req), req);

	*path = (const char *)(req + 1) + skip;
	return req->len - skip;
}

/*
 * The first step: SYS_OPEN of the path (NUL-terminated in place, as any
 * path is), and what the next step will need kept in p.
 */
void
sv_at_open(struct scheme_packet *pkt, struct pend *p,
	   const struct wire_req *req, char *payload)
{
	const char *path;
	size_t n = sv_at_path(req, &path);

	p->at_step = SV_AT_OPEN;
	p->at_op = inner_op(req);
	p->at_c = req->arg[1];
	p->at_d = req->arg[2];
	p->at_inlen = (uint32_t)in_len(p->at_op, req);
	p->op = wire_op(SYS_OPEN);
	p->cmd = 0;
	p->arg = req->arg[0] >> 32;
	payload[req->len] = '\0';
	pkt->id = p->id;
	pkt->pid = p->cr.pid;
	pkt->uid = p->cr.uid;
	pkt->gid = p->cr.gid;
	pkt->a = SYS_OPEN;
	pkt->b = (uintptr_t)path;
	pkt->c = n;
	pkt->d = p->arg;
}

/* The second: the inner request on p->at_handle, its row's arguments. */
void
sv_at_inner(struct scheme_packet *pkt, struct pend *p)
{
	char *payload = p->buf + sizeof(struct wire_req);

	p->at_step = SV_AT_INNER;
	p->op = p->at_op;
	p->cmd = p->at_c;
	p->arg = p->at_d;
	memset(pkt, 0, sizeof(*pkt));
	pkt->id = p->id;
	pkt->pid = p->cr.pid;
	pkt->uid = p->cr.uid;
	pkt->gid = p->cr.gid;
	pkt->a = p->op->op;
	pkt->b = p->at_handle;
	pkt->c = p->at_c;
	pkt->d = p->at_d;
	if (p->op->in == WIRE_IN_BUF) {
		pkt->c = (uintptr_t)payload;
		pkt->d = p->at_inlen;
	} else if (p->op->out != WIRE_OUT_NONE) {
		p->size = p->at_d < WIRE_MAX_DATA ? p->at_d : WIRE_MAX_DATA;
		memset(payload, 0, p->size);
		pkt->c = (uintptr_t)payload;
		pkt->d = p->size;
	}
}

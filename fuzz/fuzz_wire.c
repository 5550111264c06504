/*
 * fuzz_wire.c - the checks every reader of a message makes (proto/wire.c),
 * on bytes any peer can send: wire_req_check (a provider reading a
 * client), wire_rep_check (a client reading a provider), wire_ctl_check
 * (the broker, a provider and schemectl reading each other),
 * wire_name_check (a CREATE's name), wire_op (a request's op),
 * wire_chans_check (the broker's answer to CONNECT and SERVES),
 * wire_newchan_get (its NEWCHAN to a provider), and wire_trace_check with
 * schemectl trace's printing of what passes (a provider's records).
 *
 * Each input is given to all of them.  The bytes are copied to a heap
 * block of exactly their length, so that ASan sees any read past what
 * the kernel handed over.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/wire/wire.h"
#include "../tools/trace.h"
#include "fuzz.h"

static void *
copy(const uint8_t *data, size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		fuzz_fail("out of memory");
	memcpy(p, data, size);
	return p;
}

/* A header that passes says exactly how long the message is. */
static void
checks(const uint8_t *data, size_t size)
{
	void *m = copy(data, size);
	uint32_t len;

	if (wire_req_check(m, size) == 0) {
		memcpy(&len, data + offsetof(struct wire_req, len), 4);
		if (size != sizeof(struct wire_req) + len ||
		    len > WIRE_MAX_DATA)
			fuzz_fail("wire_req_check passed %zu bytes", size);
	}
	if (wire_rep_check(m, size) == 0) {
		memcpy(&len, data + offsetof(struct wire_rep, len), 4);
		if (size != sizeof(struct wire_rep) + len)
			fuzz_fail("wire_rep_check passed %zu bytes", size);
	}
	if (wire_ctl_check(m, size) == 0) {
		memcpy(&len, data + offsetof(struct wire_ctl, len), 4);
		if (size != sizeof(struct wire_ctl) + len)
			fuzz_fail("wire_ctl_check passed %zu bytes", size);
	}
	free(m);
}

/* A valid name is one a path can carry: path_classify agrees (fuzz_path). */
static void
name(const uint8_t *data, size_t size)
{
	char *m = copy(data, size);
	size_t i;

	if (wire_name_check(m, size) == 0) {
		if (size == 0 || size > WIRE_MAX_NAME)
			fuzz_fail("name of %zu bytes passed", size);
		for (i = 0; i < size; i++)
			if (m[i] == ':' || m[i] == '/' || m[i] == '\0')
				fuzz_fail("name with '%c' passed", m[i]);
	}
	free(m);
}

static void
op(const uint8_t *data, size_t size)
{
	const struct wire_op *o;
	uint32_t v;

	if (size < 4)
		return;
	memcpy(&v, data, 4);
	if ((o = wire_op(v)) != NULL &&
	    (o->op != v || o->name == NULL || o->in > WIRE_IN_AT ||
	     o->out > WIRE_OUT_STRUCT))
		fuzz_fail("wire_op(%#x) is wrong", v);
}

/*
 * An answer to CONNECT or SERVES (a client reading the broker), with the
 * first byte as the number of fds that came with it: what passes is whole
 * records, of instances, with errnos, and one fd per channel.
 */
static void
chans(const uint8_t *data, size_t size)
{
	struct wire_chan c;
	int nfds, n, withfd = 0;
	void *m;

	if (size < 1)
		return;
	nfds = data[0] % (WIRE_SERVES_MAX + 2);
	m = copy(data + 1, size - 1);
	if ((n = wire_chans_check(m, size - 1, nfds)) >= 0) {
		if ((size_t)n * sizeof(c) != size - 1 || n > WIRE_SERVES_MAX)
			fuzz_fail("wire_chans_check passed %zu bytes as %d",
				  size - 1, n);
		for (int i = 0; i < n; i++) {
			memcpy(&c, (char *)m + (size_t)i * sizeof(c),
			       sizeof(c));
			if (c.inst == 0 || c.err > 0)
				fuzz_fail("channel %d passed: inst %llu err %d",
					  i, (unsigned long long)c.inst, c.err);
			withfd += c.err == 0;
		}
		if (withfd != nfds)
			fuzz_fail("%d channels with fds passed for %d fds",
				  withfd, nfds);
	}
	free(m);
}

/* NEWCHAN's payload (a provider reading the broker): one record. */
static void
newchan(const uint8_t *data, size_t size)
{
	struct wire_newchan nc;
	void *m = copy(data, size);

	if (wire_newchan_get(m, size, &nc) == 0 &&
	    (size != sizeof(nc) || (nc.flags & ~WIRE_CHAN_NOPATHS) != 0))
		fuzz_fail("wire_newchan_get passed %zu bytes, flags %#x", size,
			  nc.flags);
	free(m);
}

/* A trace record (schemectl reading a provider): whole, printed safely. */
static void
trace(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct wire_trace *t = copy(data, size);

	if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
		fuzz_fail("/dev/null: cannot open");
	if (wire_trace_check(t, size) == 0) {
		if (size != sizeof(*t) || t->pathlen > WIRE_TRACE_PATH)
			fuzz_fail("wire_trace_check passed %zu bytes", size);
		trace_print(null, "fz", t, false);
		trace_print(null, "fz", t, true);
	}
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	checks(data, size);
	name(data, size);
	op(data, size);
	chans(data, size);
	newchan(data, size);
	trace(data, size);
	return 0;
}
